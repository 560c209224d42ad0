//! The batch's consistent read: each tenant's change sequence, the snapshot in force at each
//! date and the override rows needed, in one snapshot of the database, scored in memory.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{action_override, snapshot, tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::Value;

use super::IDS_PER_QUERY;
use crate::pipeline::scored_day::ScoredDay;
use crate::scoring::overrides::states_at;
use crate::scoring::snapshots::{end_of_day, snapshot_for_date, states_instant};
use crate::scoring::{ActionDefinition, score_day};
use crate::service::daily_scores::DateRange;
use crate::service::snapshots::held_facts;

/// A read-only transaction that sees one state of the database throughout: REPEATABLE READ on
/// PostgreSQL; on SQLite (write-ahead log) every transaction reads one snapshot.
pub(super) async fn begin_consistent_read(
    db: &DatabaseConnection,
) -> Result<DatabaseTransaction, DbErr> {
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
pub(super) async fn score_in_memory(
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
pub(super) async fn change_sequences(
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
pub(super) async fn snapshots_in_force(
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
pub(super) fn latest_snapshot_by(at: DateTime<Utc>) -> SelectStatement {
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
pub(super) async fn overrides_in_force(
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
pub(super) fn latest_override_by(at: DateTime<Utc>) -> SelectStatement {
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

/// The facts of the given snapshots (shared facts read from the snapshot holding them).
pub(super) async fn facts_of(
    db: &DatabaseTransaction,
    ids: &[i64],
) -> Result<HashMap<i64, Value>, DbErr> {
    let mut facts = HashMap::with_capacity(ids.len());
    let mut sharing: Vec<(i64, i64)> = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, Value, Option<i64>)> = snapshot::Entity::find()
            .select_only()
            .column(snapshot::Column::Id)
            .column(snapshot::Column::Facts)
            .column(snapshot::Column::FactsOf)
            .filter(snapshot::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, own, facts_of) in rows {
            match facts_of {
                Some(holder) => sharing.push((id, holder)),
                None => {
                    facts.insert(id, own);
                }
            }
        }
    }
    let holders: Vec<i64> = sharing
        .iter()
        .map(|(_, holder)| *holder)
        .filter(|holder| !facts.contains_key(holder))
        .collect();
    let held = held_facts(db, &holders).await?;
    for (id, holder) in sharing {
        if let Some(shared) = facts.get(&holder).or_else(|| held.get(&holder)).cloned() {
            facts.insert(id, shared);
        }
    }
    Ok(facts)
}
