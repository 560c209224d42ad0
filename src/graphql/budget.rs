//! Query-cost budgets: every caller (a token's subject within its issuer) has a bucket of
//! `--cost-bucket` points on each replica, refilled at `--cost-restore` points a second. A
//! request costs the complexity async-graphql computes while validating it (the same number
//! `--max-query-complexity` bounds), charged before anything runs. The served schema has no
//! extension (with one, every field takes async-graphql's slower path): a second schema of the
//! same types, with [`CostBudgetExtension`], only validates the request to price and charge it
//! (see `schema::AppSchema::charge`). As Shopify's GraphQL API does, every response says what it
//! cost and what is left.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use serde::Serialize;

use crate::error::code;
use crate::telemetry;

pub use crate::config::CostConfig;

/// `extensions.cost.throttleStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    /// The bucket's size.
    pub maximum_available: u64,
    /// Points left after this request.
    pub currently_available: f64,
    /// Points restored a second.
    pub restore_rate: f64,
}

/// `extensions.cost`, in Shopify's shape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {
    /// What the request costs; 0 when it was refused before it could be costed.
    pub requested_query_cost: u64,
    /// What was charged; none when the request was refused.
    pub actual_query_cost: Option<u64>,
    /// The caller's bucket after the request.
    pub throttle_status: ThrottleStatus,
}

impl CostReport {
    /// Whole seconds until the bucket holds `points` again (at least 1).
    pub fn seconds_until(&self, points: f64) -> u64 {
        let missing = (points - self.throttle_status.currently_available).max(0.0);
        ((missing / self.throttle_status.restore_rate).ceil() as u64).max(1)
    }

    /// Whole seconds until the bucket is full (0 when it is).
    pub fn seconds_to_full(&self) -> u64 {
        let missing = (self.throttle_status.maximum_available as f64
            - self.throttle_status.currently_available)
            .max(0.0);
        (missing / self.throttle_status.restore_rate).ceil() as u64
    }

    /// The IETF `RateLimit-Policy` and `RateLimit` header values (draft-ietf-httpapi-ratelimit-
    /// headers): the quota in points over the seconds an empty bucket takes to fill, and the
    /// points left with the seconds until the bucket is full.
    pub fn headers(&self) -> (String, String) {
        let status = &self.throttle_status;
        let window = (status.maximum_available as f64 / status.restore_rate).ceil() as u64;
        (
            format!("\"cost\";q={};w={window}", status.maximum_available),
            format!(
                "\"cost\";r={};t={}",
                status.currently_available.floor() as u64,
                self.seconds_to_full()
            ),
        )
    }
}

/// One caller's bucket.
#[derive(Debug)]
struct Bucket {
    available: f64,
    at: Instant,
}

/// Every caller's bucket on this replica. Memory stays bounded: a bucket idle for as long as
/// an empty one takes to fill is full again and is dropped (a new one starts full), and at most
/// `MAX_CALLERS` are kept.
#[derive(Clone)]
pub struct CostBudgets {
    config: CostConfig,
    buckets: moka::sync::Cache<String, Arc<Mutex<Bucket>>>,
}

/// What a request refused at parse or validation costs: the work of refusing it.
pub const REFUSED_COST: u64 = 1;

/// Buckets kept at most (the least recently used go first, as full ones would).
const MAX_CALLERS: u64 = 100_000;

impl CostBudgets {
    /// Budgets under `config`.
    pub fn new(config: CostConfig) -> CostBudgets {
        let idle = Duration::from_secs_f64(config.seconds_to_fill().clamp(1.0, 86_400.0));
        CostBudgets {
            config,
            buckets: moka::sync::Cache::builder()
                .max_capacity(MAX_CALLERS)
                .time_to_idle(idle)
                .build(),
        }
    }

    /// The settings.
    pub fn config(&self) -> CostConfig {
        self.config
    }

    /// Charges `cost` to `caller` when the bucket holds it; otherwise charges nothing. Either
    /// way answers the report (`actualQueryCost` none when refused). No lock is held across an
    /// await: there is none in here.
    pub fn charge(&self, caller: &str, cost: u64) -> Result<CostReport, CostReport> {
        self.with_bucket(caller, |bucket| {
            let fits = cost as f64 <= bucket.available;
            if fits {
                bucket.available -= cost as f64;
            }
            (fits, cost)
        })
    }

    /// What `caller` has left, charging nothing.
    pub fn status(&self, caller: &str) -> CostReport {
        match self.with_bucket(caller, |_| (true, 0)) {
            Ok(report) | Err(report) => CostReport {
                actual_query_cost: None,
                ..report
            },
        }
    }

    fn with_bucket(
        &self,
        caller: &str,
        decide: impl FnOnce(&mut Bucket) -> (bool, u64),
    ) -> Result<CostReport, CostReport> {
        let now = Instant::now();
        let capacity = self.config.bucket as f64;
        let bucket = self.buckets.get_with_by_ref(caller, || {
            Arc::new(Mutex::new(Bucket {
                available: capacity,
                at: now,
            }))
        });
        let mut bucket = bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.available =
            (bucket.available + elapsed * self.config.restore_per_second).min(capacity);
        bucket.at = now;
        let (charged, cost) = decide(&mut bucket);
        let report = CostReport {
            requested_query_cost: cost,
            actual_query_cost: charged.then_some(cost),
            throttle_status: ThrottleStatus {
                maximum_available: self.config.bucket,
                currently_available: bucket.available,
                restore_rate: self.config.restore_per_second,
            },
        };
        if charged { Ok(report) } else { Err(report) }
    }
}

/// One request's (or WebSocket connection's) caller and what its budget said, put in the
/// request's data by the HTTP layer and read back for the response.
#[derive(Clone)]
pub struct CostAccount {
    caller: Arc<str>,
    report: Arc<Mutex<Option<CostReport>>>,
}

impl CostAccount {
    /// An account for `caller` (see `Viewer::caller`).
    pub fn new(caller: String) -> CostAccount {
        CostAccount {
            caller: caller.into(),
            report: Arc::default(),
        }
    }

    /// What the budget said of the request, or what is left when it was refused before it
    /// could be costed.
    pub fn report(&self, budgets: &CostBudgets) -> CostReport {
        let recorded = *self
            .report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        recorded.unwrap_or_else(|| budgets.status(&self.caller))
    }

    /// Charges the 1 point a request refused at parse or validation costs (nothing when the
    /// bucket is empty), and records what is left.
    pub fn charge_refused(&self, budgets: &CostBudgets) {
        let report = match budgets.charge(&self.caller, REFUSED_COST) {
            Ok(report) | Err(report) => report,
        };
        self.record(CostReport {
            requested_query_cost: REFUSED_COST,
            actual_query_cost: report.actual_query_cost,
            ..report
        });
    }

    /// What the request (for a subscription: its `subscribe` message) was priced at; 1 when
    /// it was not priced.
    pub fn requested_cost(&self) -> u64 {
        self.report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .map_or(1, |report| report.requested_query_cost.max(1))
    }

    /// Charges one subscription event's `cost`; on refusal, the seconds until it would fit.
    pub fn charge_event(&self, budgets: &CostBudgets, cost: u64) -> Result<(), u64> {
        budgets
            .charge(&self.caller, cost)
            .map(|_| ())
            .map_err(|report| report.seconds_until(cost as f64))
    }

    /// Charges a request priced at `cost`, recording what the budget said; refuses it (and
    /// charges nothing) when it costs more than the whole bucket or more than is left.
    pub fn pay(&self, budgets: &CostBudgets, cost: u64) -> Result<(), Vec<ServerError>> {
        if cost > budgets.config.bucket {
            metrics::counter!(telemetry::COST_REFUSALS, "reason" => "larger_than_bucket")
                .increment(1);
            let report = budgets.status(&self.caller);
            self.record(CostReport {
                requested_query_cost: cost,
                ..report
            });
            return Err(vec![refusal(
                format!(
                    "the query costs {cost} points, more than the whole budget of {} \
                     (ask for fewer rows or fields)",
                    budgets.config.bucket
                ),
                code::BAD_USER_INPUT,
                None,
            )]);
        }
        match budgets.charge(&self.caller, cost) {
            Ok(report) => {
                self.record(report);
                Ok(())
            }
            Err(report) => {
                metrics::counter!(telemetry::COST_REFUSALS, "reason" => "throttled").increment(1);
                self.record(report);
                let wait = report.seconds_until(cost as f64);
                Err(vec![refusal(
                    format!(
                        "throttled: the query costs {cost} points and {:.0} of {} are left; \
                         retry in {wait} s",
                        report.throttle_status.currently_available.floor(),
                        budgets.config.bucket
                    ),
                    code::RATE_LIMITED,
                    Some(wait),
                )])
            }
        }
    }

    fn record(&self, report: CostReport) {
        *self
            .report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(report);
    }
}

/// The async-graphql extension that charges each request once it is validated, on the pricing
/// schema, which never runs a request: a request it charged stops there with [`PAID`].
pub struct CostBudgetExtension(pub CostBudgets);

/// The message the pricing schema stops a charged request with; it never reaches a client.
const PAID: &str = "securescore: paid, run it on the served schema";

/// Whether the pricing schema's answer says the request was charged (and should now run).
pub fn was_paid(response: &async_graphql::Response) -> bool {
    matches!(response.errors.as_slice(), [only] if only.message == PAID)
}

impl ExtensionFactory for CostBudgetExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Charge(self.0.clone()))
    }
}

struct Charge(CostBudgets);

#[async_graphql::async_trait::async_trait]
impl Extension for Charge {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let validated = match next.run(ctx).await {
            Ok(validated) => validated,
            Err(refused) => {
                if let Some(account) = ctx.data_opt::<CostAccount>() {
                    account.charge_refused(&self.0);
                }
                return Err(refused);
            }
        };
        let Some(account) = ctx.data_opt::<CostAccount>() else {
            // Only requests with an account are priced.
            return Err(vec![ServerError::new(PAID, None)]);
        };
        account.pay(&self.0, validated.complexity as u64)?;
        Err(vec![ServerError::new(PAID, None)])
    }
}

/// A request error with a code (and, when throttled, `retryAfter` in seconds).
fn refusal(message: String, code: &str, retry_after: Option<u64>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    if let Some(seconds) = retry_after {
        extensions.set("retryAfter", seconds);
    }
    error.extensions = Some(extensions);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(bucket: u64, restore: f64) -> CostBudgets {
        CostBudgets::new(CostConfig {
            bucket,
            restore_per_second: restore,
        })
    }

    #[test]
    fn a_bucket_charges_until_empty_then_refuses_and_says_when_to_retry() {
        let budgets = budgets(100, 10.0);
        let first = budgets.charge("a", 60).unwrap();
        assert_eq!(first.actual_query_cost, Some(60));
        assert!((first.throttle_status.currently_available - 40.0).abs() < 0.1);
        let refused = budgets.charge("a", 60).unwrap_err();
        assert_eq!(refused.actual_query_cost, None);
        assert_eq!(refused.seconds_until(60.0), 2);
        // Another caller has a bucket of its own.
        assert!(budgets.charge("b", 100).is_ok());
    }

    #[test]
    fn a_bucket_refills_at_the_restore_rate_up_to_its_size() {
        let budgets = budgets(100, 1000.0);
        budgets.charge("a", 100).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let status = budgets.status("a");
        assert!(
            status.throttle_status.currently_available >= 40.0,
            "{status:?}"
        );
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            budgets.status("a").throttle_status.currently_available,
            100.0
        );
    }

    #[test]
    fn headers_give_the_quota_its_window_and_what_is_left() {
        let budgets = budgets(20_000, 500.0);
        let report = budgets.charge("a", 5_000).unwrap();
        let (policy, left) = report.headers();
        assert_eq!(policy, "\"cost\";q=20000;w=40");
        assert_eq!(left, "\"cost\";r=15000;t=10");
    }
}
