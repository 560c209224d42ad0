//! Snapshot ingestion: validation, idempotency and reading back newest first.

use securescore::domain::Role;
use serde_json::json;

use crate::helpers::{assert_error, day, error_code, noon, spawn_app, token};

const INGEST: &str = "mutation($i: IngestSnapshotInput!) { ingestSnapshot(input: $i) { id tenantId capturedAt facts receivedAt } }";

#[tokio::test]
async fn the_same_idempotency_key_returns_the_first_snapshot_and_stores_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let collector = token(&[Role::Collector], &["acme"]);
    let input = |facts| json!({"i": {"tenantId": "acme", "capturedAt": "2026-01-02T03:04:05.123456789+02:00", "facts": facts, "idempotencyKey": "run-1"}});
    let first = app
        .graphql(
            &collector,
            INGEST,
            input(json!({"sspr": {"enabled": true}})),
        )
        .await;
    let second = app
        .graphql(
            &collector,
            INGEST,
            input(json!({"sspr": {"enabled": false}})),
        )
        .await;
    assert_eq!(
        first["data"]["ingestSnapshot"], second["data"]["ingestSnapshot"],
        "{second}"
    );
    assert_eq!(
        first["data"]["ingestSnapshot"]["capturedAt"],
        "2026-01-02T01:04:05.123456Z"
    );
    assert_eq!(app.count("snapshots").await, 1);
}

#[tokio::test]
async fn bad_snapshots_are_refused_field_by_field_and_store_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let collector = token(&[Role::Collector], &["acme"]);
    let cases = [
        (
            json!({"tenantId": "acme", "capturedAt": noon(0), "facts": [1, 2]}),
            "BAD_USER_INPUT",
            "facts",
        ),
        (
            json!({"tenantId": "acme", "capturedAt": noon(0), "facts": "text"}),
            "BAD_USER_INPUT",
            "facts",
        ),
        (
            json!({"tenantId": "acme", "capturedAt": "yesterday", "facts": {}}),
            "BAD_USER_INPUT",
            // Refused at validation, before execution: the message names the field and type.
            "input.capturedAt\", expected type \"DateTime\"",
        ),
        (
            json!({"tenantId": "acme", "capturedAt": "2999-01-01T00:00:00Z", "facts": {}}),
            "BAD_USER_INPUT",
            "future",
        ),
        (
            json!({"tenantId": "acme", "capturedAt": noon(0), "facts": {"blob": "x".repeat(300_000)}}),
            "BAD_USER_INPUT",
            "facts",
        ),
        (
            json!({"tenantId": "ghost", "capturedAt": noon(0), "facts": {}}),
            "NOT_FOUND",
            "ghost",
        ),
    ];
    for (input, code, words) in cases {
        let body = app.graphql(&collector, INGEST, json!({"i": input})).await;
        assert_error(&body, code, words);
    }
    assert_eq!(app.count("snapshots").await, 0);
}

#[tokio::test]
async fn snapshots_read_newest_capture_first_in_pages() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    for days in [-3, -1, -2] {
        let body = app.ingest("acme", &noon(days), json!({"day": days})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let query = "query($after: String) { tenant(id: \"acme\") { snapshots(first: 2, after: $after) { edges { node { facts } } pageInfo { hasNextPage endCursor } } } }";
    let page = app.graphql(&reader, query, json!({})).await;
    let snapshots = &page["data"]["tenant"]["snapshots"];
    assert_eq!(snapshots["edges"][0]["node"]["facts"], json!({"day": -1}));
    assert_eq!(snapshots["edges"][1]["node"]["facts"], json!({"day": -2}));
    let next = app
        .graphql(
            &reader,
            query,
            json!({"after": snapshots["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(
        next["data"]["tenant"]["snapshots"]["edges"][0]["node"]["facts"],
        json!({"day": -3})
    );
    assert_eq!(
        next["data"]["tenant"]["snapshots"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn only_collectors_and_global_admins_ingest() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let input = json!({"i": {"tenantId": "acme", "capturedAt": noon(0), "facts": {}}});
    for role in [
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::PlatformAdmin,
    ] {
        let body = app
            .graphql(&token(&[role], &["acme"]), INGEST, input.clone())
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role:?}");
    }
    let admin = app
        .graphql(
            &token(&[Role::GlobalAdmin], &["acme"]),
            INGEST,
            input.clone(),
        )
        .await;
    assert!(admin["errors"].is_null(), "{admin}");
    let outsider = app
        .graphql(&token(&[Role::Collector], &["other"]), INGEST, input)
        .await;
    assert_eq!(error_code(&outsider), Some("NOT_FOUND"));
    assert_eq!(app.count("snapshots").await, 1);
}

#[tokio::test]
async fn facts_equal_to_the_previous_snapshots_are_stored_once_and_read_back_whole() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    app.create_tenant("globex", None, 10).await;
    let same = json!({"users": {"total": 10, "mfaRegistered": 7}, "sspr": {"enabled": true}});
    // Day -3 holds the facts; -2 repeats them (keys in another order); -1 changes them; today
    // goes back to the first facts, which the newest snapshot (-1) does not hold: stored again.
    // Another tenant's equal facts are its own.
    let reordered = json!({"sspr": {"enabled": true}, "users": {"mfaRegistered": 7, "total": 10}});
    let changed = json!({"users": {"total": 10, "mfaRegistered": 9}, "sspr": {"enabled": true}});
    for (tenant, day, facts) in [
        ("acme", -3, &same),
        ("acme", -2, &reordered),
        ("acme", -1, &changed),
        ("acme", 0, &same),
        ("globex", 0, &same),
    ] {
        let body = app.ingest(tenant, &noon(day), facts.clone()).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(app.count("snapshots").await, 5);
    assert_eq!(
        app.count("snapshots WHERE facts_of IS NOT NULL").await,
        1,
        "only day -2 shares"
    );
    assert_eq!(
        app.count("snapshots WHERE facts_of IS NOT NULL AND CAST(facts AS TEXT) = '{}'")
            .await,
        1,
        "the shared copy is not stored"
    );

    // Every read gives each snapshot its whole facts: the page, the snapshot by id, the scores.
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let page = app
        .graphql(
            &reader,
            "{ tenant(id: \"acme\") { snapshots(first: 10) { edges { node { id facts } } } } }",
            json!({}),
        )
        .await;
    let facts: Vec<&serde_json::Value> = page["data"]["tenant"]["snapshots"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"]["facts"])
        .collect();
    assert_eq!(facts, [&same, &changed, &same, &same], "{page}");
    for back in [-3, -2, -1] {
        let recomputed = app.recompute("acme", &day(back), &day(back)).await;
        assert!(recomputed["errors"].is_null(), "{recomputed}");
    }
    let history = app
        .graphql(
            &reader,
            "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) { date score snapshotId } } }",
            json!({"f": day(-3), "t": day(-1)}),
        )
        .await;
    let days = history["data"]["tenant"]["scoreHistory"]
        .as_array()
        .unwrap();
    assert_eq!(days.len(), 3, "{history}");
    let ids: Vec<&serde_json::Value> = page["data"]["tenant"]["snapshots"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"]["id"])
        .collect();
    // Newest first: today, -1, -2, -3.
    assert_eq!(
        days[1]["snapshotId"], *ids[2],
        "day -2 is scored from its own snapshot"
    );
    assert_eq!(
        days[0]["score"], days[1]["score"],
        "the shared facts score alike"
    );
    assert_ne!(days[1]["score"], days[2]["score"], "{history}");
}
