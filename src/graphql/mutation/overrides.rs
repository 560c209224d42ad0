//! setActionOverride and setActionOverrides (GLOBAL_ADMIN, SECURITY_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;

use crate::auth::Operation;
use crate::domain::ActionState;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;
use crate::graphql::scalars::DateTime;
use crate::graphql::types::overrides::ActionOverride;
use crate::pipeline::LiveRequest;
use crate::service::overrides::{self, OverrideChange};
use crate::service::{catalog, tenants};

/// A new override state.
#[derive(InputObject)]
pub struct SetActionOverrideInput {
    /// Tenant.
    pub tenant_id: ID,
    /// Catalog action.
    pub action_id: ID,
    /// The state; DEFAULT removes the override.
    pub state: ActionState,
    /// Why (at most 2000 characters).
    pub comment: Option<String>,
    /// When the state stops being in force (DEFAULT again from then on); in the future.
    pub expires_at: Option<DateTime>,
}

/// One state for many tenant × action pairs at once.
#[derive(InputObject)]
pub struct SetActionOverridesInput {
    /// Tenants, each within the caller's reach.
    pub tenant_ids: Vec<ID>,
    /// Catalog actions; at most 1000 tenant × action pairs in all.
    pub action_ids: Vec<ID>,
    /// The state; DEFAULT removes the overrides.
    pub state: ActionState,
    /// Why (at most 2000 characters), the same for every pair.
    pub comment: Option<String>,
    /// When the states stop being in force; in the future.
    pub expires_at: Option<DateTime>,
}

/// Override administration.
#[derive(Default)]
pub struct OverrideMutation;

#[Object]
impl OverrideMutation {
    /// Sets a tenant's state on an action, appending to the override history
    /// (GLOBAL_ADMIN, SECURITY_ADMIN). Today's score follows within seconds; closed days only
    /// through `recomputeScores`.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_action_override(
        &self,
        ctx: &Context<'_>,
        input: SetActionOverrideInput,
    ) -> async_graphql::Result<ActionOverride> {
        let change = OverrideChange {
            tenant_ids: vec![input.tenant_id.0],
            action_ids: vec![input.action_id.0],
            state: input.state,
            comment: input.comment,
            expires_at: input.expires_at.map(|at| at.0),
            updated_by: String::new(),
            updated_at: Utc::now(),
        };
        let row = set_overrides(ctx, change)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Internal("no override row was returned".into()))?;
        Ok(row)
    }

    /// Sets one state on every tenant × action pair (at most 1000), all or nothing, each pair
    /// appended to the history like a single change (GLOBAL_ADMIN, SECURITY_ADMIN of every
    /// tenant named). The first tenant out of reach or unknown action refuses the whole change.
    #[graphql(
        complexity = "crate::graphql::cost::bulk_mutation(input.tenant_ids.len().saturating_mul(input.action_ids.len()), child_complexity)"
    )]
    async fn set_action_overrides(
        &self,
        ctx: &Context<'_>,
        input: SetActionOverridesInput,
    ) -> async_graphql::Result<Vec<ActionOverride>> {
        let change = OverrideChange {
            tenant_ids: input.tenant_ids.into_iter().map(|id| id.0).collect(),
            action_ids: input.action_ids.into_iter().map(|id| id.0).collect(),
            state: input.state,
            comment: input.comment,
            expires_at: input.expires_at.map(|at| at.0),
            updated_by: String::new(),
            updated_at: Utc::now(),
        };
        Ok(set_overrides(ctx, change).await?)
    }
}

/// Checks the caller's rights on every tenant, that every tenant and action exists, appends
/// the change in one transaction and asks for today's rows of its tenants to be rescored.
async fn set_overrides(
    ctx: &Context<'_>,
    mut change: OverrideChange,
) -> ApiResult<Vec<ActionOverride>> {
    let viewer = ctx.viewer()?;
    viewer.require(Operation::SetOverride)?;
    change.updated_by = viewer.subject.clone();
    let change = change.parse()?;
    for tenant_id in &change.tenant_ids {
        viewer.require_on_tenant(Operation::SetOverride, tenant_id)?;
    }
    let db = ctx.db()?;
    let existing = tenants::existing_tenant_ids(db, &change.tenant_ids).await?;
    if let Some(missing) = change.tenant_ids.iter().find(|id| !existing.contains(*id)) {
        return Err(ApiError::tenant_not_found(missing));
    }
    let actions = catalog::actions_by_ids(db, &change.action_ids).await?;
    if let Some(missing) = change
        .action_ids
        .iter()
        .find(|id| !actions.contains_key(*id))
    {
        return Err(ApiError::action_not_found(missing));
    }
    let tenant_ids = change.tenant_ids.clone();
    let rows = overrides::append_overrides(db, change).await?;
    ctx.pipeline()?
        .rescore_today(LiveRequest::Tenants(tenant_ids));
    Ok(rows.into_iter().map(ActionOverride::from).collect())
}
