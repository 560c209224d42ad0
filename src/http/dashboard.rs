//! The reference dashboard at `/`: the seed's screen (score tile, comparison graph, trend graph
//! with "why did it change", ranked improvement actions) as plain HTML, CSS and JavaScript
//! served from the binary, built on the public GraphQL API alone (`dashboard/operations.graphql`,
//! sent as persisted queries by GET), live through the `scoreUpdated` subscription with
//! graphql-ws 6.4.2 (vendored with its licence).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::assets::{html_page, static_file};

/// Nothing but this origin: no inline script or style, no frames, no form posts elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page.
const PAGE: &str = include_str!("dashboard/index.html");

/// `/`: the dashboard.
pub async fn page() -> Response {
    html_page(PAGE, CONTENT_SECURITY_POLICY)
}

/// `/dashboard/{file}`: the dashboard's scripts, style, GraphQL operations and the vendored
/// WebSocket client (whose path names its version).
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type, immutable): (&'static [u8], &str, bool) = match file.as_str() {
        "app.js" => (include_bytes!("dashboard/app.js"), "text/javascript", false),
        "api.js" => (include_bytes!("dashboard/api.js"), "text/javascript", false),
        "charts.js" => (
            include_bytes!("dashboard/charts.js"),
            "text/javascript",
            false,
        ),
        "onboarding.js" => (
            include_bytes!("dashboard/onboarding.js"),
            "text/javascript",
            false,
        ),
        "format.js" => (
            include_bytes!("dashboard/format.js"),
            "text/javascript",
            false,
        ),
        "app.css" => (include_bytes!("dashboard/app.css"), "text/css", false),
        "operations.graphql" => (
            include_bytes!("dashboard/operations.graphql"),
            "application/graphql",
            false,
        ),
        "graphql-ws-6.4.2.min.js" => (
            include_bytes!("dashboard/vendor/graphql-ws.min.js"),
            "text/javascript",
            true,
        ),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    static_file(body, content_type, immutable)
}

/// `/demo/tokens`: in `--demo` only, the demo's tokens for the dashboard's picker (freshly
/// minted, valid a day); 404 otherwise, as if the route did not exist.
pub async fn demo_tokens(State(app): State<AppState>) -> Response {
    match &app.demo_tokens {
        Some(tokens) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            Json(tokens.mint()),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
