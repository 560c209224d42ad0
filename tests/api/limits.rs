//! Query limits as an attacker meets them: fragment bombs, alias floods, nested connections,
//! and the per-request timeout; each refusal has a code and the server keeps serving.

use std::time::Duration;

use reqwest::StatusCode;
use securescore::domain::Role;
use serde_json::{Value, json};

use securescore::service::snapshots::{self, SnapshotInput};
use securescore::service::tenants::{self, NewTenant};

use crate::helpers::{
    TestApp, assert_error, day, error_code, eventually, noon, platform_admin, spawn_app,
    spawn_app_with, token,
};

/// `levels` fragments, each spreading the next twice: 2^levels selections in a few lines.
fn fragment_bomb(levels: usize) -> String {
    let mut query = "{ ...F0 }\n".to_owned();
    for i in 0..levels {
        query.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
            i + 1,
            i + 1
        ));
    }
    query.push_str(&format!(
        "fragment F{levels} on Query {{ viewer {{ subject }} }}\n"
    ));
    query
}

async fn assert_still_serving(app: &TestApp) {
    let body = app
        .graphql(&platform_admin(), "{ viewer { subject } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["viewer"]["subject"], "tester@example.com",
        "{body}"
    );
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_it_is_expanded() {
    let app = spawn_app().await;
    // 2^30 selections: expanding them takes hours, counting them is instant.
    let body = app
        .graphql(&platform_admin(), &fragment_bomb(30), json!({}))
        .await;
    assert_error(&body, "BAD_USER_INPUT", "more than 1000 fields");
    assert!(body.get("data").is_none());
    // Small fragments still work, and count what they expand to.
    let body = app
        .graphql(&platform_admin(), &fragment_bomb(3), json!({}))
        .await;
    assert_eq!(
        body["data"]["viewer"]["subject"], "tester@example.com",
        "{body}"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn the_field_limit_is_configurable_and_counts_aliases() {
    let app = spawn_app_with(|config| config.limits.max_fields = 10).await;
    let aliases = |n: usize| -> String {
        let fields: String = (0..n)
            .map(|i| format!("a{i}: viewer {{ subject }} "))
            .collect();
        format!("{{ {fields} }}")
    };
    // Five aliases of a two-field selection are ten fields; six are twelve.
    let body = app.graphql(&platform_admin(), &aliases(5), json!({})).await;
    assert_eq!(
        body["data"]["a4"]["subject"], "tester@example.com",
        "{body}"
    );
    let body = app.graphql(&platform_admin(), &aliases(6), json!({})).await;
    assert_error(&body, "BAD_USER_INPUT", "more than 10 fields");
}

#[tokio::test]
async fn nested_connections_cost_their_page_sizes() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let admin = platform_admin();
    let wide = app
        .graphql(
            &admin,
            "{ tenants(first: 100) { edges { node { id name seatCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        wide["data"]["tenants"]["edges"][0]["node"]["id"], "acme",
        "{wide}"
    );
    // 100 tenants × 100 snapshots × their fields is far beyond the default complexity.
    let nested = app
        .graphql(
            &admin,
            "{ tenants(first: 100) { edges { node { snapshots(first: 100) { edges { node { id facts } } } } } } }",
            json!({}),
        )
        .await;
    assert_error(&nested, "BAD_USER_INPUT", "complex");
    assert!(nested.get("data").is_none());
    let every_tenants_year = app
        .graphql(
            &admin,
            "{ tenants(first: 100) { edges { node { scoreHistory(from: \"2026-01-01\", to: \"2026-12-31\") { date score } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&every_tenants_year),
        Some("BAD_USER_INPUT"),
        "{every_tenants_year}"
    );
    // A month of one tenant's history with its action scores stays within the limit; a year
    // of it is priced at its days times the catalog's actions, and refused.
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let history = |days: i64| {
        let (app, reader) = (&app, &reader);
        async move {
            app.graphql(
                reader,
                "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) { date score maxScore percentage actionScores { score maxScore status } } } }",
                json!({"f": day(-days), "t": day(0)}),
            )
            .await
        }
    };
    let month = history(30).await;
    assert_eq!(
        month["data"]["tenant"]["scoreHistory"],
        json!([]),
        "{month}"
    );
    let year = history(365).await;
    assert_eq!(error_code(&year), Some("BAD_USER_INPUT"), "{year}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_request_over_its_time_limit_is_cancelled_with_a_request_id() {
    let app =
        spawn_app_with(|config| config.limits.request_timeout = Duration::from_millis(1)).await;
    // Seeded directly: over HTTP, even these would outlast a one-millisecond limit.
    tenants::create_tenant(
        &app.db,
        NewTenant {
            id: "acme".into(),
            name: "Acme".into(),
            industry: None,
            seat_count: 10,
        },
    )
    .await
    .unwrap();
    let captured_at = chrono::DateTime::parse_from_rfc3339(&noon(-365))
        .unwrap()
        .to_utc();
    snapshots::ingest_snapshot(
        &app.db,
        SnapshotInput {
            tenant_id: "acme".into(),
            captured_at,
            facts: json!({"users": {"total": 10, "mfaRegistered": 5}}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    // Scoring a year stores 366 days, far more than a millisecond of work. The limit also
    // bounds reading the request's headers: on a loaded machine a connection can be closed
    // before they are read (nothing ran then), so the request is sent until it is answered.
    let response = eventually(
        "the slow request answered",
        Duration::from_secs(20),
        || async {
            app.client
                .post(format!("{}/graphql", app.address))
                .bearer_auth(token(&[Role::GlobalAdmin], &["acme"]))
                .header("content-type", "application/json")
                .header("x-request-id", "slow-request-1")
                .json(&json!({
                    "query": "mutation($i: RecomputeScoresInput!) { recomputeScores(input: $i) { daysScored } }",
                    "variables": {"i": {"tenantId": "acme", "from": day(-365), "to": day(0)}},
                }))
                .send()
                .await
                .ok()
        },
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["x-request-id"], "slow-request-1");
    let body: Value = response.json().await.unwrap();
    assert_error(&body, "INTERNAL", "longer than 1ms");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        "slow-request-1"
    );
    // The server keeps answering: work that waits on nothing fits in the limit (on a loaded
    // machine not every time, so it is tried until it does).
    eventually(
        "a quick query answered",
        Duration::from_secs(20),
        || async {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .bearer_auth(platform_admin())
                .json(&json!({"query": "{ viewer { subject } }"}))
                .send()
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            (body["data"]["viewer"]["subject"] == "tester@example.com").then_some(())
        },
    )
    .await;
}

/// Reads from `stream` until it closes, or until `enough` is in what came; None if it stays
/// open and silent for ten seconds.
async fn read_until(stream: &mut tokio::net::TcpStream, enough: &str) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 4096];
        loop {
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
            if String::from_utf8_lossy(&received).contains(enough) {
                break;
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// A server with a 300 ms request limit, and a raw connection to it that has sent `start`.
async fn slow_client(start: impl Fn(&str) -> String) -> (TestApp, tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;

    let app =
        spawn_app_with(|config| config.limits.request_timeout = Duration::from_millis(300)).await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    stream.write_all(start(&host).as_bytes()).await.unwrap();
    (app, stream)
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_refused_with_408() {
    // Headers announce 100 bytes; only 10 ever come.
    let (app, mut stream) = slow_client(|host| {
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":",
            platform_admin()
        )
    })
    .await;
    let response = read_until(&mut stream, "\"code\"")
        .await
        .expect("the server kept waiting for the body");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("\"BAD_USER_INPUT\""), "{response}");
    assert!(
        response.contains("did not arrive within 300ms"),
        "{response}"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn headers_sent_too_slowly_close_the_connection() {
    // The request line and one header, then nothing.
    let (app, mut stream) =
        slow_client(|host| format!("POST /graphql HTTP/1.1\r\nHost: {host}\r\n")).await;
    let response = read_until(&mut stream, "\r\n\r\n")
        .await
        .expect("the server kept the connection open waiting for headers");
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408"),
        "{response}"
    );
    assert_still_serving(&app).await;
}
