//! The average score of one group of tenants on one date.

use sea_orm::entity::prelude::*;

use crate::enums::ComparisonBasis;

/// One row of `comparative_scores`, unique per date, basis and group.
///
/// Averages are stored for every group; the minimum group size is applied when they are read,
/// so changing it needs no recomputation.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "comparative_scores")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The UTC calendar day.
    pub date: Date,
    /// How the group was formed.
    pub basis: ComparisonBasis,
    /// The group within the basis, e.g. `11-100` or `Finance`.
    pub group_key: String,
    /// How many tenants had a score that day in the group.
    pub tenant_count: i32,
    /// Mean of their scores.
    pub average_score: f64,
    /// Mean of their percentages.
    pub average_percentage: f64,
    /// When the row was computed.
    pub computed_at: DateTimeUtc,
}

/// Relations of `comparative_scores` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
