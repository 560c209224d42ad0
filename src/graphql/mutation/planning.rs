//! setActionPlan, clearActionPlan and setScoreZones (GLOBAL_ADMIN, SECURITY_ADMIN of the
//! tenant).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::graphql::context::ContextExt;
use crate::graphql::scalars::Date;
use crate::graphql::types::planning::{ActionPlan, status_of, statuses_today};
use crate::graphql::types::tenant::Tenant;
use crate::pipeline::LiveRequest;
use crate::scoring::planning::ScoreZones;
use crate::service::plans::{self, PlanInput};
use crate::service::tenants;

/// A plan for one action of a tenant; it replaces the plan there was.
#[derive(InputObject)]
pub struct SetActionPlanInput {
    /// The tenant.
    pub tenant_id: ID,
    /// The catalog action.
    pub action_id: ID,
    /// Who owns it (free text, at most 200 characters).
    pub assigned_to: Option<String>,
    /// When it is due.
    pub due_date: Option<Date>,
    /// Notes (at most 4,000 characters).
    pub notes: Option<String>,
    /// Tags (at most 20, each at most 64 characters).
    pub tags: Option<Vec<String>>,
}

/// Planning.
#[derive(Default)]
pub struct PlanningMutation;

#[Object]
impl PlanningMutation {
    /// Sets a tenant's plan for an action (GLOBAL_ADMIN, SECURITY_ADMIN); the change is
    /// appended to the plan history.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_action_plan(
        &self,
        ctx: &Context<'_>,
        input: SetActionPlanInput,
    ) -> async_graphql::Result<ActionPlan> {
        let viewer = ctx.viewer()?;
        viewer.require_on_tenant(Operation::PlanImprovements, &input.tenant_id)?;
        let stored = plans::set_plan(
            ctx.db()?,
            PlanInput {
                tenant_id: input.tenant_id.0,
                action_id: input.action_id.0,
                assigned_to: input.assigned_to,
                due_date: input.due_date.map(|d| d.0),
                notes: input.notes,
                tags: input.tags.unwrap_or_default(),
            },
            &viewer.subject,
        )
        .await?;
        // Today is written again, which raises PLAN_OVERDUE for a plan now overdue.
        ctx.pipeline()?
            .rescore_today(LiveRequest::Tenants(vec![stored.tenant_id.clone()]));
        let statuses = statuses_today(ctx, &stored.tenant_id).await?;
        let status = status_of(&statuses, &stored.action_id, stored.due_date);
        Ok(ActionPlan::current(stored, status))
    }

    /// Clears a tenant's plan for an action (GLOBAL_ADMIN, SECURITY_ADMIN); the history keeps
    /// it. Answers the action's id; NOT_FOUND when there is no plan.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn clear_action_plan(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        action_id: ID,
    ) -> async_graphql::Result<ID> {
        let viewer = ctx.viewer()?;
        viewer.require_on_tenant(Operation::PlanImprovements, &tenant_id)?;
        plans::clear_plan(ctx.db()?, &tenant_id, &action_id, &viewer.subject).await?;
        Ok(action_id)
    }

    /// Sets a tenant's score zone thresholds, `0 ≤ fair ≤ good ≤ 100` (GLOBAL_ADMIN,
    /// SECURITY_ADMIN).
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn set_score_zones(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        good: f64,
        fair: f64,
    ) -> async_graphql::Result<Tenant> {
        ctx.viewer()?
            .require_on_tenant(Operation::PlanImprovements, &tenant_id)?;
        Ok(
            tenants::set_zones(ctx.db()?, &tenant_id, ScoreZones { good, fair })
                .await?
                .into(),
        )
    }
}
