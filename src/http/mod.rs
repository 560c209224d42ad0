//! The HTTP surface: routes, limits, request ids, logs and graceful shutdown.

pub mod assets;
pub mod caller;
pub mod connections;
pub mod consent;
pub mod dashboard;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod listen;
pub mod media;
pub mod operation_labels;
pub mod persisted;
pub mod rollup_export;
pub mod subscriptions;

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::SizeAbove;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::TokenVerifier;
use crate::config::RequestLimits;
use crate::graphql::AppSchema;
use crate::telemetry;

/// The header carrying each request's id, set by the server when the client sends none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Everything a request handler needs.
pub struct App {
    /// The GraphQL schema, with its data attached.
    pub schema: AppSchema,
    /// Verifies bearer tokens.
    pub verifier: TokenVerifier,
    /// The database pool, for readiness checks.
    pub db: DatabaseConnection,
    /// Per-request limits.
    pub limits: RequestLimits,
    /// Origins allowed to call from browsers.
    pub cors_origins: Vec<HeaderValue>,
    /// Automatic persisted queries seen by this replica.
    pub persisted: persisted::PersistedQueries,
    /// Open subscription connections per token.
    pub subscribers: subscriptions::TokenConnections,
    /// In `--demo` only: the tokens the dashboard offers to pick from.
    pub demo_tokens: Option<crate::demo::DemoTokens>,
    /// The directory collector, for consents that queue a collection.
    pub collector: crate::collector::Collector,
}

/// Shared handler state.
pub type AppState = Arc<App>;

/// Responses smaller than this are sent uncompressed (compressing them costs more than it saves).
const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// The router with every route and layer; `/metrics` is on it unless it has an address of its
/// own (`--metrics-bind`).
pub fn router(app: AppState, with_metrics: bool) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let cors = cors_layer(&app.cors_origins);
    let mut routes = Router::new();
    if with_metrics {
        routes = routes.route("/metrics", get(health::metrics));
    }
    let router = routes
        .route("/", get(dashboard::page))
        .route("/dashboard/{file}", get(dashboard::asset))
        .route("/demo/tokens", get(dashboard::demo_tokens))
        .route("/graphiql/{*file}", get(graphiql::asset))
        .route("/favicon.ico", get(graphiql::favicon))
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/export/scores.csv", get(export::scores_csv))
        .route("/export/action-scores.csv", get(export::action_scores_csv))
        .route(
            "/export/action-rollup.csv",
            get(rollup_export::action_rollup_csv),
        )
        .route("/connect/consented", get(consent::consented))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(app)
        .layer(panic_guard())
        .layer(middleware::from_fn(count_request))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                        operation = tracing::field::Empty,
                    )
                })
                // One access line per request: method, path, request id and operation come
                // from the span; status and latency from the line itself.
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn(drop_unsafe_request_id))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .compress_when(SizeAbove::new(COMPRESS_ABOVE_BYTES)),
        );
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// What a panic in a handler becomes: a logged 500 with code INTERNAL, not a dropped connection.
type PanicGuard = CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> axum::response::Response>;

/// Catches a panic anywhere in a request's handling.
fn panic_guard() -> PanicGuard {
    CatchPanicLayer::custom(panic_response as fn(_) -> _)
}

/// The response to a caught panic; its detail goes to the log only.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %detail, "a request handler panicked");
    metrics::counter!(telemetry::PANICS).increment(1);
    let body = serde_json::json!({
        "errors": [{"message": "internal error", "extensions": {"code": crate::error::code::INTERNAL}}]
    });
    let mut response = (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        body.to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Longest client-supplied request id kept.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Keeps a client's `x-request-id` only when it is short and made of safe characters (letters,
/// digits, `-`, `_`, `.`); otherwise the server makes a new one, so ids are safe in logs.
async fn drop_unsafe_request_id(
    mut request: Request<Body>,
    next: middleware::Next,
) -> axum::response::Response {
    let unsafe_id = request.headers().get(REQUEST_ID_HEADER).is_some_and(|id| {
        id.len() > MAX_REQUEST_ID_LEN
            || id.is_empty()
            || !id
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if unsafe_id {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// The router of a separate metrics address: `/metrics` alone.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(app)
}

/// Counts every request by route pattern (never the raw path, so the labels stay bounded) and
/// status, and records its latency.
async fn count_request(request: Request<Body>, next: middleware::Next) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let clock = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(telemetry::HTTP_REQUESTS, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(telemetry::HTTP_DURATION, "route" => route)
        .record(clock.elapsed().as_secs_f64());
    response
}

/// CORS for the configured origins only: preflights for GET and POST with `authorization` and
/// `content-type` are answered, and other origins get no `Access-Control-*` header at all.
fn cors_layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_internal() {
        let router: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let empty: Vec<u8> = Vec::new();
                    empty[0].to_string() // out of bounds: panics
                }),
            )
            .layer(panic_guard());
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    }
}
