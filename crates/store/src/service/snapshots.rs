//! Ingesting configuration snapshots and reading them back.

use chrono::{DateTime, Duration, Utc};
use entity::snapshot;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use serde_json::Value;

use super::change_seq::{Changed, record_change};
use super::pagination::{Page, after_descending, decode_cursor, encode_cursor, page_size};
use crate::error::{ApiError, ApiResult};

/// Snapshot ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;
/// Largest accepted `facts` document, serialized.
pub const MAX_FACTS_BYTES: usize = 256 * 1024;
/// How far in the future `capturedAt` may lie (collectors' clocks drift).
const MAX_CLOCK_AHEAD: Duration = Duration::minutes(5);

/// A snapshot as a collector sends it.
#[derive(Clone, Debug)]
pub struct SnapshotInput {
    /// Owning tenant.
    pub tenant_id: String,
    /// When the configuration was captured.
    pub captured_at: DateTime<Utc>,
    /// The facts, a JSON object.
    pub facts: Value,
    /// Optional idempotency key.
    pub idempotency_key: Option<String>,
}

/// No configuration was collected before this: earlier instants are typing mistakes.
fn earliest_capture() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn validate(input: &SnapshotInput, now: DateTime<Utc>) -> ApiResult<()> {
    if !input.facts.is_object() {
        return Err(ApiError::BadUserInput("facts must be a JSON object".into()));
    }
    let size = serde_json::to_vec(&input.facts)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if size > MAX_FACTS_BYTES {
        return Err(ApiError::BadUserInput(format!(
            "facts must be at most {MAX_FACTS_BYTES} bytes of JSON (got {size})"
        )));
    }
    if input.captured_at < earliest_capture() {
        return Err(ApiError::BadUserInput(
            "capturedAt must not be before 2000-01-01".into(),
        ));
    }
    if input.captured_at > now + MAX_CLOCK_AHEAD {
        return Err(ApiError::BadUserInput(
            "capturedAt must not be in the future".into(),
        ));
    }
    if input
        .idempotency_key
        .as_ref()
        .is_some_and(|key| key.is_empty() || key.len() > 200)
    {
        return Err(ApiError::BadUserInput(
            "idempotencyKey must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

/// Stores a snapshot and records the change to its tenant's scores; a known idempotency key returns the first snapshot and stores nothing.
/// The caller has checked that the tenant exists and is within reach.
pub async fn ingest_snapshot(
    db: &DatabaseConnection,
    input: SnapshotInput,
) -> ApiResult<snapshot::Model> {
    let now = Utc::now();
    validate(&input, now)?;
    if let Some(existing) = find_by_key(db, &input).await? {
        return Ok(existing);
    }
    // Facts equal to the tenant's previous snapshot's are kept once, by the snapshot holding them.
    let facts_of = same_facts_as_previous(db, &input.tenant_id, &input.facts).await?;
    let row = snapshot::ActiveModel {
        tenant_id: Set(input.tenant_id.clone()),
        captured_at: Set(input.captured_at),
        received_at: Set(now),
        facts: Set(match facts_of {
            Some(_) => Value::Object(serde_json::Map::new()),
            None => input.facts.clone(),
        }),
        facts_of: Set(facts_of),
        idempotency_key: Set(input.idempotency_key.clone()),
        ..Default::default()
    };
    let txn = db.begin().await?;
    match row.insert(&txn).await {
        Ok(mut stored) => {
            stored.facts = input.facts.clone();
            record_change(
                &txn,
                Changed::Tenants(std::slice::from_ref(&stored.tenant_id)),
            )
            .await?;
            txn.commit().await?;
            Ok(stored)
        }
        // A concurrent request with the same key won the race: answer with its snapshot.
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            find_by_key(db, &input).await?.ok_or_else(|| err.into())
        }
        Err(err) => Err(err.into()),
    }
}

async fn find_by_key(
    db: &DatabaseConnection,
    input: &SnapshotInput,
) -> Result<Option<snapshot::Model>, DbErr> {
    let Some(key) = &input.idempotency_key else {
        return Ok(None);
    };
    let found = snapshot::Entity::find()
        .filter(snapshot::Column::TenantId.eq(input.tenant_id.clone()))
        .filter(snapshot::Column::IdempotencyKey.eq(key.clone()))
        .one(db)
        .await?;
    Ok(with_shared_facts(db, found.into_iter().collect())
        .await?
        .pop())
}

/// The snapshot holding the facts of the tenant's newest snapshot, when they equal `facts`.
async fn same_facts_as_previous(
    db: &DatabaseConnection,
    tenant_id: &str,
    facts: &Value,
) -> Result<Option<i64>, DbErr> {
    let previous: Option<(i64, Option<i64>)> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::Id)
        .column(snapshot::Column::FactsOf)
        .filter(snapshot::Column::TenantId.eq(tenant_id))
        .order_by_desc(snapshot::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    let Some((id, facts_of)) = previous else {
        return Ok(None);
    };
    let holder = facts_of.unwrap_or(id);
    let held: Option<Value> = snapshot::Entity::find_by_id(holder)
        .select_only()
        .column(snapshot::Column::Facts)
        .into_tuple()
        .one(db)
        .await?;
    Ok((held.as_ref() == Some(facts)).then_some(holder))
}

/// Gives each snapshot that shares another's facts those facts (one query for all of them).
async fn with_shared_facts(
    db: &DatabaseConnection,
    mut rows: Vec<snapshot::Model>,
) -> Result<Vec<snapshot::Model>, DbErr> {
    let holders: Vec<i64> = rows.iter().filter_map(|row| row.facts_of).collect();
    if holders.is_empty() {
        return Ok(rows);
    }
    let held = held_facts(db, &holders).await?;
    for row in &mut rows {
        if let Some(facts) = row.facts_of.and_then(|holder| held.get(&holder)) {
            row.facts = facts.clone();
        }
    }
    Ok(rows)
}

/// The facts the given snapshots hold, by id.
pub async fn held_facts<C: sea_orm::ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Value>, DbErr> {
    let mut held = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, Value)> = snapshot::Entity::find()
            .select_only()
            .column(snapshot::Column::Id)
            .column(snapshot::Column::Facts)
            .filter(snapshot::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        held.extend(rows);
    }
    Ok(held)
}

/// One page of a tenant's snapshots, newest capture first.
pub async fn snapshot_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<snapshot::Model>> {
    let size = page_size(first)?;
    let mut query = snapshot::Entity::find()
        .filter(snapshot::Column::TenantId.eq(tenant_id))
        .order_by_desc(snapshot::Column::CapturedAt)
        .order_by_desc(snapshot::Column::Id);
    if let Some(cursor) = after {
        let (captured_at, id): (DateTime<Utc>, i64) = decode_cursor(cursor)?;
        query = query.filter(after_descending(
            snapshot::Column::CapturedAt,
            captured_at,
            snapshot::Column::Id,
            id,
        ));
    }
    let rows = with_shared_facts(db, query.limit(size + 1).all(db).await?).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |s| {
        encode_cursor(&(s.captured_at, s.id))
    }))
}

/// The snapshots with these ids (missing ones left out).
pub async fn snapshots_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<Vec<snapshot::Model>, DbErr> {
    let rows = snapshot::Entity::find()
        .filter(snapshot::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    with_shared_facts(db, rows).await
}

/// The facts of one snapshot.
pub async fn snapshot_facts(db: &DatabaseConnection, id: i64) -> Result<Option<Value>, DbErr> {
    let row = snapshot::Entity::find_by_id(id).one(db).await?;
    Ok(with_shared_facts(db, row.into_iter().collect())
        .await?
        .pop()
        .map(|s| s.facts))
}
