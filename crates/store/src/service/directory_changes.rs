//! Who changed it: the directory audit events collections kept, stored once per tenant and
//! event id, read between two days' snapshots for a diff and page by page for a tenant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{directory_change, improvement_action, snapshot};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::catalog::{AuditIndex, AuditedEvent};
use super::pagination::{Page, after_descending, decode_cursor, encode_cursor, page_size};
pub use crate::domain::{ChangeTarget, DirectoryChange};
use crate::error::{ApiError, ApiResult};
use crate::scoring::ScoringRule;
use crate::scoring::diff::ActionChange;

/// Rows inserted per statement.
const INSERT_CHUNK: usize = 200;

impl AuditedEvent for DirectoryChange {
    fn category(&self) -> &str {
        &self.category
    }

    fn activity(&self) -> &str {
        &self.activity
    }

    fn group_target_ids(&self) -> Vec<&str> {
        self.targets
            .iter()
            .filter(|t| t.kind.eq_ignore_ascii_case("Group"))
            .filter_map(|t| t.id.as_deref())
            .collect()
    }
}

/// Reading stored rows.
pub trait FromRow: Sized {
    /// The stored row as shown; corrupt targets are an error naming the event.
    fn from_row(row: directory_change::Model) -> Result<Self, DbErr>;
}

impl FromRow for DirectoryChange {
    fn from_row(row: directory_change::Model) -> Result<DirectoryChange, DbErr> {
        let targets = serde_json::from_value(row.targets).map_err(|e| {
            DbErr::Custom(format!("directory change {} targets: {e}", row.event_id))
        })?;
        Ok(DirectoryChange {
            id: row.event_id,
            at: row.at,
            activity: row.activity,
            category: row.category,
            result: row.result,
            initiated_by: row.initiated_by,
            targets,
        })
    }
}

/// Stores the tenant's events; one seen before (same id) is left as it is.
pub async fn keep_changes(
    db: &impl ConnectionTrait,
    tenant_id: &str,
    changes: &[DirectoryChange],
) -> Result<(), DbErr> {
    for chunk in changes.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|c| directory_change::ActiveModel {
            tenant_id: Set(tenant_id.to_owned()),
            event_id: Set(c.id.clone()),
            at: Set(c.at),
            activity: Set(c.activity.clone()),
            category: Set(c.category.clone()),
            result: Set(c.result.clone()),
            initiated_by: Set(c.initiated_by.clone()),
            targets: Set(serde_json::to_value(&c.targets).unwrap_or_default()),
        });
        directory_change::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    directory_change::Column::TenantId,
                    directory_change::Column::EventId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Where a day's events are looked for: the tenant and the two days' snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChangeWindow {
    /// The tenant.
    pub tenant_id: String,
    /// The earlier day's snapshot: events after its capture.
    pub after_snapshot: i64,
    /// The later day's snapshot: events up to its capture.
    pub upto_snapshot: i64,
}

/// The kept events of each window, oldest first: two statements however many windows.
pub async fn changes_in_windows(
    db: &impl ConnectionTrait,
    windows: &[ChangeWindow],
) -> Result<HashMap<ChangeWindow, Vec<DirectoryChange>>, DbErr> {
    let mut found: HashMap<ChangeWindow, Vec<DirectoryChange>> = HashMap::new();
    if windows.is_empty() {
        return Ok(found);
    }
    let snapshot_ids: Vec<i64> = windows
        .iter()
        .flat_map(|w| [w.after_snapshot, w.upto_snapshot])
        .collect();
    let captured: HashMap<i64, DateTime<Utc>> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::Id)
        .column(snapshot::Column::CapturedAt)
        .filter(snapshot::Column::Id.is_in(snapshot_ids))
        .into_tuple::<(i64, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let bounded: Vec<(&ChangeWindow, DateTime<Utc>, DateTime<Utc>)> = windows
        .iter()
        .filter_map(|w| {
            let from = *captured.get(&w.after_snapshot)?;
            let upto = *captured.get(&w.upto_snapshot)?;
            (from < upto).then_some((w, from, upto))
        })
        .collect();
    let mut condition = Condition::any();
    for (window, from, upto) in &bounded {
        condition = condition.add(
            Condition::all()
                .add(directory_change::Column::TenantId.eq(window.tenant_id.clone()))
                .add(directory_change::Column::At.gt(*from))
                .add(directory_change::Column::At.lte(*upto)),
        );
    }
    if bounded.is_empty() {
        return Ok(found);
    }
    let rows = directory_change::Entity::find()
        .filter(condition)
        .order_by_asc(directory_change::Column::At)
        .order_by_asc(directory_change::Column::EventId)
        .all(db)
        .await?;
    for row in rows {
        let tenant = row.tenant_id.clone();
        let at = row.at;
        let change = DirectoryChange::from_row(row)?;
        for (window, from, upto) in &bounded {
            if window.tenant_id == tenant && *from < at && at <= *upto {
                found
                    .entry((*window).clone())
                    .or_default()
                    .push(change.clone());
            }
        }
    }
    Ok(found)
}

/// One page of the tenant's kept events with `from <= at <= to`, newest first.
pub async fn change_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<DirectoryChange>> {
    if from > to {
        return Err(ApiError::BadUserInput(format!(
            "from ({from}) is after to ({to})"
        )));
    }
    let size = page_size(first)?;
    let mut query = directory_change::Entity::find()
        .filter(directory_change::Column::TenantId.eq(tenant_id))
        .filter(directory_change::Column::At.gte(from))
        .filter(directory_change::Column::At.lte(to))
        .order_by_desc(directory_change::Column::At)
        .order_by_desc(directory_change::Column::EventId);
    if let Some(cursor) = after {
        let (at, id): (DateTime<Utc>, String) = decode_cursor(cursor)?;
        query = query.filter(after_descending(
            directory_change::Column::At,
            at,
            directory_change::Column::EventId,
            id,
        ));
    }
    let rows = query.limit(size + 1).all(db).await?;
    let changes = rows
        .into_iter()
        .map(DirectoryChange::from_row)
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(Page::from_rows(changes, size, after.is_some(), |c| {
        encode_cursor(&(c.at, c.id.clone()))
    }))
}

/// The fact paths each catalog action's rule reads (one statement).
pub async fn action_fact_paths(
    db: &impl ConnectionTrait,
) -> Result<HashMap<String, Vec<String>>, DbErr> {
    let rules: Vec<(String, serde_json::Value)> = improvement_action::Entity::find()
        .select_only()
        .column(improvement_action::Column::Id)
        .column(improvement_action::Column::Rule)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rules
        .into_iter()
        .filter_map(|(id, rule)| {
            let rule = ScoringRule::from_json(&rule).ok()?;
            Some((
                id,
                rule.fact_paths().into_iter().map(str::to_owned).collect(),
            ))
        })
        .collect())
}

/// Sets each change's `directoryChanges` to those of `events` that can move its action, given
/// the fact paths each action reads.
pub fn attach_changes(
    changes: &mut [ActionChange],
    events: &[DirectoryChange],
    fact_paths: &HashMap<String, Vec<String>>,
) {
    let index = AuditIndex::shipped();
    for change in changes {
        let paths = fact_paths.get(&change.action_id);
        let moving = events
            .iter()
            .filter(|event| {
                paths.is_some_and(|p| index.moves(p.iter().map(String::as_str), *event))
            })
            .cloned()
            .collect();
        change.directory_changes = Some(moving);
    }
}
