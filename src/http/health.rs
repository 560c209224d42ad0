//! Liveness and readiness probes, and the metrics.

use axum::extract::State;
use std::time::Duration;

use axum::http::{StatusCode, header};

use super::AppState;
use super::graphql::RETRY_AFTER_SECONDS;

/// Answers while the process lives.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the database.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers 200 while the database answers within two seconds and the identity provider's
/// signing keys (when configured) have been loaded once; 503 with `Retry-After` otherwise.
pub async fn readyz(
    State(app): State<AppState>,
) -> (
    StatusCode,
    [(header::HeaderName, &'static str); 1],
    &'static str,
) {
    let unavailable = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
        "database unavailable",
    );
    if !app.verifier.ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
            "signing keys not loaded yet",
        );
    }
    match tokio::time::timeout(READINESS_TIMEOUT, app.db.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ready",
        ),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database does not answer");
            unavailable
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer within 2 s");
            unavailable
        }
    }
}

/// The metrics in the Prometheus text format.
pub async fn metrics(
    State(app): State<AppState>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::render(&app.db),
    )
}
