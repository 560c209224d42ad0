//! NUL and other control characters in any string input: refused with BAD_USER_INPUT naming
//! where, and nothing written, on either database.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, noon, platform_admin, spawn_app, token};

/// Every mutation with a valid request (document and variables) that sends strings through
/// variables, and the token allowed to send it.
fn mutations() -> Vec<(&'static str, &'static str, Value, String)> {
    let admin = platform_admin();
    let global = token(&[Role::GlobalAdmin], &["acme"]);
    vec![
        (
            "createTenant",
            "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }",
            json!({"i": {"id": "fresh", "name": "Fresh", "industry": "Retail", "seatCount": 5}}),
            admin.clone(),
        ),
        (
            "updateTenant",
            "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { id } }",
            json!({"i": {"id": "acme", "name": "Acme", "industry": "Finance"}}),
            admin.clone(),
        ),
        (
            "upsertAction",
            "mutation($i: UpsertActionInput!) { upsertAction(input: $i) { id } }",
            json!({"i": {"id": "NewAction", "title": "New", "description": "Two\nlines", "category": "DATA",
                      "maxScore": 1, "rule": {"kind": "BOOLEAN", "fact": "a.b"},
                      "remediation": "Do it", "actionUrl": "https://example.com"}}),
            admin.clone(),
        ),
        (
            "ingestSnapshot",
            "mutation($i: IngestSnapshotInput!) { ingestSnapshot(input: $i) { id } }",
            json!({"i": {"tenantId": "acme", "capturedAt": noon(0), "facts": {"label": "x", "nested": {"k": "v"}},
                      "idempotencyKey": "k-1"}}),
            global.clone(),
        ),
        (
            "setActionOverride",
            "mutation($i: SetActionOverrideInput!) { setActionOverride(input: $i) { state } }",
            json!({"i": {"tenantId": "acme", "actionId": "AdminMFA", "state": "PLANNED", "comment": "tab\tok"}}),
            global.clone(),
        ),
        (
            "setActionOverrides",
            "mutation($i: SetActionOverridesInput!) { setActionOverrides(input: $i) { state } }",
            json!({"i": {"tenantIds": ["acme"], "actionIds": ["AdminMFA"], "state": "PLANNED", "comment": "c"}}),
            global.clone(),
        ),
        (
            "recomputeScores",
            "mutation($i: RecomputeScoresInput!) { recomputeScores(input: $i) { daysScored } }",
            json!({"i": {"tenantId": "acme", "from": crate::helpers::day(0), "to": crate::helpers::day(0)}}),
            global.clone(),
        ),
        (
            "setTenantGoal",
            "mutation($t: ID!) { setTenantGoal(tenantId: $t, percentage: 80) { goal } }",
            json!({"t": "acme"}),
            global.clone(),
        ),
        (
            "createAlertRule",
            "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { id } }",
            json!({"i": {"tenantId": "acme", "kind": "REGRESSION"}}),
            global.clone(),
        ),
        (
            "updateAlertRule",
            "mutation($i: UpdateAlertRuleInput!) { updateAlertRule(input: $i) { id } }",
            json!({"i": {"id": "1", "enabled": false}}),
            global.clone(),
        ),
        (
            "deleteAlertRule",
            "mutation($id: ID!) { deleteAlertRule(id: $id) }",
            json!({"id": "1"}),
            global.clone(),
        ),
        (
            "acknowledgeAlert",
            "mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }",
            json!({"id": "1"}),
            global.clone(),
        ),
        (
            "createWebhookEndpoint",
            "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
            json!({"i": {"tenantId": "acme", "url": "http://127.0.0.1:9/hook"}}),
            global.clone(),
        ),
        (
            "updateWebhookEndpoint",
            "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { id } }",
            json!({"i": {"id": "1", "url": "http://127.0.0.1:9/other"}}),
            global.clone(),
        ),
        (
            "deleteWebhookEndpoint",
            "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
            json!({"id": "1"}),
            global.clone(),
        ),
        (
            "setGraphConnection",
            "mutation($i: SetGraphConnectionInput!) { setGraphConnection(input: $i) { status } }",
            json!({"i": {"tenantId": "acme", "directoryId": "8f2c5a1e-4b7d-4c3a-9e61-2d5f0b8a7c44",
                "clientId": "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38", "clientSecret": "secret"}}),
            global.clone(),
        ),
        (
            "deleteGraphConnection",
            "mutation($t: ID!) { deleteGraphConnection(tenantId: $t) }",
            json!({"t": "acme"}),
            global.clone(),
        ),
        (
            "setActionPlan",
            "mutation($i: SetActionPlanInput!) { setActionPlan(input: $i) { status } }",
            json!({"i": {"tenantId": "acme", "actionId": "AdminMFA", "assignedTo": "ops@acme.test",
                          "notes": "Two\nlines", "tags": ["q3", "identity"]}}),
            global.clone(),
        ),
        (
            "clearActionPlan",
            "mutation($t: ID!, $a: ID!) { clearActionPlan(tenantId: $t, actionId: $a) }",
            json!({"t": "acme", "a": "AdminMFA"}),
            global.clone(),
        ),
        (
            "setScoreZones",
            "mutation($t: ID!) { setScoreZones(tenantId: $t, good: 80, fair: 50) { id } }",
            json!({"t": "acme"}),
            global.clone(),
        ),
        (
            "setPartnerApplication",
            "mutation($i: SetPartnerApplicationInput!) { setPartnerApplication(input: $i) { clientId } }",
            json!({"i": {"clientId": "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38", "clientSecret": "secret"}}),
            admin.clone(),
        ),
        (
            "connectDirectories",
            "mutation($i: [ConnectDirectoryInput!]!) { connectDirectories(inputs: $i) { error } }",
            json!({"i": [{"tenantId": "bulk", "name": "Bulk", "directoryId": "0b5d4c3e-2a1f-4e6d-9c8b-7a6f5e4d3c2b", "industry": "Retail"}]}),
            admin.clone(),
        ),
        (
            "setEmergencyAccessAccounts",
            "mutation($t: ID!, $u: [String!]!) { setEmergencyAccessAccounts(tenantId: $t, userIds: $u) { id } }",
            json!({"t": "acme", "u": ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"]}),
            global.clone(),
        ),
        (
            "collectNow",
            "mutation($t: ID!) { collectNow(tenantId: $t) { id } }",
            json!({"t": "acme"}),
            global,
        ),
    ]
}

/// The paths of every string (and object key) in `value`, as JSON pointers.
fn string_paths(value: &Value, at: String, paths: &mut Vec<(String, bool)>) {
    match value {
        Value::String(_) => paths.push((at, false)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_paths(item, format!("{at}/{i}"), paths);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                if at.contains("/facts") {
                    paths.push((format!("{at}/{key}"), true));
                }
                string_paths(item, format!("{at}/{key}"), paths);
            }
        }
        _ => {}
    }
}

/// `variables` with the string (or, for keys, the key) at `path` given `bad` at its end.
fn poisoned(variables: &Value, path: &str, key: bool, bad: char) -> Value {
    let mut copy = variables.clone();
    if key {
        let (parent, name) = path.rsplit_once('/').unwrap();
        let object = copy.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        let value = object.remove(name).unwrap();
        object.insert(format!("{name}{bad}"), value);
    } else {
        let text = copy.pointer_mut(path).unwrap();
        *text = Value::String(format!("{}{bad}", text.as_str().unwrap()));
    }
    copy
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "tenants",
        "improvement_actions",
        "snapshots",
        "action_overrides",
        "scoring_runs",
        "alert_rules",
        "webhook_endpoints",
        "graph_connections",
        "partner_applications",
        "collection_runs",
        "action_plans",
        "action_plan_changes",
    ] {
        counts.push(app.count(table).await);
    }
    counts
}

#[tokio::test]
async fn every_string_input_refuses_nul_and_control_characters_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let covered = mutations();
    let names = app
        .graphql(
            &platform_admin(),
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    for field in names["data"]["__type"]["fields"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        assert!(
            covered.iter().any(|(m, ..)| *m == name),
            "{name} has no case here"
        );
    }
    let before = table_counts(&app).await;
    let mut probes = 0;
    for (name, document, variables, caller) in &covered {
        let mut paths = Vec::new();
        string_paths(variables, String::new(), &mut paths);
        for (path, key) in paths {
            for bad in ['\u{0}', '\u{4}'] {
                let body = app
                    .graphql(caller, document, poisoned(variables, &path, key, bad))
                    .await;
                let field = path.rsplit('/').next().unwrap();
                assert_error(&body, "BAD_USER_INPUT", field);
                assert_error(&body, "BAD_USER_INPUT", &format!("U+{:04X}", bad as u32));
                probes += 1;
                assert!(body["data"].is_null(), "{name} {path}: {body}");
            }
        }
    }
    assert!(probes >= 40, "only {probes} probes");
    assert_eq!(
        table_counts(&app).await,
        before,
        "a refused request wrote something"
    );

    // Literal arguments and query arguments are guarded the same way.
    let reader = token(&[Role::SecurityReader], &["acme"]);
    for (document, field) in [
        ("{ tenant(id: \"ac\\u0000me\") { id } }", "tenant.id"),
        ("{ action(id: \"Admin\\u0004MFA\") { id } }", "action.id"),
        (
            "{ tenants(filter: {industry: \"Fin\\u0000\"}) { edges { node { id } } } }",
            "industry",
        ),
        (
            "{ tenant(id: \"acme\") { overrideHistory(actionId: \"x\\u0000\") { edges { cursor } } } }",
            "actionId",
        ),
    ] {
        let body = app.graphql(&reader, document, json!({})).await;
        assert_error(&body, "BAD_USER_INPUT", field);
    }
}

#[tokio::test]
async fn token_claims_with_control_characters_are_refused() {
    let app = spawn_app().await;
    let minted = securescore::auth::mint::mint_hs256(
        &secrecy::SecretString::from(crate::helpers::SECRET),
        &securescore::auth::mint::TokenRequest {
            subject: "evil\u{0}admin".into(),
            roles: vec![Role::PlatformAdmin],
            tenants: Vec::new(),
            ttl: std::time::Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .unwrap();
    let body = app
        .graphql(&minted, "{ viewer { subject } }", json!({}))
        .await;
    assert_error(&body, "UNAUTHENTICATED", "control characters");
}
