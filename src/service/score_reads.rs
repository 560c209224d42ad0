//! Reading stored scores: single days, history, batched action scores and diffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{daily_action_score, daily_score, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::daily_scores::DateRange;
use crate::error::{ApiError, ApiResult};
use crate::scoring::Progress;
use crate::scoring::diff::{ActionChange, ScoredAction, diff_actions};

/// A tenant's score on a date, or its latest when `date` is `None`: the key of batched reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScoreKey {
    /// Tenant.
    pub tenant_id: String,
    /// Date; `None` for the latest stored one.
    pub date: Option<NaiveDate>,
}

/// The scores of many keys, one query per distinct date (all the "latest" keys in one).
pub async fn scores_for(
    db: &DatabaseConnection,
    keys: &[ScoreKey],
) -> Result<HashMap<ScoreKey, daily_score::Model>, DbErr> {
    let mut tenants_by_date: BTreeMap<Option<NaiveDate>, BTreeSet<&str>> = BTreeMap::new();
    for key in keys {
        tenants_by_date
            .entry(key.date)
            .or_default()
            .insert(key.tenant_id.as_str());
    }
    let mut scores = HashMap::new();
    for (date, tenants) in tenants_by_date {
        let query =
            daily_score::Entity::find().filter(daily_score::Column::TenantId.is_in(tenants));
        let rows = match date {
            Some(date) => query.filter(daily_score::Column::Date.eq(date)),
            None => query.filter(
                Expr::tuple([
                    Expr::col((daily_score::Entity, daily_score::Column::TenantId)),
                    Expr::col((daily_score::Entity, daily_score::Column::Date)),
                ])
                .in_subquery(latest_dates()),
            ),
        }
        .all(db)
        .await?;
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

/// `SELECT id, latest_score_date FROM tenants`: each tenant's pointer to its newest day, so
/// the latest score is one index lookup per tenant, however long its history.
fn latest_dates() -> SelectStatement {
    Query::select()
        .column(tenant::Column::Id)
        .column(tenant::Column::LatestScoreDate)
        .from(tenant::Entity)
        .and_where(Expr::col(tenant::Column::LatestScoreDate).is_not_null())
        .to_owned()
}

/// The stored days of `range`, ascending; missing days are absent.
pub async fn score_history(
    db: &DatabaseConnection,
    tenant_id: &str,
    range: DateRange,
) -> ApiResult<Vec<daily_score::Model>> {
    Ok(daily_score::Entity::find()
        .filter(daily_score::Column::TenantId.eq(tenant_id))
        .filter(daily_score::Column::Date.between(range.from, range.to))
        .order_by_asc(daily_score::Column::Date)
        .all(db)
        .await?)
}

/// A tenant-day as read, the key of its action scores: the version pairs the day with the
/// action rows of the same computation, whatever was written since.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantDay {
    /// Tenant.
    pub tenant_id: String,
    /// Date.
    pub date: NaiveDate,
    /// The day's version when it was read.
    pub version: i64,
}

impl TenantDay {
    /// The tenant-day of a stored daily score.
    pub fn of(score: &daily_score::Model) -> Self {
        TenantDay {
            tenant_id: score.tenant_id.clone(),
            date: score.date,
            version: score.version,
        }
    }
}

/// The action scores of many tenant-days in one query, each day's rows by action id.
pub async fn action_scores_for(
    db: &DatabaseConnection,
    days: &[TenantDay],
) -> Result<HashMap<TenantDay, Vec<daily_action_score::Model>>, DbErr> {
    let tenants: BTreeSet<&str> = days.iter().map(|d| d.tenant_id.as_str()).collect();
    let dates: BTreeSet<NaiveDate> = days.iter().map(|d| d.date).collect();
    let versions: BTreeSet<i64> = days.iter().map(|d| d.version).collect();
    let wanted: BTreeSet<&TenantDay> = days.iter().collect();
    let rows = daily_action_score::Entity::find()
        .filter(daily_action_score::Column::TenantId.is_in(tenants))
        .filter(daily_action_score::Column::Date.is_in(dates))
        .filter(daily_action_score::Column::Version.is_in(versions))
        .order_by_asc(daily_action_score::Column::ActionId)
        .all(db)
        .await?;
    let mut by_day: HashMap<TenantDay, Vec<daily_action_score::Model>> = HashMap::new();
    for row in rows {
        let key = TenantDay {
            tenant_id: row.tenant_id.clone(),
            date: row.date,
            version: row.version,
        };
        if wanted.contains(&key) {
            by_day.entry(key).or_default().push(row);
        }
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
    let mut rows = action_scores_for(db, &keys).await?;
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
