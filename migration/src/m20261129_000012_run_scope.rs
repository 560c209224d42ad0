//! A scoring run records the tenants it was asked for, so that only a caller who reaches all
//! of them may read it (a run over "every tenant within reach" has no single tenant).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Runs::ScoringRuns)
                    .add_column(json_null(Runs::TenantScope))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Runs::ScoringRuns)
                    .drop_column(Runs::TenantScope)
                    .to_owned(),
            )
            .await
    }
}

/// The table and its new column.
#[derive(DeriveIden)]
enum Runs {
    ScoringRuns,
    TenantScope,
}
