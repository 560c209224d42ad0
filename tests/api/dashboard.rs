//! The reference dashboard at `/`: served from the binary under a strict policy, its every
//! operation valid against the served schema and answered as a persisted query by GET, and the
//! demo's token picker present in `--demo` only.

use reqwest::StatusCode;
use securescore::domain::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, platform_admin, spawn_app, spawn_app_with, token};

/// The operations of `operations.graphql` by name: (kind, exact text), split as the page does.
fn operations(document: &str) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = Vec::new();
    let mut current: Option<(String, String, Vec<&str>)> = None;
    for line in document.lines() {
        let mut words = line.split(|c: char| c.is_whitespace() || c == '(' || c == '{');
        let kind = words.next().unwrap_or_default();
        if matches!(kind, "query" | "mutation" | "subscription") {
            if let Some((kind, name, lines)) = current.take() {
                found.push((kind, name, lines.join("\n").trim().to_owned()));
            }
            let name = words.next().unwrap_or_default().to_owned();
            current = Some((kind.to_owned(), name, vec![line]));
        } else if let Some((_, _, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((kind, name, lines)) = current {
        found.push((kind, name, lines.join("\n").trim().to_owned()));
    }
    found
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

/// A persisted-query GET as the page sends it: the hash of `text`, with the text itself only
/// when `send_text`.
async fn persisted_get(
    app: &TestApp,
    bearer: &str,
    (name, text): (&str, &str),
    send_text: bool,
    variables: &Value,
) -> Value {
    let hash = format!("{:x}", Sha256::digest(text.as_bytes()));
    let mut query = vec![
        ("operationName", name.to_owned()),
        ("variables", variables.to_string()),
        (
            "extensions",
            json!({"persistedQuery": {"version": 1, "sha256Hash": hash}}).to_string(),
        ),
    ];
    if send_text {
        query.push(("query", text.to_owned()));
    }
    app.client
        .get(format!("{}/graphql", app.address))
        .bearer_auth(bearer)
        .header("accept", "application/json")
        .query(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_under_a_policy_allowing_nothing_else() {
    let app = spawn_app().await;
    let page = get(&app, "/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("securescore dashboard"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "nothing inline"
    );

    // Every asset the page and its modules name is served with its type.
    let mut assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|piece| piece.starts_with("/dashboard/"))
        .map(str::to_owned)
        .collect();
    let mut checked = Vec::new();
    while let Some(asset) = assets.pop() {
        if checked.contains(&asset) {
            continue;
        }
        let response = get(&app, &asset).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.unwrap();
        if asset.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{asset}: {kind}");
            for import in body.split("from './").skip(1) {
                let file = import.split('\'').next().unwrap_or_default();
                assets.push(format!("/dashboard/{file}"));
            }
        } else if asset.ends_with(".css") {
            assert!(kind.starts_with("text/css"), "{asset}: {kind}");
        }
        assert!(!body.is_empty(), "{asset}");
        checked.push(asset);
    }
    for expected in ["app.js", "api.js", "charts.js", "format.js", "app.css"] {
        assert!(
            checked.contains(&format!("/dashboard/{expected}")),
            "{expected} is not reachable from the page: {checked:?}"
        );
    }
    assert_eq!(
        get(&app, "/dashboard/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
    // GraphiQL stays at /graphql.
    let graphiql = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(graphiql.text().await.unwrap().contains("GraphiQL"));
}

#[tokio::test]
async fn demo_tokens_are_offered_in_demo_mode_only_and_each_one_works() {
    let plain = spawn_app().await;
    assert_eq!(
        get(&plain, "/demo/tokens").await.status(),
        StatusCode::NOT_FOUND
    );

    let demo = spawn_app_with(|config| config.demo = true).await;
    let response = get(&demo, "/demo/tokens").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let tokens: Vec<Value> = response.json().await.unwrap();
    let labels: Vec<&str> = tokens
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    for role in Role::ALL {
        assert!(labels.contains(&role.claim_name()), "{labels:?}");
    }
    assert!(labels.contains(&"Partner (GlobalAdmin)"), "{labels:?}");
    for offered in &tokens {
        let answer = demo
            .graphql(
                offered["token"].as_str().unwrap(),
                "{ viewer { subject tenantIds } }",
                json!({}),
            )
            .await;
        assert_eq!(
            answer["data"]["viewer"]["subject"], offered["subject"],
            "{answer}"
        );
        assert_eq!(
            answer["data"]["viewer"]["tenantIds"], offered["tenants"],
            "{answer}"
        );
    }
}

#[tokio::test]
async fn every_dashboard_operation_is_answered_as_a_persisted_query() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let document = get(&app, "/dashboard/operations.graphql")
        .await
        .text()
        .await
        .unwrap();
    let operations = operations(&document);
    let names: Vec<&str> = operations.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "DashboardViewer",
            "DashboardEstate",
            "DashboardFailing",
            "DashboardTenant",
            "DashboardTrends",
            "DashboardActions",
            "DashboardScoreDiff",
            "DashboardSetActionState",
            "DashboardSetActionPlan",
            "DashboardClearActionPlan",
            "DashboardScoreUpdated",
            "DashboardOnboarding",
            "DashboardSetPartnerApplication",
            "DashboardConnectDirectories"
        ]
    );
    let text = |name: &'static str| {
        let text = operations
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, t)| t.as_str())
            .unwrap();
        (name, text)
    };
    let admin = token(&[Role::SecurityAdmin], &["contoso"]);
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(89)).to_string();
    let ahead = (today + chrono::Duration::days(30)).to_string();
    let tenant_vars = json!({"tenantId": "contoso", "from": from, "to": today.to_string(),
                             "forecastTo": ahead, "period": "WEEK"});

    // Unknown hash first, then the text with its hash, then the hash alone.
    let tenant_query = text("DashboardTenant");
    let unknown = persisted_get(&app, &admin, tenant_query, false, &tenant_vars).await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{unknown}"
    );
    let with_text = persisted_get(&app, &admin, tenant_query, true, &tenant_vars).await;
    assert!(with_text.get("errors").is_none(), "{with_text}");
    let by_hash = persisted_get(&app, &admin, tenant_query, false, &tenant_vars).await;
    assert_eq!(by_hash, with_text);
    let history = by_hash["data"]["tenant"]["scoreHistory"]
        .as_array()
        .unwrap();
    assert!(history.len() > 60, "{by_hash}");
    let last_two: Vec<&str> = history[history.len() - 2..]
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();

    for (name, variables) in [
        ("DashboardViewer", json!({})),
        (
            "DashboardEstate",
            json!({"framework": "CIS Microsoft 365 Foundations Benchmark v7.0.0"}),
        ),
        ("DashboardFailing", json!({"actionId": "AdminMFA"})),
        (
            "DashboardTrends",
            json!({"tenantId": "contoso", "from": from, "to": today.to_string(), "period": "MONTH"}),
        ),
        ("DashboardActions", json!({"tenantId": "contoso"})),
        (
            "DashboardScoreDiff",
            json!({"tenantId": "contoso", "from": last_two[0], "to": last_two[1]}),
        ),
    ] {
        let answer = persisted_get(&app, &admin, text(name), true, &variables).await;
        assert!(answer.get("errors").is_none(), "{name}: {answer}");
        assert!(!answer["data"].is_null(), "{name}: {answer}");
    }
    let set = app
        .graphql(
            &admin,
            text("DashboardSetActionState").1,
            json!({"input": {"tenantId": "contoso", "actionId": "AdminMFA", "state": "PLANNED",
                "comment": "from the dashboard test", "expiresAt": null}}),
        )
        .await;
    assert_eq!(
        set["data"]["setActionOverride"]["state"], "PLANNED",
        "{set}"
    );
    let planned = app
        .graphql(
            &admin,
            text("DashboardSetActionPlan").1,
            json!({"input": {"tenantId": "contoso", "actionId": "AdminMFA", "assignedTo": "ops@contoso.test",
                "dueDate": ahead, "tags": ["identity"], "notes": null}}),
        )
        .await;
    assert_eq!(
        planned["data"]["setActionPlan"]["assignedTo"], "ops@contoso.test",
        "{planned}"
    );
    let cleared = app
        .graphql(
            &admin,
            text("DashboardClearActionPlan").1,
            json!({"tenantId": "contoso", "actionId": "AdminMFA"}),
        )
        .await;
    assert_eq!(cleared["data"]["clearActionPlan"], "AdminMFA", "{cleared}");

    // The onboarding view's three, as a PlatformAdmin.
    let platform = platform_admin();
    let partner = app
        .graphql(
            &platform,
            text("DashboardSetPartnerApplication").1,
            json!({"input": {"clientId": "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38", "clientSecret": "s"}}),
        )
        .await;
    assert!(partner.get("errors").is_none(), "{partner}");
    let connected = app
        .graphql(
            &platform,
            text("DashboardConnectDirectories").1,
            json!({"inputs": [{"tenantId": "fabrikam", "name": "Fabrikam", "directoryId": "0b5d4c3e-2a1f-4e6d-9c8b-7a6f5e4d3c2b"}]}),
        )
        .await;
    assert!(
        connected["data"]["connectDirectories"][0]["connection"]["consentUrl"].is_string(),
        "{connected}"
    );
    let onboarding = persisted_get(
        &app,
        &platform,
        text("DashboardOnboarding"),
        true,
        &json!({"after": null}),
    )
    .await;
    assert!(onboarding.get("errors").is_none(), "{onboarding}");
    let edges = onboarding["data"]["tenants"]["edges"].as_array().unwrap();
    assert!(
        edges.iter().any(|e| e["node"]["id"] == "fabrikam"
            && e["node"]["graphConnection"]["usesPartnerApplication"] == true),
        "{onboarding}"
    );
}

#[tokio::test]
async fn improvement_actions_filter_and_rank_every_action_when_asked() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let reader = token(&[Role::SecurityReader], &["contoso"]);
    let ask = |arguments: &str| {
        format!(
            "{{ tenant(id: \"contoso\") {{ score {{ actionScores {{ action {{ id }} }} }}
                improvementActions{arguments} {{ action {{ id category }} status potentialIncrease }} }} }}"
        )
    };
    let all = app
        .graphql(&reader, &ask("(includeCompleted: true)"), json!({}))
        .await;
    let tenant = &all["data"]["tenant"];
    let ranked = tenant["improvementActions"].as_array().unwrap();
    assert_eq!(
        ranked.len(),
        tenant["score"]["actionScores"].as_array().unwrap().len(),
        "{all}"
    );
    let left: Vec<f64> = ranked
        .iter()
        .map(|a| a["potentialIncrease"].as_f64().unwrap())
        .collect();
    assert!(left.windows(2).all(|w| w[0] >= w[1]), "{left:?}");
    assert!(left.contains(&0.0), "some action is complete: {left:?}");

    let open = app.graphql(&reader, &ask(""), json!({})).await;
    let open = open["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap();
    assert_eq!(open.len(), left.iter().filter(|&&l| l > 0.0).count());

    let completed = app
        .graphql(
            &reader,
            &ask("(status: COMPLETED, includeCompleted: true)"),
            json!({}),
        )
        .await;
    let completed = completed["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap();
    assert!(!completed.is_empty());
    assert!(completed.iter().all(|a| a["status"] == "COMPLETED"));
    let apps = app
        .graphql(
            &reader,
            &ask("(category: APPS, includeCompleted: true)"),
            json!({}),
        )
        .await;
    let apps = apps["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap();
    assert!(!apps.is_empty() && apps.len() < ranked.len());
    assert!(apps.iter().all(|a| a["action"]["category"] == "APPS"));
}
