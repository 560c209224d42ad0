//! Liveness and readiness probes, and the metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};

use super::AppState;

/// Answers while the process lives.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Answers 200 while the database answers, 503 otherwise.
pub async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database does not answer");
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
