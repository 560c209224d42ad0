//! Reading stored scores: single days, history, batched action scores and diffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{daily_action_score, daily_score, tenant};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::daily_scores::DateRange;
pub use super::daily_scores::{ScoreKey, TenantDay};
use super::score_cache::ScoreCache;
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

/// The action scores of many tenant-days in one query, each day's rows by action id; the rows
/// of a version in `cache` are not read again.
pub async fn action_scores_for(
    db: &DatabaseConnection,
    cache: &ScoreCache,
    days: &[TenantDay],
) -> Result<HashMap<TenantDay, Vec<daily_action_score::Model>>, DbErr> {
    let mut by_day: HashMap<TenantDay, Vec<daily_action_score::Model>> = HashMap::new();
    let mut missing: Vec<&TenantDay> = Vec::new();
    for day in days {
        match cache.actions(day) {
            Some(rows) => {
                by_day.insert(day.clone(), rows.as_ref().clone());
            }
            None => missing.push(day),
        }
    }
    if missing.is_empty() {
        return Ok(by_day);
    }
    let days = missing;
    let tenants: BTreeSet<&str> = days.iter().map(|d| d.tenant_id.as_str()).collect();
    let dates: BTreeSet<NaiveDate> = days.iter().map(|d| d.date).collect();
    let versions: BTreeSet<i64> = days.iter().map(|d| d.version).collect();
    let wanted: BTreeSet<&TenantDay> = days.iter().copied().collect();
    let rows = daily_action_score::Entity::find()
        .filter(daily_action_score::Column::TenantId.is_in(tenants))
        .filter(daily_action_score::Column::Date.is_in(dates))
        .filter(daily_action_score::Column::Version.is_in(versions))
        .order_by_asc(daily_action_score::Column::ActionId)
        .all(db)
        .await?;
    let mut read: HashMap<TenantDay, Vec<daily_action_score::Model>> = HashMap::new();
    for row in rows {
        let key = TenantDay {
            tenant_id: row.tenant_id.clone(),
            date: row.date,
            version: row.version,
        };
        if wanted.contains(&key) {
            read.entry(key).or_default().push(row);
        }
    }
    for (key, rows) in read {
        cache.keep_actions(key.clone(), rows.clone());
        by_day.insert(key, rows);
    }
    Ok(by_day)
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
    let mut scored = |key: &TenantDay| -> ApiResult<Vec<ScoredAction>> {
        rows.remove(key)
            .unwrap_or_default()
            .iter()
            .map(to_scored_action)
            .collect()
    };
    let (before_rows, after_rows) = (scored(&keys[0])?, scored(&keys[1])?);
    Ok(ScoreDiffData {
        before,
        after,
        changes: diff_actions(&before_rows, &after_rows),
    })
}

/// Joins a day's action rows to its day row: same tenant, date and version, so only the
/// current rows of each day are read (an index lookup per day, not a check per row).
pub fn action_rows_of_day() -> Condition {
    let rows = daily_action_score::Entity;
    let days = daily_score::Entity;
    Condition::all()
        .add(
            Expr::col((rows, daily_action_score::Column::TenantId))
                .equals((days, daily_score::Column::TenantId)),
        )
        .add(
            Expr::col((rows, daily_action_score::Column::Date))
                .equals((days, daily_score::Column::Date)),
        )
        .add(
            Expr::col((rows, daily_action_score::Column::Version))
                .equals((days, daily_score::Column::Version)),
        )
}

/// Keeps only action rows of their day's current version (for reads that take action rows
/// without their day): one statement, so one consistent view on either database.
pub fn current_version_only() -> SimpleExpr {
    let day = Alias::new("version_day");
    Expr::col((
        daily_action_score::Entity,
        daily_action_score::Column::Version,
    ))
    .in_subquery(
        Query::select()
            .column((day.clone(), daily_score::Column::Version))
            .from_as(daily_score::Entity, day.clone())
            .and_where(
                Expr::col((day.clone(), daily_score::Column::TenantId)).equals((
                    daily_action_score::Entity,
                    daily_action_score::Column::TenantId,
                )),
            )
            .and_where(
                Expr::col((day, daily_score::Column::Date))
                    .equals((daily_action_score::Entity, daily_action_score::Column::Date)),
            )
            .to_owned(),
    )
}

/// The diff engine's view of a stored action score.
pub fn to_scored_action(row: &daily_action_score::Model) -> ApiResult<ScoredAction> {
    Ok(ScoredAction {
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
    })
}
