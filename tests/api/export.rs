//! CSV export: contents, RFC 4180 quoting, reach, and the refusals.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use securescore::domain::Role;
use serde_json::json;

use crate::helpers::{TestApp, day, noon, platform_admin, spawn_app, token};

/// Three tenants scored yesterday and today; acme's name needs quoting.
async fn scored_estate() -> TestApp {
    let app = spawn_app().await;
    let admin = platform_admin();
    for (id, name) in [
        ("acme", "Acme, \"Secure\" Corp"),
        ("beta", "Beta"),
        ("gamma", "Gamma"),
    ] {
        let body = app
            .graphql(
                &admin,
                "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }",
                json!({"i": {"id": id, "name": name, "seatCount": 120}}),
            )
            .await;
        assert_eq!(body["data"]["createTenant"]["id"], id, "{body}");
        app.ingest(
            id,
            &noon(-1),
            json!({"users": {"total": 120, "mfaRegistered": 90}}),
        )
        .await;
    }
    let body = app
        .graphql(&admin, "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { daysScored } }", json!({"f": day(-1), "t": day(0)}))
        .await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 6, "{body}");
    app
}

/// GETs an export; returns the status, content type and body.
async fn export(app: &TestApp, path: &str, bearer: Option<&str>) -> (StatusCode, String, String) {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if let Some(bearer) = bearer {
        request = request.header(AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// The records of a CSV body, header included.
fn records(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn score_exports_hold_the_stored_rows_of_the_tenants_in_reach_quoted_as_rfc_4180() {
    let app = scored_estate().await;
    let partner = token(&[Role::SecurityReader], &["acme", "beta"]);
    let range = format!("from={}&to={}", day(-1), day(0));
    let (status, content_type, body) =
        export(&app, &format!("/export/scores.csv?{range}"), Some(&partner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert!(
        body.contains("acme,\"Acme, \"\"Secure\"\" Corp\","),
        "the name is quoted: {body}"
    );
    assert!(body.contains("\r\n"), "CRLF line ends");
    let rows = records(&body);
    assert_eq!(
        rows[0],
        [
            "tenant",
            "tenantName",
            "date",
            "score",
            "maxScore",
            "percentage",
            "coverage",
            "noDataMaxScore",
            "final",
            "IDENTITY",
            "DATA",
            "DEVICE",
            "APPS",
            "INFRASTRUCTURE"
        ]
    );
    // 6.75 of 9 (MFA registration); every other scored action has no data.
    let catalog = crate::helpers::built_in_max_score();
    assert_eq!(
        rows[1],
        [
            "acme",
            "Acme, \"Secure\" Corp",
            &day(-1),
            "6.75",
            "9",
            "75",
            &(100.0 * 9.0 / catalog).to_string(),
            &(catalog - 9.0).to_string(),
            "true",
            "6.75",
            "0",
            "0",
            "0",
            "0"
        ]
    );
    let tenants: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        tenants,
        [
            ("acme", day(-1).as_str()),
            ("acme", day(0).as_str()),
            ("beta", day(-1).as_str()),
            ("beta", day(0).as_str())
        ]
    );
    assert_eq!(rows[2][8], "false", "today is open");

    // A tenant out of reach is simply absent; one in reach can be picked.
    let (_, _, only_gamma) = export(
        &app,
        &format!("/export/scores.csv?{range}&tenant=gamma"),
        Some(&partner),
    )
    .await;
    assert_eq!(records(&only_gamma).len(), 1, "header only: {only_gamma}");
    let (_, _, picked) = export(
        &app,
        &format!("/export/scores.csv?{range}&tenant=beta&tenant=gamma"),
        Some(&partner),
    )
    .await;
    assert_eq!(records(&picked).len(), 3);
    let (_, _, everything) = export(
        &app,
        &format!("/export/scores.csv?{range}"),
        Some(&platform_admin()),
    )
    .await;
    assert_eq!(records(&everything).len(), 7);
}

#[tokio::test]
async fn action_score_exports_list_every_action_of_every_day() {
    let app = scored_estate().await;
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let (status, _, body) = export(
        &app,
        &format!("/export/action-scores.csv?from={}&to={}", day(-1), day(-1)),
        Some(&reader),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = records(&body);
    assert_eq!(rows.len(), 1 + crate::helpers::built_in_actions());
    assert_eq!(
        rows[0],
        [
            "tenant",
            "tenantName",
            "date",
            "action",
            "status",
            "state",
            "score",
            "maxScore",
            "progressCurrent",
            "progressTotal"
        ]
    );
    let mfa = rows
        .iter()
        .find(|r| r[3] == "MFARegistration")
        .expect("MFA row");
    assert_eq!(
        mfa,
        &[
            "acme",
            "Acme, \"Secure\" Corp",
            &day(-1),
            "MFARegistration",
            "PARTIAL",
            "DEFAULT",
            "6.75",
            "9",
            "90",
            "120"
        ]
    );
}

#[tokio::test]
async fn exports_refuse_missing_tokens_wrong_roles_and_bad_ranges_with_a_short_text() {
    let app = scored_estate().await;
    let range = format!("from={}&to={}", day(-1), day(0));
    let path = format!("/export/scores.csv?{range}");
    let (status, content_type, body) = export(&app, &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        content_type.starts_with("text/plain") && body.contains("bearer token"),
        "{body}"
    );
    let collector = token(&[Role::Collector], &["acme"]);
    let (status, _, body) = export(&app, &path, Some(&collector)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let reader = token(&[Role::SecurityReader], &["acme"]);
    for (query, words) in [
        (format!("from={}&to={}", day(0), day(-1)), "after"),
        (format!("from={}&to={}", day(-400), day(0)), "366"),
        (format!("to={}", day(0)), "required"),
        ("from=yesterday&to=today".to_owned(), "date like"),
        (format!("{range}&tenants=acme"), "unknown parameter"),
    ] {
        let (status, _, body) = export(
            &app,
            &format!("/export/action-scores.csv?{query}"),
            Some(&reader),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.contains(words), "{query}: {body}");
    }
}

/// GETs an export asking for `encoding`; returns the `content-encoding` answered and the body
/// decoded.
async fn export_encoded(app: &TestApp, path: &str, encoding: &str) -> (Option<String>, Vec<u8>) {
    use std::io::Read;
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header(AUTHORIZATION, format!("Bearer {}", platform_admin()))
        .header(reqwest::header::ACCEPT_ENCODING, encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answered = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    // The whole body must arrive: a stream cut short is an error here.
    let raw = response.bytes().await.expect("the body arrives whole");
    let mut decoded = Vec::new();
    match answered.as_deref() {
        Some("gzip") => {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut decoded)
                .unwrap();
        }
        Some("br") => {
            brotli_decompressor::Decompressor::new(&raw[..], 4096)
                .read_to_end(&mut decoded)
                .unwrap();
        }
        _ => decoded = raw.to_vec(),
    }
    (answered, decoded)
}

#[tokio::test]
async fn exports_arrive_whole_and_identical_with_gzip_br_and_identity() {
    let app = scored_estate().await;
    // A month of history, so both files are well above the compression threshold.
    for id in ["acme", "beta", "gamma"] {
        let facts = json!({"users": {"total": 120, "mfaRegistered": 60}});
        app.ingest(id, &noon(-30), facts).await;
    }
    let body = app
        .graphql(&platform_admin(), "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { daysScored } }", json!({"f": day(-30), "t": day(0)}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    for path in [
        format!("/export/scores.csv?from={}&to={}", day(-30), day(0)),
        format!("/export/action-scores.csv?from={}&to={}", day(-30), day(0)),
    ] {
        let (none, identity) = export_encoded(&app, &path, "identity").await;
        assert_eq!(none, None);
        assert!(identity.len() > 2048, "{path}: {} bytes", identity.len());
        for encoding in ["gzip", "br"] {
            let (answered, decoded) = export_encoded(&app, &path, encoding).await;
            assert_eq!(answered.as_deref(), Some(encoding), "{path}");
            assert_eq!(decoded, identity, "{path} with {encoding}");
        }
    }
}

#[tokio::test]
async fn the_action_rollup_export_holds_one_row_per_action_over_the_tenants_in_reach() {
    let app = scored_estate().await;
    let catalog = securescore::service::catalog::BuiltInCatalog::shipped().unwrap();
    let reader = token(&[Role::SecurityReader], &["acme", "beta"]);
    let statuses = securescore::domain::ActionStatus::ALL;
    let column = |name: &str, header: &[String]| header.iter().position(|h| h == name).unwrap();
    for (query, tenants, at_stake) in [
        // Each tenant has 90 of 120 users registered: 6.75 of 9, 2.25 at stake.
        (String::new(), 2, 4.5),
        (format!("?date={}", day(-1)), 2, 4.5),
        // gamma is out of reach: asked for, it is simply absent.
        ("?tenant=acme&tenant=gamma".to_owned(), 1, 2.25),
    ] {
        let (status, content_type, body) = export(
            &app,
            &format!("/export/action-rollup.csv{query}"),
            Some(&reader),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        let rows = records(&body);
        let header = &rows[0];
        assert_eq!(header.len(), 4 + statuses.len() + 1, "{header:?}");
        assert_eq!(rows.len(), 1 + catalog.actions.len(), "{query}");
        let first = &rows[1];
        assert_eq!(first[0], "MFARegistration", "{query}: {first:?}");
        assert_eq!(first[column("tenants", header)], tenants.to_string());
        assert_eq!(first[column("PARTIAL", header)], tenants.to_string());
        assert_eq!(first[column("COMPLETED", header)], "0");
        assert_eq!(first[column("pointsAtStake", header)], at_stake.to_string());
    }
    let cis = "CIS Microsoft 365 Foundations Benchmark v7.0.0";
    let mapped = crate::helpers::built_in_actions_mapped_to(cis);
    let (status, _, body) = export(
        &app,
        &format!(
            "/export/action-rollup.csv?framework={}",
            cis.replace(' ', "%20")
        ),
        Some(&reader),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(records(&body).len(), 1 + mapped);
    let path = "/export/action-rollup.csv";
    assert_eq!(export(&app, path, None).await.0, StatusCode::UNAUTHORIZED);
    let collector = token(&[Role::Collector], &["acme"]);
    assert_eq!(
        export(&app, path, Some(&collector)).await.0,
        StatusCode::FORBIDDEN
    );
    for (query, words) in [
        ("?date=today", "date like"),
        ("?from=2026-01-01", "unknown parameter"),
    ] {
        let (status, _, body) = export(&app, &format!("{path}{query}"), Some(&reader)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.contains(words), "{query}: {body}");
    }
}
