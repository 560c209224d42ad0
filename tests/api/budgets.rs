//! Query-cost budgets: a caller spends its bucket, is refused with 429 and `Retry-After` when
//! a request costs more than is left, gets it back at the restore rate, never touches another
//! caller's bucket, and sees what it spent on every answer.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use secrecy::SecretString;
use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::domain::Role;
use securescore::graphql::budget::CostConfig;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, day, spawn_app, spawn_app_with};

/// A page of tenants: it costs its page size times its selection.
const PAGE: &str = "{ tenants(first: 10) { edges { node { id name } } } }";
/// The largest page: it costs more than a small bucket holds.
const BIG_PAGE: &str = "{ tenants(first: 100) { edges { node { id name industry seatCount } } } }";

async fn budgeted(bucket: u64, restore_per_second: f64) -> TestApp {
    spawn_app_with(move |config| {
        config.cost = CostConfig {
            bucket,
            restore_per_second,
        }
    })
    .await
}

/// A PlatformAdmin token for `subject`.
fn caller(subject: &str) -> String {
    mint_hs256(
        &SecretString::from(SECRET),
        &TokenRequest {
            subject: subject.into(),
            roles: vec![Role::PlatformAdmin],
            tenants: vec![],
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .unwrap()
}

/// POSTs `query` as `token`; answers the status, the headers and the body.
async fn post(app: &TestApp, token: &str, query: &str) -> (u16, HeaderMap, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/graphql-response+json")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

fn cost(body: &Value) -> &Value {
    &body["extensions"]["cost"]
}

fn left(body: &Value) -> f64 {
    cost(body)["throttleStatus"]["currentlyAvailable"]
        .as_f64()
        .unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test]
async fn a_caller_spends_its_bucket_and_is_refused_with_429_before_the_request_runs() {
    // A restore rate so slow that the arithmetic below is exact to a hundredth.
    let app = budgeted(100, 0.001).await;
    let partner = caller("partner-a");
    let (status, headers, first) = post(&app, &partner, PAGE).await;
    assert_eq!(status, 200, "{first}");
    let price = cost(&first)["requestedQueryCost"].as_u64().unwrap();
    assert!(price > 1 && price <= 100, "{first}");
    assert_eq!(cost(&first)["actualQueryCost"], price);
    assert_eq!(cost(&first)["throttleStatus"]["maximumAvailable"], 100);
    assert_eq!(cost(&first)["throttleStatus"]["restoreRate"], 0.001);
    assert!(
        (left(&first) - (100 - price) as f64).abs() < 0.01,
        "{first}"
    );
    assert_eq!(headers["ratelimit-policy"], "\"cost\";q=100;w=100000");
    assert!(
        headers["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with(&format!("\"cost\";r={};t=", 100 - price)),
        "{headers:?}"
    );

    // Spend until the bucket holds less than one more request.
    let mut remaining = left(&first);
    while remaining >= price as f64 {
        let (status, _, body) = post(&app, &partner, PAGE).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            (left(&body) - (remaining - price as f64)).abs() < 0.01,
            "{body}"
        );
        remaining = left(&body);
    }
    let (status, headers, refused) = post(&app, &partner, PAGE).await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(refused.get("data").is_none(), "it never ran: {refused}");
    assert_eq!(cost(&refused)["requestedQueryCost"], price);
    assert_eq!(cost(&refused)["actualQueryCost"], Value::Null);
    assert!(
        (left(&refused) - remaining).abs() < 0.01,
        "nothing charged: {refused}"
    );
    // Whole seconds until the bucket holds the request again, at 0.001 points a second.
    let wait = ((price as f64 - remaining) / 0.001).ceil() as u64;
    let retry_after: u64 = headers[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry_after.abs_diff(wait) <= 1, "{retry_after} vs {wait}");
    assert_eq!(
        refused["errors"][0]["extensions"]["retryAfter"], retry_after,
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("retry in {retry_after} s")),
        "{message}"
    );

    // Another caller's bucket is untouched.
    let (status, _, other) = post(&app, &caller("partner-b"), PAGE).await;
    assert_eq!(status, 200, "{other}");
    assert!(
        (left(&other) - (100 - price) as f64).abs() < 0.01,
        "{other}"
    );
}

#[tokio::test]
async fn a_refused_caller_is_served_again_once_the_bucket_refilled() {
    let app = budgeted(100, 50.0).await;
    let partner = caller("partner-a");
    let retry_after = loop {
        let (status, headers, body) = post(&app, &partner, PAGE).await;
        if status == 429 {
            break headers[RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap();
        }
        assert_eq!(status, 200, "{body}");
    };
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let (status, _, body) = post(&app, &partner, PAGE).await;
    assert_eq!(status, 200, "served after Retry-After: {body}");
}

#[tokio::test]
async fn a_request_larger_than_the_whole_bucket_is_bad_input_and_charges_nothing() {
    let app = budgeted(100, 0.001).await;
    let partner = caller("partner-a");
    let (status, _, body) = post(&app, &partner, BIG_PAGE).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("more than the whole budget of 100"),
        "{message}"
    );
    assert_eq!(cost(&body)["actualQueryCost"], Value::Null);
    assert!(cost(&body)["requestedQueryCost"].as_u64().unwrap() > 100);
    assert!((left(&body) - 100.0).abs() < 0.01, "{body}");
}

#[tokio::test]
async fn probes_metrics_and_pages_cost_nothing() {
    let app = budgeted(100, 0.001).await;
    let partner = caller("partner-a");
    for path in ["/healthz", "/readyz", "/metrics", "/", "/graphql"] {
        for _ in 0..5 {
            let response = app
                .client
                .get(format!("{}{path}", app.address))
                .header(ACCEPT, "text/html")
                .header(AUTHORIZATION, format!("Bearer {partner}"))
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
    }
    let (_, _, body) = post(&app, &partner, "{ viewer { subject } }").await;
    let price = cost(&body)["requestedQueryCost"].as_f64().unwrap();
    assert!((left(&body) - (100.0 - price)).abs() < 0.01, "{body}");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("partner-a"), "no metric names a caller");
}

#[tokio::test]
async fn with_budgets_off_answers_carry_no_cost() {
    let app = spawn_app().await;
    let (status, headers, body) = post(&app, &caller("partner-a"), PAGE).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("extensions").is_none(), "{body}");
    assert!(headers.get("ratelimit").is_none());
}

#[tokio::test]
async fn refused_requests_say_what_is_left_too() {
    let app = budgeted(100, 0.001).await;
    let partner = caller("partner-a");
    // A syntax error: refused before it could be costed, it costs the 1 point of refusing it.
    let (status, headers, broken) = post(&app, &partner, "{ tenants(").await;
    assert_eq!(status, 400, "{broken}");
    assert_eq!(cost(&broken)["requestedQueryCost"], 1, "{broken}");
    assert_eq!(cost(&broken)["actualQueryCost"], 1, "{broken}");
    assert!((left(&broken) - 99.0).abs() < 0.01, "{broken}");
    assert!(headers.contains_key("ratelimit"));
    // A validation error (an unknown field) costs 1 as well.
    let (_, _, unknown) = post(&app, &partner, "{ noSuchField }").await;
    assert_eq!(cost(&unknown)["actualQueryCost"], 1, "{unknown}");
    assert!((left(&unknown) - 98.0).abs() < 0.01, "{unknown}");
    // Not JSON at all.
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {partner}"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/graphql-response+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.headers().contains_key("ratelimit-policy"));
    let body: Value = response.json().await.unwrap();
    assert!((left(&body) - 98.0).abs() < 0.01, "{body}");
}

#[tokio::test]
async fn a_list_inside_a_list_costs_its_rows_times_the_outer_rows() {
    let app = budgeted(1_000_000, 1.0).await;
    let partner = caller("partner-a");
    let price = |query: &'static str| {
        let (app, partner) = (&app, &partner);
        async move {
            let (_, _, body) = post(app, partner, query).await;
            cost(&body)["requestedQueryCost"].as_u64().unwrap()
        }
    };
    let one_day = price("{ tenant(id: \"acme\") { scoreHistory(from: \"2026-01-01\", to: \"2026-01-01\") { actionScores { score status } } } }").await;
    let forty_days = price("{ tenant(id: \"acme\") { scoreHistory(from: \"2026-01-01\", to: \"2026-02-09\") { actionScores { score status } } } }").await;
    let actions = crate::helpers::built_in_actions() as u64;
    // Each day's list is priced at the shipped catalog's rows times its two fields, and the
    // history multiplies that by its days.
    assert!(
        one_day >= actions * 2,
        "one day of action scores cost {one_day}"
    );
    assert_eq!(
        forty_days - 1,
        (one_day - 1) * 40,
        "{one_day} then {forty_days}"
    );
}

#[tokio::test]
async fn a_mutation_costs_ten_plus_its_work_and_each_alias_again() {
    let app = budgeted(1_000_000, 1.0).await;
    app.create_tenant("acme", None, 10).await;
    let admin = caller("admin-a");
    let price = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let (_, _, body) = post(app, admin, &query).await;
            assert!(body["errors"].is_null(), "{body}");
            cost(&body)["actualQueryCost"].as_u64().unwrap()
        }
    };
    let recompute = |alias: &str, days: i64| {
        format!(
            "{alias}: recomputeScores(input: {{tenantId: \"acme\", from: \"{}\", to: \"{}\"}}) {{ daysScored }}",
            day(-days + 1),
            day(0)
        )
    };
    // 10, the selected field, and one point per tenant-day.
    let year = price(format!("mutation {{ {} }}", recompute("a", 366))).await;
    assert_eq!(year, 10 + 1 + 366);
    let twenty: Vec<String> = (0..20).map(|n| recompute(&format!("r{n}"), 90)).collect();
    let aliased = price(format!("mutation {{ {} }}", twenty.join(" "))).await;
    assert_eq!(aliased, 20 * (10 + 1 + 90));
    let created = price(
        "mutation { createTenant(input: {id: \"beta\", name: \"Beta\", seatCount: 5}) { id } }"
            .into(),
    )
    .await;
    assert_eq!(created, 11);
}

#[tokio::test]
async fn exports_are_charged_their_rows_and_throttled_like_queries() {
    let app = budgeted(40, 0.001).await;
    app.create_tenant("acme", None, 10).await;
    app.ingest(
        "acme",
        &crate::helpers::noon(-10),
        json!({"users": {"total": 10, "mfaRegistered": 5}}),
    )
    .await;
    let (_, _, scored) = post(
        &app,
        &caller("operator"),
        &format!(
            "mutation {{ recomputeScores(input: {{tenantId: \"acme\", from: \"{}\", to: \"{}\"}}) {{ daysScored }} }}",
            day(-10),
            day(0)
        ),
    )
    .await;
    assert_eq!(
        scored["data"]["recomputeScores"]["daysScored"], 11,
        "{scored}"
    );
    let partner = caller("partner-a");
    let export = |path: &'static str| {
        let (app, partner) = (&app, &partner);
        async move {
            app.client
                .get(format!(
                    "{}/export/{path}?from={}&to={}",
                    app.address,
                    day(-10),
                    day(0)
                ))
                .header(AUTHORIZATION, format!("Bearer {partner}"))
                .send()
                .await
                .unwrap()
        }
    };
    // 11 day rows cost 11 of the 40 points, three times; the fourth finds 7 left.
    for left in [29, 18, 7] {
        let response = export("scores.csv").await;
        assert_eq!(response.status(), 200);
        let remaining = header_value(&response, "ratelimit");
        assert!(
            remaining.starts_with(&format!("\"cost\";r={left};")),
            "{remaining}"
        );
        assert_eq!(response.text().await.unwrap().lines().count(), 12);
    }
    let throttled = export("scores.csv").await;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = header_value(&throttled, "retry-after").parse().unwrap();
    assert!(wait >= 1, "{wait}");
    // Eleven days of every action's rows can never fit a bucket of 40.
    let too_large = export("action-scores.csv").await;
    assert_eq!(too_large.status(), 400);
    assert!(
        too_large
            .text()
            .await
            .unwrap()
            .contains("more than the whole budget")
    );
    // The estate per action costs a point per catalog action, more than a bucket of 40 holds.
    let rollup = app
        .client
        .get(format!("{}/export/action-rollup.csv", app.address))
        .header(AUTHORIZATION, format!("Bearer {partner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rollup.status(), 400);
    let text = rollup.text().await.unwrap();
    assert!(
        text.contains(&format!(
            "holds {} rows",
            crate::helpers::built_in_actions()
        )),
        "{text}"
    );
}

fn header_value(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}
