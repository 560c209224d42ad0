//! One change of a plan, appended and never updated: the plan's history.

use sea_orm::entity::prelude::*;

/// One row of `action_plan_changes`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "action_plan_changes")]
pub struct Model {
    /// Server-assigned id, increasing.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The catalog action.
    pub action_id: String,
    /// The owner after the change.
    pub assigned_to: Option<String>,
    /// The due date after the change.
    pub due_date: Option<Date>,
    /// The notes after the change.
    pub notes: Option<String>,
    /// The tags after the change, as a JSON array.
    pub tags: Json,
    /// True when the change cleared the plan.
    pub cleared: bool,
    /// Who made the change.
    pub changed_by: String,
    /// When.
    pub changed_at: DateTimeUtc,
}

/// Relations of `action_plan_changes` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
