//! Ready for browsers and operators: CORS for the configured origins only, compression when
//! asked, and JSON logs with one access line per request.

use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, ORIGIN,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, fresh_database, platform_admin, spawn_app, spawn_app_with};
use crate::hygiene::ServerProcess;

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

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
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
    assert_eq!(body["data"]["actions"].as_array().unwrap().len(), 11);
    let small = post_encoded(&app, "{ viewer { subject } }", "gzip").await;
    assert_eq!(
        header(&small, CONTENT_ENCODING.as_str()),
        None,
        "small answers are not worth compressing"
    );
}

#[tokio::test]
async fn json_logs_parse_line_by_line_with_one_access_line_per_request_and_no_token() {
    let (database_url, _database) = fresh_database().await;
    let server = ServerProcess::start_with(&database_url, &["--log-format", "json"]);
    let token = platform_admin();
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.address))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .header("x-request-id", "logged-request-1")
        .json(&json!({"query": "query WhoAmI { viewer { subject } }", "operationName": "WhoAmI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let log = server.stop();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!lines.is_empty());
    let access = lines
        .iter()
        .find(|line| {
            line["span"]["request_id"] == "logged-request-1" && line["fields"]["status"].is_number()
        })
        .unwrap_or_else(|| panic!("no access line for the request: {log}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["latency"].is_string(), "{access}");
    assert_eq!(access["span"]["method"], "POST");
    assert_eq!(access["span"]["path"], "/graphql");
    assert_eq!(access["span"]["operation"], "WhoAmI");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "the token leaked into the log");
}

/// The keys of a JSON object, in order.
fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn responses_keep_the_order_of_the_selection_with_aliases_fragments_and_prefetched_lists() {
    let app = spawn_app().await;
    app.create_tenant("acme", Some("Finance"), 120).await;
    app.ingest(
        "acme",
        &crate::helpers::noon(-1),
        json!({"users": {"total": 4, "mfaRegistered": 1}}),
    )
    .await;
    app.recompute("acme", &crate::helpers::day(-1), &crate::helpers::day(0))
        .await;
    let reader = crate::helpers::token(&[securescore::domain::Role::SecurityReader], &["acme"]);
    let body = app
        .graphql(
            &reader,
            "query Dashboard($from: Date!, $to: Date!) {
               tenant(id: \"acme\") {
                 ...Names
                 scoreHistory(from: $from, to: $to) { percentage date }
                 latest: score { percentage date categories { maxScore category } }
                 improvementActions { scoreImpact action { title id } }
                 comparison { tenantCount basis }
                 ... on Tenant { seatCount }
               }
               viewer { tenantIds subject }
             }
             fragment Names on Tenant { name id }",
            json!({"from": crate::helpers::day(-1), "to": crate::helpers::day(0)}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let data = &body["data"];
    assert_eq!(keys(data), ["tenant", "viewer"]);
    let tenant = &data["tenant"];
    assert_eq!(
        keys(tenant),
        [
            "name",
            "id",
            "scoreHistory",
            "latest",
            "improvementActions",
            "comparison",
            "seatCount"
        ]
    );
    assert_eq!(keys(&tenant["scoreHistory"][1]), ["percentage", "date"]);
    assert_eq!(
        keys(&tenant["latest"]),
        ["percentage", "date", "categories"]
    );
    assert_eq!(
        keys(&tenant["latest"]["categories"][0]),
        ["maxScore", "category"]
    );
    assert_eq!(
        keys(&tenant["improvementActions"][0]),
        ["scoreImpact", "action"]
    );
    assert_eq!(
        keys(&tenant["improvementActions"][0]["action"]),
        ["title", "id"]
    );
    assert_eq!(keys(&data["viewer"]), ["tenantIds", "subject"]);
}

/// A valid value for a required argument of `type_name`.
fn valid_argument(type_name: &str) -> &'static str {
    match type_name {
        "Date" => "\"2026-01-01\"",
        "DateTime" => "\"2026-01-01T00:00:00Z\"",
        "Int" => "1",
        "Float" => "1.0",
        "Boolean" => "true",
        _ => "\"acme\"",
    }
}

/// The named type under NON_NULL and LIST wrappers, and whether the outer one is NON_NULL.
fn named_type(type_ref: &Value) -> (String, bool) {
    let required = type_ref["kind"] == "NON_NULL";
    let mut inner = type_ref;
    while inner["name"].is_null() {
        inner = &inner["ofType"];
    }
    (
        inner["name"].as_str().unwrap_or_default().to_owned(),
        required,
    )
}

#[tokio::test]
async fn a_bad_date_in_any_argument_is_a_request_error_before_execution() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let admin = platform_admin();
    let schema = app
        .graphql(
            &admin,
            "{ __schema { types { name kind fields { name
                type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
                args { name type { kind name ofType { kind name ofType { kind name } } } } } } } }",
            json!({}),
        )
        .await;
    let types = schema["data"]["__schema"]["types"].as_array().unwrap();
    let kinds: std::collections::HashMap<&str, &str> = types
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    let mut checked = 0;
    for parent in ["Query", "Tenant", "Mutation"] {
        let parent_type = types.iter().find(|t| t["name"] == parent).unwrap();
        for field in parent_type["fields"].as_array().unwrap() {
            let args = field["args"].as_array().unwrap();
            for target in args {
                let (target_type, _) = named_type(&target["type"]);
                if target_type != "Date" && target_type != "DateTime" {
                    continue;
                }
                for (bad, as_variable) in [("2026-13-45", false), ("yesterday", true)] {
                    let mut rendered = Vec::new();
                    for arg in args {
                        let (arg_type, required) = named_type(&arg["type"]);
                        let name = arg["name"].as_str().unwrap();
                        if arg["name"] == target["name"] {
                            let value = if as_variable {
                                "$bad".to_owned()
                            } else {
                                format!("\"{bad}\"")
                            };
                            rendered.push(format!("{name}: {value}"));
                        } else if required {
                            rendered.push(format!("{name}: {}", valid_argument(&arg_type)));
                        }
                    }
                    let (result_type, _) = named_type(&field["type"]);
                    let selection = if kinds.get(result_type.as_str()) == Some(&"OBJECT") {
                        " { __typename }"
                    } else {
                        ""
                    };
                    let call = format!(
                        "{}({}){selection}",
                        field["name"].as_str().unwrap(),
                        rendered.join(", ")
                    );
                    let body = match parent {
                        "Tenant" => format!("tenant(id: \"acme\") {{ {call} }}"),
                        _ => call,
                    };
                    let keyword = if parent == "Mutation" {
                        "mutation"
                    } else {
                        "query"
                    };
                    let declared = if as_variable {
                        format!("($bad: {target_type})")
                    } else {
                        String::new()
                    };
                    let document = format!("{keyword} Probe{declared} {{ {body} }}");
                    let response = app
                        .client
                        .post(format!("{}/graphql", app.address))
                        .header(AUTHORIZATION, format!("Bearer {admin}"))
                        .header(CONTENT_TYPE, "application/json")
                        .header(ACCEPT, "application/graphql-response+json")
                        .json(&json!({"query": document, "variables": {"bad": bad}}))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let answer: Value = response.json().await.unwrap();
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{document}: {answer}");
                    assert_eq!(
                        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                        "{document}: {answer}"
                    );
                    assert!(answer.get("data").is_none(), "{document}: {answer}");
                    checked += 1;
                }
            }
        }
    }
    // score, scoreHistory (2), scoreDiff (2), comparison, improvementActions, portfolio: 8 arguments.
    assert!(checked >= 16, "only {checked} probes");
}

#[tokio::test]
async fn automatic_persisted_queries_round_trip_and_refuse_unknown_or_mismatched_hashes() {
    use sha2::Digest;

    let app = spawn_app().await;
    let admin = platform_admin();
    let query = "query Catalog { actions { id } }";
    let hash = format!("{:x}", sha2::Sha256::digest(query.as_bytes()));
    let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let get = |extensions: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let response = app
                .client
                .get(format!("{}/graphql", app.address))
                .query(&[
                    ("extensions", extensions.to_string()),
                    ("operationName", "Catalog".into()),
                ])
                .header(AUTHORIZATION, format!("Bearer {admin}"))
                .header(ACCEPT, "application/json")
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    // Unknown at first: the client must send the query along.
    let unknown = get(extensions.clone()).await;
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let registered = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {admin}"))
        .header(ACCEPT, "application/json")
        .json(&json!({"query": query, "extensions": extensions}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        registered["data"]["actions"].as_array().unwrap().len(),
        11,
        "{registered}"
    );
    // Then the hash alone, by GET, answers the same.
    let by_hash = get(extensions).await;
    assert_eq!(by_hash["data"], registered["data"]);
    // A hash that is not the query's is refused and remembers nothing.
    let wrong = json!({"persistedQuery": {"version": 1, "sha256Hash": "ab".repeat(32)}});
    let mismatched = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {admin}"))
        .header(ACCEPT, "application/json")
        .json(&json!({"query": query, "extensions": wrong}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        mismatched["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert!(
        mismatched["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let still_unknown = get(wrong).await;
    assert_eq!(
        still_unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
}

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
async fn graphiql_is_served_from_the_binary_under_a_same_origin_content_security_policy() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = header(&page, "content-security-policy")
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains("default-src 'self'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere: {html}"
    );
    for (asset, kind) in [
        ("/graphiql/3.8.3/graphiql.min.js", "text/javascript"),
        ("/graphiql/3.8.3/graphiql.min.css", "text/css"),
        ("/graphiql/3.8.3/react.production.min.js", "text/javascript"),
        (
            "/graphiql/3.8.3/react-dom.production.min.js",
            "text/javascript",
        ),
        ("/graphiql/page.js", "text/javascript"),
    ] {
        assert!(html.contains(asset), "{asset} is not on the page");
        let response = app
            .client
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            header(&response, CONTENT_TYPE.as_str())
                .unwrap_or_default()
                .starts_with(kind)
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let missing = app
        .client
        .get(format!("{}/graphiql/../Cargo.toml", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sqlites_write_ahead_log_is_checkpointed_and_cut_back() {
    let app = spawn_app_with(|config| {
        config.sqlite_checkpoint_interval = std::time::Duration::from_secs(1);
    })
    .await;
    let Some(file) = app
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .map(|path| format!("{path}-wal"))
    else {
        eprintln!("the write-ahead log is SQLite's; nothing to check on PostgreSQL");
        return;
    };
    for tenant in ["a", "b", "c", "d"] {
        app.create_tenant(tenant, None, 10).await;
        app.ingest(
            tenant,
            &crate::helpers::noon(-200),
            json!({"sspr": {"enabled": true}}),
        )
        .await;
    }
    let body = app
        .graphql(&platform_admin(), "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { daysScored } }",
            json!({"f": crate::helpers::day(-200), "t": crate::helpers::day(0)}))
        .await;
    assert_eq!(
        body["data"]["recomputeScores"]["daysScored"],
        4 * 201,
        "{body}"
    );
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // Automatic checkpoints leave the file as large as it grew; only the truncating one empties it.
    crate::helpers::eventually(
        "the write-ahead log cut back to nothing",
        std::time::Duration::from_secs(15),
        || async { (size() == 0).then_some(()) },
    )
    .await;
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
