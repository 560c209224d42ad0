//! `ScoringRun`.

use async_graphql::{ID, Object};
use entity::scoring_run;

use super::connection::connection_types;
use crate::domain::{ScoringRunKind, ScoringRunStatus};
use crate::graphql::scalars::{Date, DateTime};

connection_types!(
    ScoringRunConnection,
    ScoringRunEdge,
    ScoringRun,
    "scoring runs"
);

/// A scoring run: the close of a date or a recomputation, shared by the replicas.
pub struct ScoringRun(pub scoring_run::Model);

impl From<scoring_run::Model> for ScoringRun {
    fn from(row: scoring_run::Model) -> Self {
        ScoringRun(row)
    }
}

/// A scoring run: the close of a date or a recomputation, shared by the replicas.
#[Object]
impl ScoringRun {
    /// Server-assigned id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// DAILY (a close) or RECOMPUTE.
    async fn kind(&self) -> ScoringRunKind {
        self.0.kind
    }

    /// First date scored.
    async fn from(&self) -> Date {
        Date(self.0.date_from)
    }

    /// Last date scored.
    async fn to(&self) -> Date {
        Date(self.0.date_to)
    }

    /// The one tenant asked for; null for runs over many tenants.
    async fn tenant_id(&self) -> Option<ID> {
        self.0.tenant_id.clone().map(ID)
    }

    /// Where the run stands.
    async fn status(&self) -> ScoringRunStatus {
        self.0.status
    }

    /// Tenant-days to score: those with a snapshot by their date (corrected as tasks finish).
    async fn tenant_days_planned(&self) -> i32 {
        self.0.tenant_days_planned
    }

    /// Tenant-days stored so far, or found already stored from a newer state.
    async fn tenant_days_done(&self) -> i32 {
        self.0.tenant_days_done
    }

    /// Tenant-days given up after their last try.
    async fn tenant_days_failed(&self) -> i32 {
        self.0.tenant_days_failed
    }

    /// Token subject of the requester; null for the scheduler's closes.
    async fn requested_by(&self) -> Option<&str> {
        self.0.requested_by.as_deref()
    }

    /// When the run was planned.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When its first task started.
    async fn started_at(&self) -> Option<DateTime> {
        self.0.started_at.map(DateTime)
    }

    /// When it finished.
    async fn finished_at(&self) -> Option<DateTime> {
        self.0.finished_at.map(DateTime)
    }
}
