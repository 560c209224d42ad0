//! A tenant's rule for raising alerts on its scores.

use sea_orm::entity::prelude::*;

use crate::enums::AlertKind;

/// One row of `alert_rules`; deleted rules stay (with `deleted_at`) for their alerts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_rules")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant watched.
    pub tenant_id: String,
    /// What is watched.
    pub kind: AlertKind,
    /// Percentage (BELOW_PERCENTAGE) or points (DROP); none for REGRESSION.
    pub threshold: Option<f64>,
    /// DROP compares with this many days before; 1 for the other kinds.
    pub window_days: i32,
    /// Whether the rule is evaluated.
    pub enabled: bool,
    /// The `sub` of the token that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTimeUtc,
    /// When it was deleted, if it was.
    pub deleted_at: Option<DateTimeUtc>,
}

/// Relations of `alert_rules` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
