//! The role matrix of docs/security.md, cell by cell: each role against each operation.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{day, error_code, noon, platform_admin, spawn_app, token};

/// (operation, GraphQL document, table written by it, or "" for reads).
const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "read scores",
        "{ tenant(id: \"acme\") { score { score } } }",
        "",
    ),
    (
        "read snapshots",
        "{ tenant(id: \"acme\") { snapshots { edges { node { id } } } } }",
        "",
    ),
    (
        "read overrides",
        "{ tenant(id: \"acme\") { overrides { state } } }",
        "",
    ),
    (
        "read score history",
        "query($d: Date!) { tenant(id: \"acme\") { scoreHistory(from: $d, to: $d) { score } } }",
        "",
    ),
    (
        "read diff",
        "query($d: Date!) { tenant(id: \"acme\") { scoreDiff(from: $d, to: $d) { scoreDelta } } }",
        "",
    ),
    (
        "read comparison",
        "{ tenant(id: \"acme\") { comparison { basis } } }",
        "",
    ),
    (
        "read improvement actions",
        "{ tenant(id: \"acme\") { improvementActions { score } } }",
        "",
    ),
    (
        "read override history",
        "{ tenant(id: \"acme\") { overrideHistory { edges { node { state } } } } }",
        "",
    ),
    (
        "see tenant",
        "{ tenant(id: \"acme\") { id name industry seatCount createdAt } }",
        "",
    ),
    ("list tenants", "{ tenants { edges { node { id } } } }", ""),
    ("viewer", "{ viewer { subject roles tenantIds } }", ""),
    (
        "list own runs",
        "{ scoringRuns(status: SUCCEEDED) { edges { node { id status } } } }",
        "",
    ),
    ("see a run", "{ scoringRun(id: \"1\") { id } }", ""),
    ("read catalog", "{ actions { id } }", ""),
    ("read catalog frameworks", "{ frameworks }", ""),
    (
        "read catalog entry",
        "{ action(id: \"AdminMFA\") { id } }",
        "",
    ),
    (
        "set override",
        "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"AdminMFA\", state: PLANNED}) { state } }",
        "action_overrides",
    ),
    (
        "set overrides in bulk",
        "mutation { setActionOverrides(input: {tenantIds: [\"acme\"], actionIds: [\"AdminMFA\", \"SelfServicePasswordReset\"], state: IGNORED}) { state } }",
        "action_overrides",
    ),
    (
        "set plan",
        "mutation { setActionPlan(input: {tenantId: \"acme\", actionId: \"AdminMFA\", assignedTo: \"ops@acme.test\"}) { status } }",
        "action_plans",
    ),
    (
        "clear plan",
        "mutation { clearActionPlan(tenantId: \"acme\", actionId: \"AdminMFA\") }",
        "action_plan_changes",
    ),
    (
        "set score zones",
        "mutation { setScoreZones(tenantId: \"acme\", good: 80, fair: 50) { zones { good fair } } }",
        "",
    ),
    (
        "read plans",
        "{ tenant(id: \"acme\") { plans { status } planHistory { edges { node { cleared } } } zones { good } } }",
        "",
    ),
    (
        "read forecast and trends",
        "query($ahead: Date!, $d: Date!) { tenant(id: \"acme\") { forecast(to: $ahead) { score } trends(from: $d, to: $d) { pointsAchieved } } }",
        "",
    ),
    (
        "set goal",
        "mutation { setTenantGoal(tenantId: \"acme\", percentage: 80) { goal } }",
        "",
    ),
    (
        "read goal",
        "{ tenant(id: \"acme\") { goal percentageChange } }",
        "",
    ),
    (
        "read portfolio",
        "{ portfolio { tenantCount scoredTenantCount } }",
        "",
    ),
    (
        "recompute",
        "mutation($d: Date!) { recomputeScores(input: {tenantId: \"acme\", from: $d, to: $d}) { daysScored } }",
        "daily_scores",
    ),
    (
        "recompute reachable",
        "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { daysScored } }",
        "daily_scores",
    ),
    (
        "ingest",
        "mutation($t: DateTime!) { ingestSnapshot(input: {tenantId: \"acme\", capturedAt: $t, facts: {}}) { id } }",
        "snapshots",
    ),
    (
        "create tenant",
        "mutation { createTenant(input: {id: \"new\", name: \"New\", seatCount: 1}) { id } }",
        "tenants",
    ),
    (
        "update tenant",
        "mutation { updateTenant(input: {id: \"acme\", name: \"Renamed\"}) { name } }",
        "",
    ),
    (
        "read alert rules",
        "{ tenant(id: \"acme\") { alertRules { id kind threshold } } }",
        "",
    ),
    (
        "read alerts",
        "{ tenant(id: \"acme\") { alerts(unacknowledgedOnly: false) { edges { node { id rule { id } regressions { scoreDelta } } } } } }",
        "",
    ),
    (
        "read directory changes",
        "{ tenant(id: \"acme\") { directoryChanges(from: \"2020-01-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\") { edges { node { id targets { type } } } } } }",
        "",
    ),
    (
        "read webhook endpoints",
        "{ tenant(id: \"acme\") { webhookEndpoints { id url deliveries { edges { node { status attemptHistory { error } } } } } } }",
        "",
    ),
    (
        "create alert rule",
        "mutation { createAlertRule(input: {tenantId: \"acme\", kind: DROP, threshold: 5, windowDays: 7}) { id } }",
        "alert_rules",
    ),
    (
        "update alert rule",
        "mutation($rule: ID!) { updateAlertRule(input: {id: $rule, enabled: false}) { enabled } }",
        "",
    ),
    (
        "delete alert rule",
        "mutation($rule: ID!) { deleteAlertRule(id: $rule) }",
        "",
    ),
    (
        "acknowledge alert",
        "mutation($alert: ID!) { acknowledgeAlert(id: $alert) { acknowledgedAt } }",
        "",
    ),
    (
        "create webhook endpoint",
        "mutation { createWebhookEndpoint(input: {tenantId: \"acme\", url: \"http://127.0.0.1:9/hook\"}) { secret endpoint { id } } }",
        "webhook_endpoints",
    ),
    (
        "update webhook endpoint",
        "mutation($endpoint: ID!) { updateWebhookEndpoint(input: {id: $endpoint, enabled: false}) { enabled } }",
        "",
    ),
    (
        "delete webhook endpoint",
        "mutation($endpoint: ID!) { deleteWebhookEndpoint(id: $endpoint) }",
        "",
    ),
    (
        "read directory connection",
        "{ tenant(id: \"acme\") { graphConnection { status } collectionRuns { edges { node { id endpoints { name } snapshot { id } } } } } }",
        "",
    ),
    (
        "connect directory",
        "mutation { setGraphConnection(input: {tenantId: \"acme\", directoryId: \"8f2c5a1e-4b7d-4c3a-9e61-2d5f0b8a7c44\", clientId: \"3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38\", clientSecret: \"s\"}) { status } }",
        "",
    ),
    (
        "collect now",
        "mutation { collectNow(tenantId: \"acme\") { status } }",
        "",
    ),
    (
        "name emergency access accounts",
        "mutation { setEmergencyAccessAccounts(tenantId: \"acme\", userIds: [\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"]) { id } }",
        "",
    ),
    (
        "read emergency access accounts",
        "{ tenant(id: \"acme\") { emergencyAccessAccounts } }",
        "",
    ),
    (
        "delete directory connection",
        "mutation { deleteGraphConnection(tenantId: \"acme\") }",
        "graph_connections",
    ),
    (
        "see partner application",
        "{ partnerApplication { clientId } }",
        "",
    ),
    (
        "set partner application",
        "mutation { setPartnerApplication(input: {clientId: \"3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38\", clientSecret: \"s\"}) { clientId } }",
        "partner_applications",
    ),
    (
        "connect directories in bulk",
        "mutation { connectDirectories(inputs: [{tenantId: \"bulk\", directoryId: \"5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c\"}]) { error } }",
        "graph_connections",
    ),
    (
        "change catalog",
        "mutation { upsertAction(input: {id: \"X\", title: \"X\", category: DATA, maxScore: 1, rule: {kind: BOOLEAN, fact: \"x\"}}) { id } }",
        "improvement_actions",
    ),
];

/// Whether `role` may perform the operation, straight from docs/security.md's table.
fn allowed(role: Role, operation: &str) -> bool {
    use Role::*;
    match operation {
        "read catalog"
        | "read catalog frameworks"
        | "read catalog entry"
        | "see tenant"
        | "list tenants"
        | "viewer"
        | "list own runs"
        | "see a run" => true,
        read if read.starts_with("read ") => matches!(
            role,
            GlobalAdmin | SecurityAdmin | SecurityReader | PlatformAdmin
        ),
        "set override"
        | "set overrides in bulk"
        | "set goal"
        | "set plan"
        | "clear plan"
        | "set score zones"
        | "create alert rule"
        | "update alert rule"
        | "delete alert rule"
        | "acknowledge alert" => {
            matches!(role, GlobalAdmin | SecurityAdmin)
        }
        "create webhook endpoint" | "update webhook endpoint" | "delete webhook endpoint" => {
            role == GlobalAdmin
        }
        "connect directory" | "delete directory connection" | "name emergency access accounts" => {
            matches!(role, GlobalAdmin | PlatformAdmin)
        }
        "collect now" => matches!(role, GlobalAdmin | SecurityAdmin | PlatformAdmin),
        "recompute" | "recompute reachable" => {
            matches!(role, GlobalAdmin | SecurityAdmin | PlatformAdmin)
        }
        "ingest" => matches!(role, GlobalAdmin | Collector),
        _ => role == PlatformAdmin,
    }
}

#[tokio::test]
async fn every_role_can_do_exactly_what_the_matrix_says() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    // Fires for every day: 0 % is under 100.
    created_id(&app, &admin, "mutation { createAlertRule(input: {tenantId: \"acme\", kind: BELOW_PERCENTAGE, threshold: 100}) { id } }").await;
    app.ingest("acme", &noon(0), json!({})).await;
    app.recompute("acme", &day(0), &day(0)).await;
    let alerts = app
        .graphql(
            &admin,
            "{ tenant(id: \"acme\") { alerts { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    let alert = alerts["data"]["tenant"]["alerts"]["edges"][0]["node"]["id"].clone();
    assert!(alert.is_string(), "{alerts}");
    for &role in Role::ALL {
        let tenants: &[&str] = if role == Role::PlatformAdmin {
            &[]
        } else {
            &["acme"]
        };
        let caller = token(&[role], tenants);
        // A rule and an endpoint of the tenant's own for each role to change and delete.
        let rule = created_id(
            &app,
            &admin,
            "mutation { createAlertRule(input: {tenantId: \"acme\", kind: REGRESSION}) { id } }",
        )
        .await;
        let endpoint = created_id(&app, &admin, "mutation { createWebhookEndpoint(input: {tenantId: \"acme\", url: \"http://127.0.0.1:9/fixture\"}) { endpoint { id } } }").await;
        // A connection of the tenant's own to collect and delete.
        let connected = app.graphql(&admin, "mutation { setGraphConnection(input: {tenantId: \"acme\", directoryId: \"8f2c5a1e-4b7d-4c3a-9e61-2d5f0b8a7c44\", clientId: \"3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38\", clientSecret: \"s\"}) { status } }", json!({})).await;
        assert!(connected["errors"].is_null(), "{connected}");
        let variables = json!({"d": day(0), "t": noon(0), "rule": rule, "endpoint": endpoint, "alert": alert, "ahead": day(30)});
        for &(operation, document, table) in OPERATIONS {
            let before = if table.is_empty() {
                0
            } else {
                app.count(table).await
            };
            let body: Value = app.graphql(&caller, document, variables.clone()).await;
            if allowed(role, operation) {
                assert!(body["errors"].is_null(), "{role:?} may {operation}: {body}");
            } else {
                assert_eq!(
                    error_code(&body),
                    Some("FORBIDDEN"),
                    "{role:?} may not {operation}: {body}"
                );
                if !table.is_empty() {
                    assert_eq!(
                        app.count(table).await,
                        before,
                        "{role:?} {operation} changed {table}"
                    );
                }
            }
        }
    }
}

/// Runs a creating mutation and answers the id it created, wherever the answer holds it.
async fn created_id(app: &crate::helpers::TestApp, caller: &str, mutation: &str) -> Value {
    let body = app.graphql(caller, mutation, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let created = body["data"].as_object().unwrap().values().next().unwrap();
    let id = created
        .get("id")
        .or_else(|| created.get("endpoint").and_then(|e| e.get("id")))
        .cloned()
        .unwrap();
    assert!(id.is_string(), "{body}");
    id
}

#[tokio::test]
async fn no_role_reaches_another_tenants_data_through_any_entry_point() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    app.create_tenant("beta", None, 10).await;
    app.create_tenant("victim", None, 10).await;
    app.ingest("victim", &noon(0), json!({"secret": true}))
        .await;
    app.recompute("victim", &day(0), &day(0)).await;
    let variables = json!({"d": day(0), "t": noon(0), "ahead": day(30)});
    for &role in &[
        Role::GlobalAdmin,
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::Collector,
    ] {
        // A partner token: `tid` acme plus `tenants` beta, never victim.
        let caller = token(&[role], &["acme", "beta"]);
        for &(operation, document, table) in
            OPERATIONS.iter().filter(|(_, doc, _)| doc.contains("acme"))
        {
            let aimed = document.replace("acme", "victim");
            let before = if table.is_empty() {
                0
            } else {
                app.count(table).await
            };
            let body = app.graphql(&caller, &aimed, variables.clone()).await;
            let refused = body["data"]["tenant"].is_null()
                || matches!(error_code(&body), Some("NOT_FOUND" | "FORBIDDEN"));
            assert!(
                refused && !body.to_string().contains("\"secret\""),
                "{role:?} {operation} on victim: {body}"
            );
            // Existence cannot be probed: the answer is the one for a tenant that never existed.
            let ghost = app
                .graphql(
                    &caller,
                    &document.replace("acme", "ghost"),
                    variables.clone(),
                )
                .await;
            assert_eq!(
                body.to_string().replace("victim", "X"),
                ghost.to_string().replace("ghost", "X"),
                "{role:?} {operation}: victim and a missing tenant answer differently"
            );
            if !table.is_empty() {
                assert_eq!(
                    app.count(table).await,
                    before,
                    "{role:?} {operation} changed {table}"
                );
            }
        }
    }
    // Recomputing "everything within reach" leaves the victim's stored day untouched.
    let computed_at = "{ tenant(id: \"victim\") { score { computedAt } } }";
    let before = app.graphql(&platform_admin(), computed_at, json!({})).await;
    assert!(
        before["data"]["tenant"]["score"]["computedAt"].is_string(),
        "{before}"
    );
    for role in [Role::GlobalAdmin, Role::SecurityAdmin] {
        let body = app
            .graphql(
                &token(&[role], &["acme"]),
                "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { tenantsScored } }",
                json!({"d": day(0)}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let after = app.graphql(&platform_admin(), computed_at, json!({})).await;
    assert_eq!(before, after);
}

/// The fields of `type_name`, by introspection.
async fn fields_of(app: &crate::helpers::TestApp, type_name: &str) -> Vec<String> {
    let body = app
        .graphql(
            &platform_admin(),
            "query($t: String!) { __type(name: $t) { fields { name } } }",
            json!({"t": type_name}),
        )
        .await;
    body["data"]["__type"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_entry_point_of_the_schema_is_in_the_matrix() {
    let app = spawn_app().await;
    let selected: Vec<&str> = OPERATIONS
        .iter()
        .flat_map(|(_, document, _)| {
            document.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        })
        .collect();
    for type_name in ["Query", "Mutation", "Tenant"] {
        let fields = fields_of(&app, type_name).await;
        assert!(!fields.is_empty(), "{type_name} has no fields");
        for field in fields {
            assert!(
                selected.contains(&field.as_str()),
                "{type_name}.{field} is not tested against every role"
            );
        }
    }
}
