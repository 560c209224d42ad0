//! The append-only override history and the state in force at any instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::action_override;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::domain::ActionState;
use crate::error::{ApiError, ApiResult};

/// One override change to append.
#[derive(Clone, Debug)]
pub struct OverrideChange {
    /// Tenant.
    pub tenant_id: String,
    /// Action.
    pub action_id: String,
    /// New state.
    pub state: ActionState,
    /// Why.
    pub comment: Option<String>,
    /// Who (token subject).
    pub updated_by: String,
    /// When it takes effect.
    pub updated_at: DateTime<Utc>,
}

/// Appends a change to the history; the caller has checked tenant and action exist.
pub async fn append_override(
    db: &DatabaseConnection,
    change: OverrideChange,
) -> ApiResult<action_override::Model> {
    let comment = super::tenants::optional_text("comment", change.comment.as_deref(), 2000)?;
    let row = action_override::ActiveModel {
        tenant_id: Set(change.tenant_id),
        action_id: Set(change.action_id),
        state: Set(change.state.as_str().to_owned()),
        comment: Set(comment),
        updated_by: Set(change.updated_by),
        updated_at: Set(change.updated_at),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

/// A tenant's history, up to `until` when given, oldest first (ties in insertion order).
pub async fn override_history(
    db: &DatabaseConnection,
    tenant_id: &str,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<action_override::Model>, DbErr> {
    let mut query = action_override::Entity::find()
        .filter(action_override::Column::TenantId.eq(tenant_id))
        .order_by_asc(action_override::Column::UpdatedAt)
        .order_by_asc(action_override::Column::Id);
    if let Some(until) = until {
        query = query.filter(action_override::Column::UpdatedAt.lte(until));
    }
    query.all(db).await
}

/// The newest row per action among `history` rows up to `at` (history oldest first).
pub fn in_force_at(
    history: &[action_override::Model],
    at: DateTime<Utc>,
) -> HashMap<String, &action_override::Model> {
    let mut current = HashMap::new();
    for row in history.iter().take_while(|r| r.updated_at <= at) {
        current.insert(row.action_id.clone(), row);
    }
    current
}

/// The state each action is in at `at`; absent actions are DEFAULT.
pub fn states_at(
    history: &[action_override::Model],
    at: DateTime<Utc>,
) -> HashMap<String, ActionState> {
    in_force_at(history, at)
        .into_iter()
        .map(|(id, row)| (id, ActionState::parse(&row.state).unwrap_or_default()))
        .collect()
}

/// The current non-DEFAULT overrides of a tenant, by action id.
pub async fn current_overrides(
    db: &DatabaseConnection,
    tenant_id: &str,
) -> ApiResult<Vec<action_override::Model>> {
    let history = override_history(db, tenant_id, None).await?;
    let mut current: Vec<action_override::Model> = in_force_at(&history, DateTime::<Utc>::MAX_UTC)
        .into_values()
        .filter(|row| row.state != ActionState::Default.as_str())
        .cloned()
        .collect();
    current.sort_by(|a, b| a.action_id.cmp(&b.action_id));
    Ok(current)
}

/// One page of the history, newest first, optionally for one action.
pub async fn override_history_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    action_id: Option<&str>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<action_override::Model>> {
    let size = page_size(first)?;
    let mut query = action_override::Entity::find()
        .filter(action_override::Column::TenantId.eq(tenant_id))
        .order_by_desc(action_override::Column::Id);
    if let Some(action_id) = action_id {
        query = query.filter(action_override::Column::ActionId.eq(action_id));
    }
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(action_override::Column::Id.lt(id));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |r| {
        encode_cursor(&r.id)
    }))
}

/// Reads a stored state, failing loudly on a corrupt row.
pub fn parse_state(row: &action_override::Model) -> ApiResult<ActionState> {
    ActionState::parse(&row.state)
        .ok_or_else(|| ApiError::Internal(format!("override {} has an unknown state", row.id)))
}
