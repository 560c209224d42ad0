//! One catalog entry (a "control"), shared by all tenants.

use sea_orm::entity::prelude::*;

/// One row of `improvement_actions`; enum-like columns hold the GraphQL enum names.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "improvement_actions")]
pub struct Model {
    /// Stable key, e.g. `AdminMFA`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Short title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// IDENTITY, DATA, DEVICE, APPS or INFRASTRUCTURE.
    pub category: String,
    /// Points, finite and above 0.
    pub max_score: f64,
    /// BOOLEAN, RATIO or RANGE.
    pub rule_kind: String,
    /// Fact path read by BOOLEAN and RANGE rules.
    pub rule_fact: Option<String>,
    /// Numerator fact path of a RATIO rule.
    pub rule_numerator: Option<String>,
    /// Denominator fact path of a RATIO rule.
    pub rule_denominator: Option<String>,
    /// Inclusive lower bound of a RANGE rule.
    pub rule_min: Option<f64>,
    /// Inclusive upper bound of a RANGE rule.
    pub rule_max: Option<f64>,
    /// False for "[Not Scored]" actions.
    pub scored: bool,
    /// Deprecated actions count for nothing.
    pub deprecated: bool,
    /// LOW, MODERATE or HIGH.
    pub user_impact: Option<String>,
    /// LOW, MODERATE or HIGH.
    pub implementation_cost: Option<String>,
    /// How to remediate.
    pub remediation: Option<String>,
    /// Where to act.
    pub action_url: Option<String>,
    /// When the entry was first stored.
    pub created_at: DateTimeUtc,
    /// When the entry was last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `improvement_actions` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
