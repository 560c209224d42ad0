//! Managing many tenants: bulk overrides (all or nothing), overrides that expire, goals.

use std::time::{Duration, Instant};

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, day, noon, spawn_app, token};

const BULK: &str = "mutation($i: SetActionOverridesInput!) { setActionOverrides(input: $i) {
    tenantId action { id } state comment updatedBy expiresAt } }";

/// 90 of 120 users with MFA and the rest as in the hand-worked example: 30.75 of 48.
fn facts() -> Value {
    json!({
        "users": {"total": 120, "mfaRegistered": 90, "legacyAuthBlocked": 60, "signInRiskCovered": 0},
        "admins": {"total": 4, "mfaProtected": 4},
        "passwordPolicy": {"neverExpires": true},
        "apps": {"userConsentRestricted": false},
        "roles": {"globalAdmins": 3},
        "reviews": {"signInWeekly": true}
    })
}

/// Polls `tenant`'s score for today until `done` holds (at most 15 s).
async fn wait_for_today(app: &TestApp, tenant: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = app
            .graphql(
                &token(&[Role::SecurityReader], &[tenant]),
                "query($id: ID!, $d: Date) { tenant(id: $id) { score(date: $d) { score maxScore } overrides { action { id } state } } }",
                json!({"id": tenant, "d": day(0)}),
            )
            .await;
        let tenant_data = body["data"]["tenant"].clone();
        if done(&tenant_data) {
            return tenant_data;
        }
        assert!(Instant::now() < deadline, "never got there: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn estate() -> TestApp {
    let app = spawn_app().await;
    for tenant in ["north", "south", "west"] {
        app.create_tenant(tenant, None, 120).await;
        app.ingest(tenant, &noon(0), facts()).await;
    }
    app
}

#[tokio::test]
async fn bulk_overrides_are_all_or_nothing_and_name_the_first_offender() {
    let app = estate().await;
    let partner = token(&[Role::SecurityAdmin], &["north", "south"]);
    let input = |tenants: Value, actions: Value| json!({"i": {"tenantIds": tenants, "actionIds": actions, "state": "THIRD_PARTY", "comment": "Covered by our EDR"}});
    let cases = [
        (
            input(json!(["north", "west", "south"]), json!(["AdminMFA"])),
            "NOT_FOUND",
            "`west`",
        ),
        (
            input(json!(["north", "ghost"]), json!(["AdminMFA"])),
            "NOT_FOUND",
            "`ghost`",
        ),
        (
            input(json!(["north"]), json!(["AdminMFA", "NoSuchAction"])),
            "NOT_FOUND",
            "`NoSuchAction`",
        ),
        (
            input(json!([]), json!(["AdminMFA"])),
            "BAD_USER_INPUT",
            "at least one",
        ),
    ];
    for (variables, code, words) in cases {
        let body = app.graphql(&partner, BULK, variables).await;
        assert_error(&body, code, words);
    }
    let too_many: Vec<String> = (0..1001).map(|i| format!("t{i}")).collect();
    let body = app
        .graphql(&partner, BULK, input(json!(too_many), json!(["AdminMFA"])))
        .await;
    assert_error(&body, "BAD_USER_INPUT", "1000");
    assert_eq!(
        app.count("action_overrides").await,
        0,
        "nothing was written"
    );

    let body = app
        .graphql(
            &partner,
            BULK,
            input(
                json!(["north", "south", "north"]),
                json!(["RestrictUserConsent", "SigninRiskPolicy"]),
            ),
        )
        .await;
    let rows = body["data"]["setActionOverrides"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(rows.len(), 4, "duplicates are set once: {body}");
    for row in rows {
        assert_eq!(
            (&row["state"], &row["comment"], &row["updatedBy"]),
            (
                &json!("THIRD_PARTY"),
                &json!("Covered by our EDR"),
                &json!("tester@example.com")
            )
        );
    }
    assert_eq!(app.count("action_overrides").await, 4);
    // Both tenants' today follows: 30.75 + 4 (consent) + 7 (sign-in risk) of 48.
    for tenant in ["north", "south"] {
        wait_for_today(&app, tenant, |t| t["score"]["score"] == 41.75).await;
    }
    let west = wait_for_today(&app, "west", |t| !t["score"].is_null()).await;
    assert_eq!(west["score"]["score"], 30.75, "west was not touched");
}

#[tokio::test]
async fn an_override_expiring_two_seconds_from_now_stops_counting_in_todays_score() {
    let app = estate().await;
    let admin = token(&[Role::GlobalAdmin], &["north"]);
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    let body = app
        .graphql(&admin, "mutation($at: DateTime) { setActionOverride(input: {tenantId: \"north\", actionId: \"AdminMFA\", state: IGNORED, expiresAt: $at}) { state } }", json!({"at": past}))
        .await;
    assert_error(&body, "BAD_USER_INPUT", "expiresAt");
    assert_eq!(app.count("action_overrides").await, 0);

    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let body = app
        .graphql(&admin, "mutation($at: DateTime) { setActionOverride(input: {tenantId: \"north\", actionId: \"RestrictUserConsent\", state: THIRD_PARTY, expiresAt: $at}) { state expiresAt } }", json!({"at": soon}))
        .await;
    assert_eq!(
        body["data"]["setActionOverride"]["state"], "THIRD_PARTY",
        "{body}"
    );
    assert!(body["data"]["setActionOverride"]["expiresAt"].is_string());
    let during = wait_for_today(&app, "north", |t| t["score"]["score"] == 34.75).await;
    assert_eq!(
        during["overrides"],
        json!([{"action": {"id": "RestrictUserConsent"}, "state": "THIRD_PARTY"}])
    );
    // After the expiry, without any call: back to the rule (consent open, 0 of 4).
    let after = wait_for_today(&app, "north", |t| t["score"]["score"] == 30.75).await;
    assert_eq!(after["overrides"], json!([]));
    // A recomputation of today agrees.
    let recomputed = app.recompute("north", &day(0), &day(0)).await;
    assert_eq!(
        recomputed["data"]["recomputeScores"]["daysScored"], 1,
        "{recomputed}"
    );
    let again = wait_for_today(&app, "north", |t| !t["score"].is_null()).await;
    assert_eq!(again["score"]["score"], 30.75);
}

#[tokio::test]
async fn goals_are_set_within_0_to_100_and_cleared_with_null() {
    let app = estate().await;
    let admin = token(&[Role::SecurityAdmin], &["north"]);
    let set = |value: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            app.graphql(
                admin,
                "mutation($p: Float) { setTenantGoal(tenantId: \"north\", percentage: $p) { goal } }",
                json!({"p": value}),
            )
            .await
        }
    };
    assert_eq!(
        set(json!(82.5)).await["data"]["setTenantGoal"]["goal"],
        82.5
    );
    for bad in [json!(100.5), json!(-1)] {
        assert_error(&set(bad).await, "BAD_USER_INPUT", "0 to 100");
    }
    let read = app
        .graphql(
            &token(&[Role::SecurityReader], &["north"]),
            "{ tenant(id: \"north\") { goal } }",
            json!({}),
        )
        .await;
    assert_eq!(
        read["data"]["tenant"]["goal"], 82.5,
        "refusals changed nothing"
    );
    assert_eq!(
        set(Value::Null).await["data"]["setTenantGoal"]["goal"],
        Value::Null
    );
}
