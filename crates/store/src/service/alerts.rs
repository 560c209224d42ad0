//! Alert rules and alerts: creating, changing and deleting rules, reading and acknowledging
//! alerts. Rules are evaluated by the pipeline when scores are written (`pipeline::alerting`).

use std::collections::HashMap;

use chrono::Utc;
use entity::{alert, alert_rule};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::{Page, decode_cursor, encode_cursor, page_size};
use crate::error::{ApiError, ApiResult};
use crate::scoring::alerts::RuleSettings;

/// Most rules a tenant may have (deleted ones not counted).
pub const MAX_RULES_PER_TENANT: u64 = 50;

/// A new rule.
pub struct NewRule {
    /// The tenant watched (existing, within the caller's reach).
    pub tenant_id: String,
    /// Kind, threshold and window.
    pub settings: RuleSettings,
    /// Whether it is evaluated.
    pub enabled: bool,
    /// The caller's `sub`.
    pub created_by: String,
}

/// Changes to a rule; `None` leaves a field as it is.
pub struct RuleChange {
    /// New threshold.
    pub threshold: Option<f64>,
    /// New window.
    pub window_days: Option<i32>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// Stores a new rule after checking its kind-specific fields.
pub async fn create_rule(db: &DatabaseConnection, new: NewRule) -> ApiResult<alert_rule::Model> {
    new.settings.validate().map_err(ApiError::BadUserInput)?;
    let count = alert_rule::Entity::find()
        .filter(alert_rule::Column::TenantId.eq(new.tenant_id.as_str()))
        .filter(alert_rule::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    if count >= MAX_RULES_PER_TENANT {
        return Err(ApiError::BadUserInput(format!(
            "a tenant may have at most {MAX_RULES_PER_TENANT} alert rules"
        )));
    }
    let row = alert_rule::ActiveModel {
        tenant_id: Set(new.tenant_id),
        kind: Set(new.settings.kind),
        threshold: Set(new.settings.threshold),
        window_days: Set(new.settings.window_days),
        enabled: Set(new.enabled),
        created_by: Set(new.created_by),
        created_at: Set(Utc::now()),
        deleted_at: Set(None),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

/// A rule that exists and is not deleted; NOT_FOUND otherwise.
pub async fn find_rule(db: &DatabaseConnection, id: &str) -> ApiResult<alert_rule::Model> {
    let missing = || ApiError::record_not_found("alert rule", id);
    let id: i64 = id.parse().map_err(|_| missing())?;
    alert_rule::Entity::find_by_id(id)
        .filter(alert_rule::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(missing)
}

/// Applies `change` to `rule`, checking the result as a whole.
pub async fn update_rule(
    db: &DatabaseConnection,
    rule: alert_rule::Model,
    change: RuleChange,
) -> ApiResult<alert_rule::Model> {
    let settings = RuleSettings {
        kind: rule.kind,
        threshold: change.threshold.or(rule.threshold),
        window_days: change.window_days.unwrap_or(rule.window_days),
    };
    settings.validate().map_err(ApiError::BadUserInput)?;
    let mut row: alert_rule::ActiveModel = rule.clone().into();
    row.threshold = Set(settings.threshold);
    row.window_days = Set(settings.window_days);
    row.enabled = Set(change.enabled.unwrap_or(rule.enabled));
    Ok(row.update(db).await?)
}

/// Deletes a rule: it stops firing, and its alerts stay readable.
pub async fn delete_rule(db: &DatabaseConnection, rule: alert_rule::Model) -> ApiResult<()> {
    let mut row: alert_rule::ActiveModel = rule.into();
    row.deleted_at = Set(Some(Utc::now()));
    row.enabled = Set(false);
    row.update(db).await?;
    Ok(())
}

/// A tenant's rules, oldest first.
pub async fn rules_of(
    db: &DatabaseConnection,
    tenant_id: &str,
) -> ApiResult<Vec<alert_rule::Model>> {
    Ok(alert_rule::Entity::find()
        .filter(alert_rule::Column::TenantId.eq(tenant_id))
        .filter(alert_rule::Column::DeletedAt.is_null())
        .order_by_asc(alert_rule::Column::Id)
        .all(db)
        .await?)
}

/// A tenant's alerts, newest first.
pub async fn alert_page(
    db: &DatabaseConnection,
    tenant_id: &str,
    first: Option<i32>,
    after: Option<&str>,
    unacknowledged_only: bool,
) -> ApiResult<Page<alert::Model>> {
    let size = page_size(first)?;
    let mut query = alert::Entity::find()
        .filter(alert::Column::TenantId.eq(tenant_id))
        .order_by_desc(alert::Column::Id);
    if unacknowledged_only {
        query = query.filter(alert::Column::AcknowledgedAt.is_null());
    }
    if let Some(cursor) = after {
        let id: i64 = decode_cursor(cursor)?;
        query = query.filter(Condition::all().add(alert::Column::Id.lt(id)));
    }
    let rows = query.limit(size + 1).all(db).await?;
    Ok(Page::from_rows(rows, size, after.is_some(), |a| {
        encode_cursor(&a.id)
    }))
}

/// An alert by id; NOT_FOUND when missing.
pub async fn find_alert(db: &DatabaseConnection, id: &str) -> ApiResult<alert::Model> {
    let missing = || ApiError::record_not_found("alert", id);
    let id: i64 = id.parse().map_err(|_| missing())?;
    alert::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(missing)
}

/// Acknowledges an alert; one already acknowledged keeps its first acknowledgement.
pub async fn acknowledge(
    db: &DatabaseConnection,
    alert: alert::Model,
    by: &str,
) -> ApiResult<alert::Model> {
    if alert.acknowledged_at.is_some() {
        return Ok(alert);
    }
    let mut row: alert::ActiveModel = alert.into();
    row.acknowledged_by = Set(Some(by.to_owned()));
    row.acknowledged_at = Set(Some(Utc::now()));
    Ok(row.update(db).await?)
}

/// Alert rules by id (deleted ones included: an alert keeps its rule), one query per batch.
pub async fn rules_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, alert_rule::Model>, DbErr> {
    let rows = alert_rule::Entity::find()
        .filter(alert_rule::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Alerts by id, one query per batch.
pub async fn alerts_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, alert::Model>, DbErr> {
    let rows = alert::Entity::find()
        .filter(alert::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|a| (a.id, a)).collect())
}
