//! One action and status over every tenant's newest day: what the whole estate's rollup reads.

use sea_orm::entity::prelude::*;

/// One row of `latest_action_tallies`, unique per action and status; moved by the difference
/// each write of a tenant's newest day makes to `latest_action_scores`, in that transaction.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "latest_action_tallies")]
pub struct Model {
    /// Catalog action.
    #[sea_orm(primary_key, auto_increment = false)]
    pub action_id: String,
    /// The status counted, as `ActionStatus` stores it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: String,
    /// Tenants whose newest day has the action in this status (0 once none has).
    pub tenants: i64,
    /// The sum of their points at stake, in millionths of a point (whole numbers: adding and
    /// subtracting them never drifts).
    pub micro_points: i64,
}

/// Relations of `latest_action_tallies` (none).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
