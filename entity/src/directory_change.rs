//! One directory audit event a collection kept because it can move a built-in action.

use sea_orm::entity::prelude::*;

/// One row of `directory_changes`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_changes")]
pub struct Model {
    /// The tenant whose directory logged it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The event's `id` in the audit log.
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    /// `activityDateTime`.
    pub at: DateTimeUtc,
    /// `activityDisplayName`.
    pub activity: String,
    /// `category`.
    pub category: String,
    /// `result` (success, failure, timeout).
    pub result: Option<String>,
    /// The user's principal name or the app's display name.
    pub initiated_by: Option<String>,
    /// The targets: JSON array of `{type, id, displayName, modifiedProperties}`.
    pub targets: Json,
}

/// Relations of `directory_changes` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
