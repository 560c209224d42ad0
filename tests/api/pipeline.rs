//! The scoring pipeline over HTTP: today follows every change live, closed days stay closed,
//! missed closes are caught up, failing tenants fail alone, runs outlast the request, coverage,
//! and comparison averages that never single out a hidden tenant.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, day, eventually, noon, partial_mfa_facts, platform_admin, spawn_app, spawn_app_with,
    token,
};

const SCORE: &str = "query($id: ID!, $d: Date) { tenant(id: $id) { score(date: $d) {
    date score maxScore final noDataMaxScore coverage computedAt } } }";

/// A tenant's score on `date` as its reader sees it (null when none).
async fn score(app: &TestApp, tenant: &str, date: &str) -> Value {
    let body = app
        .graphql(
            &token(&[Role::SecurityReader], &[tenant]),
            SCORE,
            json!({"id": tenant, "d": date}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["score"].clone()
}

/// Polls `tenant`'s score on `date` until `done` holds (at most 15 s).
async fn wait_for_score(
    app: &TestApp,
    tenant: &str,
    date: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    eventually("the score got there", Duration::from_secs(15), || async {
        let current = score(app, tenant, date).await;
        done(&current).then_some(current)
    })
    .await
}

/// Drains the scoring jobs, then reads the run as a PLATFORM_ADMIN: it has finished.
async fn finished_run(app: &TestApp, id: &str) -> Value {
    app.run_pending_jobs().await;
    let body = app
        .graphql(
            &platform_admin(),
            "query($id: ID!) { scoringRun(id: $id) { id kind status from to tenantDaysPlanned tenantDaysDone tenantDaysFailed finishedAt } }",
            json!({"id": id}),
        )
        .await;
    let run = body["data"]["scoringRun"].clone();
    assert!(!run["finishedAt"].is_null(), "run {id} finished: {body}");
    run
}

#[tokio::test]
async fn todays_score_follows_a_snapshot_an_override_and_a_catalog_change_without_recompute() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    let today = day(0);
    let first = wait_for_score(&app, "acme", &today, |s| !s.is_null()).await;
    assert_eq!(
        (&first["score"], &first["maxScore"], &first["final"]),
        (&json!(30.75), &json!(48.0), &json!(false))
    );

    let admin = token(&[Role::SecurityAdmin], &["acme"]);
    let body = app
        .graphql(&admin, "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"RestrictUserConsent\", state: THIRD_PARTY}) { state } }", json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    wait_for_score(&app, "acme", &today, |s| s["score"] == 34.75).await;

    // FewGlobalAdmins (3 admins, at most 4: completed) goes from 1 point to 3.
    let body = app
        .graphql(&platform_admin(), "mutation { upsertAction(input: {id: \"FewGlobalAdmins\", title: \"Keep few global admins\", category: IDENTITY, maxScore: 3, rule: {kind: RANGE, fact: \"roles.globalAdmins\", max: 4}}) { id } }", json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let last = wait_for_score(&app, "acme", &today, |s| s["maxScore"] == 50.0).await;
    assert_eq!(last["score"], 36.75);
    assert_eq!(app.count("scoring_runs").await, 0, "no run was needed");
}

#[tokio::test]
async fn a_late_snapshot_leaves_a_closed_day_unchanged_until_recompute() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    let closed = app.recompute("acme", &day(-1), &day(-1)).await;
    assert_eq!(
        closed["data"]["recomputeScores"]["daysScored"], 1,
        "{closed}"
    );
    let before = score(&app, "acme", &day(-1)).await;
    assert_eq!(
        (&before["score"], &before["final"]),
        (&json!(30.75), &json!(true))
    );

    // Captured late on the closed day: full MFA registration (+2.25).
    let mut better = partial_mfa_facts();
    better["users"]["mfaRegistered"] = json!(120);
    let late = (chrono::Utc::now().date_naive() - chrono::Duration::days(1))
        .and_hms_opt(23, 30, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339();
    app.ingest("acme", &late, better).await;
    // Today follows the newest snapshot live; the closed day does not move.
    wait_for_score(&app, "acme", &day(0), |s| s["score"] == 33.0).await;
    assert_eq!(score(&app, "acme", &day(-1)).await, before);

    app.recompute("acme", &day(-1), &day(-1)).await;
    let after = score(&app, "acme", &day(-1)).await;
    assert_eq!(
        (&after["score"], &after["final"]),
        (&json!(33.0), &json!(true))
    );
}

#[tokio::test]
async fn a_server_started_after_missing_two_closes_fills_both_days_by_itself() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-4), partial_mfa_facts()).await;
    assert_eq!(score(&app, "acme", &day(-1)).await, Value::Null);
    // A replica that plans closes: midnight scoring time, two days of catch-up.
    let replica = app
        .replica(|config| {
            config.scoring.run_scheduler = true;
            config.scoring.scoring_time = chrono::NaiveTime::MIN;
            config.scoring.catch_up_days = 2;
        })
        .await;
    for back in [-2, -1] {
        let closed = wait_for_score(&replica, "acme", &day(back), |s| !s.is_null()).await;
        assert_eq!(
            (&closed["score"], &closed["final"]),
            (&json!(30.75), &json!(true))
        );
    }
    // Outside the catch-up window nothing was closed.
    assert_eq!(score(&app, "acme", &day(-3)).await, Value::Null);
    let closes = eventually("both closes succeeded", Duration::from_secs(15), || async {
        let runs = app
            .graphql(
                &platform_admin(),
                "{ scoringRuns { edges { node { kind from to status tenantDaysDone } } } }",
                json!({}),
            )
            .await;
        let mut closes: Vec<Value> = runs["data"]["scoringRuns"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        closes.sort_by_key(|run| run["from"].as_str().unwrap_or_default().to_owned());
        let settled = closes.len() == 2 && closes.iter().all(|run| run["status"] == "SUCCEEDED");
        settled.then_some(closes)
    })
    .await;
    assert_eq!(
        closes,
        vec![
            json!({"kind": "DAILY", "from": day(-2), "to": day(-2), "status": "SUCCEEDED", "tenantDaysDone": 1}),
            json!({"kind": "DAILY", "from": day(-1), "to": day(-1), "status": "SUCCEEDED", "tenantDaysDone": 1}),
        ]
    );
}

/// A trigger that refuses every row of tenant `broken`, on either database.
async fn refuse_rows_of_broken(app: &TestApp) {
    let statements: &[&str] = if app.database_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_broken() RETURNS trigger AS $$ BEGIN \
             IF NEW.tenant_id = 'broken' THEN RAISE EXCEPTION 'refused on purpose'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_broken BEFORE INSERT OR UPDATE ON daily_scores \
             FOR EACH ROW EXECUTE FUNCTION refuse_broken()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_broken BEFORE INSERT ON daily_scores \
             WHEN NEW.tenant_id = 'broken' BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END",
        ]
    };
    for statement in statements {
        app.db.execute_unprepared(statement).await.unwrap();
    }
}

#[tokio::test]
async fn a_tenant_whose_rows_cannot_be_written_fails_alone_and_the_rest_is_stored() {
    let app = spawn_app_with(|config| config.scoring.comparison_min_tenants = 1).await;
    for tenant in ["acme", "beta", "broken"] {
        app.create_tenant(tenant, Some("Finance"), 50).await;
        app.ingest(tenant, &noon(-1), partial_mfa_facts()).await;
    }
    refuse_rows_of_broken(&app).await;
    let body = app
        .graphql(&platform_admin(), "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { tenantsScored daysScored run { id status tenantDaysPlanned tenantDaysDone tenantDaysFailed } } }", json!({"d": day(-1)}))
        .await;
    let result = &body["data"]["recomputeScores"];
    assert_eq!(
        result["run"]["status"], "PARTIAL",
        "finished within the default wait: {body}"
    );
    assert_eq!(
        (&result["tenantsScored"], &result["daysScored"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(
        (
            &result["run"]["tenantDaysPlanned"],
            &result["run"]["tenantDaysFailed"]
        ),
        (&json!(3), &json!(1))
    );
    assert_eq!(score(&app, "broken", &day(-1)).await, Value::Null);
    assert_eq!(score(&app, "acme", &day(-1)).await["score"], 30.75);
    let comparison = app
        .graphql(&platform_admin(), "query($d: Date) { tenant(id: \"acme\") { comparison(date: $d) { basis tenantCount averageScore } } }", json!({"d": day(-1)}))
        .await;
    assert_eq!(
        comparison["data"]["tenant"]["comparison"][0],
        json!({"basis": "ALL_TENANTS", "tenantCount": 2, "averageScore": 30.75}),
        "{comparison}"
    );
}

#[tokio::test]
async fn a_recompute_longer_than_the_wait_answers_with_the_run_which_then_finishes() {
    let app = spawn_app_with(|config| config.scoring.recompute_wait = Duration::ZERO).await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-300), partial_mfa_facts()).await;
    let owner = token(&[Role::GlobalAdmin], &["acme"]);
    let body = app
        .graphql(&owner, "mutation($f: Date!, $t: Date!) { recomputeScores(input: {tenantId: \"acme\", from: $f, to: $t}) { daysScored run { id status finishedAt requestedBy tenantId } } }", json!({"f": day(-300), "t": day(0)}))
        .await;
    let run = &body["data"]["recomputeScores"]["run"];
    assert!(
        matches!(run["status"].as_str(), Some("QUEUED" | "RUNNING")),
        "{body}"
    );
    assert!(run["finishedAt"].is_null());
    assert_eq!(
        (&run["requestedBy"], &run["tenantId"]),
        (&json!("tester@example.com"), &json!("acme"))
    );
    let id = run["id"].as_str().unwrap().to_owned();
    let finished = finished_run(&app, &id).await;
    assert_eq!(
        (&finished["status"], &finished["tenantDaysDone"]),
        (&json!("SUCCEEDED"), &json!(301))
    );
    // The requester follows its run; another admin of the same tenant does not see it.
    let mine = app
        .graphql(&owner, "query($id: ID!) { scoringRun(id: $id) { status } scoringRuns { edges { node { id } } } }", json!({"id": id}))
        .await;
    assert_eq!(mine["data"]["scoringRun"]["status"], "SUCCEEDED", "{mine}");
    assert_eq!(mine["data"]["scoringRuns"]["edges"][0]["node"]["id"], id);
    let stranger_token = securescore::auth::mint::mint_hs256(
        &secrecy::SecretString::from(crate::helpers::SECRET),
        &securescore::auth::mint::TokenRequest {
            subject: "stranger@example.com".into(),
            roles: vec![Role::GlobalAdmin],
            tenants: vec!["acme".into()],
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .unwrap();
    let stranger = app
        .graphql(&stranger_token, "query($id: ID!) { scoringRun(id: $id) { status } scoringRuns { edges { node { id } } } }", json!({"id": id}))
        .await;
    assert_eq!(stranger["data"]["scoringRun"], Value::Null, "{stranger}");
    assert_eq!(stranger["data"]["scoringRuns"]["edges"], json!([]));
}

#[tokio::test]
async fn coverage_says_how_much_of_the_catalog_the_facts_measured() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.create_tenant("sparse", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    // One fact: SSPR on. 1 of 1 point measured reads 100 %, every other point without data.
    let catalog = crate::helpers::built_in_max_score();
    app.ingest("sparse", &noon(-1), json!({"sspr": {"enabled": true}}))
        .await;
    app.graphql(
        &platform_admin(),
        "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { daysScored } }",
        json!({"d": day(-1)}),
    )
    .await;
    let acme = score(&app, "acme", &day(-1)).await;
    // 48 points of the first eleven are measured; user risk, SSPR and the rest have no data.
    assert_eq!(acme["noDataMaxScore"], catalog - 48.0);
    assert_eq!(acme["coverage"], 100.0 * 48.0 / catalog);
    let sparse = wait_for_score(&app, "sparse", &day(-1), |s| !s.is_null()).await;
    assert_eq!(
        (
            &sparse["score"],
            &sparse["maxScore"],
            &sparse["noDataMaxScore"]
        ),
        (&json!(1.0), &json!(1.0), &json!(catalog - 1.0))
    );
    assert_eq!(sparse["coverage"], 100.0 / catalog);
}

#[tokio::test]
async fn a_partner_sees_an_average_only_when_k_tenants_of_the_group_are_out_of_reach() {
    let app = spawn_app_with(|config| config.scoring.comparison_min_tenants = 3).await;
    const TENANTS: [&str; 7] = ["t1", "t2", "t3", "t4", "t5", "t6", "t7"];
    let tenants = TENANTS;
    for tenant in tenants {
        app.create_tenant(tenant, Some("Finance"), 50).await;
        app.ingest(tenant, &noon(-1), partial_mfa_facts()).await;
    }
    app.graphql(
        &platform_admin(),
        "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { daysScored } }",
        json!({"d": day(-1)}),
    )
    .await;
    let average = |reach: &'static [&'static str]| {
        let app = &app;
        async move {
            let body = app
                .graphql(&token(&[Role::SecurityReader], reach), "query($d: Date) { tenant(id: \"t1\") { comparison(date: $d) { basis tenantCount averageScore } } }", json!({"d": day(-1)}))
                .await;
            body["data"]["tenant"]["comparison"][2].clone()
        }
    };
    // Reaching 4 of 7 leaves k = 3 out of reach: shown.
    assert_eq!(
        average(&TENANTS[..4]).await,
        json!({"basis": "INDUSTRY", "tenantCount": 7, "averageScore": 30.75})
    );
    // Reaching 5 of 7 leaves k - 1 = 2: `7 × average − 5 scores` would give away their sum.
    assert_eq!(
        average(&TENANTS[..5]).await,
        json!({"basis": "INDUSTRY", "tenantCount": 7, "averageScore": null})
    );
    // Reaching all 7 singles out nobody.
    assert_eq!(average(&TENANTS).await["averageScore"], 30.75);
}

#[tokio::test]
async fn a_run_over_a_tenant_out_of_reach_is_null_even_for_its_requester() {
    let app = spawn_app().await;
    for tenant in ["a", "b"] {
        app.create_tenant(tenant, None, 10).await;
        app.ingest(tenant, &noon(-1), partial_mfa_facts()).await;
    }
    const RECOMPUTE: &str =
        "mutation($i: RecomputeScoresInput!) { recomputeScores(input: $i) { run { id } } }";
    const RUN: &str =
        "query($id: ID!) { scoringRun(id: $id) { id } scoringRuns { edges { node { id } } } }";
    // One subject ("tester@example.com") with tokens of different reach.
    let both = token(&[Role::GlobalAdmin], &["a", "b"]);
    let only_a = token(&[Role::GlobalAdmin], &["a"]);
    let only_b = token(&[Role::GlobalAdmin], &["b"]);
    let run_of = |body: Value| body["data"]["recomputeScores"]["run"]["id"].clone();
    let of_a = run_of(
        app.graphql(
            &only_a,
            RECOMPUTE,
            json!({"i": {"tenantId": "a", "from": day(-1), "to": day(0)}}),
        )
        .await,
    );
    let of_both = run_of(
        app.graphql(
            &both,
            RECOMPUTE,
            json!({"i": {"from": day(-1), "to": day(0)}}),
        )
        .await,
    );
    assert!(of_a.is_string() && of_both.is_string());
    let sees = |caller: String, id: Value| {
        let app = &app;
        async move {
            let body = app.graphql(&caller, RUN, json!({"id": id})).await;
            assert!(body["errors"].is_null(), "{body}");
            let listed: Vec<Value> = body["data"]["scoringRuns"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].clone())
                .collect();
            let found = !body["data"]["scoringRun"].is_null();
            assert_eq!(
                found,
                listed.contains(&id),
                "one answer by id and by page: {body}"
            );
            found
        }
    };
    assert!(sees(only_a.clone(), of_a.clone()).await);
    assert!(sees(both.clone(), of_a.clone()).await);
    assert!(
        !sees(only_b.clone(), of_a.clone()).await,
        "b's token does not reach a"
    );
    assert!(sees(both.clone(), of_both.clone()).await);
    assert!(!sees(only_a, of_both.clone()).await, "the run covers b too");
    assert!(!sees(only_b, of_both.clone()).await, "the run covers a too");
    assert!(sees(platform_admin(), of_both).await);
}
