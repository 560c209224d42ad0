//! `ImprovementAction` and `ScoringRule`.

use async_graphql::{ID, Object, SimpleObject};
use entity::improvement_action as action;

use crate::domain::{ActionCategory, Level, RuleKind};

/// One catalog entry (a "control"), shared by all tenants.
pub struct ImprovementAction(pub action::Model);

impl From<action::Model> for ImprovementAction {
    fn from(row: action::Model) -> Self {
        ImprovementAction(row)
    }
}

/// How facts turn into points.
#[derive(SimpleObject)]
pub struct ScoringRule {
    /// BOOLEAN, RATIO or RANGE.
    pub kind: RuleKind,
    /// Fact path read by BOOLEAN and RANGE rules.
    pub fact: Option<String>,
    /// Numerator fact path of a RATIO rule.
    pub numerator: Option<String>,
    /// Denominator fact path of a RATIO rule.
    pub denominator: Option<String>,
    /// Inclusive lower bound of a RANGE rule.
    pub min: Option<f64>,
    /// Inclusive upper bound of a RANGE rule.
    pub max: Option<f64>,
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
        ActionCategory::parse(&self.0.category).unwrap_or(ActionCategory::Identity)
    }

    /// Points this action is worth.
    async fn max_score(&self) -> f64 {
        self.0.max_score
    }

    /// How the action is scored from a snapshot's facts.
    async fn rule(&self) -> ScoringRule {
        ScoringRule {
            kind: RuleKind::parse(&self.0.rule_kind).unwrap_or(RuleKind::Boolean),
            fact: self.0.rule_fact.clone(),
            numerator: self.0.rule_numerator.clone(),
            denominator: self.0.rule_denominator.clone(),
            min: self.0.rule_min,
            max: self.0.rule_max,
        }
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
        self.0.user_impact.as_deref().and_then(Level::parse)
    }

    /// How much work the action takes.
    async fn implementation_cost(&self) -> Option<Level> {
        self.0.implementation_cost.as_deref().and_then(Level::parse)
    }

    /// How to remediate.
    async fn remediation(&self) -> Option<&str> {
        self.0.remediation.as_deref()
    }

    /// Where to act.
    async fn action_url(&self) -> Option<&str> {
        self.0.action_url.as_deref()
    }
}
