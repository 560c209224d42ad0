//! The role matrix of DESIGN.md, cell by cell: each role against each operation.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{day, error_code, noon, spawn_app, token};

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
    ("read catalog", "{ actions { id } }", ""),
    (
        "set override",
        "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"AdminMFA\", state: PLANNED}) { state } }",
        "action_overrides",
    ),
    (
        "recompute",
        "mutation($d: Date!) { recomputeScores(input: {tenantId: \"acme\", from: $d, to: $d}) { daysScored } }",
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
        "change catalog",
        "mutation { upsertAction(input: {id: \"X\", title: \"X\", category: DATA, maxScore: 1, rule: {kind: BOOLEAN, fact: \"x\"}}) { id } }",
        "improvement_actions",
    ),
];

/// Whether `role` may perform the operation, straight from DESIGN.md's table.
fn allowed(role: Role, operation: &str) -> bool {
    use Role::*;
    match operation {
        "read scores" | "read snapshots" | "read overrides" => matches!(
            role,
            GlobalAdmin | SecurityAdmin | SecurityReader | PlatformAdmin
        ),
        "read catalog" => true,
        "set override" => matches!(role, GlobalAdmin | SecurityAdmin),
        "recompute" => matches!(role, GlobalAdmin | SecurityAdmin | PlatformAdmin),
        "ingest" => matches!(role, GlobalAdmin | Collector),
        _ => role == PlatformAdmin,
    }
}

#[tokio::test]
async fn every_role_can_do_exactly_what_the_matrix_says() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    app.ingest("acme", &noon(0), json!({})).await;
    let variables = json!({"d": day(0), "t": noon(0)});
    for &role in Role::ALL {
        let tenants: &[&str] = if role == Role::PlatformAdmin {
            &[]
        } else {
            &["acme"]
        };
        let caller = token(&[role], tenants);
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

#[tokio::test]
async fn no_role_reaches_another_tenants_data_through_any_entry_point() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    app.create_tenant("victim", None, 10).await;
    app.ingest("victim", &noon(0), json!({"secret": true}))
        .await;
    app.recompute("victim", &day(0), &day(0)).await;
    let variables = json!({"d": day(0), "t": noon(0)});
    for &role in &[
        Role::GlobalAdmin,
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::Collector,
    ] {
        let caller = token(&[role], &["acme"]);
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
