//! Tenants: creation, changes, listing, and tenancy boundaries.

use securescore::domain::Role;
use serde_json::json;

use crate::helpers::{assert_error, error_code, platform_admin, spawn_app, token};

const CREATE: &str = "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id name industry seatCount createdAt } }";

#[tokio::test]
async fn a_platform_admin_creates_and_updates_a_tenant() {
    let app = spawn_app().await;
    let created = app
        .graphql(
            &platform_admin(),
            CREATE,
            json!({"i": {"id": "acme", "name": " Acme ", "industry": "Finance", "seatCount": 120}}),
        )
        .await;
    assert_eq!(created["data"]["createTenant"]["name"], "Acme", "{created}");
    assert_eq!(created["data"]["createTenant"]["seatCount"], 120);

    let updated = app
        .graphql(
            &platform_admin(),
            "mutation { updateTenant(input: {id: \"acme\", seatCount: 5000, industry: \"\"}) { name industry seatCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        updated["data"]["updateTenant"],
        json!({"name": "Acme", "industry": null, "seatCount": 5000})
    );
}

#[tokio::test]
async fn a_duplicate_tenant_id_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let again = app
        .graphql(
            &platform_admin(),
            CREATE,
            json!({"i": {"id": "acme", "name": "Other", "seatCount": 1}}),
        )
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    assert_eq!(app.count("tenants").await, 1);
}

#[tokio::test]
async fn bad_tenant_input_is_rejected_field_by_field() {
    let app = spawn_app().await;
    for (input, field) in [
        (
            json!({"id": "has space", "name": "x", "seatCount": 1}),
            "tenant id",
        ),
        (json!({"id": "ok", "name": "   ", "seatCount": 1}), "name"),
        (
            json!({"id": "ok", "name": "x", "seatCount": -1}),
            "seatCount",
        ),
        (
            json!({"id": "ok", "name": "x", "industry": "x".repeat(101), "seatCount": 1}),
            "industry",
        ),
    ] {
        let body = app
            .graphql(&platform_admin(), CREATE, json!({"i": input}))
            .await;
        assert_error(&body, "BAD_USER_INPUT", field);
    }
    assert_eq!(app.count("tenants").await, 0);
}

#[tokio::test]
async fn only_platform_admins_manage_tenants() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    for role in [
        Role::GlobalAdmin,
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::Collector,
    ] {
        let body = app
            .graphql(
                &token(&[role], &["acme"]),
                CREATE,
                json!({"i": {"id": "evil", "name": "x", "seatCount": 1}}),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role:?}: {body}");
        let body = app
            .graphql(
                &token(&[role], &["acme"]),
                "mutation { updateTenant(input: {id: \"acme\", name: \"x\"}) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role:?}: {body}");
    }
    assert_eq!(app.count("tenants").await, 1);
}

#[tokio::test]
async fn tenants_lists_only_reachable_tenants_page_by_page() {
    let app = spawn_app().await;
    for id in ["a", "b", "c", "d"] {
        app.create_tenant(id, None, 10).await;
    }
    let partner = token(&[Role::SecurityReader], &["d", "b", "a"]);
    let query = "query($after: String) { tenants(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let first = app.graphql(&partner, query, json!({})).await;
    let ids: Vec<_> = first["data"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("a"), json!("b")]);
    assert_eq!(first["data"]["tenants"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["data"]["tenants"]["pageInfo"]["endCursor"].clone();
    let second = app.graphql(&partner, query, json!({"after": cursor})).await;
    let ids: Vec<_> = second["data"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("d")], "c is not reachable: {second}");
    assert_eq!(second["data"]["tenants"]["pageInfo"]["hasNextPage"], false);

    let everything = app
        .graphql(
            &platform_admin(),
            "{ tenants(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        everything["data"]["tenants"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let too_many = app
        .graphql(
            &platform_admin(),
            "{ tenants(first: 101) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&too_many), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_tenant_outside_reach_answers_like_one_that_does_not_exist() {
    let app = spawn_app().await;
    app.create_tenant("mine", None, 10).await;
    app.create_tenant("theirs", None, 10).await;
    let reader = token(&[Role::GlobalAdmin], &["mine"]);
    let body = app
        .graphql(&reader, "{ mine: tenant(id: \"mine\") { id } theirs: tenant(id: \"theirs\") { id } ghost: tenant(id: \"ghost\") { id } }", json!({}))
        .await;
    assert_eq!(
        body["data"],
        json!({"mine": {"id": "mine"}, "theirs": null, "ghost": null})
    );
    let set = "mutation($t: ID!) { setActionOverride(input: {tenantId: $t, actionId: \"AdminMFA\", state: IGNORED}) { state } }";
    let theirs = app.graphql(&reader, set, json!({"t": "theirs"})).await;
    let ghost = app.graphql(&reader, set, json!({"t": "ghost"})).await;
    assert_eq!(error_code(&theirs), Some("NOT_FOUND"));
    assert_eq!(
        theirs["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("theirs", "X"),
        ghost["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("ghost", "X")
    );
    assert_eq!(app.count("action_overrides").await, 0);
}
