//! Closed days and the catalog from memory: a closed day once read is served from the
//! replica's cache, and a recomputation on any replica evicts it; a catalog change on any
//! replica evicts the catalog every replica holds.

use sea_orm::ConnectionTrait;
use securescore::domain::Role;
use serde_json::{Value, json};

use std::time::Duration;

use crate::helpers::{
    TEST_DATABASE_ENV, TestApp, day, eventually, noon, partial_mfa_facts, spawn_app,
    spawn_app_with, token,
};

const TREND: &str =
    "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) {
    date score final actionScores { score } } } }";

/// The closed days of `trend` (today is rescored live in the background and may come later).
fn closed(trend: &Value) -> Vec<Value> {
    trend
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["final"] == true)
        .cloned()
        .collect()
}

async fn trend(app: &TestApp) -> Value {
    let body = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            TREND,
            json!({"f": day(-3), "t": day(0)}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["scoreHistory"].clone()
}

/// A snapshot captured late on a closed day that completes MFA registration (+2.25).
async fn improve_closed_day(app: &TestApp) {
    let mut better = partial_mfa_facts();
    better["users"]["mfaRegistered"] = json!(120);
    let late = format!("{}T23:00:00Z", day(-2));
    app.ingest("acme", &late, better).await;
}

/// Sets acme's score two days ago to 1 in the database, with no event at all.
async fn change_a_closed_day_behind_the_servers_back(app: &TestApp) {
    app.db
        .execute_unprepared(&format!(
            "UPDATE daily_scores SET score = 1 WHERE tenant_id = 'acme' AND date = '{}'",
            day(-2)
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_closed_day_once_read_comes_from_memory_until_a_recompute_evicts_it() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-3), partial_mfa_facts()).await;
    app.recompute("acme", &day(-3), &day(-1)).await;
    let first = trend(&app).await;
    assert_eq!(first[1]["score"], 30.75);
    assert_eq!(first[1]["final"], true);

    // Behind the server's back the stored closed day changes: the cache still answers.
    change_a_closed_day_behind_the_servers_back(&app).await;
    let cached = trend(&app).await;
    assert_eq!(
        closed(&cached),
        closed(&first),
        "closed days served from memory"
    );
    assert_eq!(closed(&first).len(), 3);

    // A recomputation through the API evicts the days it writes.
    improve_closed_day(&app).await;
    let body = app.recompute("acme", &day(-2), &day(-2)).await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 1, "{body}");
    let after = trend(&app).await;
    assert_eq!(after[1]["score"], 33.0, "{after}");
    let sum: f64 = after[1]["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["score"].as_f64().unwrap())
        .sum();
    assert_eq!(
        sum, 33.0,
        "the new version's action rows, not cached old ones"
    );
    assert_eq!(after[0], first[0], "other days unchanged");
}

/// Two replicas on one PostgreSQL database; none on SQLite, where one process serves.
async fn two_replicas() -> Option<(TestApp, TestApp)> {
    if !std::env::var(TEST_DATABASE_ENV).is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!("evictions cross replicas only on PostgreSQL; on SQLite one process serves");
        return None;
    }
    let first = spawn_app().await;
    let second = first.replica(|_| {}).await;
    Some((first, second))
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn a_recompute_on_one_replica_evicts_the_day_from_the_others() {
    let Some((first, second)) = two_replicas().await else {
        return;
    };
    first.create_tenant("acme", None, 120).await;
    first.ingest("acme", &noon(-3), partial_mfa_facts()).await;
    first.recompute("acme", &day(-3), &day(-1)).await;
    assert_eq!(
        trend(&second).await[1]["score"],
        30.75,
        "read, so cached, on the second"
    );

    improve_closed_day(&first).await;
    first.recompute("acme", &day(-2), &day(-2)).await;
    // The eviction went out with the write's commit, before the recompute answered.
    assert_eq!(
        trend(&second).await[1]["score"],
        33.0,
        "the second replica serves the new day at once"
    );
}

#[tokio::test]
async fn a_closed_day_changed_without_any_event_is_read_again_after_the_ttl() {
    let ttl = Duration::from_secs(1);
    let app = spawn_app_with(|config| config.scoring.score_cache_ttl = ttl).await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-3), partial_mfa_facts()).await;
    app.recompute("acme", &day(-3), &day(-1)).await;
    assert_eq!(trend(&app).await[1]["score"], 30.75, "read, so cached");
    // Behind the server's back, and no event at all.
    change_a_closed_day_behind_the_servers_back(&app).await;
    // (That the day is served from memory until then is the test above's, with the default
    // five minutes.)
    eventually("the changed day is served", 10 * ttl, || async {
        (trend(&app).await[1]["score"] == 1.0).then_some(())
    })
    .await;
}

/// The titles of acme's improvement actions yesterday, as `app` serves them.
async fn action_titles(app: &TestApp) -> Vec<Value> {
    let body = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            "query($d: Date!) { tenant(id: \"acme\") { improvementActions(date: $d, includeCompleted: true) { action { id title } } } }",
            json!({"d": day(-1)}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"]["title"].clone())
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn a_catalog_change_on_one_replica_reaches_the_catalog_the_others_hold() {
    let Some((first, second)) = two_replicas().await else {
        return;
    };
    first.create_tenant("acme", None, 120).await;
    first.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    first.recompute("acme", &day(-1), &day(-1)).await;
    let before = action_titles(&second).await;
    assert!(!before.contains(&json!("Renamed on the first replica")));
    // Read again: the second replica now holds the catalog.
    assert_eq!(action_titles(&second).await, before);

    let renamed = first
        .graphql(
            &crate::helpers::platform_admin(),
            "mutation { upsertAction(input: {id: \"AdminMFA\", title: \"Renamed on the first replica\", category: IDENTITY, maxScore: 10, rule: {kind: RATIO, numerator: \"admins.mfaProtected\", denominator: \"admins.total\"}}) { id } }",
            json!({}),
        )
        .await;
    assert!(renamed["errors"].is_null(), "{renamed}");
    // The writer's own replica at once; the other when the notification arrives (far sooner
    // than the five-minute TTL that would otherwise end its copy).
    assert!(
        action_titles(&first)
            .await
            .contains(&json!("Renamed on the first replica"))
    );
    eventually(
        "the second replica serves the new title",
        Duration::from_secs(5),
        || async {
            action_titles(&second)
                .await
                .contains(&json!("Renamed on the first replica"))
                .then_some(())
        },
    )
    .await;
}

/// The ALL_TENANTS group's size on `date` as `app` serves it to a reader of acme.
async fn all_tenants_count(app: &TestApp, date: &str) -> Value {
    let body = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            "query($d: Date!) { tenant(id: \"acme\") { comparison(date: $d) { basis tenantCount } } }",
            json!({"d": date}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["basis"] == "ALL_TENANTS")
        .map(|c| c["tenantCount"].clone())
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn a_comparison_refresh_on_one_replica_reaches_the_averages_the_others_hold() {
    let Some((first, second)) = two_replicas().await else {
        return;
    };
    for tenant in ["acme", "beta"] {
        first.create_tenant(tenant, None, 120).await;
        first.ingest(tenant, &noon(-2), partial_mfa_facts()).await;
    }
    first.recompute("acme", &day(-1), &day(-1)).await;
    // Read twice: the second replica now holds yesterday's averages.
    let before = all_tenants_count(&second, &day(-1)).await;
    assert_eq!(all_tenants_count(&second, &day(-1)).await, before);

    let everyone = first
        .graphql(
            &crate::helpers::platform_admin(),
            "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { tenantsScored } }",
            json!({"d": day(-1)}),
        )
        .await;
    assert!(everyone["errors"].is_null(), "{everyone}");
    assert_eq!(before, 1, "only acme was scored at first");
    eventually(
        "the second replica serves the refreshed group",
        Duration::from_secs(5),
        || async { (all_tenants_count(&second, &day(-1)).await == 2).then_some(()) },
    )
    .await;
}
