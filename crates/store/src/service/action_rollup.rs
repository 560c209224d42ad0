//! The estate per action: for every catalog action, how many tenants in reach have it in each
//! status and the points they leave on the table, in a constant number of statements (per 500
//! ids of a listed reach) whatever the number of tenants. Each tenant's newest day is
//! read from `latest_action_scores`, kept by the pipeline as it writes that day; the whole
//! estate's from `latest_action_tallies`, the sums the pipeline keeps of those rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{daily_score, latest_action_score, latest_action_tally};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::action_sets::{day_sets, results_of_days};
use super::tenants::Visibility;
use crate::domain::ActionStatus;
use crate::error::ApiResult;

/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

/// One action across the estate.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionTally {
    /// The action.
    pub action_id: String,
    /// Tenants per status, in status order; only statuses some tenant has.
    pub statuses: Vec<(ActionStatus, i64)>,
    /// The sum over those tenants of `maxScore - score`.
    pub points_at_stake: f64,
}

/// Which day of each tenant the rollup reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupDay {
    /// The same date for every tenant.
    On(NaiveDate),
    /// Each tenant's newest scored day.
    Latest,
}

/// Every action's tally over the tenants of `visibility` on `day`, largest `pointsAtStake`
/// first (ties by action id).
pub async fn action_rollup(
    db: &DatabaseConnection,
    visibility: &Visibility,
    day: RollupDay,
) -> ApiResult<Vec<ActionTally>> {
    let groups: Vec<Option<&[String]>> = match visibility {
        Visibility::All => vec![None],
        Visibility::Only(ids) if ids.is_empty() => Vec::new(),
        Visibility::Only(ids) => ids.chunks(IDS_PER_QUERY).map(Some).collect(),
    };
    let mut tallies: BTreeMap<String, (BTreeMap<ActionStatus, i64>, f64)> = BTreeMap::new();
    let mut add = |action: String, status: ActionStatus, tenants: i64, at_stake: f64| {
        let entry = tallies.entry(action).or_default();
        *entry.0.entry(status).or_default() += tenants;
        entry.1 += at_stake;
    };
    for group in groups {
        if let RollupDay::On(date) = day {
            // Summed in millionths, as the kept tallies are: the same figure in any order.
            let mut micro: BTreeMap<(String, ActionStatus), (i64, i64)> = BTreeMap::new();
            for results in results_of_days(db, days_on(date, group)).await?.values() {
                for result in results.iter() {
                    let at_stake = ((result.max_score - result.score) * 1e6).round() as i64;
                    let entry = micro
                        .entry((result.action_id.clone(), result.status))
                        .or_default();
                    entry.0 += 1;
                    entry.1 += at_stake;
                }
            }
            for ((action, status), (tenants, at_stake)) in micro {
                add(action, status, tenants, at_stake as f64 / 1e6);
            }
            continue;
        }
        for row in db.query_all(&tally_query(group)).await? {
            let at_stake: Option<f64> = row.try_get("", "at_stake")?;
            add(
                row.try_get("", "action_id")?,
                row.try_get("", "status")?,
                row.try_get("", "n")?,
                at_stake.unwrap_or(0.0),
            );
        }
    }
    let mut rows: Vec<ActionTally> = tallies
        .into_iter()
        .map(|(action_id, (statuses, points_at_stake))| ActionTally {
            action_id,
            statuses: statuses.into_iter().collect(),
            points_at_stake,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.points_at_stake
            .total_cmp(&a.points_at_stake)
            .then_with(|| a.action_id.cmp(&b.action_id))
    });
    Ok(rows)
}

/// `action_id, status, n, at_stake` rows over the group's tenants' newest days: the whole
/// estate's from the sums kept in `latest_action_tallies`; a group's by summing its tenants'
/// narrow rows in `latest_action_scores`.
fn tally_query(group: Option<&[String]>) -> SelectStatement {
    let Some(ids) = group else {
        return whole_estate_tally();
    };
    let mut query = newest_days_tally();
    query.and_where(Expr::col(latest_action_score::Column::TenantId).is_in(ids.iter().cloned()));
    query
}

/// The days of the group's tenants at `date`, for [`results_of_days`]: each day's set is read
/// and summed here (a given date is read as stored, not from what the pipeline keeps).
fn days_on(date: NaiveDate, group: Option<&[String]>) -> SelectStatement {
    let mut days = day_sets()
        .and_where(Expr::col(daily_score::Column::Date).eq(date))
        .to_owned();
    if let Some(ids) = group {
        days.and_where(Expr::col(daily_score::Column::TenantId).is_in(ids.iter().cloned()));
    }
    days
}

/// The sums kept over every tenant's newest day, points back from millionths.
fn whole_estate_tally() -> SelectStatement {
    use latest_action_tally::Column as C;
    Query::select()
        .columns([C::ActionId, C::Status])
        .expr_as(Expr::col(C::Tenants), Alias::new("n"))
        .expr_as(
            Expr::col(C::MicroPoints)
                .cast_as(Alias::new("DOUBLE PRECISION"))
                .div(1_000_000.0),
            Alias::new("at_stake"),
        )
        .from(latest_action_tally::Entity)
        .and_where(Expr::col(C::Tenants).gt(0))
        .to_owned()
}

/// The tally of every tenant's newest day.
fn newest_days_tally() -> SelectStatement {
    use latest_action_score::Column as C;
    Query::select()
        .columns([C::ActionId, C::Status])
        .expr_as(Expr::col(C::TenantId).count(), Alias::new("n"))
        .expr_as(Expr::col(C::PointsAtStake).sum(), Alias::new("at_stake"))
        .from(latest_action_score::Entity)
        .group_by_col(C::ActionId)
        .group_by_col(C::Status)
        .to_owned()
}
