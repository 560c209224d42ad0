//! Scoring a batch of tenants over a range of dates: a few reads per batch (the snapshot in
//! force at each date and the override rows needed, never a tenant's whole history), scoring in
//! memory, and the batch's rows written with multi-row statements in one transaction.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{action_override, daily_action_score, daily_score, snapshot, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::Value;

use crate::scoring::overrides::states_at;
use crate::scoring::snapshots::{end_of_day, snapshot_for_date, states_instant};
use crate::scoring::{ActionDefinition, DayScore, score_day};
use crate::service::daily_scores::DateRange;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const ROWS_PER_INSERT: usize = 1000;
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;
/// Pauses before a failing tenant's second and third tries.
const TENANT_RETRY_BACKOFF: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];

/// One tenant-day scored in memory, ready to store.
pub struct ScoredDay {
    /// Tenant.
    pub tenant_id: String,
    /// Date.
    pub date: NaiveDate,
    /// The snapshot that counted.
    pub snapshot_id: i64,
    /// Results and totals.
    pub day: DayScore,
}

/// What storing a batch did.
#[derive(Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// Tenant-days stored.
    pub stored: i32,
    /// Tenants with at least one day stored.
    pub tenants_scored: i32,
    /// Tenant-days of tenants that still failed after their last try.
    pub failed: i32,
    /// Why each failed tenant failed.
    pub failed_tenants: BTreeMap<String, String>,
    /// The tenants with days stored.
    pub tenants: Vec<String>,
    /// The alerts raised, with their tenants.
    pub alerts: Vec<(String, i64)>,
}

/// Checked inside every write transaction: the write goes ahead only while it returns true
/// (a task's claim still held), so a replica whose lease lapsed never overwrites the replica
/// that took its task over.
pub trait WriteFence: Sync {
    /// Renews the claim inside `txn`; false when it is no longer held.
    fn hold(
        &self,
        txn: &DatabaseTransaction,
    ) -> impl std::future::Future<Output = Result<bool, DbErr>> + Send;
}

/// No fence: live rescoring of today, which any replica may do at any time.
pub struct Unfenced;

impl WriteFence for Unfenced {
    async fn hold(&self, _txn: &DatabaseTransaction) -> Result<bool, DbErr> {
        Ok(true)
    }
}

/// Scores `tenant_ids` over `range` and stores the days that have a snapshot; a tenant whose
/// rows cannot be written is retried alone with backoff and then counted as failed, while the
/// rest of the batch is stored.
pub async fn score_batch(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    tenant_ids: &[String],
    range: DateRange,
    fence: &impl WriteFence,
) -> Result<BatchOutcome, DbErr> {
    let days = score_in_memory(db, catalog, tenant_ids, range).await?;
    match store_days(db, catalog, &days, fence).await {
        Ok(alerts) => Ok(outcome_of(&days, BTreeMap::new(), alerts)),
        Err(err) if is_lost_claim(&err) => Err(err),
        Err(batch_error) => {
            tracing::warn!(error = %batch_error, tenants = tenant_ids.len(), "batch write failed; retrying tenant by tenant");
            store_tenant_by_tenant(db, catalog, days, fence).await
        }
    }
}

/// Reads what the batch needs and scores every tenant-day that has a snapshot.
async fn score_in_memory(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    tenant_ids: &[String],
    range: DateRange,
) -> Result<Vec<ScoredDay>, DbErr> {
    let captures = snapshots_in_force(db, tenant_ids, range).await?;
    let histories = overrides_in_force(db, tenant_ids, range).await?;
    let mut wanted: Vec<(String, NaiveDate, i64)> = Vec::new();
    for (tenant_id, tenant_captures) in &captures {
        for date in range.days() {
            if let Some(snapshot_id) = snapshot_for_date(tenant_captures, date) {
                wanted.push((tenant_id.clone(), date, snapshot_id));
            }
        }
    }
    let mut snapshot_ids: Vec<i64> = wanted.iter().map(|(_, _, id)| *id).collect();
    snapshot_ids.sort_unstable();
    snapshot_ids.dedup();
    let facts = facts_of(db, &snapshot_ids).await?;
    let no_history = Vec::new();
    let now = Utc::now();
    let mut days = Vec::with_capacity(wanted.len());
    for (tenant_id, date, snapshot_id) in wanted {
        let Some(snapshot_facts) = facts.get(&snapshot_id) else {
            continue; // Snapshots are never deleted; a vanished one simply scores nothing.
        };
        let history = histories.get(&tenant_id).unwrap_or(&no_history);
        let states = states_at(history, states_instant(date, now));
        let day = score_day(catalog, snapshot_facts, &states);
        days.push(ScoredDay {
            tenant_id,
            date,
            snapshot_id,
            day,
        });
    }
    Ok(days)
}

/// Each tenant's captures that matter for `range`: the one in force at the end of its first
/// date and those captured later within it, oldest first.
async fn snapshots_in_force(
    db: &DatabaseConnection,
    tenant_ids: &[String],
    range: DateRange,
) -> Result<BTreeMap<String, Vec<(i64, DateTime<Utc>)>>, DbErr> {
    let (first_end, last_end) = (end_of_day(range.from), end_of_day(range.to));
    let mut captures: BTreeMap<String, Vec<(i64, DateTime<Utc>)>> = BTreeMap::new();
    for chunk in tenant_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, String, DateTime<Utc>)> = snapshot::Entity::find()
            .select_only()
            .column(snapshot::Column::Id)
            .column(snapshot::Column::TenantId)
            .column(snapshot::Column::CapturedAt)
            .filter(snapshot::Column::TenantId.is_in(chunk.iter().cloned()))
            .filter(
                Condition::any()
                    .add(
                        Expr::col((snapshot::Entity, snapshot::Column::Id))
                            .in_subquery(latest_snapshot_by(first_end)),
                    )
                    .add(
                        Condition::all()
                            .add(snapshot::Column::CapturedAt.gt(first_end))
                            .add(snapshot::Column::CapturedAt.lte(last_end)),
                    ),
            )
            .order_by_asc(snapshot::Column::CapturedAt)
            .order_by_asc(snapshot::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        for (id, tenant_id, captured_at) in rows {
            captures
                .entry(tenant_id)
                .or_default()
                .push((id, captured_at));
        }
    }
    Ok(captures)
}

/// The id of the outer row's tenant's latest snapshot captured by `at`.
fn latest_snapshot_by(at: DateTime<Utc>) -> SelectStatement {
    let latest = Alias::new("latest_snapshot");
    Query::select()
        .column((latest.clone(), snapshot::Column::Id))
        .from_as(snapshot::Entity, latest.clone())
        .and_where(
            Expr::col((latest.clone(), snapshot::Column::TenantId))
                .equals((snapshot::Entity, snapshot::Column::TenantId)),
        )
        .and_where(Expr::col((latest.clone(), snapshot::Column::CapturedAt)).lte(at))
        .order_by((latest.clone(), snapshot::Column::CapturedAt), Order::Desc)
        .order_by((latest, snapshot::Column::Id), Order::Desc)
        .limit(1)
        .to_owned()
}

/// Each tenant's override entries that matter for `range`: per action the entry in force at
/// the end of its first date, and every entry set later within it; oldest first.
async fn overrides_in_force(
    db: &DatabaseConnection,
    tenant_ids: &[String],
    range: DateRange,
) -> Result<HashMap<String, Vec<action_override::Model>>, DbErr> {
    let (first_end, last_end) = (end_of_day(range.from), end_of_day(range.to));
    let mut histories: HashMap<String, Vec<action_override::Model>> = HashMap::new();
    for chunk in tenant_ids.chunks(IDS_PER_QUERY) {
        let rows = action_override::Entity::find()
            .filter(action_override::Column::TenantId.is_in(chunk.iter().cloned()))
            .filter(
                Condition::any()
                    .add(
                        Expr::col((action_override::Entity, action_override::Column::Id))
                            .in_subquery(latest_override_by(first_end)),
                    )
                    .add(
                        Condition::all()
                            .add(action_override::Column::UpdatedAt.gt(first_end))
                            .add(action_override::Column::UpdatedAt.lte(last_end)),
                    ),
            )
            .order_by_asc(action_override::Column::UpdatedAt)
            .order_by_asc(action_override::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            histories
                .entry(row.tenant_id.clone())
                .or_default()
                .push(row);
        }
    }
    Ok(histories)
}

/// The id of the outer row's tenant-and-action's latest override entry set by `at`.
fn latest_override_by(at: DateTime<Utc>) -> SelectStatement {
    let latest = Alias::new("latest_override");
    Query::select()
        .column((latest.clone(), action_override::Column::Id))
        .from_as(action_override::Entity, latest.clone())
        .and_where(
            Expr::col((latest.clone(), action_override::Column::TenantId))
                .equals((action_override::Entity, action_override::Column::TenantId)),
        )
        .and_where(
            Expr::col((latest.clone(), action_override::Column::ActionId))
                .equals((action_override::Entity, action_override::Column::ActionId)),
        )
        .and_where(Expr::col((latest.clone(), action_override::Column::UpdatedAt)).lte(at))
        .order_by(
            (latest.clone(), action_override::Column::UpdatedAt),
            Order::Desc,
        )
        .order_by((latest, action_override::Column::Id), Order::Desc)
        .limit(1)
        .to_owned()
}

/// The facts of the given snapshots.
async fn facts_of(db: &DatabaseConnection, ids: &[i64]) -> Result<HashMap<i64, Value>, DbErr> {
    let mut facts = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, Value)> = snapshot::Entity::find()
            .select_only()
            .column(snapshot::Column::Id)
            .column(snapshot::Column::Facts)
            .filter(snapshot::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        facts.extend(rows);
    }
    Ok(facts)
}

/// Stores `days` as a new version in one transaction: the action rows are inserted under the
/// version and the day rows switched to it, so a reader taking a day's action rows of the day's
/// version never mixes two computations. Superseded action rows stay for readers in flight and
/// are removed later by [`super::sweeper`].
async fn store_days(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    days: &[ScoredDay],
    fence: &impl WriteFence,
) -> Result<Vec<(String, i64)>, DbErr> {
    let txn = db.begin().await?;
    if !fence.hold(&txn).await? {
        return Err(lost_claim());
    }
    let now = Utc::now();
    let today = now.date_naive();
    let version = now.timestamp_micros();
    for chunk in days.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|d| day_row(d, now, today, version))
            .collect::<Result<Vec<_>, DbErr>>()?;
        daily_score::Entity::insert_many(rows)
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
                        daily_score::Column::Final,
                        daily_score::Column::NoDataMaxScore,
                        daily_score::Column::Coverage,
                        daily_score::Column::Version,
                    ])
                    .value(daily_score::Column::StaleActions, true)
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    let action_rows = days.iter().flat_map(|d| action_rows(d, catalog, version));
    let mut pending = Vec::with_capacity(ROWS_PER_INSERT);
    for row in action_rows {
        pending.push(row);
        if pending.len() == ROWS_PER_INSERT {
            insert_action_rows(&txn, std::mem::take(&mut pending)).await?;
        }
    }
    if !pending.is_empty() {
        insert_action_rows(&txn, pending).await?;
    }
    advance_latest_dates(&txn, days).await?;
    let raised = super::alerting::raise_alerts(&txn, days).await?;
    txn.commit().await?;
    if !raised.is_empty() {
        metrics::counter!(crate::telemetry::ALERTS_RAISED).increment(raised.len() as u64);
    }
    Ok(raised.into_iter().map(|a| (a.tenant_id, a.id)).collect())
}

/// Moves each written tenant's pointer to its latest scored date forward (never back).
async fn advance_latest_dates(txn: &DatabaseTransaction, days: &[ScoredDay]) -> Result<(), DbErr> {
    let mut newest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for day in days {
        let date = newest.entry(day.tenant_id.as_str()).or_insert(day.date);
        *date = Ord::max(*date, day.date);
    }
    let mut by_date: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for (tenant, date) in newest {
        by_date.entry(date).or_default().push(tenant.to_owned());
    }
    for (date, tenants) in by_date {
        for chunk in tenants.chunks(IDS_PER_QUERY) {
            tenant::Entity::update_many()
                .col_expr(tenant::Column::LatestScoreDate, Expr::value(date))
                .filter(tenant::Column::Id.is_in(chunk.iter().cloned()))
                .filter(
                    Condition::any()
                        .add(tenant::Column::LatestScoreDate.is_null())
                        .add(tenant::Column::LatestScoreDate.lt(date)),
                )
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

async fn insert_action_rows(
    txn: &DatabaseTransaction,
    rows: Vec<daily_action_score::ActiveModel>,
) -> Result<(), DbErr> {
    daily_action_score::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await
        .map(|_| ())
}

/// The `daily_scores` row of a scored day; days before today are final.
fn day_row(
    scored: &ScoredDay,
    now: DateTime<Utc>,
    today: NaiveDate,
    version: i64,
) -> Result<daily_score::ActiveModel, DbErr> {
    let totals = &scored.day.totals;
    let categories = serde_json::to_value(&totals.categories)
        .map_err(|e| DbErr::Custom(format!("serializing category totals: {e}")))?;
    Ok(daily_score::ActiveModel {
        tenant_id: Set(scored.tenant_id.clone()),
        date: Set(scored.date),
        score: Set(totals.score),
        max_score: Set(totals.max_score),
        percentage: Set(totals.percentage),
        planned_score: Set(totals.planned_score),
        categories: Set(categories),
        snapshot_id: Set(Some(scored.snapshot_id)),
        computed_at: Set(now),
        r#final: Set(scored.date < today),
        no_data_max_score: Set(totals.no_data_max_score),
        coverage: Set(totals.coverage),
        version: Set(version),
        stale_actions: Set(false),
        ..Default::default()
    })
}

/// The `daily_action_scores` rows of a scored day, in catalog order.
fn action_rows<'a>(
    scored: &'a ScoredDay,
    catalog: &'a [ActionDefinition],
    version: i64,
) -> impl Iterator<Item = daily_action_score::ActiveModel> + 'a {
    catalog
        .iter()
        .zip(&scored.day.results)
        .map(move |(action, result)| daily_action_score::ActiveModel {
            tenant_id: Set(scored.tenant_id.clone()),
            date: Set(scored.date),
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
            version: Set(version),
            ..Default::default()
        })
}

/// After a failed batch write: each tenant alone, with backoff between its tries.
async fn store_tenant_by_tenant(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    days: Vec<ScoredDay>,
    fence: &impl WriteFence,
) -> Result<BatchOutcome, DbErr> {
    let mut by_tenant: BTreeMap<String, Vec<ScoredDay>> = BTreeMap::new();
    for day in days {
        by_tenant
            .entry(day.tenant_id.clone())
            .or_default()
            .push(day);
    }
    let mut stored: Vec<ScoredDay> = Vec::new();
    let mut alerts = Vec::new();
    let mut failed_days = 0;
    let mut failed = BTreeMap::new();
    for (tenant_id, tenant_days) in by_tenant {
        let mut result = store_days(db, catalog, &tenant_days, fence).await;
        for pause in TENANT_RETRY_BACKOFF {
            match &result {
                Err(err) if !is_lost_claim(err) => {
                    tokio::time::sleep(pause).await;
                    result = store_days(db, catalog, &tenant_days, fence).await;
                }
                _ => break,
            }
        }
        match result {
            Ok(raised) => {
                stored.extend(tenant_days);
                alerts.extend(raised);
            }
            Err(err) if is_lost_claim(&err) => return Err(err),
            Err(err) => {
                tracing::error!(tenant = %tenant_id, error = %err, "tenant failed after its last try");
                failed_days += i32::try_from(tenant_days.len()).unwrap_or(i32::MAX);
                failed.insert(tenant_id, err.to_string());
            }
        }
    }
    let mut outcome = outcome_of(&stored, failed, alerts);
    outcome.failed = failed_days;
    Ok(outcome)
}

/// Counts of what was stored.
fn outcome_of(
    stored: &[ScoredDay],
    failed_tenants: BTreeMap<String, String>,
    alerts: Vec<(String, i64)>,
) -> BatchOutcome {
    let mut tenants: Vec<String> = stored.iter().map(|d| d.tenant_id.clone()).collect();
    tenants.dedup();
    BatchOutcome {
        stored: i32::try_from(stored.len()).unwrap_or(i32::MAX),
        tenants_scored: i32::try_from(tenants.len()).unwrap_or(i32::MAX),
        failed: 0,
        failed_tenants,
        tenants,
        alerts,
    }
}

/// The error that stops a replica whose claim on a task lapsed.
pub fn lost_claim() -> DbErr {
    DbErr::Custom("the task's claim was lost to another replica".into())
}

/// True for [`lost_claim`].
pub fn is_lost_claim(err: &DbErr) -> bool {
    matches!(err, DbErr::Custom(message) if message.starts_with("the task's claim was lost"))
}
