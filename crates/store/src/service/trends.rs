//! The stored days a tenant's trends read: the range's days, each with its step from the
//! stored day before it (the last one before the range included). One statement for the days;
//! the steps come from the closed-day cache, and only those it lacks read their two sets (one
//! more statement), which are not kept: a year of trends would push out the sets other reads
//! share.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::daily_score;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::action_sets::{DayResults, missing_set, read_sets};
use super::daily_scores::DateRange;
use super::score_cache::{ScoreCache, StepKey, split_cached};
use crate::error::ApiResult;
use crate::scoring::trends::{TrendDay, TrendStep};

/// The stored days of `range` in date order, each with its step from the stored day before it
/// (which may precede the range: its change to the range's first day belongs to the range).
/// Only what trends use of a day is read: its date, percentage and set.
pub async fn trend_days(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    tenant_id: &str,
    range: DateRange,
) -> ApiResult<Vec<TrendDay>> {
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
    // Each day in the range with the sets its step goes between.
    let keyed: Vec<(NaiveDate, f64, StepKey)> = days
        .iter()
        .enumerate()
        .filter(|(_, day)| day.0 >= range.from)
        .map(|(i, &(date, percentage, set))| {
            let before = i.checked_sub(1).map(|p| days[p].2);
            (date, percentage, step_key(before, set))
        })
        .collect();
    let steps = steps_for(db, cache, keyed.iter().map(|day| day.2)).await?;
    keyed
        .into_iter()
        .map(|(date, percentage, key)| {
            let step = steps.get(&key).cloned().ok_or_else(|| missing_set(key.1))?;
            Ok(TrendDay {
                date,
                percentage,
                step,
            })
        })
        .collect()
}

/// The key of the step to set `after` from set `before`: a day naming its predecessor's set
/// changed nothing, as a day with no predecessor.
fn step_key(before: Option<i64>, after: i64) -> StepKey {
    (before.filter(|&b| b != after), after)
}

/// The steps `keys` name, each once: from the cache, or computed from their sets.
async fn steps_for(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    keys: impl IntoIterator<Item = StepKey>,
) -> ApiResult<HashMap<StepKey, Arc<TrendStep>>> {
    let (mut steps, missing) = split_cached(keys, |key| cache.trend_step(key));
    if missing.is_empty() {
        return Ok(steps);
    }
    let sets = sets_of(db, cache, &missing).await?;
    let results = |id: i64| sets.get(&id).ok_or_else(|| missing_set(id));
    for key in missing {
        let before = key.0.map(results).transpose()?;
        let step = Arc::new(TrendStep::between(
            before.map(|b| b.as_slice()),
            results(key.1)?.as_slice(),
        ));
        cache.keep_trend_step(key, Arc::clone(&step));
        steps.insert(key, step);
    }
    Ok(steps)
}

/// The sets the steps `keys` go between: the cache's when it holds them, the others read and
/// not kept.
async fn sets_of(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    keys: &BTreeSet<StepKey>,
) -> ApiResult<HashMap<i64, DayResults>> {
    let ids: BTreeSet<i64> = keys
        .iter()
        .flat_map(|&(before, after)| before.into_iter().chain([after]))
        .collect();
    let (mut sets, unread) = split_cached(ids, |id| cache.actions(id));
    if !unread.is_empty() {
        sets.extend(read_sets(db, unread).await?);
    }
    Ok(sets)
}
