//! Per-tenant change sequences: every change that affects a tenant's scores bumps
//! `tenants.change_seq` in its own transaction, and every stored day records in
//! `daily_scores.input_seq` the sequence its inputs were read at, so that a computation from an
//! older state never overwrites a day computed from a newer one.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_column, drop_column};
use crate::m20261125_000001_create_catalog_and_tenants::Tenants;
use crate::m20261125_000003_create_scores::DailyScores;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let seq = |column| big_integer(column).default(0).to_owned();
        add_column(manager, Tenants::Table, seq(Sequences::ChangeSeq)).await?;
        add_column(manager, DailyScores::Table, seq(Sequences::InputSeq)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, DailyScores::Table, Sequences::InputSeq).await?;
        drop_column(manager, Tenants::Table, Sequences::ChangeSeq).await
    }
}

/// The new columns.
#[derive(DeriveIden)]
enum Sequences {
    ChangeSeq,
    InputSeq,
}
