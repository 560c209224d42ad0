//! Prometheus metrics: one process-wide recorder and the names of every series (the bounded
//! operation-name label is the HTTP layer's, `http::operation_labels`).

use std::sync::OnceLock;

use entity::enums::{DeliveryStatus, ScoringRunKind, ScoringRunStatus};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbBackend};

/// HTTP requests by route pattern and status.
pub const HTTP_REQUESTS: &str = "securescore_http_requests_total";
/// HTTP request latency by route pattern, in seconds.
pub const HTTP_DURATION: &str = "securescore_http_request_duration_seconds";
/// GraphQL operations by operation name and outcome code (`OK` or the first error's code).
pub const GRAPHQL_OPERATIONS: &str = "securescore_graphql_operations_total";
/// GraphQL operation latency by operation name, in seconds.
pub const GRAPHQL_DURATION: &str = "securescore_graphql_operation_duration_seconds";
/// Requests refused by a caller's query-cost budget, by reason (`throttled`,
/// `larger_than_bucket`), never by caller.
pub const COST_REFUSALS: &str = "securescore_cost_refusals_total";
/// Tenant-days settled by scoring tasks, by outcome (`scored`, `superseded` by a day already
/// stored from a newer state, `failed`).
pub const TENANT_DAYS: &str = "securescore_scoring_tenant_days_total";
/// Scoring runs finished, by kind and status.
pub const RUNS: &str = "securescore_scoring_runs_total";
/// Scoring run duration from start to finish, by kind, in seconds.
pub const RUN_DURATION: &str = "securescore_scoring_run_duration_seconds";
/// Time from a change's request for live rescoring to today's rows written, in seconds.
pub const LIVE_LAG: &str = "securescore_live_rescore_lag_seconds";
/// Database pool connections, by state (`idle`, `in_use`).
pub const DB_POOL: &str = "securescore_db_pool_connections";
/// Statements the server sent to its database (reads, writes and the pipeline's alike).
pub const DB_STATEMENTS: &str = "securescore_db_statements_total";
/// In-process cache lookups, by kind (`day`, `days`, `actions`, `trend_steps`, `catalog`,
/// `comparisons`) and result (`hit`, `miss`).
pub const SCORE_CACHE: &str = "securescore_score_cache_lookups_total";
/// Alerts raised.
pub const ALERTS_RAISED: &str = "securescore_alerts_raised_total";
/// Webhook delivery attempts, by outcome (`succeeded`, `failed`).
pub const WEBHOOK_ATTEMPTS: &str = "securescore_webhook_attempts_total";
/// Webhook deliveries by the status they entered (`PENDING` when queued, then `SUCCEEDED` or
/// `FAILED`).
pub const WEBHOOK_DELIVERIES: &str = "securescore_webhook_deliveries_total";
/// Panics caught in request handlers (each answered 500 INTERNAL).
pub const PANICS: &str = "securescore_http_panics_total";
/// New clients that arrived with every connection place taken, by outcome (`idle_closed`: the
/// connection idle the longest was closed for it; `waited`: none was idle).
pub const CONNECTIONS_AT_CAP: &str = "securescore_connections_at_cap_total";

/// Latency buckets, in seconds, for requests, operations and live rescoring: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Scoring run duration buckets, in seconds: 100 ms to an hour.
const RUN_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];

/// Counts every statement `db` sends in `DB_STATEMENTS`.
pub fn count_statements(db: &mut DatabaseConnection) {
    let statements = metrics::counter!(DB_STATEMENTS);
    db.set_metric_callback(move |_| statements.increment(1));
}

/// The process's recorder, installed on first use (tests start many servers in one process).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Histograms, not summaries: buckets add up across replicas.
        let builder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(RUN_DURATION.into()), &RUN_BUCKETS)
            });
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            // Only an empty bucket list is refused, and both lists are constants.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program's): then this
        // handle renders an empty text, and the process's own recorder gets the figures.
        let _ = metrics::set_global_recorder(recorder);
        register_families();
        handle
    })
}

/// Describes every family and registers its series whose labels are known in advance at
/// zero, so that dashboards and alerts see each family from the start, not after its first
/// event.
fn register_families() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route pattern and status");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by route pattern"
    );
    describe_counter!(
        GRAPHQL_OPERATIONS,
        "GraphQL operations by operation name and outcome code"
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "GraphQL operation latency by operation name"
    );
    describe_counter!(
        TENANT_DAYS,
        "Tenant-days settled by scoring tasks, by outcome"
    );
    describe_counter!(RUNS, "Scoring runs finished, by kind and status");
    describe_counter!(
        COST_REFUSALS,
        "GraphQL requests refused by a caller's query-cost budget, by reason"
    );
    describe_histogram!(RUN_DURATION, Unit::Seconds, "Scoring run duration, by kind");
    describe_histogram!(
        LIVE_LAG,
        Unit::Seconds,
        "From a change to today's rows rescored"
    );
    describe_gauge!(DB_POOL, "Database pool connections, by state");
    describe_counter!(DB_STATEMENTS, "Statements sent to the database");
    describe_counter!(
        SCORE_CACHE,
        "Closed-day, catalog and comparison cache lookups, by kind and result"
    );
    describe_counter!(ALERTS_RAISED, "Alerts raised");
    describe_counter!(WEBHOOK_ATTEMPTS, "Webhook delivery attempts, by outcome");
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook deliveries by the status they entered"
    );
    describe_counter!(PANICS, "Panics caught in request handlers");
    describe_counter!(
        CONNECTIONS_AT_CAP,
        "New clients that arrived with every connection place taken, by outcome"
    );

    metrics::counter!(HTTP_REQUESTS, "route" => "/graphql", "status" => "200").absolute(0);
    let _registered = metrics::histogram!(HTTP_DURATION, "route" => "/graphql");
    metrics::counter!(GRAPHQL_OPERATIONS, "operation" => "anonymous", "code" => "OK").absolute(0);
    let _registered = metrics::histogram!(GRAPHQL_DURATION, "operation" => "anonymous");
    for outcome in ["scored", "superseded", "failed"] {
        metrics::counter!(TENANT_DAYS, "outcome" => outcome).absolute(0);
    }
    for kind in ScoringRunKind::ALL {
        let kind = kind.as_str();
        for status in [ScoringRunStatus::Succeeded, ScoringRunStatus::Failed] {
            metrics::counter!(RUNS, "kind" => kind, "status" => status.as_str()).absolute(0);
        }
        let _registered = metrics::histogram!(RUN_DURATION, "kind" => kind);
    }
    let _registered = metrics::histogram!(LIVE_LAG);
    for state in ["idle", "in_use"] {
        metrics::gauge!(DB_POOL, "state" => state).set(0.0);
    }
    metrics::counter!(DB_STATEMENTS).absolute(0);
    for kind in ["day", "actions", "trend_steps"] {
        for result in ["hit", "miss"] {
            metrics::counter!(SCORE_CACHE, "kind" => kind, "result" => result).absolute(0);
        }
    }
    metrics::counter!(ALERTS_RAISED).absolute(0);
    for outcome in ["succeeded", "failed"] {
        metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome).absolute(0);
    }
    for status in DeliveryStatus::ALL {
        metrics::counter!(WEBHOOK_DELIVERIES, "status" => status.as_str()).absolute(0);
    }
    metrics::counter!(PANICS).absolute(0);
    for outcome in ["idle_closed", "waited"] {
        metrics::counter!(CONNECTIONS_AT_CAP, "outcome" => outcome).absolute(0);
    }
}

/// Counts a delivery entering `status`.
pub fn count_delivery(status: DeliveryStatus, deliveries: u64) {
    metrics::counter!(WEBHOOK_DELIVERIES, "status" => status.as_str()).increment(deliveries);
}

/// The metrics in the Prometheus text format, with the pool's use sampled now.
pub fn render(db: &DatabaseConnection) -> String {
    record_pool(db);
    recorder().render()
}

/// Records the pool's idle and in-use connections.
fn record_pool(db: &DatabaseConnection) {
    // The pool getters panic on the other backend, so the backend is checked first.
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!(DB_POOL, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(DB_POOL, "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
}
