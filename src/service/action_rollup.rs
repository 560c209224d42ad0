//! The estate per action: for every catalog action, how many tenants in reach have it in each
//! status and the points they leave on the table, aggregated in the database in one statement
//! (per 500 ids of a listed reach) whatever the number of tenants. Each tenant's newest day is
//! read from `latest_action_scores`, kept by the pipeline as it writes that day; the whole
//! estate's from `latest_action_tallies`, the sums the pipeline keeps of those rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{daily_action_score, daily_score, latest_action_score, latest_action_tally};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::score_reads::action_rows_of_day;
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
    for group in groups {
        for row in db.query_all(&tally_query(day, group)).await? {
            let action: String = row.try_get("", "action_id")?;
            let status: ActionStatus = row.try_get("", "status")?;
            let tenants: i64 = row.try_get("", "n")?;
            let at_stake: Option<f64> = row.try_get("", "at_stake")?;
            let entry = tallies.entry(action).or_default();
            *entry.0.entry(status).or_default() += tenants;
            entry.1 += at_stake.unwrap_or(0.0);
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

/// `action_id, status, n, at_stake` rows over the group's tenants on `day`: the whole estate's
/// newest days from the sums kept in `latest_action_tallies`; a group's newest days by summing
/// its tenants' narrow rows in `latest_action_scores`; a given date from the day rows and their
/// current action rows (an index lookup per day, not a version check per row).
fn tally_query(day: RollupDay, group: Option<&[String]>) -> SelectStatement {
    let (mut query, tenant_column) = match (day, group) {
        (RollupDay::Latest, None) => return whole_estate_tally(),
        (RollupDay::Latest, Some(_)) => (
            newest_days_tally(),
            Expr::col(latest_action_score::Column::TenantId),
        ),
        (RollupDay::On(date), _) => (
            tally_on(date),
            Expr::col((daily_score::Entity, daily_score::Column::TenantId)),
        ),
    };
    if let Some(ids) = group {
        query.and_where(tenant_column.is_in(ids.iter().cloned()));
    }
    query
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

/// The tally of every tenant's day at `date`.
fn tally_on(date: NaiveDate) -> SelectStatement {
    let rows = daily_action_score::Entity;
    let days = daily_score::Entity;
    let col = |column: daily_action_score::Column| Expr::col((rows, column));
    Query::select()
        .column((rows, daily_action_score::Column::ActionId))
        .column((rows, daily_action_score::Column::Status))
        .expr_as(col(daily_action_score::Column::Id).count(), Alias::new("n"))
        .expr_as(
            col(daily_action_score::Column::MaxScore)
                .sub(col(daily_action_score::Column::Score))
                .sum(),
            Alias::new("at_stake"),
        )
        .from(days)
        .inner_join(rows, action_rows_of_day())
        .and_where(Expr::col((days, daily_score::Column::Date)).eq(date))
        .group_by_col((rows, daily_action_score::Column::ActionId))
        .group_by_col((rows, daily_action_score::Column::Status))
        .to_owned()
}
