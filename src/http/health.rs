//! Liveness and readiness probes, and the metrics.

use axum::extract::State;
use std::time::Duration;

use axum::http::{StatusCode, header};

use super::AppState;

/// Answers while the process lives.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the database.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers 200 while the database answers within two seconds, 503 otherwise.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READINESS_TIMEOUT, app.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer within 2 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
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
