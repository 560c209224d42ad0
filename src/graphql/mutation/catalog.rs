//! upsertAction (PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::domain::{ActionCategory, ActionTier, ActionType, Level, License};
use crate::error::ApiError;
use crate::events::Event;
use crate::graphql::context::ContextExt;
use crate::graphql::types::action::ImprovementAction;
use crate::pipeline::LiveRequest;
use crate::scoring::{ComplianceMapping, RuleFields, ScoringRule};
use crate::service::catalog::{self, ActionInput};

/// A catalog entry to create or replace.
#[derive(InputObject)]
pub struct UpsertActionInput {
    /// Stable key.
    pub id: ID,
    /// Short title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// Category.
    pub category: ActionCategory,
    /// Points: a finite number above 0.
    pub max_score: f64,
    /// How facts turn into points.
    pub rule: RuleFields,
    /// False for "[Not Scored]".
    #[graphql(default = true)]
    pub scored: bool,
    /// Deprecated entries count for nothing.
    #[graphql(default = false)]
    pub deprecated: bool,
    /// User impact.
    pub user_impact: Option<Level>,
    /// Implementation cost.
    pub implementation_cost: Option<Level>,
    /// Remediation text.
    pub remediation: Option<String>,
    /// Where to act (http or https URL).
    pub action_url: Option<String>,
    /// Microsoft's tier.
    pub tier: Option<ActionTier>,
    /// CONFIG, REVIEW or BEHAVIOR.
    pub action_type: Option<ActionType>,
    /// Threats mitigated: words such as `accountBreach` (at most 20).
    pub threats: Option<Vec<String>>,
    /// Framework controls served, under any framework name (at most 20 frameworks).
    pub compliance: Option<Vec<ComplianceMapping>>,
    /// Licences the action's feature needs: without one, a tenant reads NOT_LICENSED.
    pub requires_licenses: Option<Vec<License>>,
}

/// Catalog administration.
#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates or replaces a catalog entry (PLATFORM_ADMIN); every tenant's score for today
    /// follows within seconds, closed days only through `recomputeScores`.
    #[graphql(complexity = "crate::graphql::cost::mutation(child_complexity)")]
    async fn upsert_action(
        &self,
        ctx: &Context<'_>,
        input: UpsertActionInput,
    ) -> async_graphql::Result<ImprovementAction> {
        ctx.viewer()?.require(Operation::ManageCatalog)?;
        let input = ActionInput {
            id: input.id.0,
            title: input.title,
            description: input.description,
            category: input.category,
            max_score: input.max_score,
            rule: ScoringRule::try_from(input.rule).map_err(ApiError::BadUserInput)?,
            scored: input.scored,
            deprecated: input.deprecated,
            user_impact: input.user_impact,
            implementation_cost: input.implementation_cost,
            remediation: input.remediation,
            action_url: input.action_url,
            tier: input.tier,
            action_type: input.action_type,
            threats: input.threats.unwrap_or_default(),
            compliance: input.compliance.unwrap_or_default(),
            requires_licenses: input.requires_licenses.unwrap_or_default(),
        };
        let action = catalog::upsert_action(ctx.db()?, input).await?;
        let pipeline = ctx.pipeline()?;
        // Other replicas evict when they hear the write; this one before it answers.
        pipeline.reference_cache().observe(&Event::CatalogChanged);
        pipeline.rescore_today(LiveRequest::AllTenants);
        Ok(action.into())
    }
}
