//! Score versions: a day's action rows are written under a new version and the day switched to
//! it in the same transaction, so a reader pairing a day with its action rows never mixes two
//! computations; superseded versions are swept once no reader can still want them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000003_create_scores::{DailyActionScores, DailyScores};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DailyScores::Table)
                    .add_column(big_integer(Versions::Version).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DailyScores::Table)
                    .add_column(boolean(Versions::StaleActions).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DailyActionScores::Table)
                    .add_column(big_integer(Versions::Version).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_daily_action_scores_tenant_date_action")
                    .table(DailyActionScores::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_daily_action_scores_tenant_date_version_action")
                    .table(DailyActionScores::Table)
                    .col(DailyActionScores::TenantId)
                    .col(DailyActionScores::Date)
                    .col(Versions::Version)
                    .col(DailyActionScores::ActionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The sweeper looks only at days that still have superseded action rows: a partial
        // index, the same statement on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_daily_scores_stale ON daily_scores (version) WHERE stale_actions",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_daily_scores_stale")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_daily_action_scores_tenant_date_version_action")
                    .table(DailyActionScores::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DailyActionScores::Table)
                    .drop_column(Versions::Version)
                    .to_owned(),
            )
            .await?;
        for column in [Versions::StaleActions, Versions::Version] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DailyScores::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("uq_daily_action_scores_tenant_date_action")
                    .table(DailyActionScores::Table)
                    .col(DailyActionScores::TenantId)
                    .col(DailyActionScores::Date)
                    .col(DailyActionScores::ActionId)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

/// The new columns.
#[derive(DeriveIden)]
enum Versions {
    Version,
    StaleActions,
}
