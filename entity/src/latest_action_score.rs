//! One action of a tenant's newest scored day: what the estate per action aggregates.

use sea_orm::entity::prelude::*;

use crate::enums::ActionStatus;

/// One row of `latest_action_scores`, unique per tenant and action; replaced with the day's
/// action rows in the transaction that writes the tenant's newest day.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "latest_action_scores")]
pub struct Model {
    /// Scored tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Catalog action.
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: String,
    /// The action's status on that day.
    pub status: ActionStatus,
    /// `maxScore - score` on that day.
    pub points_at_stake: f64,
}

/// Relations of `latest_action_scores` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
