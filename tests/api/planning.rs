//! Planning and review end to end: plans and their history, statuses from today's score, the
//! forecast worked out by hand, trends equal to scoreDiff's changes over the demo's history,
//! score zones, and the portfolio's counts.

use std::time::Duration;

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_error, day, eventually, noon, platform_admin, spawn_app, spawn_app_with, token,
};

const SET: &str = "mutation($i: SetActionPlanInput!) { setActionPlan(input: $i) {
    action { id } assignedTo dueDate notes tags status updatedBy cleared } }";
const PLANS: &str = "query($s: PlanStatus, $a: String, $t: String) { tenant(id: \"acme\") {
    plans(status: $s, assignedTo: $a, tag: $t) { action { id } status dueDate } } }";

fn admin() -> String {
    token(&[Role::SecurityAdmin], &["acme"])
}

fn reader() -> String {
    token(&[Role::SecurityReader], &["acme"])
}

/// acme with today scored from facts that complete AdminMFA (10 of 10), leave MFARegistration
/// at 6.75 of 9 and BlockLegacyAuthentication at 4 of 8; every other action has no data.
async fn scored_acme() -> TestApp {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest(
        "acme",
        &noon(0),
        json!({"users": {"total": 120, "mfaRegistered": 90, "legacyAuthBlocked": 60},
               "admins": {"total": 4, "mfaProtected": 4}}),
    )
    .await;
    eventually("today scored", Duration::from_secs(10), || async {
        let body = app
            .graphql(
                &reader(),
                "{ tenant(id: \"acme\") { score { score } } }",
                json!({}),
            )
            .await;
        (body["data"]["tenant"]["score"]["score"] == json!(20.75)).then_some(())
    })
    .await;
    app
}

async fn set(app: &TestApp, plan: Value) -> Value {
    let body = app.graphql(&admin(), SET, json!({"i": plan})).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["setActionPlan"].clone()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|p| p["action"]["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn plans_have_a_status_from_todays_score_and_every_change_is_kept() {
    let app = scored_acme().await;
    let first = set(
        &app,
        json!({"tenantId": "acme", "actionId": "MFARegistration", "assignedTo": "ops@acme.test",
               "dueDate": day(-3), "notes": "Roll out the registration campaign", "tags": ["q3", " identity ", "q3"]}),
    )
    .await;
    assert_eq!(
        first,
        json!({"action": {"id": "MFARegistration"}, "assignedTo": "ops@acme.test", "dueDate": day(-3),
               "notes": "Roll out the registration campaign", "tags": ["q3", "identity"],
               "status": "OVERDUE", "updatedBy": "tester@example.com", "cleared": false})
    );
    set(&app, json!({"tenantId": "acme", "actionId": "AdminMFA", "dueDate": day(-1), "tags": ["identity"]})).await;
    set(&app, json!({"tenantId": "acme", "actionId": "BlockLegacyAuthentication", "assignedTo": "ops@acme.test", "dueDate": day(10)})).await;
    set(&app, json!({"tenantId": "acme", "actionId": "SelfServicePasswordReset", "assignedTo": "helpdesk@acme.test"})).await;

    // Due date ascending, undated last; AdminMFA is COMPLETED today although its date passed.
    let all = app.graphql(&reader(), PLANS, json!({})).await;
    let plans = &all["data"]["tenant"]["plans"];
    assert_eq!(
        ids(plans),
        [
            "MFARegistration",
            "AdminMFA",
            "BlockLegacyAuthentication",
            "SelfServicePasswordReset"
        ]
    );
    let statuses: Vec<&str> = plans
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["OVERDUE", "COMPLETED", "OPEN", "OPEN"]);
    let overdue = app.graphql(&reader(), PLANS, json!({"s": "OVERDUE"})).await;
    assert_eq!(
        ids(&overdue["data"]["tenant"]["plans"]),
        ["MFARegistration"]
    );
    let owned = app
        .graphql(&reader(), PLANS, json!({"a": "ops@acme.test"}))
        .await;
    assert_eq!(
        ids(&owned["data"]["tenant"]["plans"]),
        ["MFARegistration", "BlockLegacyAuthentication"]
    );
    let tagged = app
        .graphql(&reader(), PLANS, json!({"t": "identity"}))
        .await;
    assert_eq!(
        ids(&tagged["data"]["tenant"]["plans"]),
        ["MFARegistration", "AdminMFA"]
    );

    // The plan shows on its action's score.
    let actions = app
        .graphql(&reader(), "{ tenant(id: \"acme\") { improvementActions { action { id } plan { assignedTo status } } } }", json!({}))
        .await;
    let mfa = actions["data"]["tenant"]["improvementActions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"]["id"] == "MFARegistration")
        .unwrap();
    assert_eq!(
        mfa["plan"],
        json!({"assignedTo": "ops@acme.test", "status": "OVERDUE"})
    );

    // Changed, then cleared: the history keeps every step, newest first.
    set(&app, json!({"tenantId": "acme", "actionId": "MFARegistration", "assignedTo": "secops@acme.test", "dueDate": day(5)})).await;
    let cleared = app
        .graphql(
            &admin(),
            "mutation { clearActionPlan(tenantId: \"acme\", actionId: \"MFARegistration\") }",
            json!({}),
        )
        .await;
    assert_eq!(
        cleared["data"]["clearActionPlan"], "MFARegistration",
        "{cleared}"
    );
    let again = app
        .graphql(
            &admin(),
            "mutation { clearActionPlan(tenantId: \"acme\", actionId: \"MFARegistration\") }",
            json!({}),
        )
        .await;
    assert_error(&again, "NOT_FOUND", "no plan");
    let history = app
        .graphql(&reader(), "{ tenant(id: \"acme\") { planHistory(actionId: \"MFARegistration\") { edges { node { assignedTo cleared updatedBy } } } } }", json!({}))
        .await;
    let nodes: Vec<&Value> = history["data"]["tenant"]["planHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(
        nodes,
        [
            &json!({"assignedTo": null, "cleared": true, "updatedBy": "tester@example.com"}),
            &json!({"assignedTo": "secops@acme.test", "cleared": false, "updatedBy": "tester@example.com"}),
            &json!({"assignedTo": "ops@acme.test", "cleared": false, "updatedBy": "tester@example.com"}),
        ]
    );
    assert_eq!(app.count("action_plan_changes").await, 6);
    assert_eq!(app.count("action_plans").await, 3);
}

#[tokio::test]
async fn bad_plans_and_zones_are_refused_and_change_nothing() {
    let app = scored_acme().await;
    let plan = |field: &str, value: Value| {
        let mut plan = json!({"tenantId": "acme", "actionId": "AdminMFA"});
        plan[field] = value;
        json!({"i": plan})
    };
    let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    for (input, part) in [
        (plan("tags", json!(tags)), "at most 20"),
        (plan("tags", json!(["x".repeat(65)])), "1 to 64"),
        (plan("tags", json!(["  "])), "1 to 64"),
        (plan("notes", json!("n".repeat(4001))), "notes"),
        (plan("assignedTo", json!("a".repeat(201))), "assignedTo"),
        (plan("actionId", json!("NoSuchAction")), "no catalog action"),
    ] {
        let body = app.graphql(&admin(), SET, input).await;
        assert_error(&body, "BAD_USER_INPUT", part);
    }
    for (good, fair) in [(50, 60), (101, 40), (70, -1)] {
        let body = app
            .graphql(&admin(), "mutation($g: Float!, $f: Float!) { setScoreZones(tenantId: \"acme\", good: $g, fair: $f) { id } }", json!({"g": good, "f": fair}))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
    }
    // A tenant within the token's reach that does not exist.
    let ghost = app
        .graphql(
            &token(&[Role::SecurityAdmin], &["ghost"]),
            SET,
            json!({"i": {"tenantId": "ghost", "actionId": "AdminMFA"}}),
        )
        .await;
    assert_error(&ghost, "NOT_FOUND", "ghost");
    assert_eq!(app.count("action_plans").await, 0);
    assert_eq!(app.count("action_plan_changes").await, 0);
    let zones = app
        .graphql(
            &reader(),
            "{ tenant(id: \"acme\") { zones { good fair } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        zones["data"]["tenant"]["zones"],
        json!({"good": 70.0, "fair": 40.0})
    );
}

#[tokio::test]
async fn the_forecast_adds_each_plans_points_from_its_due_date() {
    let app = scored_acme().await;
    // Points left today: MFARegistration 2.25, BlockLegacyAuthentication 4, AdminMFA 0
    // (COMPLETED); SSPR has no data (0 of 0).
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "MFARegistration", "dueDate": day(-2)}),
    )
    .await;
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "BlockLegacyAuthentication", "dueDate": day(3)}),
    )
    .await;
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "AdminMFA", "dueDate": day(1)}),
    )
    .await;
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "SelfServicePasswordReset"}),
    )
    .await;
    let body = app
        .graphql(&reader(), "query($to: Date!) { tenant(id: \"acme\") { forecast(to: $to) { date score maxScore percentage } } }", json!({"to": day(4)}))
        .await;
    let points = body["data"]["tenant"]["forecast"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let expected = [(1, 23.0), (2, 23.0), (3, 27.0), (4, 27.0)];
    assert_eq!(points.len(), expected.len(), "{body}");
    for (point, (offset, score)) in points.iter().zip(expected) {
        assert_eq!(point["date"], day(offset));
        assert_eq!(point["score"], score, "{point}");
        assert_eq!(point["maxScore"], 27.0);
        assert_eq!(point["percentage"], 100.0 * score / 27.0);
    }
    for to in [day(0), day(400)] {
        let refused = app
            .graphql(
                &reader(),
                "query($to: Date!) { tenant(id: \"acme\") { forecast(to: $to) { score } } }",
                json!({"to": to}),
            )
            .await;
        assert_error(&refused, "BAD_USER_INPUT", "to must lie");
    }
}

#[tokio::test]
async fn zones_follow_the_tenants_thresholds_on_days_and_in_the_portfolio() {
    let app = scored_acme().await;
    app.create_tenant("globex", None, 50).await;
    app.ingest(
        "globex",
        &noon(0),
        json!({"admins": {"total": 4, "mfaProtected": 4}}),
    )
    .await;
    let zone = |tenant: &'static str| {
        let app = &app;
        async move {
            let body = app
                .graphql(
                    &token(&[Role::SecurityReader], &[tenant]),
                    "query($t: ID!) { tenant(id: $t) { score { percentage zone } } }",
                    json!({"t": tenant}),
                )
                .await;
            body["data"]["tenant"]["score"].clone()
        }
    };
    // acme: 20.75 of 27, 76.9 %: GOOD by the default thresholds.
    assert_eq!(zone("acme").await["zone"], "GOOD");
    let moved = app
        .graphql(&admin(), "mutation { setScoreZones(tenantId: \"acme\", good: 90, fair: 75) { zones { good fair } } }", json!({}))
        .await;
    assert_eq!(
        moved["data"]["setScoreZones"]["zones"],
        json!({"good": 90.0, "fair": 75.0}),
        "{moved}"
    );
    assert_eq!(zone("acme").await["zone"], "FAIR");
    eventually("globex scored", Duration::from_secs(10), || async {
        (zone("globex").await["zone"] == "GOOD").then_some(())
    })
    .await;
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "MFARegistration", "dueDate": day(-1)}),
    )
    .await;
    set(
        &app,
        json!({"tenantId": "acme", "actionId": "AdminMFA", "dueDate": day(-1)}),
    )
    .await;
    let portfolio = app
        .graphql(
            &platform_admin(),
            "{ portfolio { scoredTenantCount overduePlanCount zones { zone tenantCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        portfolio["data"]["portfolio"],
        json!({"scoredTenantCount": 2, "overduePlanCount": 1,
               "zones": [{"zone": "GOOD", "tenantCount": 1}, {"zone": "FAIR", "tenantCount": 1}, {"zone": "POOR", "tenantCount": 0}]}),
        "AdminMFA is done, so only MFARegistration is overdue"
    );
}

#[tokio::test]
async fn trends_equal_the_sums_of_score_diffs_over_the_demo_history() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let reader = token(&[Role::SecurityReader], &["contoso"]);
    let (from, to) = (day(-45), day(0));
    let body = app
        .graphql(
            &reader,
            "query($f: Date!, $t: Date!, $before: Date!) { tenant(id: \"contoso\") {
                weeks: trends(from: $f, to: $t) { from to pointsAchieved pointsRegressed regressedActions riskAcceptedPoints percentageAtEnd }
                months: trends(from: $f, to: $t, period: MONTH) { from to pointsAchieved pointsRegressed regressedActions }
                scoreHistory(from: $before, to: $t) { date percentage actionScores { status maxScore } } } }",
            json!({"f": from, "t": to, "before": day(-60)}),
        )
        .await;
    let tenant = &body["data"]["tenant"];
    let history = tenant["scoreHistory"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let dates: Vec<&str> = history
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert!(dates.len() > 40, "the demo stores every day: {dates:?}");
    for period in ["weeks", "months"] {
        let points = tenant[period].as_array().unwrap();
        assert!(!points.is_empty());
        for point in points {
            let (start, end) = (
                point["from"].as_str().unwrap(),
                point["to"].as_str().unwrap(),
            );
            let (mut achieved, mut regressed, mut count) = (0.0, 0.0, 0);
            for pair in dates.windows(2) {
                if pair[1] < start || pair[1] > end {
                    continue;
                }
                let diff = app
                    .graphql(
                        &reader,
                        "query($f: Date!, $t: Date!) { tenant(id: \"contoso\") { scoreDiff(from: $f, to: $t) { changes { scoreDelta } } } }",
                        json!({"f": pair[0], "t": pair[1]}),
                    )
                    .await;
                for change in diff["data"]["tenant"]["scoreDiff"]["changes"]
                    .as_array()
                    .unwrap()
                {
                    let delta = change["scoreDelta"].as_f64().unwrap();
                    if delta > 0.0 {
                        achieved += delta;
                    } else if delta < 0.0 {
                        regressed -= delta;
                        count += 1;
                    }
                }
            }
            let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
            assert!(
                close(&point["pointsAchieved"], achieved),
                "{period} {point}: {achieved}"
            );
            assert!(
                close(&point["pointsRegressed"], regressed),
                "{period} {point}: {regressed}"
            );
            assert_eq!(point["regressedActions"], count, "{period} {point}");
        }
    }
    // A week's end: its last stored day's percentage and risk-accepted maxima.
    let last_week = tenant["weeks"].as_array().unwrap().last().unwrap();
    let last_day = history.last().unwrap();
    assert_eq!(last_week["percentageAtEnd"], last_day["percentage"]);
    let risk_accepted: f64 = last_day["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "RISK_ACCEPTED")
        .map(|a| a["maxScore"].as_f64().unwrap())
        .sum();
    assert_eq!(last_week["riskAcceptedPoints"], risk_accepted);
}

#[tokio::test]
async fn a_later_field_of_a_mutation_reads_what_an_earlier_one_changed() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(0), crate::helpers::partial_mfa_facts())
        .await;
    app.recompute("acme", &day(0), &day(0)).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    // The day is at 64 %: GOOD by the first thresholds, POOR by the second.
    let body = app
        .graphql(
            &admin,
            "mutation {
                a: setScoreZones(tenantId: \"acme\", fair: 10, good: 20) { score { zone } }
                b: setScoreZones(tenantId: \"acme\", fair: 90, good: 95) { score { zone } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["a"]["score"]["zone"], "GOOD", "{body}");
    assert_eq!(body["data"]["b"]["score"]["zone"], "POOR", "{body}");
}
