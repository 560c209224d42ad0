//! Scoring a batch of tenants over a range of dates: a few reads per batch in one consistent
//! read (each tenant's change sequence, the snapshot in force at each date and the override
//! rows needed, never a tenant's whole history), scoring in memory, and the batch's rows
//! written with multi-row statements in one transaction, each day only over a row computed
//! from the same or an older state. The pipeline does its own writes here, not through
//! `service`: they are the scoring engine's, fenced and versioned.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

pub use super::scored_day::ScoredDay;
use crate::events::Event;
use crate::scoring::ActionDefinition;
use crate::service::daily_scores::DateRange;

mod latest;
mod read;
mod sets;
mod write;

use read::*;
use write::*;

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
