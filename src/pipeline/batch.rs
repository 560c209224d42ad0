//! Scoring a batch of tenants over a range of dates: a few reads per batch in one consistent
//! read (each tenant's change sequence, the snapshot in force at each date and the override
//! rows needed, never a tenant's whole history), scoring in memory, and the batch's rows
//! written with multi-row statements in one transaction, each day only over a row computed
//! from the same or an older state. The pipeline does its own writes here, not through
//! `service`: they are the scoring engine's, fenced and versioned.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{action_override, daily_action_score, daily_score, snapshot, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query, SelectStatement};
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, TransactionTrait,
};
use serde_json::Value;

pub use super::scored_day::ScoredDay;
use crate::events::{Event, notify_in_transaction};
use crate::scoring::overrides::states_at;
use crate::scoring::snapshots::{end_of_day, snapshot_for_date, states_instant};
use crate::scoring::totals::{CategoryTotal, LicenseGap};
use crate::scoring::{ActionDefinition, score_day};
use crate::service::daily_scores::DateRange;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const ROWS_PER_INSERT: usize = 1000;
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;
/// Pauses before a failing tenant's second and third tries.
const TENANT_RETRY_BACKOFF: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];

/// What storing a batch did.
#[derive(Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// Tenant-days stored.
    pub stored: i32,
    /// Tenant-days not stored because a day computed from a newer state was already there.
    pub superseded: i32,
    /// Tenants with at least one day settled (stored, or already stored from a newer state).
    pub tenants_scored: i32,
    /// Tenant-days of tenants that still failed after their last try.
    pub failed: i32,
    /// Why each failed tenant failed.
    pub failed_tenants: BTreeMap<String, String>,
    /// The alerts raised, with their tenants.
    pub alerts: Vec<(String, i64)>,
    /// What the stored rows announce (sent in their transactions; see
    /// [`crate::events::notify_in_transaction`]).
    pub events: Vec<Event>,
}

impl BatchOutcome {
    /// Tenant-days settled: stored, or already stored from a newer state.
    pub fn done(&self) -> i32 {
        self.stored.saturating_add(self.superseded)
    }
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
    tenant_ids: &[String],
    range: DateRange,
    fence: &impl WriteFence,
) -> Result<BatchOutcome, DbErr> {
    let computation = compute(db, tenant_ids, range).await?;
    store(db, &computation, fence).await
}

/// Tenant-days scored in memory from one consistent read, with the catalog they were scored
/// against.
pub struct Computation {
    /// The catalog as read with the inputs.
    pub catalog: Vec<ActionDefinition>,
    /// The days scored.
    pub days: Vec<ScoredDay>,
}

/// Stores a computation (see [`score_batch`]): each tenant-day is written only if the stored
/// row was computed from the same or an older state, so a computation that read its inputs
/// before a change never overwrites one that read them after.
pub async fn store(
    db: &DatabaseConnection,
    computation: &Computation,
    fence: &impl WriteFence,
) -> Result<BatchOutcome, DbErr> {
    let (catalog, days) = (&computation.catalog, &computation.days);
    let all: Vec<&ScoredDay> = days.iter().collect();
    match store_days(db, catalog, &all, fence).await {
        Ok(written) => Ok(outcome_of(&all, written, BTreeMap::new())),
        Err(err) if is_lost_claim(&err) => Err(err),
        Err(batch_error) => {
            tracing::warn!(error = %batch_error, days = days.len(), "batch write failed; retrying tenant by tenant");
            store_tenant_by_tenant(db, catalog, days, fence).await
        }
    }
}

/// Reads the catalog and what the batch needs in one consistent read, with each tenant's
/// change sequence, and scores every tenant-day that has a snapshot.
pub async fn compute(
    db: &DatabaseConnection,
    tenant_ids: &[String],
    range: DateRange,
) -> Result<Computation, DbErr> {
    let read = begin_consistent_read(db).await?;
    let now = Utc::now();
    let computed = match super::load_catalog(&read).await {
        Ok(catalog) => score_in_memory(&read, &catalog, tenant_ids, range, now)
            .await
            .map(|days| Computation { catalog, days }),
        Err(err) => Err(DbErr::Custom(format!("loading the catalog: {err:?}"))),
    };
    // Nothing was written: ending the read either way is all that is left.
    read.rollback().await?;
    computed
}

/// A read-only transaction that sees one state of the database throughout: REPEATABLE READ on
/// PostgreSQL; on SQLite (write-ahead log) every transaction reads one snapshot.
async fn begin_consistent_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
        _ => db.begin().await,
    }
}

/// Scores every tenant-day of the batch that has a snapshot, from reads through `read`.
async fn score_in_memory(
    read: &DatabaseTransaction,
    catalog: &[ActionDefinition],
    tenant_ids: &[String],
    range: DateRange,
    now: DateTime<Utc>,
) -> Result<Vec<ScoredDay>, DbErr> {
    let sequences = change_sequences(read, tenant_ids).await?;
    let captures = snapshots_in_force(read, tenant_ids, range).await?;
    let histories = overrides_in_force(read, tenant_ids, range).await?;
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
    let facts = facts_of(read, &snapshot_ids).await?;
    let no_history = Vec::new();
    let mut days = Vec::with_capacity(wanted.len());
    for (tenant_id, date, snapshot_id) in wanted {
        let Some(snapshot_facts) = facts.get(&snapshot_id) else {
            continue; // Snapshots are never deleted; a vanished one simply scores nothing.
        };
        let Some(&input_seq) = sequences.get(&tenant_id) else {
            continue; // The tenant is gone: nothing of it is scored.
        };
        let history = histories.get(&tenant_id).unwrap_or(&no_history);
        let states = states_at(history, states_instant(date, now));
        let day = score_day(catalog, snapshot_facts, &states);
        days.push(ScoredDay {
            tenant_id,
            date,
            snapshot_id,
            day,
            input_seq,
            read_at: now,
        });
    }
    Ok(days)
}

/// Each tenant's change sequence.
async fn change_sequences(
    read: &DatabaseTransaction,
    tenant_ids: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut sequences = HashMap::with_capacity(tenant_ids.len());
    for chunk in tenant_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(String, i64)> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .column(tenant::Column::ChangeSeq)
            .filter(tenant::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(read)
            .await?;
        sequences.extend(rows);
    }
    Ok(sequences)
}

/// Each tenant's captures that matter for `range`: the one in force at the end of its first
/// date and those captured later within it, oldest first.
async fn snapshots_in_force(
    db: &DatabaseTransaction,
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
    db: &DatabaseTransaction,
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
async fn facts_of(db: &DatabaseTransaction, ids: &[i64]) -> Result<HashMap<i64, Value>, DbErr> {
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

/// Stores `days` as a new version in one transaction: the day rows are upserted where the
/// stored row was computed from the same or an older state (its change sequence, then the
/// instant its inputs were read), the action rows of the days actually written are inserted
/// under the version, and alerts are raised on those days only; so a reader taking a day's
/// action rows of the day's version never mixes two computations, and a computation from an
/// older state never replaces a newer one. Superseded action rows stay for readers in flight
/// and are removed later by [`super::sweeper`]. Answers the days written and the alerts raised.
async fn store_days(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
    fence: &impl WriteFence,
) -> Result<Written, DbErr> {
    let txn = db.begin().await?;
    if !fence.hold(&txn).await? {
        return Err(lost_claim());
    }
    let now = Utc::now();
    let today = now.date_naive();
    let version = now.timestamp_micros();
    let mut written_keys: HashSet<(String, NaiveDate)> = HashSet::with_capacity(days.len());
    for chunk in days.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|d| day_row(d, today, version))
            .collect::<Result<Vec<_>, DbErr>>()?;
        written_keys.extend(upsert_newer_days(&txn, rows).await?);
    }
    // Looked up by borrowed tenant id: no string copied per day on a close's path.
    let mut written_dates: HashMap<&str, HashSet<NaiveDate>> = HashMap::new();
    for (tenant_id, date) in &written_keys {
        written_dates.entry(tenant_id).or_default().insert(*date);
    }
    let written: Vec<&ScoredDay> = days
        .iter()
        .copied()
        .filter(|d| {
            written_dates
                .get(d.tenant_id.as_str())
                .is_some_and(|dates| dates.contains(&d.date))
        })
        .collect();
    let action_rows = written
        .iter()
        .flat_map(|d| action_rows(d, catalog, version));
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
    advance_latest_dates(&txn, &written).await?;
    let raised = super::alerting::raise_alerts(&txn, &written).await?;
    let alerts: Vec<(String, i64)> = raised.into_iter().map(|a| (a.tenant_id, a.id)).collect();
    let events = written_events(&written, &alerts);
    notify_in_transaction(&txn, &events).await?;
    txn.commit().await?;
    if !alerts.is_empty() {
        metrics::counter!(crate::telemetry::ALERTS_RAISED).increment(alerts.len() as u64);
    }
    Ok(Written {
        days: written_keys,
        alerts,
        events,
    })
}

/// The events of a write: its tenants' scores over the dates written, and its alerts.
fn written_events(written: &[&ScoredDay], alerts: &[(String, i64)]) -> Vec<Event> {
    let mut events = Vec::with_capacity(1 + alerts.len());
    let dates = written.iter().map(|d| d.date);
    if let (Some(from), Some(to)) = (dates.clone().min(), dates.max()) {
        let tenants: BTreeSet<String> = written.iter().map(|d| d.tenant_id.clone()).collect();
        events.push(Event::ScoresWritten {
            tenants: tenants.into_iter().collect(),
            from,
            to,
        });
    }
    events.extend(
        alerts
            .iter()
            .map(|(tenant_id, alert_id)| Event::AlertRaised {
                tenant_id: tenant_id.clone(),
                alert_id: *alert_id,
            }),
    );
    events
}

/// What one write transaction stored.
#[derive(Default)]
struct Written {
    /// The tenant-days written.
    days: HashSet<(String, NaiveDate)>,
    /// The alerts raised, with their tenants.
    alerts: Vec<(String, i64)>,
    /// What the write announced.
    events: Vec<Event>,
}

/// Upserts day rows, replacing a stored row only when it was computed from the same or an
/// older state; answers the tenant-days inserted or replaced. The condition is evaluated on
/// the row as it stands when the write takes it (PostgreSQL locks it first; SQLite has one
/// writer), so two writers of one day never both win on a stale comparison.
async fn upsert_newer_days(
    txn: &DatabaseTransaction,
    rows: Vec<daily_score::ActiveModel>,
) -> Result<Vec<(String, NaiveDate)>, DbErr> {
    use daily_score::Column as C;
    let excluded = Alias::new("excluded");
    let stored_seq = Expr::col((daily_score::Entity, C::InputSeq));
    let new_seq = Expr::col((excluded.clone(), C::InputSeq));
    let not_newer = Condition::any()
        .add(stored_seq.clone().lt(new_seq.clone()))
        .add(
            Condition::all().add(stored_seq.eq(new_seq)).add(
                Expr::col((daily_score::Entity, C::ComputedAt))
                    .lte(Expr::col((excluded, C::ComputedAt))),
            ),
        );
    let mut insert = daily_score::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::Date])
                .update_columns([
                    C::Score,
                    C::MaxScore,
                    C::Percentage,
                    C::PlannedScore,
                    C::Categories,
                    C::SnapshotId,
                    C::ComputedAt,
                    C::Final,
                    C::NoDataMaxScore,
                    C::Coverage,
                    C::Version,
                    C::InputSeq,
                    C::LicenseGaps,
                ])
                .value(C::StaleActions, true)
                .action_and_where(not_newer.into())
                .to_owned(),
        )
        .into_query();
    insert.returning(Query::returning().columns([C::TenantId, C::Date]));
    let statement = txn.get_database_backend().build(&insert);
    txn.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "tenant_id")?,
                row.try_get::<NaiveDate>("", "date")?,
            ))
        })
        .collect()
}

/// Moves each written tenant's pointer to its latest scored date forward (never back).
async fn advance_latest_dates(txn: &DatabaseTransaction, days: &[&ScoredDay]) -> Result<(), DbErr> {
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

/// The `daily_scores` row of a scored day, computed when its inputs were read; days before
/// today are final.
fn day_row(
    scored: &ScoredDay,
    today: NaiveDate,
    version: i64,
) -> Result<daily_score::ActiveModel, DbErr> {
    let totals = &scored.day.totals;
    let categories = CategoryTotal::to_stored(&totals.categories)
        .map_err(|e| DbErr::Custom(format!("serializing category totals: {e}")))?;
    // Most days lack nothing: no gaps store nothing.
    let license_gaps = if totals.license_gaps.is_empty() {
        None
    } else {
        Some(
            LicenseGap::to_stored(&totals.license_gaps)
                .map_err(|e| DbErr::Custom(format!("serializing licence gaps: {e}")))?,
        )
    };
    Ok(daily_score::ActiveModel {
        tenant_id: Set(scored.tenant_id.clone()),
        date: Set(scored.date),
        score: Set(totals.score),
        max_score: Set(totals.max_score),
        percentage: Set(totals.percentage),
        planned_score: Set(totals.planned_score),
        categories: Set(categories),
        snapshot_id: Set(Some(scored.snapshot_id)),
        computed_at: Set(scored.read_at),
        r#final: Set(scored.date < today),
        no_data_max_score: Set(totals.no_data_max_score),
        coverage: Set(totals.coverage),
        version: Set(version),
        stale_actions: Set(false),
        input_seq: Set(scored.input_seq),
        license_gaps: Set(license_gaps),
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
    days: &[ScoredDay],
    fence: &impl WriteFence,
) -> Result<BatchOutcome, DbErr> {
    let mut by_tenant: BTreeMap<&str, Vec<&ScoredDay>> = BTreeMap::new();
    for day in days {
        by_tenant.entry(&day.tenant_id).or_default().push(day);
    }
    let mut settled: Vec<&ScoredDay> = Vec::new();
    let mut written = Written::default();
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
            Ok(tenant_written) => {
                settled.extend(tenant_days);
                written.days.extend(tenant_written.days);
                written.alerts.extend(tenant_written.alerts);
                written.events.extend(tenant_written.events);
            }
            Err(err) if is_lost_claim(&err) => return Err(err),
            Err(err) => {
                tracing::error!(tenant = %tenant_id, error = %err, "tenant failed after its last try");
                failed_days += i32::try_from(tenant_days.len()).unwrap_or(i32::MAX);
                failed.insert(tenant_id.to_owned(), err.to_string());
            }
        }
    }
    let mut outcome = outcome_of(&settled, written, failed);
    outcome.failed = failed_days;
    Ok(outcome)
}

/// Counts of what was settled of `settled` days (each stored, or superseded by a day already
/// stored from a newer state).
fn outcome_of(
    settled: &[&ScoredDay],
    written: Written,
    failed_tenants: BTreeMap<String, String>,
) -> BatchOutcome {
    let tenants: BTreeSet<&str> = settled.iter().map(|d| d.tenant_id.as_str()).collect();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    BatchOutcome {
        stored: count(written.days.len()),
        superseded: count(settled.len().saturating_sub(written.days.len())),
        tenants_scored: count(tenants.len()),
        failed: 0,
        failed_tenants,
        alerts: written.alerts,
        events: written.events,
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
