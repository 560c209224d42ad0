//! GraphiQL served from the binary: pinned assets (GraphiQL 3.8.3, React 18.3.1, vendored with
//! their licences under `graphiql/vendor/`), no CDN, a Content-Security-Policy that allows only
//! this origin, and a token field whose value every request carries.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Only this origin; inline styles because GraphiQL's editors set some, fonts as data URIs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page.
const PAGE: &str = include_str!("graphiql/index.html");

/// The GraphiQL page, for browsers asking `/graphql` for HTML.
pub async fn page() -> Response {
    super::assets::html_page(PAGE, CONTENT_SECURITY_POLICY)
}

/// `/favicon.ico`: none, said without an error so browsers stop asking.
pub async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `/graphiql/{file}` and `/graphiql/3.8.3/{file}`: the page's own script and style, and the
/// pinned vendored assets (cached for a year: their path names their version).
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type, immutable): (&'static [u8], &str, bool) = match file.as_str() {
        "page.js" => (include_bytes!("graphiql/page.js"), "text/javascript", false),
        "page.css" => (include_bytes!("graphiql/page.css"), "text/css", false),
        "3.8.3/graphiql.min.js" => (
            include_bytes!("graphiql/vendor/graphiql.min.js"),
            "text/javascript",
            true,
        ),
        "3.8.3/graphiql.min.css" => (
            include_bytes!("graphiql/vendor/graphiql.min.css"),
            "text/css",
            true,
        ),
        "3.8.3/react.production.min.js" => (
            include_bytes!("graphiql/vendor/react.production.min.js"),
            "text/javascript",
            true,
        ),
        "3.8.3/react-dom.production.min.js" => (
            include_bytes!("graphiql/vendor/react-dom.production.min.js"),
            "text/javascript",
            true,
        ),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    super::assets::static_file(body, content_type, immutable)
}
