//! A snapshot whose facts equal its tenant's previous snapshot's keeps them once: it names the
//! snapshot that holds them (`facts_of`) and stores an empty object itself. Snapshots stored
//! before keep their own facts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Snapshots::Table)
                    .add_column(ColumnDef::new(Snapshots::FactsOf).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Shared facts are copied back before the column goes.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE snapshots SET facts = (SELECT o.facts FROM snapshots o WHERE o.id = snapshots.facts_of) \
                 WHERE facts_of IS NOT NULL",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Snapshots::Table)
                    .drop_column(Snapshots::FactsOf)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Snapshots {
    Table,
    FactsOf,
}
