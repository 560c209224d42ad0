//! The append-only override history and the state in force at any instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::action_override;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::change_seq::{Changed, record_change};
use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::domain::ActionState;
use crate::error::{ApiError, ApiResult};
use crate::scoring::overrides::in_force_at;

/// Most tenant × action pairs one change may set.
pub const MAX_PAIRS: usize = 1000;

/// One override change to append: one state on every tenant × action pair.
#[derive(Clone, Debug)]
pub struct OverrideChange {
    /// Tenants.
    pub tenant_ids: Vec<String>,
    /// Actions.
    pub action_ids: Vec<String>,
    /// New state.
    pub state: ActionState,
    /// Why.
    pub comment: Option<String>,
    /// When the state stops being in force (DEFAULT from then on); must be after `updated_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who (token subject).
    pub updated_by: String,
    /// When it takes effect.
    pub updated_at: DateTime<Utc>,
}

impl OverrideChange {
    /// Checks the lists, the comment and the expiry; duplicates in the lists are dropped.
    pub fn parse(mut self) -> ApiResult<Self> {
        dedup_in_order(&mut self.tenant_ids);
        dedup_in_order(&mut self.action_ids);
        if self.tenant_ids.is_empty() || self.action_ids.is_empty() {
            return Err(ApiError::BadUserInput(
                "tenantIds and actionIds must each name at least one id".into(),
            ));
        }
        let pairs = self.tenant_ids.len() * self.action_ids.len();
        if pairs > MAX_PAIRS {
            return Err(ApiError::BadUserInput(format!(
                "at most {MAX_PAIRS} tenant × action pairs may be set at once (got {pairs})"
            )));
        }
        self.comment = super::tenants::optional_text("comment", self.comment.as_deref(), 2000)?;
        if self.expires_at.is_some_and(|at| at <= self.updated_at) {
            return Err(ApiError::BadUserInput(
                "expiresAt must be in the future".into(),
            ));
        }
        Ok(self)
    }
}

fn dedup_in_order(ids: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
}

/// Appends every pair of a parsed change to the history in one transaction, all or nothing,
/// and records the change to the tenants' scores;
/// the caller has checked that the tenants and actions exist.
pub async fn append_overrides(
    db: &DatabaseConnection,
    change: OverrideChange,
) -> ApiResult<Vec<action_override::Model>> {
    let rows: Vec<action_override::ActiveModel> = change
        .tenant_ids
        .iter()
        .flat_map(|tenant_id| {
            change
                .action_ids
                .iter()
                .map(move |action_id| (tenant_id, action_id))
        })
        .map(|(tenant_id, action_id)| action_override::ActiveModel {
            tenant_id: Set(tenant_id.clone()),
            action_id: Set(action_id.clone()),
            state: Set(change.state),
            comment: Set(change.comment.clone()),
            updated_by: Set(change.updated_by.clone()),
            updated_at: Set(change.updated_at),
            expires_at: Set(change.expires_at),
            ..Default::default()
        })
        .collect();
    let txn = db.begin().await?;
    let mut stored = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        stored.extend(
            action_override::Entity::insert_many(chunk.to_vec())
                .exec_with_returning(&txn)
                .await?,
        );
    }
    record_change(&txn, Changed::Tenants(&change.tenant_ids)).await?;
    txn.commit().await?;
    Ok(stored)
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

/// The current non-DEFAULT overrides of a tenant, by action id.
pub async fn current_overrides(
    db: &DatabaseConnection,
    tenant_id: &str,
) -> ApiResult<Vec<action_override::Model>> {
    let history = override_history(db, tenant_id, None).await?;
    let mut current: Vec<action_override::Model> = in_force_at(&history, Utc::now())
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

/// When each of `entries` was replaced by a later entry for the same tenant and action, in one
/// statement; entries still in force are absent.
pub async fn replaced_at(
    db: &DatabaseConnection,
    entries: &[&action_override::Model],
) -> ApiResult<HashMap<i64, DateTime<Utc>>> {
    if entries.is_empty() {
        return Ok(HashMap::new());
    }
    let next = Alias::new("next_entry");
    let replacement = Query::select()
        .expr(Expr::col((next.clone(), action_override::Column::UpdatedAt)).min())
        .from_as(action_override::Entity, next.clone())
        .and_where(
            Expr::col((next.clone(), action_override::Column::TenantId))
                .equals((action_override::Entity, action_override::Column::TenantId)),
        )
        .and_where(
            Expr::col((next.clone(), action_override::Column::ActionId))
                .equals((action_override::Entity, action_override::Column::ActionId)),
        )
        .and_where(
            Expr::col((next, action_override::Column::Id)).gt(Expr::col((
                action_override::Entity,
                action_override::Column::Id,
            ))),
        )
        .to_owned();
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = action_override::Entity::find()
        .select_only()
        .column(action_override::Column::Id)
        .expr_as(
            Expr::SubQuery(None, Box::new(replacement.into())),
            "replaced_at",
        )
        .filter(action_override::Column::Id.is_in(entries.iter().map(|e| e.id)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id, at?)))
        .collect())
}
