//! Managing many tenants: bulk overrides (all or nothing), overrides that expire, goals.

use std::time::Duration;

use chrono::SubsecRound;

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_error, day, eventually, noon, partial_mfa_facts, spawn_app, token,
};

const BULK: &str = "mutation($i: SetActionOverridesInput!) { setActionOverrides(input: $i) {
    tenantId action { id } state comment updatedBy expiresAt } }";

/// Polls `tenant`'s score for today until `done` holds (at most 15 s).
async fn wait_for_today(app: &TestApp, tenant: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually("today's score got there", Duration::from_secs(15), || async {
        let body = app
            .graphql(
                &token(&[Role::SecurityReader], &[tenant]),
                "query($id: ID!, $d: Date) { tenant(id: $id) { score(date: $d) { score maxScore } overrides { action { id } state } } }",
                json!({"id": tenant, "d": day(0)}),
            )
            .await;
        let tenant_data = body["data"]["tenant"].clone();
        done(&tenant_data).then_some(tenant_data)
    })
    .await
}

async fn estate() -> TestApp {
    let app = spawn_app().await;
    for tenant in ["north", "south", "west"] {
        app.create_tenant(tenant, None, 120).await;
        app.ingest(tenant, &noon(0), partial_mfa_facts()).await;
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

/// Five tenants with percentages of 0, 25, 50, 75 or 100 (MFA registration of 4 users):
/// a 25 → 50, b 75 → 50, c — → 100, d never scored, e 0 → 25 (yesterday → today).
async fn ranked_estate() -> TestApp {
    let app = spawn_app().await;
    let admin = crate::helpers::platform_admin();
    let tenants = [
        ("a", "Delta", "Finance", 50, Some(1), Some(2)),
        ("b", "Alpha", "Retail", 500, Some(3), Some(2)),
        ("c", "Charlie", "Finance", 5000, None, Some(4)),
        ("d", "Bravo", "Finance", 50, None, None),
        ("e", "Echo", "Retail", 20, Some(0), Some(1)),
    ];
    for (id, name, industry, seats, yesterday, today) in tenants {
        let body = app
            .graphql(
                &admin,
                "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }",
                json!({"i": {"id": id, "name": name, "industry": industry, "seatCount": seats}}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        for (back, registered) in [(-1, yesterday), (0, today)] {
            if let Some(registered) = registered {
                let facts = json!({"users": {"total": 4, "mfaRegistered": registered}});
                app.ingest(id, &noon(back), facts).await;
            }
        }
    }
    let body = app
        .graphql(&admin, "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { daysScored } }", json!({"f": day(-1), "t": day(0)}))
        .await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 7, "{body}");
    app
}

const ESTATE: &str =
    "query($first: Int, $after: String, $order: TenantOrder, $filter: TenantFilter) {
    tenants(first: $first, after: $after, orderBy: $order, filter: $filter, changeDays: 1) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";

/// Every tenant id under `order` and `filter`, read page by page (two per page).
async fn all_pages(app: &TestApp, order: Value, filter: Value) -> Vec<String> {
    let admin = crate::helpers::platform_admin();
    let (mut ids, mut after) = (Vec::new(), Value::Null);
    loop {
        let body = app
            .graphql(
                &admin,
                ESTATE,
                json!({"first": 2, "after": after, "order": order, "filter": filter}),
            )
            .await;
        let page = &body["data"]["tenants"];
        let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        ids.extend(
            edges
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn every_order_lists_every_tenant_once_ties_by_id_and_unscored_last() {
    let app = ranked_estate().await;
    let order = |field: &str, direction: &str| json!({"field": field, "direction": direction});
    for (field, direction, expected) in [
        ("ID", "ASC", ["a", "b", "c", "d", "e"]),
        ("ID", "DESC", ["e", "d", "c", "b", "a"]),
        ("NAME", "ASC", ["b", "d", "c", "a", "e"]),
        ("NAME", "DESC", ["e", "a", "c", "d", "b"]),
        ("PERCENTAGE", "ASC", ["e", "a", "b", "c", "d"]),
        ("PERCENTAGE", "DESC", ["c", "a", "b", "e", "d"]),
        ("PERCENTAGE_CHANGE", "ASC", ["b", "a", "e", "c", "d"]),
        ("PERCENTAGE_CHANGE", "DESC", ["a", "e", "b", "c", "d"]),
    ] {
        assert_eq!(
            all_pages(&app, order(field, direction), Value::Null).await,
            expected,
            "{field} {direction}"
        );
    }
    let by_percentage = order("PERCENTAGE", "DESC");
    for (filter, expected) in [
        (json!({"industry": "Finance"}), vec!["c", "a", "d"]),
        (json!({"seatSizeGroup": "11-100"}), vec!["a", "e", "d"]),
        (json!({"percentageAtLeast": 50}), vec!["c", "a", "b"]),
        (json!({"percentageBelow": 50}), vec!["e"]),
        (
            json!({"industry": "Finance", "percentageBelow": 100}),
            vec!["a"],
        ),
    ] {
        assert_eq!(
            all_pages(&app, by_percentage.clone(), filter.clone()).await,
            expected,
            "{filter}"
        );
    }
    let admin = crate::helpers::platform_admin();
    let bad = app
        .graphql(&admin, ESTATE, json!({"filter": {"seatSizeGroup": "huge"}}))
        .await;
    assert_error(&bad, "BAD_USER_INPUT", "seatSizeGroup");
    // A cursor taken under one order is refused under another.
    let first = app
        .graphql(&admin, ESTATE, json!({"first": 2, "order": by_percentage}))
        .await;
    let cursor = first["data"]["tenants"]["pageInfo"]["endCursor"].clone();
    for other in [
        order("PERCENTAGE", "ASC"),
        order("NAME", "DESC"),
        Value::Null,
    ] {
        let body = app
            .graphql(
                &admin,
                ESTATE,
                json!({"first": 2, "after": cursor, "order": other}),
            )
            .await;
        assert_error(&body, "BAD_USER_INPUT", "cursor");
    }
    // A partner lists only its own tenants.
    let partner = token(&[Role::SecurityReader], &["a", "e"]);
    let body = app
        .graphql(
            &partner,
            ESTATE,
            json!({"order": order("PERCENTAGE", "ASC")}),
        )
        .await;
    let ids: Vec<&str> = body["data"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e", "a"]);
    let changes = app
        .graphql(
            &partner,
            "{ tenants { edges { node { id percentageChange(days: 1) } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        changes["data"]["tenants"]["edges"],
        json!([{"node": {"id": "a", "percentageChange": 25.0}}, {"node": {"id": "e", "percentageChange": 25.0}}])
    );
}

const PORTFOLIO: &str = "query($d: Date) { portfolio(date: $d) { date tenantCount scoredTenantCount
    averageScore averagePercentage categories { category score maxScore }
    distribution { from to tenantCount } regressedTenantCount } }";

#[tokio::test]
async fn the_portfolio_sums_up_the_tenants_in_reach() {
    let app = ranked_estate().await;
    let partner = token(&[Role::SecurityReader], &["a", "b", "e"]);
    let today = app.graphql(&partner, PORTFOLIO, json!({})).await;
    let figures = &today["data"]["portfolio"];
    assert_eq!(figures["date"], day(0), "{today}");
    assert_eq!(
        (&figures["tenantCount"], &figures["scoredTenantCount"]),
        (&json!(3), &json!(3))
    );
    // Scores 4.5, 4.5 and 2.25 of 9; percentages 50, 50 and 25.
    assert_eq!(figures["averageScore"], 3.75);
    assert_eq!(figures["averagePercentage"], 125.0 / 3.0);
    assert_eq!(
        figures["categories"][0],
        json!({"category": "IDENTITY", "score": 3.75, "maxScore": 9.0})
    );
    let counts: Vec<i64> = figures["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["tenantCount"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [0, 0, 1, 0, 0, 2, 0, 0, 0, 0]);
    assert_eq!(
        figures["distribution"][9],
        json!({"from": 90.0, "to": 100.0, "tenantCount": 0})
    );
    assert_eq!(figures["regressedTenantCount"], 1, "b fell from 75 to 50");

    let admin = app
        .graphql(
            &crate::helpers::platform_admin(),
            PORTFOLIO,
            json!({"d": day(0)}),
        )
        .await;
    let all = &admin["data"]["portfolio"];
    assert_eq!(
        (
            &all["tenantCount"],
            &all["scoredTenantCount"],
            &all["averagePercentage"]
        ),
        (&json!(5), &json!(4), &json!(56.25))
    );
    assert_eq!(all["distribution"][9]["tenantCount"], 1, "c at 100 %");

    let yesterday = app
        .graphql(&partner, PORTFOLIO, json!({"d": day(-1)}))
        .await;
    let before = &yesterday["data"]["portfolio"];
    assert_eq!(
        (
            &before["scoredTenantCount"],
            &before["averagePercentage"],
            &before["regressedTenantCount"]
        ),
        (&json!(3), &json!(100.0 / 3.0), &json!(0))
    );
    let collector = app
        .graphql(&token(&[Role::Collector], &["a"]), PORTFOLIO, json!({}))
        .await;
    assert_error(&collector, "FORBIDDEN", "");
}

const ROLLUP: &str = "query($d: Date, $fw: String, $filter: TenantFilter) {
    portfolio(date: $d, filter: $filter) { tenantCount
      actions(framework: $fw) { action { id } statuses { status tenantCount } pointsAtStake } } }";

/// The rollup's rows as (action, statuses, points at stake).
fn rollup_rows(body: &Value) -> Vec<(String, Value, f64)> {
    body["data"]["portfolio"]["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|row| {
            (
                row["action"]["id"].as_str().unwrap().to_owned(),
                row["statuses"].clone(),
                row["pointsAtStake"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_estate_per_action_counts_each_status_and_the_points_at_stake() {
    let app = ranked_estate().await;
    let catalog = securescore::service::catalog::BuiltInCatalog::shipped().unwrap();
    let partner = token(&[Role::SecurityReader], &["a", "b", "e"]);
    // Today, each tenant's latest day: a and b 2 of 4 registered (4.5 of 9 left each), e 1 of 4
    // (6.75 left): MFARegistration PARTIAL in all three, 15.75 points at stake. Every other
    // action has no facts (0 of 0): nothing at stake, by id after it.
    let today = app.graphql(&partner, ROLLUP, json!({})).await;
    let rows = rollup_rows(&today);
    assert_eq!(today["data"]["portfolio"]["tenantCount"], 3);
    assert_eq!(rows.len(), catalog.actions.len(), "{today}");
    assert_eq!(
        rows[0],
        (
            "MFARegistration".to_owned(),
            json!([{"status": "PARTIAL", "tenantCount": 3}]),
            15.75
        )
    );
    let rest: Vec<&str> = rows[1..].iter().map(|r| r.0.as_str()).collect();
    let mut sorted = rest.clone();
    sorted.sort_unstable();
    assert_eq!(rest, sorted, "ties by id");
    for (id, statuses, at_stake) in &rows[1..] {
        assert_eq!(*at_stake, 0.0, "{id}");
        let status = if id == "ReviewSignInReports" {
            "NOT_SCORED"
        } else {
            "NO_DATA"
        };
        assert_eq!(
            statuses,
            &json!([{"status": status, "tenantCount": 3}]),
            "{id}"
        );
    }
    // Yesterday: a 1 of 4 (6.75 left), b 3 of 4 (2.25), e none (9, NOT_COMPLETED).
    let yesterday = app.graphql(&partner, ROLLUP, json!({"d": day(-1)})).await;
    assert_eq!(
        rollup_rows(&yesterday)[0],
        (
            "MFARegistration".to_owned(),
            json!([{"status": "PARTIAL", "tenantCount": 2}, {"status": "NOT_COMPLETED", "tenantCount": 1}]),
            18.0
        )
    );
    // Every tenant, each on its latest day: c has all four registered; d was never scored.
    let all = app
        .graphql(&crate::helpers::platform_admin(), ROLLUP, json!({}))
        .await;
    assert_eq!(
        rollup_rows(&all)[0],
        (
            "MFARegistration".to_owned(),
            json!([{"status": "COMPLETED", "tenantCount": 1}, {"status": "PARTIAL", "tenantCount": 3}]),
            15.75
        )
    );
    // One framework: only the actions mapped to it.
    let cis = "CIS Microsoft 365 Foundations Benchmark v7.0.0";
    let mapped = crate::helpers::built_in_actions_mapped_to(cis);
    let framework = app.graphql(&partner, ROLLUP, json!({"fw": cis})).await;
    let rows = rollup_rows(&framework);
    assert_eq!(rows.len(), mapped, "{framework}");
    assert!(rows.iter().all(|r| r.0 != "ReviewSignInReports"));
    // The portfolio's filter narrows the rollup: the tenants where MFARegistration is
    // COMPLETED are c alone.
    let completed = json!({"action": {"actionId": "MFARegistration", "statuses": ["COMPLETED"]}});
    let filtered = app
        .graphql(
            &crate::helpers::platform_admin(),
            ROLLUP,
            json!({"filter": completed}),
        )
        .await;
    assert_eq!(
        filtered["data"]["portfolio"]["tenantCount"], 1,
        "{filtered}"
    );
    assert_eq!(
        rollup_rows(&filtered)[0].1,
        json!([{"status": "NO_DATA", "tenantCount": 1}]),
        "c completes MFARegistration: nothing at stake anywhere, so ties by id"
    );
}

#[tokio::test]
async fn the_estate_per_action_follows_each_tenants_newest_day() {
    let app = ranked_estate().await;
    let catalog = securescore::service::catalog::BuiltInCatalog::shipped().unwrap();
    let partner = token(&[Role::SecurityReader], &["a", "b", "e"]);
    let mfa = |body: &Value| {
        rollup_rows(body)
            .into_iter()
            .find(|row| row.0 == "MFARegistration")
            .unwrap_or_else(|| panic!("{body}"))
    };
    // a, b, c and e were scored; every action of their newest day is kept, as stored.
    let kept = 4 * catalog.actions.len() as i64;
    assert_eq!(app.assert_newest_days_kept().await, kept);
    // a registers all four today: COMPLETED, nothing at stake; b and e still leave 4.5 + 6.75.
    let now = chrono::Utc::now().to_rfc3339();
    let facts = json!({"users": {"total": 4, "mfaRegistered": 4}});
    app.ingest("a", &now, facts).await;
    let after = eventually(
        "a's newest day rescored",
        Duration::from_secs(15),
        || async {
            let row = mfa(&app.graphql(&partner, ROLLUP, json!({})).await);
            (row.2 == 11.25).then_some(row)
        },
    )
    .await;
    assert_eq!(
        after.1,
        json!([{"status": "COMPLETED", "tenantCount": 1}, {"status": "PARTIAL", "tenantCount": 2}])
    );
    assert_eq!(app.assert_newest_days_kept().await, kept);
    // The whole estate (the sums kept per action and status): a and c complete it now.
    let admin = crate::helpers::platform_admin();
    assert_eq!(
        mfa(&app.graphql(&admin, ROLLUP, json!({})).await),
        (
            "MFARegistration".to_owned(),
            json!([{"status": "COMPLETED", "tenantCount": 2}, {"status": "PARTIAL", "tenantCount": 2}]),
            11.25
        )
    );
    // Recomputing an older day leaves the newest ones as they are; a dated rollup still reads
    // that day's own rows (yesterday: 6.75 + 2.25 + 9).
    let recomputed = app.recompute("a", &day(-1), &day(-1)).await;
    assert_eq!(
        recomputed["data"]["recomputeScores"]["daysScored"], 1,
        "{recomputed}"
    );
    assert_eq!(mfa(&app.graphql(&partner, ROLLUP, json!({})).await), after);
    let yesterday = app.graphql(&partner, ROLLUP, json!({"d": day(-1)})).await;
    assert_eq!(mfa(&yesterday).2, 18.0);
    assert_eq!(app.assert_newest_days_kept().await, kept);
}

#[tokio::test]
async fn tenants_filter_by_an_actions_status_with_every_order_and_cursor() {
    let app = ranked_estate().await;
    let partial = json!({"action": {"actionId": "MFARegistration", "statuses": ["PARTIAL"]}});
    // Latest days: a 50 %, b 50 %, e 25 % are PARTIAL; c is COMPLETED; d has no score.
    assert_eq!(
        all_pages(
            &app,
            json!({"field": "PERCENTAGE", "direction": "DESC"}),
            partial.clone()
        )
        .await,
        ["a", "b", "e"]
    );
    // By name: Alpha (b), Delta (a), Echo (e).
    assert_eq!(
        all_pages(&app, json!({"field": "NAME"}), partial).await,
        ["b", "a", "e"]
    );
    let with_industry = json!({"industry": "Retail",
        "action": {"actionId": "MFARegistration", "statuses": ["PARTIAL", "COMPLETED"]}});
    assert_eq!(
        all_pages(&app, json!({"field": "ID"}), with_industry).await,
        ["b", "e"]
    );
    let admin = crate::helpers::platform_admin();
    let query = "query($f: TenantFilter) { tenants(filter: $f) { edges { node { id } } } }";
    for (filter, words) in [
        (
            json!({"action": {"actionId": "MFARegistration", "statuses": []}}),
            "at least one status",
        ),
        (
            json!({"action": {"actionId": "NoSuchAction", "statuses": ["PARTIAL"]}}),
            "`NoSuchAction`",
        ),
    ] {
        let body = app.graphql(&admin, query, json!({"f": filter})).await;
        assert_error(&body, "BAD_USER_INPUT", words);
        let portfolio = app
            .graphql(
                &admin,
                "query($f: TenantFilter) { portfolio(filter: $f) { tenantCount } }",
                json!({"f": filter}),
            )
            .await;
        assert_error(&portfolio, "BAD_USER_INPUT", words);
    }
}

#[tokio::test]
async fn the_override_history_shows_when_each_state_ended() {
    let app = estate().await;
    let admin = token(&[Role::GlobalAdmin], &["north"]);
    let set = "mutation($s: ActionState!, $at: DateTime) { setActionOverride(input: {tenantId: \"north\", actionId: \"AdminMFA\", state: $s, expiresAt: $at}) { updatedAt } }";
    let first = app.graphql(&admin, set, json!({"s": "IGNORED"})).await;
    let expiry = (chrono::Utc::now() + chrono::Duration::days(30))
        .trunc_subsecs(0)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let second = app
        .graphql(&admin, set, json!({"s": "RISK_ACCEPTED", "at": expiry}))
        .await;
    let history = app
        .graphql(&admin, "{ tenant(id: \"north\") { overrideHistory { edges { node { state updatedAt expiresAt endedAt } } } } }", json!({}))
        .await;
    let edges = &history["data"]["tenant"]["overrideHistory"]["edges"];
    assert_eq!(edges[0]["node"]["state"], "RISK_ACCEPTED", "{history}");
    assert_eq!(edges[0]["node"]["endedAt"], edges[0]["node"]["expiresAt"]);
    assert!(edges[0]["node"]["endedAt"].is_string(), "{history}");
    assert_eq!(edges[1]["node"]["state"], "IGNORED");
    assert_eq!(edges[1]["node"]["expiresAt"], Value::Null);
    assert_eq!(
        edges[1]["node"]["endedAt"], second["data"]["setActionOverride"]["updatedAt"],
        "replaced by the second change: {history}"
    );
    assert!(first["errors"].is_null(), "{first}");
}

#[tokio::test]
async fn a_partners_dashboard_query_fits_the_default_limits() {
    let app = ranked_estate().await;
    let partner = token(&[Role::SecurityReader], &["a", "b", "c", "d", "e"]);
    let body = app
        .graphql(
            &partner,
            "query Dashboard($from: Date!, $to: Date!) {
               portfolio { date tenantCount averagePercentage distribution { from to tenantCount }
                           categories { category score maxScore } regressedTenantCount }
               tenants(first: 50, orderBy: {field: PERCENTAGE, direction: ASC}) { edges { node {
                 id name goal percentageChange score { percentage coverage }
                 scoreHistory(from: $from, to: $to) { date percentage } } } } }",
            json!({"from": day(-29), "to": day(0)}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["tenants"]["edges"].as_array().unwrap().len(),
        5
    );
}
