//! The shared catalog of improvement actions: validation, upserts and reads; `built_in` keeps
//! the built-in file's entries in the catalog across upgrades; `audit` says which directory
//! audit events can move which facts.

mod audit;
mod built_in;

use std::collections::HashMap;

use chrono::Utc;
use entity::improvement_action as action;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Deserialize;

pub use audit::{AuditIndex, AuditedEvent};
pub use built_in::{
    AuditActivities, AuditActivityGroup, BuiltInCatalog, CatalogSync, FactDefinition,
    load_built_in_catalog, shipped_entries, sync_built_in_catalog,
};

use super::change_seq::{Changed, record_change};
use super::tenants::{optional_text, required_text, validate_id};
use crate::domain::{ActionCategory, ActionTier, ActionType, Level, License};
use crate::error::{ApiError, ApiResult};
use crate::events::{Event, notify_in_transaction};
use crate::scoring::{ActionDefinition, ComplianceMapping, ScoringRule};

/// A catalog entry as given to `upsertAction` or read from the built-in file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInput {
    /// Stable key.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// Category.
    pub category: ActionCategory,
    /// Points.
    pub max_score: f64,
    /// Scoring rule, validated when it is read.
    pub rule: ScoringRule,
    /// False for "[Not Scored]".
    #[serde(default = "yes")]
    pub scored: bool,
    /// Deprecated entries count for nothing.
    #[serde(default)]
    pub deprecated: bool,
    /// User impact.
    pub user_impact: Option<Level>,
    /// Implementation cost.
    pub implementation_cost: Option<Level>,
    /// Remediation text.
    pub remediation: Option<String>,
    /// Where to act.
    pub action_url: Option<String>,
    /// Microsoft's tier.
    #[serde(default)]
    pub tier: Option<ActionTier>,
    /// CONFIG, REVIEW or BEHAVIOR.
    #[serde(default)]
    pub action_type: Option<ActionType>,
    /// Threats mitigated (free words such as `accountBreach`).
    #[serde(default)]
    pub threats: Vec<String>,
    /// Framework controls served.
    #[serde(default)]
    pub compliance: Vec<ComplianceMapping>,
    /// Licences the action's feature needs.
    #[serde(default)]
    pub requires_licenses: Vec<License>,
}

fn yes() -> bool {
    true
}

/// Checks every field; the error names the first that is wrong.
fn validate(input: &ActionInput) -> ApiResult<()> {
    validate_id("action", &input.id)?;
    required_text("title", &input.title, 200)?;
    optional_text("description", input.description.as_deref(), 4000)?;
    optional_text("remediation", input.remediation.as_deref(), 4000)?;
    if !(input.max_score.is_finite() && input.max_score > 0.0 && input.max_score <= 1_000_000.0) {
        return Err(ApiError::BadUserInput(
            "maxScore must be a finite number above 0 (at most 1000000)".into(),
        ));
    }
    let url = optional_text("actionUrl", input.action_url.as_deref(), 2000)?;
    if url.is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
        return Err(ApiError::BadUserInput(
            "actionUrl must be an http(s) URL".into(),
        ));
    }
    validate_threats(&input.threats)?;
    validate_compliance(&input.compliance)?;
    let mut licenses = input.requires_licenses.clone();
    licenses.sort();
    licenses.dedup();
    if licenses.len() != input.requires_licenses.len() {
        return Err(ApiError::BadUserInput(
            "requiresLicenses: a licence is listed twice".into(),
        ));
    }
    Ok(())
}

/// At most 20 threats, each a word of letters and digits of at most 60 characters.
fn validate_threats(threats: &[String]) -> ApiResult<()> {
    if threats.len() > 20 {
        return Err(ApiError::BadUserInput("threats: at most 20".into()));
    }
    for threat in threats {
        let word = !threat.is_empty()
            && threat.len() <= 60
            && threat.chars().all(|c| c.is_ascii_alphanumeric());
        if !word {
            return Err(ApiError::BadUserInput(format!(
                "threats: {threat:?} must be one word of letters and digits (at most 60), e.g. accountBreach"
            )));
        }
    }
    Ok(())
}

/// At most 20 frameworks, each named once (1 to 100 characters) with 1 to 100 control ids of
/// 1 to 50 characters, none twice.
fn validate_compliance(mappings: &[ComplianceMapping]) -> ApiResult<()> {
    if mappings.len() > 20 {
        return Err(ApiError::BadUserInput(
            "compliance: at most 20 frameworks".into(),
        ));
    }
    let mut names = std::collections::HashSet::new();
    for mapping in mappings {
        let name = required_text("compliance.framework", &mapping.framework, 100)?;
        if name != mapping.framework {
            return Err(ApiError::BadUserInput(
                "compliance.framework must not start or end with spaces".into(),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(ApiError::BadUserInput(format!(
                "compliance: framework {name:?} is named twice"
            )));
        }
        if mapping.controls.is_empty() || mapping.controls.len() > 100 {
            return Err(ApiError::BadUserInput(format!(
                "compliance: framework {name:?} needs 1 to 100 controls"
            )));
        }
        let mut controls = std::collections::HashSet::new();
        for control in &mapping.controls {
            let id = required_text("compliance.controls", control, 50)?;
            if id != *control || !controls.insert(id) {
                return Err(ApiError::BadUserInput(format!(
                    "compliance: control {control:?} of {name:?} is blank, padded or listed twice"
                )));
            }
        }
    }
    Ok(())
}

/// Creates or replaces a catalog entry after validating it, and records the change to every
/// tenant's scores.
pub async fn upsert_action(
    db: &DatabaseConnection,
    input: ActionInput,
) -> ApiResult<action::Model> {
    validate(&input)?;
    let now = Utc::now();
    let existing = action::Entity::find_by_id(input.id.clone()).one(db).await?;
    let created_at = existing.as_ref().map_or(now, |e| e.created_at);
    let mut row = active_model(&input, created_at, now)?;
    // Written by an admin: upgrades of the built-in catalog leave this entry as it is now.
    row.built_in_version = Set(None);
    let txn = db.begin().await?;
    let stored = match existing {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    record_change(&txn, Changed::All).await?;
    notify_in_transaction(&txn, &[Event::CatalogChanged]).await?;
    txn.commit().await?;
    Ok(stored)
}

/// The row for a validated entry, with text fields trimmed.
fn active_model(
    input: &ActionInput,
    created_at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> ApiResult<action::ActiveModel> {
    Ok(action::ActiveModel {
        id: Set(input.id.clone()),
        title: Set(input.title.trim().to_owned()),
        description: Set(optional_text(
            "description",
            input.description.as_deref(),
            4000,
        )?),
        category: Set(input.category),
        max_score: Set(input.max_score),
        rule: Set(input.rule.to_json()),
        scored: Set(input.scored),
        deprecated: Set(input.deprecated),
        user_impact: Set(input.user_impact),
        implementation_cost: Set(input.implementation_cost),
        remediation: Set(optional_text(
            "remediation",
            input.remediation.as_deref(),
            4000,
        )?),
        action_url: Set(optional_text(
            "actionUrl",
            input.action_url.as_deref(),
            2000,
        )?),
        tier: Set(input.tier),
        action_type: Set(input.action_type),
        threats: Set(Some(serde_json::json!(input.threats))),
        compliance: Set(Some(
            serde_json::to_value(&input.compliance)
                .map_err(|e| ApiError::Internal(format!("compliance as JSON: {e}")))?,
        )),
        requires_licenses: Set(Some(serde_json::json!(input.requires_licenses))),
        built_in_version: Set(None),
        created_at: Set(created_at),
        updated_at: Set(now),
    })
}

/// A stored entry's threats (none stored: none).
pub fn stored_threats(row: &action::Model) -> ApiResult<Vec<String>> {
    stored_list(row, "threats", row.threats.as_ref())
}

/// A stored entry's required licences (none stored: none).
pub fn stored_licenses(row: &action::Model) -> ApiResult<Vec<License>> {
    stored_list(row, "requiresLicenses", row.requires_licenses.as_ref())
}

/// A stored entry's compliance mappings (none stored: none).
pub fn stored_compliance(row: &action::Model) -> ApiResult<Vec<ComplianceMapping>> {
    stored_list(row, "compliance", row.compliance.as_ref())
}

fn stored_list<T: for<'de> Deserialize<'de>>(
    row: &action::Model,
    column: &str,
    stored: Option<&serde_json::Value>,
) -> ApiResult<Vec<T>> {
    match stored {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(value) => Vec::<T>::deserialize(value).map_err(|e| {
            ApiError::Internal(format!("action {} has corrupt {column}: {e}", row.id))
        }),
    }
}

/// One entry by id.
pub async fn find_action(db: &DatabaseConnection, id: &str) -> ApiResult<Option<action::Model>> {
    Ok(action::Entity::find_by_id(id.to_owned()).one(db).await?)
}

/// Every entry, deprecated ones included, by id: what the reference cache holds.
pub async fn all_actions(
    db: &DatabaseConnection,
) -> Result<HashMap<String, std::sync::Arc<action::Model>>, DbErr> {
    let rows = action::Entity::find().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|a| (a.id.clone(), std::sync::Arc::new(a)))
        .collect())
}

/// Entries by id, in one query.
pub async fn actions_by_ids(
    db: &DatabaseConnection,
    ids: &[String],
) -> Result<HashMap<String, action::Model>, DbErr> {
    let rows = action::Entity::find()
        .filter(action::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|a| (a.id.clone(), a)).collect())
}

/// The catalog, optionally one category, deprecated entries only when asked; by id.
pub async fn list_actions(
    db: &impl ConnectionTrait,
    category: Option<ActionCategory>,
    include_deprecated: bool,
) -> ApiResult<Vec<action::Model>> {
    let mut query = action::Entity::find().order_by_asc(action::Column::Id);
    if let Some(category) = category {
        query = query.filter(action::Column::Category.eq(category));
    }
    if !include_deprecated {
        query = query.filter(action::Column::Deprecated.eq(false));
    }
    Ok(query.all(db).await?)
}

/// Every framework name an entry maps to, sorted, once each.
pub async fn framework_names(db: &impl ConnectionTrait) -> ApiResult<Vec<String>> {
    let mut names = std::collections::BTreeSet::new();
    for row in list_actions(db, None, true).await? {
        names.extend(stored_compliance(&row)?.into_iter().map(|m| m.framework));
    }
    Ok(names.into_iter().collect())
}

/// The engine's view of a stored entry; a corrupt stored rule is an internal error.
pub fn to_definition(row: &action::Model) -> ApiResult<ActionDefinition> {
    Ok(ActionDefinition {
        id: row.id.clone(),
        category: row.category,
        max_score: row.max_score,
        scored: row.scored,
        deprecated: row.deprecated,
        rule: stored_rule(row)?,
        requires_licenses: stored_licenses(row)?,
    })
}

/// A stored entry's rule; a corrupt one is an internal error naming the entry.
pub fn stored_rule(row: &action::Model) -> ApiResult<ScoringRule> {
    ScoringRule::from_json(&row.rule)
        .map_err(|e| ApiError::Internal(format!("action {} has a corrupt rule: {e}", row.id)))
}
