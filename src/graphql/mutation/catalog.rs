//! upsertAction (PLATFORM_ADMIN).

use async_graphql::{Context, ID, InputObject, Object};

use crate::auth::Operation;
use crate::domain::{ActionCategory, Level, RuleKind};
use crate::graphql::context::ContextExt;
use crate::graphql::types::action::ImprovementAction;
use crate::scoring::ScoringRule;
use crate::service::catalog::{self, ActionInput};

/// A scoring rule; which fields apply depends on `kind`.
#[derive(InputObject)]
pub struct ScoringRuleInput {
    /// BOOLEAN (fact), RATIO (numerator, denominator) or RANGE (fact, min and/or max).
    pub kind: RuleKind,
    /// Dotted fact path for BOOLEAN and RANGE.
    pub fact: Option<String>,
    /// Dotted numerator path for RATIO.
    pub numerator: Option<String>,
    /// Dotted denominator path for RATIO.
    pub denominator: Option<String>,
    /// Inclusive lower bound for RANGE.
    pub min: Option<f64>,
    /// Inclusive upper bound for RANGE.
    pub max: Option<f64>,
}

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
    pub rule: ScoringRuleInput,
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
}

/// Catalog administration.
#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates or replaces a catalog entry (PLATFORM_ADMIN); takes effect at the next scoring.
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
            rule: ScoringRule {
                kind: input.rule.kind,
                fact: input.rule.fact,
                numerator: input.rule.numerator,
                denominator: input.rule.denominator,
                min: input.rule.min,
                max: input.rule.max,
            },
            scored: input.scored,
            deprecated: input.deprecated,
            user_impact: input.user_impact,
            implementation_cost: input.implementation_cost,
            remediation: input.remediation,
            action_url: input.action_url,
        };
        Ok(catalog::upsert_action(ctx.db()?, input).await?.into())
    }
}
