//! Stored daily scores, their per-action rows and the comparative scores per date.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::{ImprovementActions, Tenants};
use crate::m20261125_000002_create_snapshots_and_overrides::Snapshots;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DailyScores::Table)
                    .col(big_pk_auto(DailyScores::Id))
                    .col(string(DailyScores::TenantId))
                    .col(date(DailyScores::Date))
                    .col(double(DailyScores::Score))
                    .col(double(DailyScores::MaxScore))
                    .col(double(DailyScores::Percentage))
                    .col(double(DailyScores::PlannedScore))
                    .col(json(DailyScores::Categories))
                    .col(big_integer_null(DailyScores::SnapshotId))
                    .col(timestamp_with_time_zone(DailyScores::ComputedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_daily_scores_tenant")
                            .from(DailyScores::Table, DailyScores::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_daily_scores_snapshot")
                            .from(DailyScores::Table, DailyScores::SnapshotId)
                            .to(Snapshots::Table, Snapshots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_daily_scores_tenant_date")
                    .table(DailyScores::Table)
                    .col(DailyScores::TenantId)
                    .col(DailyScores::Date)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Comparisons aggregate every tenant's score of one date.
        manager
            .create_index(
                Index::create()
                    .name("idx_daily_scores_date")
                    .table(DailyScores::Table)
                    .col(DailyScores::Date)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DailyActionScores::Table)
                    .col(big_pk_auto(DailyActionScores::Id))
                    .col(string(DailyActionScores::TenantId))
                    .col(date(DailyActionScores::Date))
                    .col(string(DailyActionScores::ActionId))
                    .col(double(DailyActionScores::Score))
                    .col(double(DailyActionScores::MaxScore))
                    .col(string(DailyActionScores::Status))
                    .col(string(DailyActionScores::State))
                    .col(double_null(DailyActionScores::ProgressCurrent))
                    .col(double_null(DailyActionScores::ProgressTotal))
                    .col(double(DailyActionScores::CatalogMaxScore))
                    .col(boolean(DailyActionScores::CatalogScored))
                    .col(boolean(DailyActionScores::CatalogDeprecated))
                    .col(string(DailyActionScores::Category))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_daily_action_scores_tenant")
                            .from(DailyActionScores::Table, DailyActionScores::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_daily_action_scores_action")
                            .from(DailyActionScores::Table, DailyActionScores::ActionId)
                            .to(ImprovementActions::Table, ImprovementActions::Id),
                    )
                    .to_owned(),
            )
            .await?;
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
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ComparativeScores::Table)
                    .col(big_pk_auto(ComparativeScores::Id))
                    .col(date(ComparativeScores::Date))
                    .col(string(ComparativeScores::Basis))
                    .col(string(ComparativeScores::GroupKey))
                    .col(integer(ComparativeScores::TenantCount))
                    .col(double(ComparativeScores::AverageScore))
                    .col(double(ComparativeScores::AveragePercentage))
                    .col(timestamp_with_time_zone(ComparativeScores::ComputedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_comparative_scores_date_basis_group")
                    .table(ComparativeScores::Table)
                    .col(ComparativeScores::Date)
                    .col(ComparativeScores::Basis)
                    .col(ComparativeScores::GroupKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ComparativeScores::Table.into_iden(),
            DailyActionScores::Table.into_iden(),
            DailyScores::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Column names of `daily_scores`.
#[derive(DeriveIden)]
pub enum DailyScores {
    Table,
    Id,
    TenantId,
    Date,
    Score,
    MaxScore,
    Percentage,
    PlannedScore,
    Categories,
    SnapshotId,
    ComputedAt,
}

/// Column names of `daily_action_scores`.
#[derive(DeriveIden)]
pub enum DailyActionScores {
    Table,
    Id,
    TenantId,
    Date,
    ActionId,
    Score,
    MaxScore,
    Status,
    State,
    ProgressCurrent,
    ProgressTotal,
    CatalogMaxScore,
    CatalogScored,
    CatalogDeprecated,
    Category,
}

/// Column names of `comparative_scores`.
#[derive(DeriveIden)]
enum ComparativeScores {
    Table,
    Id,
    Date,
    Basis,
    GroupKey,
    TenantCount,
    AverageScore,
    AveragePercentage,
    ComputedAt,
}
