//! `ImprovementAction`; its `ScoringRule` is the engine's `RuleFields`.

use std::sync::Arc;

use async_graphql::{ID, Object};
use entity::improvement_action as action;

use crate::domain::{ActionCategory, ActionTier, ActionType, Level, License};
use crate::scoring::{ComplianceMapping, RuleFields};
use crate::service::catalog::{stored_compliance, stored_licenses, stored_rule, stored_threats};

/// One catalog entry (a "control"), shared by all tenants (and with the catalog cache).
pub struct ImprovementAction(pub Arc<action::Model>);

impl From<action::Model> for ImprovementAction {
    fn from(row: action::Model) -> Self {
        ImprovementAction(Arc::new(row))
    }
}

impl From<Arc<action::Model>> for ImprovementAction {
    fn from(row: Arc<action::Model>) -> Self {
        ImprovementAction(row)
    }
}

/// One catalog entry (a "control"), shared by all tenants.
#[Object]
impl ImprovementAction {
    /// Stable key, e.g. `AdminMFA`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Short title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Longer description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The area the points count towards.
    async fn category(&self) -> ActionCategory {
        self.0.category
    }

    /// Points this action is worth.
    async fn max_score(&self) -> f64 {
        self.0.max_score
    }

    /// How the action is scored from a snapshot's facts.
    async fn rule(&self) -> async_graphql::Result<RuleFields> {
        Ok(stored_rule(&self.0)?.into())
    }

    /// False for "[Not Scored]" actions: listed so people can act, but worth nothing.
    async fn scored(&self) -> bool {
        self.0.scored
    }

    /// Deprecated actions count for nothing.
    async fn deprecated(&self) -> bool {
        self.0.deprecated
    }

    /// How much the action affects users.
    async fn user_impact(&self) -> Option<Level> {
        self.0.user_impact
    }

    /// How much work the action takes.
    async fn implementation_cost(&self) -> Option<Level> {
        self.0.implementation_cost
    }

    /// How to remediate.
    async fn remediation(&self) -> Option<&str> {
        self.0.remediation.as_deref()
    }

    /// Where to act.
    async fn action_url(&self) -> Option<&str> {
        self.0.action_url.as_deref()
    }

    /// Microsoft's tier: CORE, DEFENSE_IN_DEPTH or ADVANCED.
    async fn tier(&self) -> Option<ActionTier> {
        self.0.tier
    }

    /// CONFIG, REVIEW or BEHAVIOR.
    async fn action_type(&self) -> Option<ActionType> {
        self.0.action_type
    }

    /// Threats the action mitigates, e.g. `accountBreach`.
    async fn threats(&self) -> async_graphql::Result<Vec<String>> {
        Ok(stored_threats(&self.0)?)
    }

    /// The framework controls the action serves.
    async fn compliance(&self) -> async_graphql::Result<Vec<ComplianceMapping>> {
        Ok(stored_compliance(&self.0)?)
    }

    /// Licences the action's feature needs: a tenant whose licence fact says it lacks one
    /// reads NOT_LICENSED.
    async fn requires_licenses(&self) -> async_graphql::Result<Vec<License>> {
        Ok(stored_licenses(&self.0)?)
    }
}
