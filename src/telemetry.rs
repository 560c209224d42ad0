//! Prometheus metrics: one process-wide recorder, the names of every series, and the bounded
//! labels that keep their cardinality in check.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbBackend};

/// HTTP requests by route pattern and status.
pub const HTTP_REQUESTS: &str = "securescore_http_requests_total";
/// HTTP request latency by route pattern, in seconds.
pub const HTTP_DURATION: &str = "securescore_http_request_duration_seconds";
/// GraphQL operations by operation name and outcome code (`OK` or the first error's code).
pub const GRAPHQL_OPERATIONS: &str = "securescore_graphql_operations_total";
/// GraphQL operation latency by operation name, in seconds.
pub const GRAPHQL_DURATION: &str = "securescore_graphql_operation_duration_seconds";
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
/// Closed-day cache lookups, by kind (`day`, `actions`) and result (`hit`, `miss`).
pub const SCORE_CACHE: &str = "securescore_score_cache_lookups_total";
/// Alerts raised.
pub const ALERTS_RAISED: &str = "securescore_alerts_raised_total";
/// Webhook delivery attempts, by outcome (`succeeded`, `failed`).
pub const WEBHOOK_ATTEMPTS: &str = "securescore_webhook_attempts_total";

/// Counts every statement `db` sends in `DB_STATEMENTS`.
pub fn count_statements(db: &mut DatabaseConnection) {
    let statements = metrics::counter!(DB_STATEMENTS);
    db.set_metric_callback(move |_| statements.increment(1));
}

/// Distinct operation names kept as labels; later ones are counted as `other`.
const MAX_OPERATION_NAMES: usize = 200;

/// The process's recorder, installed on first use (tests start many servers in one process).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program's): then this
        // handle renders an empty text, and the process's own recorder gets the figures.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
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

/// The label of an operation name: `anonymous` without one, the name while fewer than 200
/// distinct names have been seen (letters, digits and `_` only, at most 64), `other` after.
pub fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".into();
    };
    let valid = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return "other".into();
    }
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return "other".into();
    };
    if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("")), "anonymous");
        assert_eq!(operation_label(Some("Dashboard")), "Dashboard");
        assert_eq!(operation_label(Some("drop table; --")), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "other");
    }
}
