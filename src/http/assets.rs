//! Files the binary carries and serves itself: HTML pages under a Content-Security-Policy, and
//! their scripts and styles.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// An HTML page, never cached (it names its assets), under `csp`.
pub fn html_page(body: &'static str, csp: &'static str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A script, style or other asset: cached for a year when its path names its version
/// (`immutable`), revalidated every time otherwise.
pub fn static_file(body: &'static [u8], content_type: &str, immutable: bool) -> Response {
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                format!("{content_type}; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, cache.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}
