//! One catalog action's score within a tenant's daily score.

use sea_orm::entity::prelude::*;

use crate::enums::{ActionCategory, ActionState, ActionStatus};

/// One row of `daily_action_scores`, unique per tenant, date, version and action.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_action_scores")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Scored tenant.
    pub tenant_id: String,
    /// The UTC calendar day.
    pub date: Date,
    /// Catalog action.
    pub action_id: String,
    /// Points earned.
    pub score: f64,
    /// Points this action counted for in the day's maximum.
    pub max_score: f64,
    /// Why the points are what they are.
    pub status: ActionStatus,
    /// The override state in force.
    pub state: ActionState,
    /// Progress numerator of a RATIO rule.
    pub progress_current: Option<f64>,
    /// Progress denominator of a RATIO rule.
    pub progress_total: Option<f64>,
    /// The catalog's maxScore when the row was computed (for CATALOG_CHANGED).
    pub catalog_max_score: f64,
    /// The catalog's scored flag when the row was computed.
    pub catalog_scored: bool,
    /// The catalog's deprecated flag when the row was computed.
    pub catalog_deprecated: bool,
    /// The action's category when the row was computed.
    pub category: ActionCategory,
    /// The computation this row belongs to: it counts while its day has the same version.
    pub version: i64,
}

/// Relations of `daily_action_scores` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
