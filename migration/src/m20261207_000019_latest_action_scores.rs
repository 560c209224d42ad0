//! Each tenant's newest scored day, per action, in a narrow table of its own: the estate per
//! action aggregates these rows (one per tenant and action) instead of finding each tenant's
//! newest day among every stored day's action rows; and their sums per action and status over
//! every tenant, which the whole estate's rollup reads as they stand. Filled from the stored
//! history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Copies the current action rows of every tenant's newest day into an empty
/// `latest_action_scores` (also what a benchmark seeding history in SQL runs after it).
pub const LATEST_ACTIONS_FROM_HISTORY: &str = "INSERT INTO latest_action_scores (tenant_id, action_id, status, points_at_stake) \
     SELECT a.tenant_id, a.action_id, a.status, a.max_score - a.score \
     FROM tenants t \
     JOIN daily_scores d ON d.tenant_id = t.id AND d.date = t.latest_score_date \
     JOIN daily_action_scores a ON a.tenant_id = d.tenant_id AND a.date = d.date \
     AND a.version = d.version";

/// Sums the kept rows per action and status, points in millionths (whole numbers, so sums kept
/// by adding and subtracting never drift).
pub const TALLIES_FROM_LATEST: &str = "INSERT INTO latest_action_tallies (action_id, status, tenants, micro_points) \
     SELECT action_id, status, COUNT(*), CAST(SUM(ROUND(points_at_stake * 1000000)) AS BIGINT) \
     FROM latest_action_scores GROUP BY action_id, status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LatestActionScores::Table)
                    .col(string(LatestActionScores::TenantId))
                    .col(string(LatestActionScores::ActionId))
                    .col(string(LatestActionScores::Status))
                    .col(double(LatestActionScores::PointsAtStake))
                    .primary_key(
                        Index::create()
                            .col(LatestActionScores::TenantId)
                            .col(LatestActionScores::ActionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LatestActionScores::Table, LatestActionScores::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LatestActionTallies::Table)
                    .col(string(LatestActionTallies::ActionId))
                    .col(string(LatestActionTallies::Status))
                    .col(big_integer(LatestActionTallies::Tenants))
                    .col(big_integer(LatestActionTallies::MicroPoints))
                    .primary_key(
                        Index::create()
                            .col(LatestActionTallies::ActionId)
                            .col(LatestActionTallies::Status),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(LATEST_ACTIONS_FROM_HISTORY).await?;
        db.execute_unprepared(TALLIES_FROM_LATEST).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LatestActionTallies::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LatestActionScores::Table).to_owned())
            .await
    }
}

/// Column names of `latest_action_scores`.
#[derive(DeriveIden)]
enum LatestActionScores {
    Table,
    TenantId,
    ActionId,
    Status,
    PointsAtStake,
}

/// Column names of `latest_action_tallies`.
#[derive(DeriveIden)]
enum LatestActionTallies {
    Table,
    ActionId,
    Status,
    Tenants,
    MicroPoints,
}

/// The referenced `tenants` table.
#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}
