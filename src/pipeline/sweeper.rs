//! Removes action rows of superseded score versions once no reader can still want them: a
//! reader pairs a day with the action rows of the day's version, so the rows of a version
//! replaced less than the grace period ago (longer than any request) stay.

use chrono::Utc;
use entity::{daily_action_score, daily_score};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use super::Pipeline;

/// Days cleaned per statement.
const DAYS_PER_SWEEP: u64 = 200;

/// Sweeps superseded action rows every half grace period (at least every second), until the
/// task is aborted.
pub async fn run_sweeper(pipeline: Pipeline) {
    let grace = pipeline.config().superseded_grace;
    let mut every = tokio::time::interval((grace / 2).max(std::time::Duration::from_secs(1)));
    loop {
        every.tick().await;
        if let Err(err) = sweep(pipeline.db(), grace).await {
            tracing::warn!(error = %err, "sweeping superseded action scores failed; will retry");
        }
    }
}

/// Deletes the superseded action rows of every day whose current version is older than
/// `grace`; answers how many rows went.
pub async fn sweep(db: &DatabaseConnection, grace: std::time::Duration) -> Result<u64, DbErr> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let cutoff = (Utc::now() - grace).timestamp_micros();
    let mut removed = 0;
    loop {
        let days: Vec<(i64, String, chrono::NaiveDate, i64)> = daily_score::Entity::find()
            .select_only()
            .column(daily_score::Column::Id)
            .column(daily_score::Column::TenantId)
            .column(daily_score::Column::Date)
            .column(daily_score::Column::Version)
            .filter(daily_score::Column::StaleActions.eq(true))
            .filter(daily_score::Column::Version.lte(cutoff))
            .limit(DAYS_PER_SWEEP)
            .into_tuple()
            .all(db)
            .await?;
        if days.is_empty() {
            return Ok(removed);
        }
        let superseded = days
            .iter()
            .fold(Condition::any(), |any, (_, tenant, date, version)| {
                any.add(
                    Condition::all()
                        .add(daily_action_score::Column::TenantId.eq(tenant.as_str()))
                        .add(daily_action_score::Column::Date.eq(*date))
                        .add(daily_action_score::Column::Version.ne(*version)),
                )
            });
        let txn = db.begin().await?;
        removed += daily_action_score::Entity::delete_many()
            .filter(superseded)
            .exec(&txn)
            .await?
            .rows_affected;
        // A day rewritten meanwhile has a version past the cutoff and keeps its flag.
        daily_score::Entity::update_many()
            .col_expr(daily_score::Column::StaleActions, Expr::value(false))
            .filter(daily_score::Column::Id.is_in(days.iter().map(|(id, ..)| *id)))
            .filter(daily_score::Column::Version.lte(cutoff))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
}
