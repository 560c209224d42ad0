//! A pointer from each tenant to its latest scored date, kept by the writers of scores, so that
//! "the latest score" is an index lookup however long the history grows.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_create_catalog_and_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Existing tenants point at their newest stored day.
const BACKFILL: &str = "UPDATE tenants SET latest_score_date = \
    (SELECT MAX(d.date) FROM daily_scores d WHERE d.tenant_id = tenants.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(date_null(Latest::LatestScoreDate))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(BACKFILL)
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Latest::LatestScoreDate)
                    .to_owned(),
            )
            .await
    }
}

/// The new column.
#[derive(DeriveIden)]
enum Latest {
    LatestScoreDate,
}
