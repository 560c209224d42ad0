//! Daily scoring end to end: values worked out by hand, history, overrides, catalog changes,
//! diffs, comparisons and concurrent recomputation.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    UNNAMED_SETS, assert_error, day, error_code, noon, partial_mfa_facts, platform_admin,
    spawn_app, spawn_app_with, token,
};

const SCORE: &str = "query($d: Date) { tenant(id: \"acme\") { score(date: $d) { date score maxScore percentage plannedScore
    categories { category score maxScore }
    actionScores { action { id } score maxScore status state progress { current total } potentialIncrease scoreImpact } } } }";

fn action<'a>(score: &'a Value, id: &str) -> &'a Value {
    score["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"]["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn a_tenant_with_partial_mfa_scores_as_worked_out_by_hand() {
    let app = spawn_app().await;
    app.create_tenant("acme", Some("Finance"), 120).await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    let result = app.recompute("acme", &day(0), &day(0)).await;
    assert_eq!(
        result["data"]["recomputeScores"],
        json!({"tenantsScored": 1, "daysScored": 1}),
        "{result}"
    );

    let body = app
        .graphql(&token(&[Role::SecurityReader], &["acme"]), SCORE, json!({}))
        .await;
    let score = &body["data"]["tenant"]["score"];
    // 6.75 (MFA) + 10 (admin MFA) + 4 (legacy) + 8 (expiry) + 0 (sign-in risk) + 0 (consent) + 1 + 1
    assert_eq!(score["score"], 30.75, "{body}");
    // 9 + 10 + 8 + 8 + 7 + 4 + 1 + 1; user risk and SSPR have no data, reviews are not scored
    assert_eq!(score["maxScore"], 48.0);
    assert_eq!(score["percentage"], 64.0625);
    assert_eq!(score["plannedScore"], 30.75);
    assert_eq!(
        score["categories"][0],
        json!({"category": "IDENTITY", "score": 30.75, "maxScore": 44.0})
    );
    let mfa = action(score, "MFARegistration");
    assert_eq!(mfa["status"], "PARTIAL");
    assert_eq!(mfa["progress"], json!({"current": 90.0, "total": 120.0}));
    assert_eq!(mfa["potentialIncrease"], 2.25);
    assert_eq!(mfa["scoreImpact"], 18.75);
    assert_eq!(action(score, "UserRiskPolicy")["status"], "NO_DATA");
    assert_eq!(action(score, "ReviewSignInReports")["status"], "NOT_SCORED");
    assert_eq!(
        action(score, "RestrictUserConsent")["status"],
        "NOT_COMPLETED"
    );

    let improvements = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            "{ tenant(id: \"acme\") { improvementActions { action { id } potentialIncrease } } }",
            json!({}),
        )
        .await;
    let ids: Vec<&str> = improvements["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "SigninRiskPolicy",
            "BlockLegacyAuthentication",
            "RestrictUserConsent",
            "MFARegistration"
        ]
    );
}

#[tokio::test]
async fn a_day_without_a_snapshot_has_no_score_rather_than_zero() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    let result = app.recompute("acme", &day(-3), &day(0)).await;
    assert_eq!(
        result["data"]["recomputeScores"]["daysScored"], 2,
        "{result}"
    );
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let first = app.graphql(&reader, SCORE, json!({"d": day(-3)})).await;
    assert_eq!(first["data"]["tenant"]["score"], Value::Null);
    let history = app
        .graphql(&reader, "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) { date score } } }", json!({"f": day(-3), "t": day(0)}))
        .await;
    assert_eq!(
        history["data"]["tenant"]["scoreHistory"],
        json!([{"date": day(-1), "score": 30.75}, {"date": day(0), "score": 30.75}])
    );
}

#[tokio::test]
async fn an_override_changing_mid_history_moves_only_the_days_it_is_in_force() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-2), partial_mfa_facts()).await;
    let mut better = partial_mfa_facts();
    better["users"]["mfaRegistered"] = json!(120);
    better["users"]["legacyAuthBlocked"] = json!(30);
    app.ingest("acme", &noon(-1), better).await;
    let admin = token(&[Role::SecurityAdmin], &["acme"]);
    let set = app
        .graphql(&admin, "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"SigninRiskPolicy\", state: THIRD_PARTY, comment: \"Vendor X\"}) { state comment updatedBy action { id } } }", json!({}))
        .await;
    assert_eq!(
        set["data"]["setActionOverride"],
        json!({"state": "THIRD_PARTY", "comment": "Vendor X", "updatedBy": "tester@example.com", "action": {"id": "SigninRiskPolicy"}}),
        "{set}"
    );
    app.recompute("acme", &day(-2), &day(0)).await;

    let reader = token(&[Role::SecurityReader], &["acme"]);
    let diff = |from: String, to: String, only: bool| {
        let reader = reader.clone();
        let app = &app;
        async move {
            app.graphql(&reader, "query($f: Date!, $t: Date!, $o: Boolean) { tenant(id: \"acme\") { scoreDiff(from: $f, to: $t) { scoreDelta maxScoreDelta categories { category scoreDelta }
                changes(onlyRegressions: $o) { action { id } reasons scoreDelta scoreBefore scoreAfter statusBefore statusAfter stateBefore stateAfter progressBefore { current } progressAfter { current } } } } }",
                json!({"f": from, "t": to, "o": only})).await
        }
    };
    // Day -2 to -1: the facts moved (MFA up 2.25, legacy down 2); the override was not yet set.
    let facts_moved = diff(day(-2), day(-1), false).await;
    let d = &facts_moved["data"]["tenant"]["scoreDiff"];
    assert_eq!(d["scoreDelta"], 0.25, "{facts_moved}");
    assert_eq!(d["changes"][0]["action"]["id"], "MFARegistration");
    assert_eq!(d["changes"][0]["reasons"], json!(["CONFIGURATION_CHANGED"]));
    assert_eq!(d["changes"][0]["progressBefore"]["current"], 90.0);
    assert_eq!(d["changes"][1]["action"]["id"], "BlockLegacyAuthentication");
    assert_eq!(d["changes"][1]["scoreDelta"], -2.0);
    let regressions = diff(day(-2), day(-1), true).await;
    let only = regressions["data"]["tenant"]["scoreDiff"]["changes"]
        .as_array()
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["action"]["id"], "BlockLegacyAuthentication");

    // Day -1 to today: only the override, in force since today, changed anything.
    let override_moved = diff(day(-1), day(0), false).await;
    let d = &override_moved["data"]["tenant"]["scoreDiff"];
    assert_eq!(d["scoreDelta"], 7.0, "{override_moved}");
    assert_eq!(d["changes"].as_array().unwrap().len(), 1);
    assert_eq!(d["changes"][0]["reasons"], json!(["OVERRIDE_CHANGED"]));
    assert_eq!(d["changes"][0]["statusBefore"], "NOT_COMPLETED");
    assert_eq!(d["changes"][0]["statusAfter"], "THIRD_PARTY");
    assert_eq!(d["changes"][0]["stateBefore"], "DEFAULT");
    assert_eq!(d["changes"][0]["stateAfter"], "THIRD_PARTY");

    let overrides = app
        .graphql(&reader, "{ tenant(id: \"acme\") { overrides { action { id } state } overrideHistory { edges { node { state } } } } }", json!({}))
        .await;
    assert_eq!(
        overrides["data"]["tenant"]["overrides"],
        json!([{"action": {"id": "SigninRiskPolicy"}, "state": "THIRD_PARTY"}])
    );
    assert_eq!(
        overrides["data"]["tenant"]["overrideHistory"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_catalog_change_between_two_dates_is_named_in_the_diff() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    app.recompute("acme", &day(-1), &day(-1)).await;
    let changed = app
        .graphql(&platform_admin(), "mutation { upsertAction(input: {id: \"FewGlobalAdmins\", title: \"Keep few global admins\", category: IDENTITY, maxScore: 3, rule: {kind: RANGE, fact: \"roles.globalAdmins\", max: 4}}) { maxScore } }", json!({}))
        .await;
    assert_eq!(
        changed["data"]["upsertAction"]["maxScore"], 3.0,
        "{changed}"
    );
    app.recompute("acme", &day(0), &day(0)).await;
    let body = app
        .graphql(&token(&[Role::SecurityReader], &["acme"]), "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreDiff(from: $f, to: $t) { scoreDelta maxScoreDelta changes { action { id } reasons maxScoreBefore maxScoreAfter } } } }", json!({"f": day(-1), "t": day(0)}))
        .await;
    let d = &body["data"]["tenant"]["scoreDiff"];
    assert_eq!(d["scoreDelta"], 2.0, "{body}");
    assert_eq!(d["maxScoreDelta"], 2.0);
    assert_eq!(
        d["changes"],
        json!([{"action": {"id": "FewGlobalAdmins"}, "reasons": ["CATALOG_CHANGED"], "maxScoreBefore": 1.0, "maxScoreAfter": 3.0}])
    );
}

#[tokio::test]
async fn a_diff_with_a_missing_day_names_the_date() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    app.recompute("acme", &day(0), &day(0)).await;
    let body = app
        .graphql(&token(&[Role::SecurityReader], &["acme"]), "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreDiff(from: $f, to: $t) { scoreDelta } } }", json!({"f": day(-5), "t": day(0)}))
        .await;
    assert_error(&body, "NOT_FOUND", &day(-5));
}

/// A reader of one tenant sees a group's average only when at least `k` of its members are out
/// of reach: with k = 2, acme's two-member groups would give away the other member's score.
#[tokio::test]
async fn comparisons_show_averages_only_for_groups_of_the_minimum_size() {
    let app = spawn_app_with(|config| config.scoring.comparison_min_tenants = 2).await;
    app.create_tenant("acme", Some("Finance"), 50).await;
    app.create_tenant("bank", Some("Finance"), 5000).await;
    app.create_tenant("shop", Some("Retail"), 60).await;
    let mut full = partial_mfa_facts();
    full["users"]["mfaRegistered"] = json!(120);
    app.ingest("acme", &noon(0), partial_mfa_facts()).await; // 30.75 of 48
    app.ingest("bank", &noon(0), full.clone()).await; // 33 of 48
    app.ingest("shop", &noon(0), full).await; // 33 of 48
    let all = app
        .graphql(&platform_admin(), "mutation($d: Date!) { recomputeScores(input: {from: $d, to: $d}) { tenantsScored daysScored } }", json!({"d": day(0)}))
        .await;
    assert_eq!(
        all["data"]["recomputeScores"],
        json!({"tenantsScored": 3, "daysScored": 3}),
        "{all}"
    );
    let query = "query($id: ID!) { tenant(id: $id) { comparison { basis group tenantCount averageScore averagePercentage } } }";
    let acme = app
        .graphql(
            &token(&[Role::SecurityReader], &["acme"]),
            query,
            json!({"id": "acme"}),
        )
        .await;
    assert_eq!(
        acme["data"]["tenant"]["comparison"],
        json!([
            {"basis": "ALL_TENANTS", "group": "all", "tenantCount": 3, "averageScore": 32.25, "averagePercentage": 67.1875},
            {"basis": "SEAT_SIZE", "group": "11-100", "tenantCount": 2, "averageScore": null, "averagePercentage": null},
            {"basis": "INDUSTRY", "group": "Finance", "tenantCount": 2, "averageScore": null, "averagePercentage": null},
        ]),
        "{acme}"
    );
    let shop = app
        .graphql(
            &token(&[Role::SecurityReader], &["shop"]),
            query,
            json!({"id": "shop"}),
        )
        .await;
    assert_eq!(
        shop["data"]["tenant"]["comparison"][2],
        json!({"basis": "INDUSTRY", "group": "Retail", "tenantCount": 1, "averageScore": null, "averagePercentage": null})
    );
}

#[tokio::test]
async fn two_simultaneous_recomputations_of_the_same_days_leave_one_set_of_rows() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-3), partial_mfa_facts()).await;
    let (from, to) = (day(-3), day(0));
    let (a, b) = tokio::join!(
        app.recompute("acme", &from, &to),
        app.recompute("acme", &from, &to)
    );
    assert_eq!(a["data"]["recomputeScores"]["daysScored"], 4, "{a}");
    assert_eq!(b["data"]["recomputeScores"]["daysScored"], 4, "{b}");
    assert_eq!(app.count("daily_scores").await, 4);
    assert_eq!(
        app.named_results("1 = 1").await,
        4 * crate::helpers::built_in_actions()
    );
    // The four days have the same results: they name one set, whichever computation wrote
    // it; the other computation's, if it wrote one, goes with the sweeper.
    let sets = app.count("action_score_sets").await;
    assert_eq!(sets - app.count(UNNAMED_SETS).await, 1);
    securescore::pipeline::sweeper::sweep(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(app.count("action_score_sets").await, 1);
    let again = app.recompute("acme", &day(-3), &day(0)).await;
    assert!(again["errors"].is_null());
    assert_eq!(
        app.named_results("1 = 1").await,
        4 * crate::helpers::built_in_actions()
    );
    assert_eq!(app.count("action_score_sets").await, 1);
}

#[tokio::test]
async fn recompute_ranges_are_validated_and_change_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    for (from, to, words) in [
        (day(0), day(-1), "after"),
        (day(-400), day(0), "366"),
        (day(0), day(1), "today"),
    ] {
        let body = app.recompute("acme", &from, &to).await;
        assert_error(&body, "BAD_USER_INPUT", words);
    }
    let reader = app
        .graphql(&token(&[Role::SecurityReader], &["acme"]), "mutation($d: Date!) { recomputeScores(input: {tenantId: \"acme\", from: $d, to: $d}) { daysScored } }", json!({"d": day(0)}))
        .await;
    assert_eq!(error_code(&reader), Some("FORBIDDEN"));
    // No run was planned (today's row itself follows the snapshot live, refused or not).
    assert_eq!(app.count("scoring_runs").await, 0);
}
