//! Lists load what their items will select before returning them, one query per kind of
//! thing, so the items find it in the request's loader caches whatever the timing of
//! DataLoader batches: round trips stay constant however long the list. (Catalog entries need
//! no prefetch: every item reads the request's one catalog snapshot.)

use async_graphql::{Context, Lookahead, ScalarType, SelectionField, Value};
use chrono::NaiveDate;

use super::loaders::{ScoreKey, TenantDay, loaders};
use super::scalars::Date;
use crate::error::{ApiError, ApiResult};
use crate::service::estate::{DEFAULT_CHANGE_DAYS, days_before};

/// `edges`, of every connection.
pub const EDGES: &str = "edges";
/// `node`, of every edge.
pub const NODE: &str = "node";
/// `Tenant.score`, with its `date` argument.
pub const SCORE: &str = "score";
/// `score(date:)`.
const DATE_ARGUMENT: &str = "date";
/// `DailyScore.actionScores`.
pub const ACTION_SCORES: &str = "actionScores";
/// `Tenant.percentageChange`, with its `days` argument.
pub const PERCENTAGE_CHANGE: &str = "percentageChange";
/// `percentageChange(days:)`.
const DAYS_ARGUMENT: &str = "days";

/// Every (type, field) the prefetches look ahead to, and (type, field, argument) they read: a
/// test checks each against the schema, so renaming one breaks the test rather than silently
/// turning a prefetch off.
pub const LOOKED_AHEAD: &[(&str, &str, Option<&str>)] = &[
    ("TenantConnection", EDGES, None),
    ("TenantEdge", NODE, None),
    ("Tenant", SCORE, Some(DATE_ARGUMENT)),
    ("Tenant", PERCENTAGE_CHANGE, Some(DAYS_ARGUMENT)),
    ("Tenant", "scoreHistory", None),
    ("DailyScore", ACTION_SCORES, None),
];

/// When a page of tenants selects `edges.node.score`, loads each asked-for date's scores for
/// all of the page's tenants in one query, and what those scores select in one more each.
pub async fn prefetch_scores_if_selected(
    ctx: &Context<'_>,
    tenant_ids: &[String],
) -> ApiResult<()> {
    let selected = ctx.look_ahead().field(EDGES).field(NODE).field(SCORE);
    for field in selected.selection_fields() {
        let Some(date) = date_argument(&field)? else {
            // An invalid date: the field itself reports it, there is nothing to load.
            continue;
        };
        let keys = tenant_ids.iter().map(|tenant_id| ScoreKey {
            tenant_id: tenant_id.clone(),
            date,
        });
        let scores = loaders(ctx)?
            .reader
            .load_many(keys)
            .await
            .map_err(|e| ApiError::from_db("loading scores", &e))?;
        let days = scores.values().map(|day| TenantDay::of(day)).collect();
        prefetch_day_details(ctx, Lookahead::from(field).field(ACTION_SCORES), days).await?;
    }
    Ok(())
}

/// When the current field's items select `actionScores`, loads every day's action scores in
/// one query.
pub async fn prefetch_action_scores_if_selected(
    ctx: &Context<'_>,
    days: Vec<TenantDay>,
) -> ApiResult<()> {
    prefetch_day_details(ctx, ctx.look_ahead().field(ACTION_SCORES), days).await
}

/// Loads the action scores of `days` when `action_scores` is selected.
async fn prefetch_day_details(
    ctx: &Context<'_>,
    action_scores: Lookahead<'_>,
    days: Vec<TenantDay>,
) -> ApiResult<()> {
    if !action_scores.exists() || days.is_empty() {
        return Ok(());
    }
    loaders(ctx)?
        .reader
        .load_many(days)
        .await
        .map_err(|e| ApiError::from_db("loading action scores", &e))?;
    Ok(())
}

/// When a page of tenants selects `edges.node.percentageChange`, loads the page's latest scores
/// and, for each `days` asked for, the scores that many days before, one query per date.
pub async fn prefetch_changes_if_selected(
    ctx: &Context<'_>,
    tenant_ids: &[String],
) -> ApiResult<()> {
    let selected = ctx
        .look_ahead()
        .field(EDGES)
        .field(NODE)
        .field(PERCENTAGE_CHANGE);
    let fields = selected.selection_fields();
    if fields.is_empty() {
        return Ok(());
    }
    let latest_keys = tenant_ids.iter().map(|tenant_id| ScoreKey {
        tenant_id: tenant_id.clone(),
        date: None,
    });
    let latest = loaders(ctx)?
        .reader
        .load_many(latest_keys)
        .await
        .map_err(|e| ApiError::from_db("loading scores", &e))?;
    for field in fields {
        let arguments = field
            .arguments()
            .map_err(|e| ApiError::BadUserInput(e.message))?;
        let days = arguments
            .into_iter()
            .find(|(name, _)| name.as_str() == DAYS_ARGUMENT)
            .and_then(|(_, value)| match value {
                Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            })
            .unwrap_or(DEFAULT_CHANGE_DAYS);
        let earlier_keys = latest.values().map(|score| ScoreKey {
            tenant_id: score.tenant_id.clone(),
            date: Some(days_before(score.date, days)),
        });
        loaders(ctx)?
            .reader
            .load_many(earlier_keys)
            .await
            .map_err(|e| ApiError::from_db("loading scores", &e))?;
    }
    Ok(())
}

/// The `date` argument of a `score` field: `Some(None)` when absent or null (the latest day),
/// `None` when it is not a valid date.
fn date_argument(field: &SelectionField<'_>) -> ApiResult<Option<Option<NaiveDate>>> {
    let arguments = field
        .arguments()
        .map_err(|e| ApiError::BadUserInput(e.message))?;
    Ok(
        match arguments
            .into_iter()
            .find(|(name, _)| name.as_str() == DATE_ARGUMENT)
        {
            None | Some((_, Value::Null)) => Some(None),
            Some((_, value)) => Date::parse(value).ok().map(|date| Some(date.0)),
        },
    )
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    use super::*;

    #[test]
    fn every_field_a_prefetch_looks_ahead_to_exists_in_the_schema() {
        let sdl = crate::graphql::schema_sdl();
        let document = parse_schema(&sdl).unwrap();
        for (type_name, field_name, argument) in LOOKED_AHEAD {
            let fields = document
                .definitions
                .iter()
                .find_map(|definition| match definition {
                    TypeSystemDefinition::Type(t) if t.node.name.node == *type_name => {
                        match &t.node.kind {
                            TypeKind::Object(object) => Some(&object.fields),
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no object type {type_name}"));
            let field = fields
                .iter()
                .find(|f| f.node.name.node == *field_name)
                .unwrap_or_else(|| {
                    panic!("{type_name}.{field_name} is gone: its prefetch with it")
                });
            if let Some(argument) = argument {
                assert!(
                    field
                        .node
                        .arguments
                        .iter()
                        .any(|a| a.node.name.node == *argument),
                    "{type_name}.{field_name}({argument}:) is gone"
                );
            }
        }
    }
}
