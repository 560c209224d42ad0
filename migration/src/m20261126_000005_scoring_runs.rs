//! The scoring pipeline: open and closed days with their data coverage, override expiry, and
//! scoring runs split into tasks that replicas claim.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000002_create_snapshots_and_overrides::ActionOverrides;
use crate::m20261125_000003_create_scores::DailyScores;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Existing rows: days before today were closed by the old daily job; coverage is derived from
/// their NO_DATA action rows.
const BACKFILL: &str = "UPDATE daily_scores SET \
    final = (date < CURRENT_DATE), \
    no_data_max_score = (SELECT COALESCE(SUM(a.catalog_max_score), 0) FROM daily_action_scores a \
        WHERE a.tenant_id = daily_scores.tenant_id AND a.date = daily_scores.date \
        AND a.status = 'NO_DATA')";
/// Coverage from the backfilled maximum without data.
const BACKFILL_COVERAGE: &str = "UPDATE daily_scores SET coverage = CASE \
    WHEN max_score + no_data_max_score > 0 \
    THEN 100.0 * max_score / (max_score + no_data_max_score) ELSE 100.0 END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            boolean(Pipeline::Final).default(false).to_owned(),
            double(Pipeline::NoDataMaxScore).default(0.0).to_owned(),
            double(Pipeline::Coverage).default(100.0).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DailyScores::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(BACKFILL).await?;
        db.execute_unprepared(BACKFILL_COVERAGE).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ActionOverrides::Table)
                    .add_column(timestamp_with_time_zone_null(Pipeline::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        // Expiry watchers look for overrides that expired since their last look.
        manager
            .create_index(
                Index::create()
                    .name("idx_action_overrides_expires_at")
                    .table(ActionOverrides::Table)
                    .col(Pipeline::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScoringRuns::Table)
                    .col(big_pk_auto(ScoringRuns::Id))
                    .col(string(ScoringRuns::Kind))
                    .col(date(ScoringRuns::DateFrom))
                    .col(date(ScoringRuns::DateTo))
                    .col(string_null(ScoringRuns::TenantId))
                    .col(string(ScoringRuns::Status))
                    .col(integer(ScoringRuns::TenantDaysPlanned))
                    .col(integer(ScoringRuns::TenantDaysDone))
                    .col(integer(ScoringRuns::TenantDaysFailed))
                    .col(integer(ScoringRuns::TenantsScored))
                    .col(string_null(ScoringRuns::RequestedBy))
                    .col(date_null(ScoringRuns::CloseDate))
                    .col(timestamp_with_time_zone(ScoringRuns::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScoringRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(ScoringRuns::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // One close per date, whichever replica plans it first.
        manager
            .create_index(
                Index::create()
                    .name("uq_scoring_runs_close_date")
                    .table(ScoringRuns::Table)
                    .col(ScoringRuns::CloseDate)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scoring_runs_requested_by")
                    .table(ScoringRuns::Table)
                    .col(ScoringRuns::RequestedBy)
                    .col(ScoringRuns::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScoringTasks::Table)
                    .col(big_pk_auto(ScoringTasks::Id))
                    .col(big_integer(ScoringTasks::RunId))
                    .col(string(ScoringTasks::Kind))
                    .col(json(ScoringTasks::TenantIds))
                    .col(string(ScoringTasks::Status))
                    .col(integer(ScoringTasks::Planned))
                    .col(integer(ScoringTasks::Done))
                    .col(integer(ScoringTasks::Failed))
                    .col(integer(ScoringTasks::TenantsScored))
                    .col(json_null(ScoringTasks::FailedTenants))
                    .col(integer(ScoringTasks::Attempts))
                    .col(string_null(ScoringTasks::ClaimToken))
                    .col(string_null(ScoringTasks::ClaimedBy))
                    .col(timestamp_with_time_zone_null(ScoringTasks::LeaseUntil))
                    .col(timestamp_with_time_zone(ScoringTasks::NotBefore))
                    .col(timestamp_with_time_zone_null(ScoringTasks::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scoring_tasks_run")
                            .from(ScoringTasks::Table, ScoringTasks::RunId)
                            .to(ScoringRuns::Table, ScoringRuns::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scoring_tasks_status")
                    .table(ScoringTasks::Table)
                    .col(ScoringTasks::Status)
                    .col(ScoringTasks::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scoring_tasks_run")
                    .table(ScoringTasks::Table)
                    .col(ScoringTasks::RunId)
                    .col(ScoringTasks::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScoringTasks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ScoringRuns::Table).to_owned())
            .await
    }
}

/// Columns added to existing tables.
#[derive(DeriveIden)]
enum Pipeline {
    Final,
    NoDataMaxScore,
    Coverage,
    ExpiresAt,
}

/// Column names of `scoring_runs`.
#[derive(DeriveIden)]
enum ScoringRuns {
    Table,
    Id,
    Kind,
    DateFrom,
    DateTo,
    TenantId,
    Status,
    TenantDaysPlanned,
    TenantDaysDone,
    TenantDaysFailed,
    TenantsScored,
    RequestedBy,
    CloseDate,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

/// Column names of `scoring_tasks`.
#[derive(DeriveIden)]
enum ScoringTasks {
    Table,
    Id,
    RunId,
    Kind,
    TenantIds,
    Status,
    Planned,
    Done,
    Failed,
    TenantsScored,
    FailedTenants,
    Attempts,
    ClaimToken,
    ClaimedBy,
    LeaseUntil,
    NotBefore,
    FinishedAt,
}
