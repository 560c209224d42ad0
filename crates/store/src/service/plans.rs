//! Plans for improvement actions: the current plan per tenant and action, and the append-only
//! history of every change (who, when, what), as overrides have.

use chrono::{NaiveDate, Utc};
use entity::{action_plan, action_plan_change};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::catalog::find_action;
use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use super::tenants::{find_tenant, optional_text};
use crate::error::{ApiError, ApiResult};

/// Most tags a plan may carry.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;
/// Longest notes, in characters.
pub const MAX_NOTES_CHARS: usize = 4000;

/// A plan as `setActionPlan` gives it: it replaces the plan whole.
#[derive(Clone, Debug)]
pub struct PlanInput {
    /// The tenant.
    pub tenant_id: String,
    /// The catalog action.
    pub action_id: String,
    /// Who owns it.
    pub assigned_to: Option<String>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// Tags (none: no tags).
    pub tags: Vec<String>,
}

impl PlanInput {
    /// Trims the texts and checks every limit; the error names the field.
    fn parse(mut self) -> ApiResult<PlanInput> {
        self.assigned_to = optional_text("assignedTo", self.assigned_to.as_deref(), 200)?;
        self.notes = optional_text("notes", self.notes.as_deref(), MAX_NOTES_CHARS)?;
        if self.tags.len() > MAX_TAGS {
            return Err(ApiError::BadUserInput(format!(
                "tags: at most {MAX_TAGS} (got {})",
                self.tags.len()
            )));
        }
        let mut tags: Vec<String> = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            let tag = tag.trim();
            if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
                return Err(ApiError::BadUserInput(format!(
                    "tags: each tag must be 1 to {MAX_TAG_CHARS} characters"
                )));
            }
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        self.tags = tags;
        Ok(self)
    }
}

/// Sets a plan (replacing the one there was) and appends the change to the history, in one
/// transaction. An unknown action is BAD_USER_INPUT, an unknown tenant NOT_FOUND.
pub async fn set_plan(
    db: &DatabaseConnection,
    input: PlanInput,
    changed_by: &str,
) -> ApiResult<action_plan::Model> {
    let input = input.parse()?;
    if find_tenant(db, &input.tenant_id).await?.is_none() {
        return Err(ApiError::tenant_not_found(&input.tenant_id));
    }
    if find_action(db, &input.action_id).await?.is_none() {
        return Err(ApiError::BadUserInput(format!(
            "actionId: there is no catalog action {:?}",
            input.action_id
        )));
    }
    let now = Utc::now();
    let tags = serde_json::json!(input.tags);
    let row = action_plan::ActiveModel {
        tenant_id: Set(input.tenant_id.clone()),
        action_id: Set(input.action_id.clone()),
        assigned_to: Set(input.assigned_to.clone()),
        due_date: Set(input.due_date),
        notes: Set(input.notes.clone()),
        tags: Set(tags.clone()),
        updated_by: Set(changed_by.to_owned()),
        updated_at: Set(now),
        overdue_alerted_due: Set(None),
    };
    let change = action_plan_change::ActiveModel {
        tenant_id: Set(input.tenant_id.clone()),
        action_id: Set(input.action_id.clone()),
        assigned_to: Set(input.assigned_to),
        due_date: Set(input.due_date),
        notes: Set(input.notes),
        tags: Set(tags),
        cleared: Set(false),
        changed_by: Set(changed_by.to_owned()),
        changed_at: Set(now),
        ..Default::default()
    };
    let txn = db.begin().await?;
    action_plan::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([action_plan::Column::TenantId, action_plan::Column::ActionId])
                .update_columns([
                    action_plan::Column::AssignedTo,
                    action_plan::Column::DueDate,
                    action_plan::Column::Notes,
                    action_plan::Column::Tags,
                    action_plan::Column::UpdatedBy,
                    action_plan::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    action_plan_change::Entity::insert(change)
        .exec_without_returning(&txn)
        .await?;
    let stored = action_plan::Entity::find_by_id((input.tenant_id, input.action_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::Internal("the plan just stored is missing".into()))?;
    txn.commit().await?;
    Ok(stored)
}

/// Clears a plan; the history keeps it, with a change saying it was cleared. NOT_FOUND when
/// the action has no plan.
pub async fn clear_plan(
    db: &DatabaseConnection,
    tenant_id: &str,
    action_id: &str,
    changed_by: &str,
) -> ApiResult<()> {
    let txn = db.begin().await?;
    let deleted = action_plan::Entity::delete_many()
        .filter(action_plan::Column::TenantId.eq(tenant_id))
        .filter(action_plan::Column::ActionId.eq(action_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound(format!(
            "action {action_id} has no plan for tenant {tenant_id}"
        )));
    }
    action_plan_change::Entity::insert(action_plan_change::ActiveModel {
        tenant_id: Set(tenant_id.to_owned()),
        action_id: Set(action_id.to_owned()),
        tags: Set(serde_json::json!([])),
        cleared: Set(true),
        changed_by: Set(changed_by.to_owned()),
        changed_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Orders plans by due date ascending, undated last, then by action id.
pub fn sort_plans(plans: &mut [action_plan::Model]) {
    plans.sort_by(|a, b| {
        (a.due_date.is_none(), a.due_date, &a.action_id).cmp(&(
            b.due_date.is_none(),
            b.due_date,
            &b.action_id,
        ))
    });
}

/// The plans of these tenants (for lists and the portfolio), in one statement.
pub async fn plans_of_tenants(
    db: &DatabaseConnection,
    tenant_ids: &[String],
) -> Result<Vec<action_plan::Model>, sea_orm::DbErr> {
    action_plan::Entity::find()
        .filter(action_plan::Column::TenantId.is_in(tenant_ids.to_vec()))
        .all(db)
        .await
}

/// A page of a tenant's plan history, newest first, optionally one action's.
pub async fn plan_history_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    action_id: Option<&str>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<Page<action_plan_change::Model>> {
    let size = page_size(first)?;
    let mut query = action_plan_change::Entity::find()
        .filter(action_plan_change::Column::TenantId.eq(tenant_id))
        .order_by_desc(action_plan_change::Column::Id);
    if let Some(action_id) = action_id {
        query = query.filter(action_plan_change::Column::ActionId.eq(action_id));
    }
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(action_plan_change::Column::Id.lt(id));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |r| {
        encode_cursor(&r.id)
    }))
}

/// A stored tags column as a list (a corrupt one is an internal error).
pub fn stored_tags(tags: &serde_json::Value) -> ApiResult<Vec<String>> {
    serde_json::from_value(tags.clone())
        .map_err(|e| ApiError::Internal(format!("corrupt plan tags: {e}")))
}
