//! A tenant-day scored in memory: what the batch writer stores and the alerting evaluates.

use chrono::{DateTime, NaiveDate, Utc};

use crate::scoring::DayScore;

/// One tenant-day scored in memory, ready to store.
pub struct ScoredDay {
    /// Tenant.
    pub tenant_id: String,
    /// Date.
    pub date: NaiveDate,
    /// The snapshot that counted.
    pub snapshot_id: i64,
    /// Results and totals.
    pub day: DayScore,
    /// The tenant's change sequence the inputs were read at.
    pub input_seq: i64,
    /// When the inputs were read (the instant today's override states are taken at).
    pub read_at: DateTime<Utc>,
}
