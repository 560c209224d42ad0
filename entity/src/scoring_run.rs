//! A scoring run: the close of a date or a recomputation, split into tasks.

use sea_orm::entity::prelude::*;

use crate::enums::{ScoringRunKind, ScoringRunStatus};

/// One row of `scoring_runs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_runs")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// DAILY (a close) or RECOMPUTE.
    pub kind: ScoringRunKind,
    /// First date scored.
    pub date_from: Date,
    /// Last date scored.
    pub date_to: Date,
    /// The one tenant asked for, if any.
    pub tenant_id: Option<String>,
    /// The tenants asked for (a JSON array of ids); null: every tenant.
    pub tenant_scope: Option<Json>,
    /// Where the run stands.
    pub status: ScoringRunStatus,
    /// Tenant-days expected to be scored (those with a snapshot when planned).
    pub tenant_days_planned: i32,
    /// Tenant-days stored.
    pub tenant_days_done: i32,
    /// Tenant-days given up after their last try.
    pub tenant_days_failed: i32,
    /// Tenants with at least one day stored.
    pub tenants_scored: i32,
    /// Token subject of the requester; none for the scheduler's closes.
    pub requested_by: Option<String>,
    /// For DAILY runs, the date closed (unique: one close per date).
    pub close_date: Option<Date>,
    /// When the run was planned.
    pub created_at: DateTimeUtc,
    /// When its first task was claimed.
    pub started_at: Option<DateTimeUtc>,
    /// When its last task finished.
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations of `scoring_runs` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
