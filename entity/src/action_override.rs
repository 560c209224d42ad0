//! One entry of the append-only override history; the newest per action is in force.

use sea_orm::entity::prelude::*;

use crate::enums::ActionState;

/// One row of `action_overrides`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_overrides")]
pub struct Model {
    /// Insertion order; ties on `updated_at` are broken by it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Tenant whose state this is.
    pub tenant_id: String,
    /// Action the state applies to.
    pub action_id: String,
    /// The state set.
    pub state: ActionState,
    /// Why the state was set.
    pub comment: Option<String>,
    /// The token subject that set it.
    pub updated_by: String,
    /// When it was set.
    pub updated_at: DateTimeUtc,
    /// When the state stops being in force (DEFAULT applies from then on).
    pub expires_at: Option<DateTimeUtc>,
}

/// Relations of `action_overrides` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
