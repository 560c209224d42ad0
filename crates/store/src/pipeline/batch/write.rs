//! The batch's fenced write: each day's rows with multi-row statements in one transaction, a
//! day only over a row computed from the same or an older state, and the events it raises.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::daily_score;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, QueryTrait, TransactionTrait,
};

use super::latest::keep_latest;
use super::sets::{drop_unnamed, name_sets};
use super::{ROWS_PER_INSERT, WriteFence, lost_claim};
use crate::events::{Event, notify_in_transaction};
use crate::pipeline::scored_day::ScoredDay;
use crate::scoring::ActionDefinition;
use crate::scoring::totals::LicenseGap;
use entity::daily_score::StoredCategories;

/// Stores `days` as a new version in one transaction: each day's action results are packed
/// into a set (or an equal stored set is named again), the day rows naming them are upserted
/// where the stored row was computed from the same or an older state (its change sequence,
/// then the instant its inputs were read), and alerts are raised on the days written only; so
/// a reader taking the set a day names never mixes two computations, and a computation from
/// an older state never replaces a newer one. Sets no day names any more stay for readers in
/// flight and are removed later by [`super::sweeper`]. Answers the days written and the
/// alerts raised.
pub(super) async fn store_days(
    db: &DatabaseConnection,
    catalog: &[ActionDefinition],
    days: &[&ScoredDay],
    fence: &impl WriteFence,
) -> Result<Written, DbErr> {
    let txn = db.begin().await?;
    if !fence.hold(&txn).await? {
        return Err(lost_claim());
    }
    take_write_lock(&txn).await?;
    let now = Utc::now();
    let today = now.date_naive();
    let version = now.timestamp_micros();
    let sets = name_sets(&txn, catalog, days, version).await?;
    let mut written_keys: HashSet<(String, NaiveDate)> = HashSet::with_capacity(days.len());
    for (chunk, set_ids) in days
        .chunks(ROWS_PER_INSERT)
        .zip(sets.ids.chunks(ROWS_PER_INSERT))
    {
        let rows = chunk
            .iter()
            .zip(set_ids)
            .map(|(d, set_id)| day_row(d, today, version, *set_id))
            .collect::<Result<Vec<_>, DbErr>>()?;
        written_keys.extend(upsert_newer_days(&txn, rows).await?);
    }
    if written_keys.len() < days.len() {
        drop_unnamed(&txn, &sets.written).await?;
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
    keep_latest(&txn, catalog, &written).await?;
    let raised = crate::pipeline::alerting::raise_alerts(&txn, &written).await?;
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

/// On SQLite, takes the database's write lock before the transaction's first read (the sets
/// a write may name again): a deferred transaction that reads and then writes fails at once
/// when another writer committed in between, where one that starts by writing waits its
/// turn. A write that matches no row takes the lock; PostgreSQL needs nothing.
async fn take_write_lock(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE daily_scores SET id = id WHERE 0 = 1")
            .await?;
    }
    Ok(())
}

/// The events of a write: its tenants' scores over the dates written, and its alerts.
pub(super) fn written_events(written: &[&ScoredDay], alerts: &[(String, i64)]) -> Vec<Event> {
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
pub(super) struct Written {
    /// The tenant-days written.
    pub(super) days: HashSet<(String, NaiveDate)>,
    /// The alerts raised, with their tenants.
    pub(super) alerts: Vec<(String, i64)>,
    /// What the write announced.
    pub(super) events: Vec<Event>,
}

/// Upserts day rows, replacing a stored row only when it was computed from the same or an
/// older state; answers the tenant-days inserted or replaced. The condition is evaluated on
/// the row as it stands when the write takes it (PostgreSQL locks it first; SQLite has one
/// writer), so two writers of one day never both win on a stale comparison.
pub(super) async fn upsert_newer_days(
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
                    C::ActionSetId,
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

/// The `daily_scores` row of a scored day, computed when its inputs were read; days before
/// today are final.
pub(super) fn day_row(
    scored: &ScoredDay,
    today: NaiveDate,
    version: i64,
    action_set_id: i64,
) -> Result<daily_score::ActiveModel, DbErr> {
    let totals = &scored.day.totals;
    let categories = StoredCategories::counted(&totals.categories);
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
        action_set_id: Set(action_set_id),
        ..Default::default()
    })
}
