//! setActionOverride (GLOBAL_ADMIN, SECURITY_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;

use crate::auth::Operation;
use crate::domain::ActionState;
use crate::error::ApiError;
use crate::graphql::context::ContextExt;
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
}

/// Override administration.
#[derive(Default)]
pub struct OverrideMutation;

#[Object]
impl OverrideMutation {
    /// Sets a tenant's state on an action, appending to the override history
    /// (GLOBAL_ADMIN, SECURITY_ADMIN). Today's score follows within seconds; closed days only
    /// through `recomputeScores`.
    async fn set_action_override(
        &self,
        ctx: &Context<'_>,
        input: SetActionOverrideInput,
    ) -> async_graphql::Result<ActionOverride> {
        let viewer = ctx.viewer()?;
        viewer.require_on_tenant(Operation::SetOverride, &input.tenant_id)?;
        let db = ctx.db()?;
        if tenants::find_tenant(db, &input.tenant_id).await?.is_none() {
            return Err(ApiError::tenant_not_found(&input.tenant_id).into());
        }
        if catalog::find_action(db, &input.action_id).await?.is_none() {
            return Err(ApiError::action_not_found(&input.action_id).into());
        }
        let row = overrides::append_override(
            db,
            OverrideChange {
                tenant_id: input.tenant_id.0,
                action_id: input.action_id.0,
                state: input.state,
                comment: input.comment,
                updated_by: viewer.subject.clone(),
                updated_at: Utc::now(),
            },
        )
        .await?;
        ctx.pipeline()?
            .rescore_today(LiveRequest::Tenants(vec![row.tenant_id.clone()]));
        Ok(row.into())
    }
}
