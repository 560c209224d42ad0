//! Connection cursors as an attacker crafts them: taken from another tenant, forged to point
//! anywhere, or garbage. Pages only ever hold the caller's own rows.

use securescore::domain::Role;
use securescore::service::pagination::encode_cursor;
use serde_json::{Value, json};

use crate::helpers::{TestApp, day, error_code, noon, platform_admin, spawn_app, token};

/// The `field` of every node of the connection at `path` in `body`.
fn node_fields(body: &Value, path: &[&str], field: &str) -> Vec<String> {
    let mut connection = &body["data"];
    for key in path {
        connection = &connection[key];
    }
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no connection at {path:?}: {body}"))
        .iter()
        .map(|edge| edge["node"][field].as_str().unwrap().to_owned())
        .collect()
}

async fn set_override(app: &TestApp, tenant: &str, action: &str) {
    let body = app
        .graphql(
            &token(&[Role::SecurityAdmin], &[tenant]),
            "mutation($t: ID!, $a: ID!) { setActionOverride(input: {tenantId: $t, actionId: $a, state: IGNORED}) { state } }",
            json!({"t": tenant, "a": action}),
        )
        .await;
    assert_eq!(
        body["data"]["setActionOverride"]["state"], "IGNORED",
        "{body}"
    );
}

#[tokio::test]
async fn forged_tenant_cursors_only_move_within_reach() {
    let app = spawn_app().await;
    for id in ["a", "b", "c", "d"] {
        app.create_tenant(id, None, 10).await;
    }
    let partner = token(&[Role::SecurityReader], &["a", "d"]);
    let query =
        "query($after: String) { tenants(first: 10, after: $after) { edges { node { id } } } }";
    for (position, expected) in [
        ("", vec!["a", "d"]),
        ("a", vec!["d"]),
        ("b", vec!["d"]),
        ("c", vec!["d"]),
        ("d", vec![]),
    ] {
        let body = app
            .graphql(&partner, query, json!({"after": encode_cursor(&position)}))
            .await;
        assert_eq!(
            node_fields(&body, &["tenants"], "id"),
            expected,
            "after {position:?}: {body}"
        );
    }
}

#[tokio::test]
async fn another_tenants_cursors_page_through_the_callers_own_rows_only() {
    let app = spawn_app().await;
    for tenant in ["mine", "theirs"] {
        app.create_tenant(tenant, None, 10).await;
        for days in [-3, -2, -1] {
            let body = app.ingest(tenant, &noon(days), json!({})).await;
            assert!(body["data"]["ingestSnapshot"]["id"].is_string(), "{body}");
        }
        set_override(&app, tenant, "AdminMFA").await;
        set_override(&app, tenant, "SelfServicePasswordReset").await;
    }
    let snapshots = "query($t: ID!, $after: String) { tenant(id: $t) { snapshots(first: 10, after: $after) { edges { cursor node { id tenantId } } } } }";
    let overrides = "query($t: ID!, $after: String) { tenant(id: $t) { overrideHistory(first: 10, after: $after) { edges { cursor node { tenantId } } } } }";
    let theirs = token(&[Role::SecurityReader], &["theirs"]);
    let their_snapshots = app
        .graphql(&theirs, snapshots, json!({"t": "theirs"}))
        .await;
    let their_overrides = app
        .graphql(&theirs, overrides, json!({"t": "theirs"}))
        .await;
    let their_first_snapshot =
        their_snapshots["data"]["tenant"]["snapshots"]["edges"][0]["cursor"].clone();
    let their_first_override =
        their_overrides["data"]["tenant"]["overrideHistory"]["edges"][0]["cursor"].clone();

    let mine = token(&[Role::SecurityReader], &["mine"]);
    let cases = [
        // Their newest snapshot was stored after all of mine, so all of mine follow it.
        (snapshots, ["tenant", "snapshots"], their_first_snapshot, 3),
        (
            snapshots,
            ["tenant", "snapshots"],
            json!(encode_cursor(&("2100-01-01T00:00:00Z", i64::MAX))),
            3,
        ),
        (
            snapshots,
            ["tenant", "snapshots"],
            json!(encode_cursor(&("1970-01-01T00:00:00Z", 0))),
            0,
        ),
        (
            overrides,
            ["tenant", "overrideHistory"],
            their_first_override,
            2,
        ),
        (
            overrides,
            ["tenant", "overrideHistory"],
            json!(encode_cursor(&i64::MAX)),
            2,
        ),
        (
            overrides,
            ["tenant", "overrideHistory"],
            json!(encode_cursor(&-1)),
            0,
        ),
    ];
    for (query, path, cursor, expected) in cases {
        let body = app
            .graphql(&mine, query, json!({"t": "mine", "after": cursor}))
            .await;
        let owners = node_fields(&body, &path, "tenantId");
        assert_eq!(owners, vec!["mine"; expected], "{cursor}: {body}");
    }
    // A cursor alone never opens another tenant: theirs stays invisible to my token.
    let body = app
        .graphql(&mine, snapshots, json!({"t": "theirs", "after": their_snapshots["data"]["tenant"]["snapshots"]["edges"][0]["cursor"]}))
        .await;
    assert_eq!(body["data"]["tenant"], Value::Null, "{body}");
}

#[tokio::test]
async fn malformed_cursors_are_bad_input_and_return_no_rows() {
    let app = spawn_app().await;
    app.create_tenant("mine", None, 10).await;
    let mine = token(&[Role::SecurityReader], &["mine"]);
    let query = "query($after: String) { tenant(id: \"mine\") { snapshots(after: $after) { edges { node { id } } } } }";
    for cursor in [
        json!("!!not base64!!"),
        json!(encode_cursor(&json!({"tenantId": "theirs"}))),
        json!(encode_cursor(&"2100-01-01T00:00:00Z")),
        json!("W10"),
    ] {
        let body = app.graphql(&mine, query, json!({"after": cursor})).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{cursor}: {body}"
        );
        assert_eq!(body["data"]["tenant"], Value::Null, "{cursor}: {body}");
    }
    let tenants = app
        .graphql(
            &mine,
            "query($after: String) { tenants(after: $after) { edges { node { id } } } }",
            json!({"after": encode_cursor(&42)}),
        )
        .await;
    assert_eq!(error_code(&tenants), Some("BAD_USER_INPUT"), "{tenants}");
}

#[tokio::test]
async fn every_page_of_every_order_lists_each_tenant_once() {
    let app = spawn_app().await;
    // Percentages with long fractions (ratios over 38, 57 and 91 users), ties among them, a
    // change for most, and two tenants without any score.
    let mut expected = Vec::new();
    for n in 0..40 {
        let id = format!("t-{n:02}");
        app.create_tenant(&id, None, 50).await;
        expected.push(id.clone());
        if n >= 38 {
            continue;
        }
        let total = [38, 57, 91][n % 3];
        for (back, registered) in [(-3, n % 7), (0, (n * 5) % total)] {
            let facts = json!({"users": {"total": total, "mfaRegistered": registered}});
            app.ingest(&id, &noon(back), facts).await;
        }
    }
    let scored = app
        .graphql(
            &platform_admin(),
            "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { tenantsScored } }",
            json!({"f": day(-3), "t": day(0)}),
        )
        .await;
    assert!(scored["errors"].is_null(), "{scored}");
    expected.sort();
    for field in ["ID", "NAME", "PERCENTAGE", "PERCENTAGE_CHANGE"] {
        for direction in ["ASC", "DESC"] {
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let body = app
                    .graphql(
                        &platform_admin(),
                        "query($o: TenantOrder!, $a: String) { tenants(first: 7, after: $a, orderBy: $o, changeDays: 3) {
                            edges { cursor node { id } } pageInfo { hasNextPage } } }",
                        json!({"o": {"field": field, "direction": direction}, "a": after}),
                    )
                    .await;
                let page = &body["data"]["tenants"];
                let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
                seen.extend(
                    edges
                        .iter()
                        .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
                );
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = edges
                    .last()
                    .map(|e| e["cursor"].as_str().unwrap().to_owned());
            }
            let listed = seen.len();
            seen.sort();
            assert_eq!(seen, expected, "{field} {direction}: {listed} rows listed");
        }
    }
}
