//! Reading stored scores: single days, history, batched action scores and diffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::action_score_set::ActionResult;
use entity::{daily_score, tenant};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::action_sets::{DayResults, missing_set, read_sets};
use super::daily_scores::DateRange;
pub use super::daily_scores::{ScoreKey, TenantDay};
use super::score_cache::{ScoreCache, split_cached};
use crate::error::{ApiError, ApiResult};
use crate::scoring::Progress;
use crate::scoring::diff::{ActionChange, ScoredAction, diff_actions};

/// The scores of many keys, one query per distinct date (all the "latest" keys in one);
/// closed days come from `cache` when it has them.
pub async fn scores_for(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    keys: &[ScoreKey],
) -> Result<HashMap<ScoreKey, Arc<daily_score::Model>>, DbErr> {
    let mut scores = HashMap::new();
    let mut tenants_by_date: BTreeMap<Option<NaiveDate>, BTreeSet<&str>> = BTreeMap::new();
    for key in keys {
        if let Some(day) = key.date.and_then(|date| cache.day(&key.tenant_id, date)) {
            scores.insert(key.clone(), day);
            continue;
        }
        tenants_by_date
            .entry(key.date)
            .or_default()
            .insert(key.tenant_id.as_str());
    }
    let epoch = cache.epoch();
    for (date, tenants) in tenants_by_date {
        let query = daily_score::Entity::find()
            .filter(daily_score::Column::TenantId.is_in(tenants.iter().copied()));
        let rows = match date {
            Some(date) => query.filter(daily_score::Column::Date.eq(date)),
            None => query.filter(
                Expr::tuple([
                    Expr::col((daily_score::Entity, daily_score::Column::TenantId)),
                    Expr::col((daily_score::Entity, daily_score::Column::Date)),
                ])
                .in_subquery(latest_dates(&tenants)),
            ),
        }
        .all(db)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect::<Vec<_>>();
        cache.keep_days(epoch, &rows);
        for row in rows {
            let key = ScoreKey {
                tenant_id: row.tenant_id.clone(),
                date,
            };
            scores.insert(key, row);
        }
    }
    Ok(scores)
}

/// `SELECT id, latest_score_date FROM tenants WHERE id IN (…)`: the pointers of the tenants
/// asked for to their newest day, so the latest score is one index lookup per tenant, however
/// long its history (the planner starts from these few pairs, not from every stored day).
fn latest_dates(tenants: &BTreeSet<&str>) -> SelectStatement {
    Query::select()
        .column(tenant::Column::Id)
        .column(tenant::Column::LatestScoreDate)
        .from(tenant::Entity)
        .and_where(Expr::col(tenant::Column::Id).is_in(tenants.iter().copied()))
        .and_where(Expr::col(tenant::Column::LatestScoreDate).is_not_null())
        .to_owned()
}

/// The stored days of `range`, ascending; missing days are absent. Closed days in `cache`
/// are not read again, nor is anything `newest` tells: when the caller read the tenant's newest
/// stored day (`Some(None)`: it has none), no day after it exists and that day is the one read.
/// A trend of closed days ending on the newest day then costs no statement.
pub async fn score_history(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    tenant_id: &str,
    range: DateRange,
    newest: Option<Option<&Arc<daily_score::Model>>>,
) -> ApiResult<Vec<Arc<daily_score::Model>>> {
    let newest_date = newest.map(|day| day.map(|d| d.date));
    // A date that may hold a stored day other than `newest` (every date when it is unknown).
    let before_newest =
        |date: NaiveDate| newest_date.is_none_or(|newest| newest.is_some_and(|n| date < n));
    let mut known: BTreeMap<NaiveDate, Arc<daily_score::Model>> = cache
        .days_in(tenant_id, range)
        .into_iter()
        .filter(|day| before_newest(day.date))
        .map(|day| (day.date, day))
        .collect();
    if let Some(Some(day)) = newest
        && (range.from..=range.to).contains(&day.date)
    {
        known.insert(day.date, Arc::clone(day));
    }
    let unknown = range
        .days()
        .any(|date| !known.contains_key(&date) && before_newest(date));
    if unknown {
        let epoch = cache.epoch();
        let mut query = daily_score::Entity::find()
            .filter(daily_score::Column::TenantId.eq(tenant_id))
            .filter(daily_score::Column::Date.between(range.from, range.to));
        if !known.is_empty() {
            query = query.filter(daily_score::Column::Date.is_not_in(known.keys().copied()));
        }
        let read: Vec<_> = query.all(db).await?.into_iter().map(Arc::new).collect();
        cache.keep_days(epoch, &read);
        known.extend(read.into_iter().map(|day| (day.date, day)));
    }
    Ok(known.into_values().collect())
}

/// The action scores of many tenant-days: each distinct set they name read once, in one
/// query; sets in `cache` are not read again.
pub async fn action_scores_for(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    days: &[TenantDay],
) -> Result<HashMap<TenantDay, DayResults>, DbErr> {
    let sets = sets_by_id(db, cache, days.iter().map(|day| day.action_set_id)).await?;
    days.iter()
        .map(|day| {
            let results = sets
                .get(&day.action_set_id)
                .cloned()
                .ok_or_else(|| missing_set(day.action_set_id))?;
            Ok((day.clone(), results))
        })
        .collect()
}

/// The sets with `ids`, from `cache` or read (all missing ones in one query) and kept there;
/// a set named twice is the same shared results.
pub async fn sets_by_id(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, DayResults>, DbErr> {
    let (mut sets, missing) = split_cached(ids, |id| cache.actions(id));
    if !missing.is_empty() {
        for (id, results) in read_sets(db, missing).await? {
            cache.keep_actions(id, Arc::clone(&results));
            sets.insert(id, results);
        }
    }
    Ok(sets)
}

/// Two stored days and what changed between them.
#[derive(Clone, Debug)]
pub struct ScoreDiffData {
    /// The earlier day.
    pub before: daily_score::Model,
    /// The later day.
    pub after: daily_score::Model,
    /// Changed actions, largest absolute score delta first.
    pub changes: Vec<ActionChange>,
}

/// Compares two stored days; a missing day is NOT_FOUND naming the date.
pub async fn score_diff(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    tenant_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<ScoreDiffData> {
    if from > to {
        return Err(ApiError::BadUserInput(format!(
            "from ({from}) is after to ({to})"
        )));
    }
    let days = daily_score::Entity::find()
        .filter(daily_score::Column::TenantId.eq(tenant_id))
        .filter(daily_score::Column::Date.is_in([from, to]))
        .all(db)
        .await?;
    let day = |date: NaiveDate| {
        days.iter()
            .find(|d| d.date == date)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("no score stored for {date}")))
    };
    let (before, after) = (day(from)?, day(to)?);
    let keys = [&before, &after].map(TenantDay::of);
    let mut rows = action_scores_for(db, cache, &keys).await?;
    let mut scored = |key: &TenantDay| -> Vec<ScoredAction> {
        rows.remove(key).map_or(Vec::new(), |results| {
            results.iter().map(to_scored_action).collect()
        })
    };
    let (before_rows, after_rows) = (scored(&keys[0]), scored(&keys[1]));
    Ok(ScoreDiffData {
        before,
        after,
        changes: diff_actions(&before_rows, &after_rows),
    })
}

/// The diff engine's view of a stored action score.
pub fn to_scored_action(row: &ActionResult) -> ScoredAction {
    ScoredAction {
        action_id: row.action_id.clone(),
        score: row.score,
        max_score: row.max_score,
        status: row.status,
        state: row.state,
        progress: match (row.progress_current, row.progress_total) {
            (Some(current), Some(total)) => Some(Progress { current, total }),
            _ => None,
        },
        catalog_max_score: row.catalog_max_score,
        catalog_scored: row.catalog_scored,
        catalog_deprecated: row.catalog_deprecated,
    }
}
