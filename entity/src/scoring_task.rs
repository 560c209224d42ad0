//! One claimable piece of a scoring run.

use sea_orm::entity::prelude::*;

use crate::enums::{ScoringTaskKind, ScoringTaskStatus};

/// One row of `scoring_tasks`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_tasks")]
pub struct Model {
    /// Server-assigned id; tasks are claimed in id order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The run it belongs to.
    pub run_id: i64,
    /// A batch of tenants, or the run's comparisons.
    pub kind: ScoringTaskKind,
    /// The batch's tenant ids (a JSON array; empty for comparisons).
    pub tenant_ids: Json,
    /// Where the task stands.
    pub status: ScoringTaskStatus,
    /// Tenant-days planned for the batch.
    pub planned: i32,
    /// Tenant-days stored.
    pub done: i32,
    /// Tenant-days given up.
    pub failed: i32,
    /// Tenants with at least one day stored.
    pub tenants_scored: i32,
    /// The tenants that failed after their last try, with the reason (a JSON object).
    pub failed_tenants: Option<Json>,
    /// How many times the task has been claimed.
    pub attempts: i32,
    /// The current claim's secret token: only its holder may write or finish the task.
    pub claim_token: Option<String>,
    /// The replica that holds (or last held) the claim.
    pub claimed_by: Option<String>,
    /// When the claim lapses and another replica may take the task over.
    pub lease_until: Option<DateTimeUtc>,
    /// The task is not claimed before this instant (retry backoff).
    pub not_before: DateTimeUtc,
    /// When the task finished.
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations of `scoring_tasks` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
