//! CORS for the configured origins only: preflights answered, other origins get no header.

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use serde_json::json;

use crate::helpers::{TestApp, header, platform_admin, spawn_app, spawn_app_with};

const DASHBOARD: &str = "https://dashboard.example.com";

/// A CORS preflight for a POST with a token, from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}/graphql", app.address))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
    let app = spawn_app_with(|config| config.cors_origins = vec![DASHBOARD.into()]).await;
    let allowed = preflight(&app, DASHBOARD).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some(DASHBOARD)
    );
    let methods = header(&allowed, "access-control-allow-methods").unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let headers = header(&allowed, "access-control-allow-headers").unwrap_or_default();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );

    let refused = preflight(&app, "https://evil.example.com").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), None);

    let post = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(ORIGIN, DASHBOARD)
        .header(AUTHORIZATION, format!("Bearer {}", platform_admin()))
        .header(CONTENT_TYPE, "application/json")
        .json(&json!({"query": "{ viewer { subject } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&post, "access-control-allow-origin"),
        Some(DASHBOARD)
    );
    assert!(
        header(&post, "access-control-expose-headers").is_some_and(|h| h.contains("x-request-id"))
    );

    // Without configured origins, browsers get nothing: same origin only.
    let closed = spawn_app().await;
    let answer = preflight(&closed, DASHBOARD).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}
