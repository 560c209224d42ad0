//! The shared catalog of improvement actions: validation, upserts, reads and the built-in file.

use std::collections::HashMap;

use chrono::Utc;
use entity::improvement_action as action;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Deserialize;

use super::change_seq::{Changed, record_change};
use super::tenants::{optional_text, required_text, validate_id};
use crate::domain::{ActionCategory, Level};
use crate::error::{ApiError, ApiResult};
use crate::scoring::{ActionDefinition, ScoringRule};

/// The built-in identity catalog, loaded into an empty catalog at start.
const BUILT_IN_CATALOG: &str = include_str!("../data/identity-catalog.json");

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
    let row = active_model(&input, created_at, now)?;
    let txn = db.begin().await?;
    let stored = match existing {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    record_change(&txn, Changed::All).await?;
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
        created_at: Set(created_at),
        updated_at: Set(now),
    })
}

/// Loads the built-in catalog when the catalog is empty; returns how many entries it stored.
pub async fn load_built_in_catalog(db: &DatabaseConnection) -> ApiResult<usize> {
    if action::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    let entries: Vec<ActionInput> = serde_json::from_str(BUILT_IN_CATALOG)
        .map_err(|e| ApiError::Internal(format!("built-in catalog is malformed: {e}")))?;
    let now = Utc::now();
    let rows = entries
        .iter()
        .map(|entry| {
            validate(entry)?;
            active_model(entry, now, now)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // Replicas starting together on an empty database both get here: the first one wins.
    let txn = db.begin().await?;
    let inserted = action::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(action::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    record_change(&txn, Changed::All).await?;
    txn.commit().await?;
    Ok(usize::try_from(inserted).unwrap_or(usize::MAX))
}

/// One entry by id.
pub async fn find_action(db: &DatabaseConnection, id: &str) -> ApiResult<Option<action::Model>> {
    Ok(action::Entity::find_by_id(id.to_owned()).one(db).await?)
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

/// The engine's view of a stored entry; a corrupt stored rule is an internal error.
pub fn to_definition(row: &action::Model) -> ApiResult<ActionDefinition> {
    Ok(ActionDefinition {
        id: row.id.clone(),
        category: row.category,
        max_score: row.max_score,
        scored: row.scored,
        deprecated: row.deprecated,
        rule: stored_rule(row)?,
    })
}

/// A stored entry's rule; a corrupt one is an internal error naming the entry.
pub fn stored_rule(row: &action::Model) -> ApiResult<ScoringRule> {
    ScoringRule::from_json(&row.rule)
        .map_err(|e| ApiError::Internal(format!("action {} has a corrupt rule: {e}", row.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_is_valid_and_sums_to_56() {
        let entries: Vec<ActionInput> = serde_json::from_str(BUILT_IN_CATALOG).unwrap();
        assert_eq!(entries.len(), 11);
        for entry in &entries {
            validate(entry).unwrap_or_else(|e| panic!("{}: {e:?}", entry.id));
        }
        let scored: f64 = entries
            .iter()
            .filter(|e| e.scored)
            .map(|e| e.max_score)
            .sum();
        assert_eq!(scored, 56.0);
    }
}
