//! Typed configuration, built by the command line (or by tests) and passed in, never global.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use crate::auth::KeySources;
pub use securescore_store::config::{GraphConfig, ScoringConfig, WebhookConfig};

/// Everything `securescore serve` needs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// sea-orm database URL (`sqlite://…` or `postgres://…`); it may hold a password, so it
    /// never shows in `Debug` output.
    pub database_url: SecretString,
    /// Seed demo data into an empty database and print a token per role.
    pub demo: bool,
    /// Where token verification keys come from.
    pub keys: KeySources,
    /// Scoring and comparison settings.
    pub scoring: ScoringConfig,
    /// Per-request limits.
    pub limits: RequestLimits,
    /// Each caller's query-cost budget on this replica.
    pub cost: CostConfig,
    /// Origins whose browser pages may call the API (CORS); none: same origin only.
    pub cors_origins: Vec<String>,
    /// A separate address for `/metrics`; none: `/metrics` is served with the API.
    pub metrics_bind: Option<SocketAddr>,
    /// How often SQLite's write-ahead log is checkpointed and truncated.
    pub sqlite_checkpoint_interval: Duration,
    /// How long to wait on the database before saying it is unavailable.
    pub database_timeouts: crate::db::DatabaseTimeouts,
    /// Where webhooks may go and how often deliveries are looked for.
    pub webhooks: WebhookConfig,
    /// Where Microsoft Graph is and how often directories are collected.
    pub graph: GraphConfig,
    /// A file holding base64 of the 32-byte key that seals Graph credentials and webhook
    /// signing keys; none: no credential can be stored, webhook keys stay as they are.
    pub secrets_key_file: Option<std::path::PathBuf>,
}

/// Bounds on the work one request may cause.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// Deepest selection nesting accepted.
    pub max_depth: usize,
    /// Most fields a document may select, aliases included and fragments expanded.
    pub max_fields: usize,
    /// Highest estimated cost of an operation: each field costs 1 and list fields multiply
    /// the cost of their selection by the rows they may return.
    pub max_complexity: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Most client connections held at once (lowered to fit the open-file limit).
    pub max_connections: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_depth: 16,
            max_fields: 1000,
            max_complexity: 10_000,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// Budget settings; a bucket of 0 turns budgets off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostConfig {
    /// Points a caller may spend at once.
    pub bucket: u64,
    /// Points restored a second.
    pub restore_per_second: f64,
}

impl CostConfig {
    /// Budgets off (benchmarks, and tests that are not about budgets).
    pub const OFF: CostConfig = CostConfig {
        bucket: 0,
        restore_per_second: 0.0,
    };

    /// The settings given, the rest by default: a bucket of two requests of the largest
    /// complexity the limits allow, refilled in 40 seconds.
    pub fn with_defaults(
        bucket: Option<u64>,
        restore_per_second: Option<f64>,
        max_complexity: usize,
    ) -> CostConfig {
        let bucket = bucket.unwrap_or(2 * max_complexity as u64);
        CostConfig {
            bucket,
            restore_per_second: restore_per_second.unwrap_or(bucket as f64 / 40.0),
        }
    }

    /// Whether budgets are on.
    pub fn enabled(&self) -> bool {
        self.bucket > 0
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if self.enabled() && !(self.restore_per_second.is_finite() && self.restore_per_second > 0.0)
        {
            return Err("--cost-restore must be a number of points a second above 0".into());
        }
        Ok(())
    }

    /// Seconds an empty bucket takes to fill.
    pub(crate) fn seconds_to_fill(&self) -> f64 {
        self.bucket as f64 / self.restore_per_second
    }
}
