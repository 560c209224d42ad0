//! Removes the action score sets no day names any more once no reader can still want them: a
//! reader takes the set a day named when it read the day, so while any day of a tenant was
//! rewritten less than the grace period ago (longer than any request), the tenant's sets stay.

use std::collections::BTreeSet;

use chrono::Utc;
use entity::{action_score_set, daily_score};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::Pipeline;

/// Days cleaned per statement.
const DAYS_PER_SWEEP: u64 = 200;

/// Sweeps unnamed sets every half grace period (at least every second), until the task is
/// aborted.
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

/// Deletes the sets no day names of every tenant whose days were last rewritten more than
/// `grace` ago; answers how many sets went.
pub async fn sweep(db: &DatabaseConnection, grace: std::time::Duration) -> Result<u64, DbErr> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let cutoff = (Utc::now() - grace).timestamp_micros();
    let mut removed = 0;
    loop {
        let days: Vec<(i64, String)> = daily_score::Entity::find()
            .select_only()
            .column(daily_score::Column::Id)
            .column(daily_score::Column::TenantId)
            .filter(daily_score::Column::StaleActions.eq(true))
            .filter(daily_score::Column::Version.lte(cutoff))
            .limit(DAYS_PER_SWEEP)
            .into_tuple()
            .all(db)
            .await?;
        if days.is_empty() {
            return Ok(removed);
        }
        let tenants: BTreeSet<&str> = days.iter().map(|(_, tenant)| tenant.as_str()).collect();
        let txn = db.begin().await?;
        removed += txn
            .execute(&unnamed_sets(tenants, cutoff))
            .await?
            .rows_affected();
        // A day rewritten meanwhile has a version past the cutoff and keeps its flag.
        daily_score::Entity::update_many()
            .col_expr(daily_score::Column::StaleActions, Expr::value(false))
            .filter(daily_score::Column::Id.is_in(days.iter().map(|(id, _)| *id)))
            .filter(daily_score::Column::Version.lte(cutoff))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
}

/// Deletes the sets of `tenants` written before `cutoff` that no day names, unless a day of
/// their tenant was rewritten after it (a reader may still hold what that day named).
fn unnamed_sets<'a>(
    tenants: impl IntoIterator<Item = &'a str>,
    cutoff: i64,
) -> sea_orm::sea_query::DeleteStatement {
    use action_score_set::Column as S;
    use daily_score::Column as D;
    let days = daily_score::Entity;
    let sets = action_score_set::Entity;
    let still_wanted = Query::select()
        .expr(Expr::val(1))
        .from(days)
        .and_where(Expr::col((days, D::TenantId)).equals((sets, S::TenantId)))
        .cond_where(
            Condition::any()
                .add(Expr::col((days, D::ActionSetId)).equals((sets, S::Id)))
                .add(
                    Condition::all()
                        .add(Expr::col((days, D::StaleActions)).eq(true))
                        .add(Expr::col((days, D::Version)).gt(cutoff)),
                ),
        )
        .to_owned();
    Query::delete()
        .from_table(sets)
        .and_where(Expr::col((sets, S::TenantId)).is_in(tenants.into_iter().map(str::to_owned)))
        .and_where(Expr::col((sets, S::Version)).lte(cutoff))
        .and_where(Expr::exists(still_wanted).not())
        .to_owned()
}
