//! Responses above the threshold are compressed when the client asks.

use reqwest::header::{ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, header, platform_admin, spawn_app};

/// POSTs a query asking for `encoding` (none when empty); returns the response.
async fn post_encoded(app: &TestApp, query: &str, encoding: &str) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {}", platform_admin()))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .json(&json!({"query": query}));
    if !encoding.is_empty() {
        request = request.header(ACCEPT_ENCODING, encoding);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn large_responses_are_compressed_when_the_client_asks() {
    let app = spawn_app().await;
    let catalog = "{ actions { id title description remediation actionUrl } }";
    let gzip = post_encoded(&app, catalog, "gzip").await;
    assert_eq!(header(&gzip, CONTENT_ENCODING.as_str()), Some("gzip"));
    let bytes = gzip.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    let br = post_encoded(&app, catalog, "br").await;
    assert_eq!(header(&br, CONTENT_ENCODING.as_str()), Some("br"));
    let plain = post_encoded(&app, catalog, "").await;
    assert_eq!(header(&plain, CONTENT_ENCODING.as_str()), None);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(
        body["data"]["actions"].as_array().unwrap().len(),
        crate::helpers::built_in_actions()
    );
    let small = post_encoded(&app, "{ viewer { subject } }", "gzip").await;
    assert_eq!(
        header(&small, CONTENT_ENCODING.as_str()),
        None,
        "small answers are not worth compressing"
    );
}
