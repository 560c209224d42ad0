//! Per-tenant change sequences: every change that affects a tenant's scores bumps
//! `tenants.change_seq` in its own transaction, and every stored day records in
//! `daily_scores.input_seq` the sequence its inputs were read at, so that a computation from an
//! older state never overwrites a day computed from a newer one.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::Tenants;
use crate::m20261125_000003_create_scores::DailyScores;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(big_integer(Sequences::ChangeSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DailyScores::Table)
                    .add_column(big_integer(Sequences::InputSeq).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DailyScores::Table)
                    .drop_column(Sequences::InputSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Sequences::ChangeSeq)
                    .to_owned(),
            )
            .await
    }
}

/// The new columns.
#[derive(DeriveIden)]
enum Sequences {
    ChangeSeq,
    InputSeq,
}
