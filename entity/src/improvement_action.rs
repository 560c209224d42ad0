//! One catalog entry (a "control"), shared by all tenants.

use sea_orm::entity::prelude::*;

use crate::enums::{ActionCategory, ActionTier, ActionType, Level};

/// One row of `improvement_actions`.
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
    /// The area the points count towards.
    pub category: ActionCategory,
    /// Points, finite and above 0.
    pub max_score: f64,
    /// The scoring rule as JSON (`{"kind": "RATIO", "numerator": …, "denominator": …}`),
    /// read and written only through the engine's `ScoringRule`.
    pub rule: Json,
    /// False for "[Not Scored]" actions.
    pub scored: bool,
    /// Deprecated actions count for nothing.
    pub deprecated: bool,
    /// How much the action affects users.
    pub user_impact: Option<Level>,
    /// How much work the action takes.
    pub implementation_cost: Option<Level>,
    /// How to remediate.
    pub remediation: Option<String>,
    /// Where to act.
    pub action_url: Option<String>,
    /// Microsoft's tier: CORE, DEFENSE_IN_DEPTH or ADVANCED.
    pub tier: Option<ActionTier>,
    /// CONFIG, REVIEW or BEHAVIOR.
    pub action_type: Option<ActionType>,
    /// Threats the action mitigates, as a JSON array of words (`["accountBreach"]`).
    pub threats: Option<Json>,
    /// Framework controls the action serves, as a JSON array of
    /// `{"framework": …, "controls": […]}`.
    pub compliance: Option<Json>,
    /// The built-in catalog version that last wrote this entry; none when a platform admin
    /// wrote it (upgrades then leave it alone).
    pub built_in_version: Option<i32>,
    /// Licences the action needs, as a JSON array of `License` names (`["ENTRA_P2"]`).
    pub requires_licenses: Option<Json>,
    /// When the entry was first stored.
    pub created_at: DateTimeUtc,
    /// When the entry was last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `improvement_actions` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
