//! The append-only override history and the state in force at any instant.

use chrono::{DateTime, Utc};
use entity::action_override;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::domain::ActionState;
use crate::error::ApiResult;
use crate::scoring::overrides::{OverrideRecord, in_force_at};

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
        state: Set(change.state),
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

impl OverrideRecord for action_override::Model {
    fn action_id(&self) -> &str {
        &self.action_id
    }

    fn state(&self) -> ActionState {
        self.state
    }

    fn set_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }
}

/// The current non-DEFAULT overrides of a tenant, by action id.
pub async fn current_overrides(
    db: &DatabaseConnection,
    tenant_id: &str,
) -> ApiResult<Vec<action_override::Model>> {
    let history = override_history(db, tenant_id, None).await?;
    let mut current: Vec<action_override::Model> = in_force_at(&history, DateTime::<Utc>::MAX_UTC)
        .into_values()
        .filter(|row| row.state != ActionState::Default)
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
