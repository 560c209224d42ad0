//! A tenant's plan for one action: who owns it, when it is due, notes and tags.

use sea_orm::entity::prelude::*;

/// One row of `action_plans`, unique per tenant and action.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "action_plans")]
pub struct Model {
    /// The tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The catalog action.
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: String,
    /// Who owns it (free text, e.g. an address).
    pub assigned_to: Option<String>,
    /// When it is due.
    pub due_date: Option<Date>,
    /// Notes.
    pub notes: Option<String>,
    /// Tags, as a JSON array of strings.
    pub tags: Json,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTimeUtc,
    /// The due date a PLAN_OVERDUE alert was raised for (one alert per plan and due date).
    pub overdue_alerted_due: Option<Date>,
}

/// Relations of `action_plans` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
