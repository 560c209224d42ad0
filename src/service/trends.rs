//! The stored days a tenant's trends read: the range's days and the last one before it, with
//! their action scores, in two statements whatever the range's length (one when the cache
//! holds every set).

use chrono::NaiveDate;
use entity::action_score_set::ActionResult;
use entity::daily_score;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::action_sets::missing_set;
use super::daily_scores::DateRange;
use super::score_cache::ScoreCache;
use super::score_reads::sets_by_id;
use crate::error::ApiResult;
use crate::scoring::planning::StoredDay;

/// The stored days of `range` in date order, preceded by the last stored day before it when
/// there is one (its change to the range's first day belongs to the range). Only what trends
/// use of a day is read: its date, percentage and set.
pub async fn stored_days(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    tenant_id: &str,
    range: DateRange,
) -> ApiResult<Vec<StoredDay<ActionResult>>> {
    let day_before = Query::select()
        .expr(Expr::col(daily_score::Column::Date).max())
        .from(daily_score::Entity)
        .and_where(Expr::col(daily_score::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(daily_score::Column::Date).lt(range.from))
        .to_owned();
    let days: Vec<(NaiveDate, f64, i64)> = daily_score::Entity::find()
        .select_only()
        .columns([
            daily_score::Column::Date,
            daily_score::Column::Percentage,
            daily_score::Column::ActionSetId,
        ])
        .filter(daily_score::Column::TenantId.eq(tenant_id))
        .filter(daily_score::Column::Date.lte(range.to))
        .filter(
            Condition::any()
                .add(daily_score::Column::Date.gte(range.from))
                .add(daily_score::Column::Date.in_subquery(day_before)),
        )
        .order_by_asc(daily_score::Column::Date)
        .into_tuple()
        .all(db)
        .await?;
    // Days naming one set get the same shared results (the cache's own when it holds them).
    let sets = sets_by_id(db, cache, days.iter().map(|day| day.2)).await?;
    days.into_iter()
        .map(|(date, percentage, set)| {
            let actions = sets.get(&set).cloned().ok_or_else(|| missing_set(set))?;
            Ok(StoredDay {
                date,
                percentage,
                actions,
            })
        })
        .collect()
}
