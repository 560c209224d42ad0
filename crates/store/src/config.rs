//! The configuration of the stored side (scoring, webhooks, the connector), built by the
//! command line (or by tests) and passed in, never global.

use std::time::Duration;

use chrono::NaiveTime;

pub use securescore_msgraph::config::GraphConfig;

/// Webhook targets and delivery.
#[derive(Clone, Copy, Debug)]
pub struct WebhookConfig {
    /// Allow plain HTTP and private, loopback and link-local targets (development, tests).
    pub allow_private: bool,
    /// How often an idle delivery worker looks for due deliveries.
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_private: false,
            poll: Duration::from_secs(1),
        }
    }
}

/// How and when scores are computed and shown.
#[derive(Clone, Copy, Debug)]
pub struct ScoringConfig {
    /// Smallest group whose average a comparison shows.
    pub comparison_min_tenants: u32,
    /// UTC time of day at which the previous date is closed.
    pub scoring_time: NaiveTime,
    /// Whether this process plans closes (tests that drive runs themselves turn it off).
    pub run_scheduler: bool,
    /// Closed dates checked for a missing close at start and at every tick.
    pub catch_up_days: u32,
    /// How long `recomputeScores` waits for its run.
    pub recompute_wait: Duration,
    /// Most tenant-days in one scoring task.
    pub batch_tenant_days: usize,
    /// How long a claim on a task lasts without renewal.
    pub lease: Duration,
    /// How often the scheduler looks for dates to close.
    pub tick: Duration,
    /// How long action score sets no day names stay for readers in flight.
    pub superseded_grace: Duration,
    /// Memory for closed days read recently (0: no cache).
    pub score_cache_bytes: u64,
    /// How long a cached closed day is served before it is read again, whatever the events
    /// said: the bound on staleness if an eviction is ever missed.
    pub score_cache_ttl: Duration,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            comparison_min_tenants: 5,
            scoring_time: NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default(),
            run_scheduler: true,
            catch_up_days: 7,
            recompute_wait: Duration::from_secs(10),
            batch_tenant_days: 1000,
            lease: Duration::from_secs(60),
            tick: Duration::from_secs(60),
            superseded_grace: Duration::from_secs(60),
            score_cache_bytes: 32 << 20,
            score_cache_ttl: Duration::from_secs(300),
        }
    }
}
