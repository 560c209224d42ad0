//! `/metrics`: Prometheus text, every family from the start, figures that move.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, fresh_database, platform_admin, spawn_app, spawn_app_with};
use crate::hygiene::ServerProcess;

/// The samples of a Prometheus text exposition, by series (name and labels as written);
/// panics on a line that is not a comment, a blank or a `series value` sample.
fn samples(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
            let name = series.split('{').next().unwrap();
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad series name: {line}"
            );
            assert!(
                series.find('{').is_none() || series.ends_with('}'),
                "{line}"
            );
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value: {line}")),
            };
            (series.to_owned(), value)
        })
        .collect()
}

async fn metrics_now(app: &TestApp) -> std::collections::HashMap<String, f64> {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    samples(&response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_move_after_requests_and_runs() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    app.ingest(
        "acme",
        &crate::helpers::noon(-1),
        json!({"sspr": {"enabled": true}}),
    )
    .await;
    let before = metrics_now(&app).await;
    let admin = platform_admin();
    let body = app
        .graphql(&admin, "query CountMe { viewer { subject } }", json!({}))
        .await;
    assert!(body["errors"].is_null());
    app.recompute("acme", &crate::helpers::day(-1), &crate::helpers::day(-1))
        .await;
    let after = metrics_now(&app).await;
    let grew = |series: &str, by: f64| {
        let (was, is) = (
            before.get(series).copied().unwrap_or(0.0),
            after.get(series).copied(),
        );
        assert!(
            is.is_some_and(|is| is >= was + by),
            "{series}: {was} then {is:?}"
        );
    };
    grew(
        r#"securescore_http_requests_total{route="/graphql",status="200"}"#,
        2.0,
    );
    grew(
        r#"securescore_graphql_operations_total{operation="CountMe",code="OK"}"#,
        1.0,
    );
    grew(
        r#"securescore_scoring_tenant_days_total{outcome="scored"}"#,
        1.0,
    );
    grew(
        r#"securescore_scoring_runs_total{kind="RECOMPUTE",status="SUCCEEDED"}"#,
        1.0,
    );
    // The query read nothing, the recomputation read and wrote its day.
    grew("securescore_db_statements_total", 2.0);
    assert!(after.contains_key(r#"securescore_db_pool_connections{state="idle"}"#));
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("securescore_graphql_operation_duration_seconds")),
        "a latency series"
    );
    // With a metrics address of its own, /metrics is not served with the API.
    let separate = spawn_app_with(|config| {
        config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let hidden = separate
        .client
        .get(format!("{}/metrics", separate.address))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_metric_family_exists_from_the_start_and_latencies_are_histograms() {
    let (database_url, _database) = fresh_database().await;
    let server = ServerProcess::start_with(&database_url, &[]);
    let text = reqwest::get(format!("{}/metrics", server.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    server.stop();
    let families = [
        ("securescore_http_requests_total", "counter"),
        ("securescore_http_request_duration_seconds", "histogram"),
        ("securescore_graphql_operations_total", "counter"),
        (
            "securescore_graphql_operation_duration_seconds",
            "histogram",
        ),
        ("securescore_scoring_tenant_days_total", "counter"),
        ("securescore_scoring_runs_total", "counter"),
        ("securescore_scoring_run_duration_seconds", "histogram"),
        ("securescore_live_rescore_lag_seconds", "histogram"),
        ("securescore_db_pool_connections", "gauge"),
        ("securescore_db_statements_total", "counter"),
        ("securescore_score_cache_lookups_total", "counter"),
        ("securescore_alerts_raised_total", "counter"),
        ("securescore_webhook_attempts_total", "counter"),
        ("securescore_webhook_deliveries_total", "counter"),
        ("securescore_http_panics_total", "counter"),
    ];
    for (family, kind) in families {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}")),
            "{family} is not a {kind} at start:\n{text}"
        );
    }
    assert!(!text.contains("summary"), "no summaries:\n{text}");
    // Buckets from 1 ms to 10 s, cumulative, ending at +Inf.
    let bucket = |le: &str| {
        format!(r#"securescore_http_request_duration_seconds_bucket{{route="/graphql",le="{le}"}}"#)
    };
    for le in ["0.001", "10", "+Inf"] {
        assert!(text.contains(&bucket(le)), "no {le} bucket:\n{text}");
    }
    for status in ["PENDING", "SUCCEEDED", "FAILED"] {
        assert!(
            text.contains(&format!(
                r#"securescore_webhook_deliveries_total{{status="{status}"}} 0"#
            )),
            "deliveries {status} at zero:\n{text}"
        );
    }
}
