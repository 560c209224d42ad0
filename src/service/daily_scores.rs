//! Computing and storing daily scores: one tenant-day at a time, each replaced atomically.

use chrono::{NaiveDate, Utc};
use entity::{daily_action_score, daily_score};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::Value;

use super::{catalog, comparisons, overrides, snapshots, tenants};
use crate::error::{ApiError, ApiResult};
use crate::scoring::overrides::states_at;
use crate::scoring::snapshots::{end_of_day, snapshot_for_date};
use crate::scoring::{ActionDefinition, DayScore, score_day};

/// Longest range one recomputation or history read may span.
pub const MAX_RANGE_DAYS: i64 = 366;

/// An inclusive range of UTC dates, at most 366 days long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
}

impl DateRange {
    /// Checks `from <= to` and the length.
    pub fn parse(from: NaiveDate, to: NaiveDate) -> ApiResult<Self> {
        if from > to {
            return Err(ApiError::BadUserInput(format!(
                "from ({from}) is after to ({to})"
            )));
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(ApiError::BadUserInput(format!(
                "the range from {from} to {to} is longer than {MAX_RANGE_DAYS} days"
            )));
        }
        Ok(DateRange { from, to })
    }

    /// A range of one day.
    pub fn day(date: NaiveDate) -> Self {
        DateRange {
            from: date,
            to: date,
        }
    }

    /// Every date in the range, ascending.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

/// Scores one tenant for every date of `range` that has a snapshot; returns the days stored.
pub async fn score_tenant_range(
    db: &DatabaseConnection,
    tenant_id: &str,
    range: DateRange,
) -> ApiResult<u32> {
    let catalog: Vec<ActionDefinition> = catalog::list_actions(db, None, true)
        .await?
        .iter()
        .map(catalog::to_definition)
        .collect::<ApiResult<_>>()?;
    let until = end_of_day(range.to);
    let captures = snapshots::capture_times(db, tenant_id, until).await?;
    let history = overrides::override_history(db, tenant_id, Some(until)).await?;
    let mut facts_cache: Option<(i64, Value)> = None;
    let mut days = 0;
    for date in range.days() {
        let Some(snapshot_id) = snapshot_for_date(&captures, date) else {
            continue; // No snapshot by the end of this date: no score, not a zero.
        };
        let facts = match &facts_cache {
            Some((id, facts)) if *id == snapshot_id => facts.clone(),
            _ => {
                let facts = snapshots::snapshot_facts(db, snapshot_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Internal(format!("snapshot {snapshot_id} vanished"))
                    })?;
                facts_cache = Some((snapshot_id, facts.clone()));
                facts
            }
        };
        let states = states_at(&history, end_of_day(date));
        let day = score_day(&catalog, &facts, &states);
        store_day(db, tenant_id, date, snapshot_id, &catalog, &day).await?;
        days += 1;
    }
    Ok(days)
}

/// Replaces a tenant-day's rows in one transaction.
///
/// The upsert of the day row comes first, so a concurrent run of the same day waits on its row
/// lock (PostgreSQL) or the write lock (SQLite) and then replaces the action rows whole.
async fn store_day(
    db: &DatabaseConnection,
    tenant_id: &str,
    date: NaiveDate,
    snapshot_id: i64,
    catalog: &[ActionDefinition],
    day: &DayScore,
) -> ApiResult<()> {
    let now = Utc::now();
    let categories = serde_json::to_value(&day.totals.categories)
        .map_err(|e| ApiError::Internal(format!("serializing category totals: {e}")))?;
    let day_row = daily_score::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        date: Set(date),
        score: Set(day.totals.score),
        max_score: Set(day.totals.max_score),
        percentage: Set(day.totals.percentage),
        planned_score: Set(day.totals.planned_score),
        categories: Set(categories),
        snapshot_id: Set(Some(snapshot_id)),
        computed_at: Set(now),
        ..Default::default()
    };
    let action_rows: Vec<daily_action_score::ActiveModel> = catalog
        .iter()
        .zip(&day.results)
        .map(|(action, result)| daily_action_score::ActiveModel {
            tenant_id: Set(tenant_id.to_owned()),
            date: Set(date),
            action_id: Set(action.id.clone()),
            score: Set(result.score),
            max_score: Set(result.max_score),
            status: Set(result.status),
            state: Set(result.state),
            progress_current: Set(result.progress.map(|p| p.current)),
            progress_total: Set(result.progress.map(|p| p.total)),
            catalog_max_score: Set(action.max_score),
            catalog_scored: Set(action.scored),
            catalog_deprecated: Set(action.deprecated),
            category: Set(action.category),
            ..Default::default()
        })
        .collect();
    let txn = db.begin().await?;
    daily_score::Entity::insert(day_row)
        .on_conflict(
            OnConflict::columns([daily_score::Column::TenantId, daily_score::Column::Date])
                .update_columns([
                    daily_score::Column::Score,
                    daily_score::Column::MaxScore,
                    daily_score::Column::Percentage,
                    daily_score::Column::PlannedScore,
                    daily_score::Column::Categories,
                    daily_score::Column::SnapshotId,
                    daily_score::Column::ComputedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    daily_action_score::Entity::delete_many()
        .filter(daily_action_score::Column::TenantId.eq(tenant_id))
        .filter(daily_action_score::Column::Date.eq(date))
        .exec(&txn)
        .await?;
    if !action_rows.is_empty() {
        daily_action_score::Entity::insert_many(action_rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What a recomputation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecomputeSummary {
    /// Tenants with at least one day stored.
    pub tenants_scored: u32,
    /// Tenant-days stored.
    pub days_scored: u32,
}

/// Scores the given tenants (every tenant when `None`) over `range`, then refreshes the
/// comparative scores of every date in it.
pub async fn recompute(
    db: &DatabaseConnection,
    tenant_ids: Option<Vec<String>>,
    range: DateRange,
) -> ApiResult<RecomputeSummary> {
    let tenant_ids = match tenant_ids {
        Some(ids) => ids,
        None => tenants::all_tenants(db)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect(),
    };
    let mut summary = RecomputeSummary::default();
    for tenant_id in &tenant_ids {
        let days = score_tenant_range(db, tenant_id, range).await?;
        summary.days_scored += days;
        summary.tenants_scored += u32::from(days > 0);
    }
    for date in range.days() {
        comparisons::refresh_comparisons(db, date).await?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_are_checked() {
        assert!(DateRange::parse(d("2026-01-02"), d("2026-01-01")).is_err());
        assert!(DateRange::parse(d("2026-01-01"), d("2027-01-01")).is_ok());
        assert!(DateRange::parse(d("2026-01-01"), d("2027-01-02")).is_err());
        assert_eq!(
            DateRange::parse(d("2026-01-30"), d("2026-02-02"))
                .unwrap()
                .days()
                .count(),
            4
        );
    }
}
