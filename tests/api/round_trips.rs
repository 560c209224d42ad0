//! Database round trips do not grow with the size of lists: a year of history costs what a
//! month costs, a page of many tenants with their scores what a page of few costs. The schema
//! runs on a connection that counts every statement it sends.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::{Executor, Request, Variables};
use securescore::auth::Viewer;
use securescore::config::{RequestLimits, ScoringConfig};
use securescore::domain::Role;
use securescore::graphql::{AppSchema, build_schema};
use serde_json::{Value, json};

use crate::helpers::{TestApp, day, noon, platform_admin, spawn_app, spawn_app_with, token};

const HISTORY: &str =
    "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) {
    date score categories { category score }
    actionScores { score maxScore status action { id title maxScore } } } } }";

/// A schema on its own connection to a test app's database, the count of statements it sends,
/// and the app's pipeline (to let it settle before a count).
struct Counting {
    schema: AppSchema,
    statements: Arc<AtomicUsize>,
    pipeline: securescore::pipeline::Pipeline,
}

/// A counting schema on `app`'s database, with the catalog already held as it is once the
/// replica has read it.
async fn counting_schema(app: &TestApp) -> Counting {
    let mut db = securescore::db::connect(&app.database_url).await.unwrap();
    // The replica holds the catalog from its first read on: count the steady state.
    app.pipeline
        .reference_cache()
        .catalog(|| securescore::service::catalog::all_actions(&db))
        .await
        .unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let collector = securescore::collector::Collector::new(
        db.clone(),
        securescore::config::GraphConfig::default(),
        securescore::secrets::SecretsKey::default(),
        app.pipeline.clone(),
    );
    let schema = build_schema(
        db,
        app.pipeline.clone(),
        ScoringConfig::default(),
        securescore::config::WebhookConfig::default(),
        collector,
        // Rows, not prices, are what these tests measure: a year of action scores is far past
        // the default complexity limit.
        &RequestLimits {
            max_complexity: usize::MAX,
            ..RequestLimits::default()
        },
        securescore::graphql::budget::CostConfig::OFF,
    );
    Counting {
        schema,
        statements,
        pipeline: app.pipeline.clone(),
    }
}

/// Runs `query` as `viewer` once the app has settled (live rescoring done, every event it
/// published handed to its caches: a late eviction would otherwise move a count); returns its
/// data and the statements it sent.
async fn run_counted(
    counting: &Counting,
    viewer: Viewer,
    query: &str,
    variables: Value,
) -> (Value, usize) {
    assert!(
        counting.pipeline.settled(Duration::from_secs(30)).await,
        "the pipeline did not settle"
    );
    run_counted_now(counting, viewer, query, variables).await
}

/// Runs `query` as `viewer` at once; returns its data and the statements it sent.
async fn run_counted_now(
    Counting {
        schema, statements, ..
    }: &Counting,
    viewer: Viewer,
    query: &str,
    variables: Value,
) -> (Value, usize) {
    let request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(viewer);
    statements.store(0, Ordering::SeqCst);
    let response = schema.execute(request).await;
    let sent = statements.load(Ordering::SeqCst);
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    (response.data.into_json().unwrap(), sent)
}

fn viewer(role: Role, tenants: &[&str]) -> Viewer {
    Viewer::new(
        "counter".into(),
        BTreeSet::from([role]),
        tenants.iter().map(|t| t.to_string()).collect(),
    )
}

/// Runs the history query from `days` ago to today; returns the days and statements it cost.
async fn history_cost(counting: &Counting, days: i64) -> (usize, usize) {
    let (data, sent) = run_counted(
        counting,
        viewer(Role::SecurityReader, &["acme"]),
        HISTORY,
        json!({"f": day(-days), "t": day(0)}),
    )
    .await;
    let history = data["tenant"]["scoreHistory"].as_array().unwrap();
    for score in history {
        assert_eq!(
            score["actionScores"].as_array().unwrap().len(),
            crate::helpers::built_in_actions(),
            "{score}"
        );
    }
    (history.len(), sent)
}

/// Tenant `acme` scored every day of the last year, from three snapshots.
async fn a_year_of_acme(app: &TestApp) {
    app.create_tenant("acme", None, 100).await;
    for days_ago in [365, 200, 30] {
        let facts = json!({"users": {"total": 100, "mfaRegistered": 100 - days_ago / 5}});
        let body = app.ingest("acme", &noon(-days_ago), facts).await;
        assert!(body["data"]["ingestSnapshot"]["id"].is_string(), "{body}");
    }
    let scored = app.recompute("acme", &day(-365), &day(0)).await;
    assert_eq!(
        scored["data"]["recomputeScores"]["daysScored"], 366,
        "{scored}"
    );
}

#[tokio::test]
async fn a_year_of_history_with_every_action_score_costs_the_same_round_trips_as_a_month() {
    let app = spawn_app().await;
    a_year_of_acme(&app).await;

    let counting = counting_schema(&app).await;
    let (month_days, month_statements) = history_cost(&counting, 29).await;
    let (year_days, year_statements) = history_cost(&counting, 365).await;
    assert_eq!((month_days, year_days), (30, 366));
    // The tenant with its newest day, the other days, and every day's action scores in one
    // batch; the catalog is held.
    assert_eq!(
        month_statements, 3,
        "a month cost {month_statements} statements"
    );
    assert_eq!(
        year_statements, month_statements,
        "a year cost {year_statements} statements, a month {month_statements}"
    );

    // Trends by week over a month and over a year, each read cold.
    let trends = |days: i64| {
        let (counting, app) = (&counting, &app);
        async move {
            app.pipeline
                .score_cache()
                .observe(&securescore::events::Event::Resync);
            run_counted(
                counting,
                viewer(Role::SecurityReader, &["acme"]),
                "query($f: Date!, $t: Date!) { tenant(id: \"acme\") {
                    trends(from: $f, to: $t) { pointsAchieved percentageAtEnd } } }",
                json!({"f": day(-days), "t": day(0)}),
            )
            .await
        }
    };
    let (month, month_trends) = trends(29).await;
    let (year, year_trends) = trends(365).await;
    assert_eq!(month["tenant"]["trends"].as_array().unwrap().len(), 5);
    assert_eq!(year["tenant"]["trends"].as_array().unwrap().len(), 53);
    assert_eq!(
        year_trends, month_trends,
        "trends over a year cost {year_trends} statements, over a month {month_trends}"
    );
}

#[tokio::test]
async fn trends_read_again_take_each_days_step_from_the_cache_and_read_no_set() {
    let app = spawn_app().await;
    a_year_of_acme(&app).await;
    let counting = counting_schema(&app).await;
    let trends = || {
        run_counted(
            &counting,
            viewer(Role::SecurityReader, &["acme"]),
            "query($f: Date!, $t: Date!) { tenant(id: \"acme\") {
                trends(from: $f, to: $t) { pointsAchieved pointsRegressed riskAcceptedPoints percentageAtEnd } } }",
            json!({"f": day(-365), "t": day(0)}),
        )
    };
    // The tenant with its newest day, the year's days, and the sets the steps go between.
    let (first, first_cost) = trends().await;
    assert_eq!(first["tenant"]["trends"].as_array().unwrap().len(), 53);
    assert_eq!(
        first_cost, 3,
        "trends read cold cost {first_cost} statements"
    );
    // Every step is kept: the sets are not read again.
    let (again, again_cost) = trends().await;
    assert_eq!(again, first);
    assert_eq!(
        again_cost, 2,
        "trends read again cost {again_cost} statements"
    );
}

const PAGE: &str = "{ tenants(first: 100) { edges { node { id
    score { date score actionScores { score action { id title } } }
    yesterday: score(date: \"YESTERDAY\") { score } } } } }";

/// Runs the page query as a PlatformAdmin; returns the tenants listed and the statements sent.
async fn page_cost(counting: &Counting) -> (usize, usize) {
    let query = PAGE.replace("YESTERDAY", &day(-1));
    let (data, sent) = run_counted(
        counting,
        viewer(Role::PlatformAdmin, &[]),
        &query,
        json!({}),
    )
    .await;
    let edges = data["tenants"]["edges"].as_array().unwrap();
    for edge in edges {
        let node = &edge["node"];
        assert_eq!(node["score"]["date"], day(0), "{node}");
        assert_eq!(
            node["score"]["actionScores"].as_array().unwrap().len(),
            crate::helpers::built_in_actions(),
            "{node}"
        );
        assert!(node["yesterday"]["score"].is_number(), "{node}");
    }
    (edges.len(), sent)
}

#[tokio::test]
async fn a_page_of_many_tenants_with_their_scores_costs_what_a_page_of_few_costs() {
    let app = spawn_app().await;
    let counting = counting_schema(&app).await;
    let mut costs = Vec::new();
    for batch in [0..3, 3..12] {
        for n in batch {
            let id = format!("tenant-{n:02}");
            app.create_tenant(&id, None, 10).await;
            let facts = json!({"users": {"total": 10, "mfaRegistered": n % 10}});
            app.ingest(&id, &noon(-1), facts).await;
        }
        let scored = app
            .graphql(
                &platform_admin(),
                "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { tenantsScored } }",
                json!({"f": day(-1), "t": day(0)}),
            )
            .await;
        assert!(scored["errors"].is_null(), "{scored}");
        costs.push(page_cost(&counting).await);
    }
    assert_eq!(costs[0].0, 3);
    assert_eq!(costs[1].0, 12);
    // The page, latest scores, yesterday's scores, their action scores; the catalog is held.
    assert_eq!(
        costs[0].1, 4,
        "three tenants cost {} statements",
        costs[0].1
    );
    assert_eq!(
        costs[1].1, costs[0].1,
        "twelve tenants cost {} statements",
        costs[1].1
    );
}

const OVERRIDES: &str = "{ tenant(id: \"acme\") {
    overrides { state action { id title } }
    overrideHistory(first: 100) { edges { node { state action { id title } } } } } }";

/// Runs the overrides query; returns the history length and the statements it sent.
async fn overrides_cost(counting: &Counting) -> (usize, usize) {
    let reader = viewer(Role::SecurityReader, &["acme"]);
    let (data, sent) = run_counted(counting, reader, OVERRIDES, json!({})).await;
    let history = data["tenant"]["overrideHistory"]["edges"]
        .as_array()
        .unwrap();
    for edge in history {
        assert!(edge["node"]["action"]["title"].is_string(), "{edge}");
    }
    (history.len(), sent)
}

#[tokio::test]
async fn override_lists_with_their_actions_cost_the_same_however_long() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let counting = counting_schema(&app).await;
    let admin = token(&[Role::SecurityAdmin], &["acme"]);
    let actions = [
        "AdminMFA",
        "MFARegistration",
        "BlockLegacyAuthentication",
        "PasswordsNeverExpire",
        "SigninRiskPolicy",
        "UserRiskPolicy",
        "RestrictUserConsent",
        "SelfServicePasswordReset",
    ];
    let mut costs = Vec::new();
    for batch in [&actions[..2], &actions[2..]] {
        for action in batch {
            let body = app
                .graphql(
                    &admin,
                    "mutation($a: ID!) { setActionOverride(input: {tenantId: \"acme\", actionId: $a, state: THIRD_PARTY}) { state } }",
                    json!({"a": action}),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
        costs.push(overrides_cost(&counting).await);
    }
    assert_eq!((costs[0].0, costs[1].0), (2, 8));
    assert_eq!(
        costs[1].1, costs[0].1,
        "eight overrides cost {} statements, two {}",
        costs[1].1, costs[0].1
    );
}

const SORTED_PAGE: &str = "{
    tenants(first: 50, orderBy: {field: PERCENTAGE_CHANGE, direction: DESC},
            filter: {percentageAtLeast: 0, action: {actionId: \"MFARegistration\",
                     statuses: [COMPLETED, PARTIAL, NOT_COMPLETED]}}, changeDays: 1) {
      edges { node { id percentageChange(days: 1) score { percentage } } } }
    portfolio(filter: {action: {actionId: \"MFARegistration\", statuses: [PARTIAL, NOT_COMPLETED]}}) {
                tenantCount averagePercentage regressedTenantCount overduePlanCount
                zones { zone tenantCount } distribution { tenantCount } categories { score }
                actions { action { id title } statuses { status tenantCount } pointsAtStake } } }";

#[tokio::test]
async fn a_sorted_filtered_page_and_the_portfolio_with_its_action_rollup_cost_the_same_for_few_and_many_tenants()
 {
    let app = spawn_app().await;
    let counting = counting_schema(&app).await;
    let mut costs = Vec::new();
    for batch in [0..3, 3..12] {
        for n in batch {
            let id = format!("tenant-{n:02}");
            app.create_tenant(&id, None, 10).await;
            for back in [-1, 0] {
                let facts = json!({"users": {"total": 10, "mfaRegistered": (n + back + 1) % 10}});
                app.ingest(&id, &noon(back), facts).await;
            }
        }
        let scored = app
            .graphql(
                &platform_admin(),
                "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { tenantsScored } }",
                json!({"f": day(-1), "t": day(0)}),
            )
            .await;
        assert!(scored["errors"].is_null(), "{scored}");
        let (data, sent) = run_counted(
            &counting,
            viewer(Role::PlatformAdmin, &[]),
            SORTED_PAGE,
            json!({}),
        )
        .await;
        let edges = data["tenants"]["edges"].as_array().unwrap();
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["percentageChange"].is_number()),
            "{data}"
        );
        // Every tenant is below ten of ten registered: the rollup's first action is
        // MFARegistration, over every tenant.
        let rollup = &data["portfolio"]["actions"];
        assert_eq!(rollup[0]["action"]["id"], "MFARegistration", "{data}");
        let counted: i64 = rollup[0]["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tenantCount"].as_i64().unwrap())
            .sum();
        assert_eq!(counted as usize, edges.len(), "{data}");
        costs.push((edges.len(), sent));
    }
    assert_eq!((costs[0].0, costs[1].0), (3, 12));
    assert_eq!(
        costs[1].1, costs[0].1,
        "twelve tenants cost {} statements, three {}",
        costs[1].1, costs[0].1
    );
}

const ALERT_PAGE: &str = "{ tenant(id: \"acme\") {
    alerts(first: 100) { edges { node { date rule { kind threshold } } } }
    webhookEndpoints { deliveries(first: 100) { edges { node { status alert { date }
        attemptHistory { responseStatus } } } } } } }";

#[tokio::test]
async fn pages_of_alerts_and_deliveries_cost_the_same_however_long() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 100).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    for document in [
        "mutation { createWebhookEndpoint(input: {tenantId: \"acme\", url: \"http://127.0.0.1:9/hook\"}) { secret } }",
        "mutation { createAlertRule(input: {tenantId: \"acme\", kind: BELOW_PERCENTAGE, threshold: 100}) { id } }",
        "mutation { createAlertRule(input: {tenantId: \"acme\", kind: REGRESSION}) { id } }",
    ] {
        let body = app.graphql(&admin, document, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let counting = counting_schema(&app).await;
    let cost = |counting| async move {
        let (data, sent) = run_counted(
            counting,
            viewer(Role::SecurityReader, &["acme"]),
            ALERT_PAGE,
            json!({}),
        )
        .await;
        let alerts = data["tenant"]["alerts"]["edges"].as_array().unwrap().len();
        (alerts, sent)
    };
    // Every day under 100 % raises one BELOW alert; recent ones are delivered (and fail).
    app.ingest(
        "acme",
        &noon(-2),
        json!({"users": {"total": 10, "mfaRegistered": 1}}),
    )
    .await;
    app.recompute("acme", &day(-2), &day(-1)).await;
    let (few, few_statements) = cost(&counting).await;
    app.ingest(
        "acme",
        &noon(-9),
        json!({"users": {"total": 10, "mfaRegistered": 2}}),
    )
    .await;
    app.recompute("acme", &day(-9), &day(-1)).await;
    let (many, many_statements) = cost(&counting).await;
    assert!(many > few + 5, "{few} then {many} alerts");
    assert_eq!(
        many_statements, few_statements,
        "{few} alerts cost {few_statements} statements, {many} cost {many_statements}"
    );
}

const IMPROVEMENTS: &str = "query($t: Date!) { tenant(id: \"acme\") {
    improvementActions(date: $t, includeCompleted: true) { status action { id title } } } }";
const DIFF_CHANGES: &str = "query($f: Date!, $t: Date!) { tenant(id: \"acme\") {
    scoreDiff(from: $f, to: $t) { changes { scoreDelta action { id title } } } } }";

/// Runs the improvement list on `to` days back and the diff from `from` to `to` (closed days,
/// which nothing rewrites meanwhile), each alone; returns how many changes the diff listed and
/// the statements each query sent.
async fn action_lists_cost(counting: &Counting, from: i64, to: i64) -> (usize, usize, usize) {
    let reader = || viewer(Role::SecurityReader, &["acme"]);
    let (listed, improvements_sent) =
        run_counted(counting, reader(), IMPROVEMENTS, json!({"t": day(to)})).await;
    for item in listed["tenant"]["improvementActions"].as_array().unwrap() {
        assert!(item["action"]["title"].is_string(), "{item}");
    }
    let variables = json!({"f": day(from), "t": day(to)});
    let (diff, diff_sent) = run_counted(counting, reader(), DIFF_CHANGES, variables).await;
    let changes = diff["tenant"]["scoreDiff"]["changes"].as_array().unwrap();
    for change in changes {
        assert!(change["action"]["title"].is_string(), "{change}");
    }
    (changes.len(), improvements_sent, diff_sent)
}

#[tokio::test]
async fn improvement_actions_and_diff_changes_with_their_actions_cost_the_same_however_many() {
    // No closed-day cache: an eviction arriving late (PostgreSQL delivers events
    // asynchronously) would otherwise move one measurement's count and not the other's.
    let app = spawn_app_with(|config| config.scoring.score_cache_bytes = 0).await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-3), crate::helpers::partial_mfa_facts())
        .await;
    let mut one_change = crate::helpers::partial_mfa_facts();
    one_change["users"]["mfaRegistered"] = json!(120);
    app.ingest("acme", &noon(-2), one_change.clone()).await;
    let mut many_changes = one_change;
    many_changes["users"]["legacyAuthBlocked"] = json!(120);
    many_changes["users"]["signInRiskCovered"] = json!(120);
    many_changes["users"]["userRiskCovered"] = json!(120);
    many_changes["passwordPolicy"]["neverExpires"] = json!(false);
    many_changes["apps"]["userConsentRestricted"] = json!(true);
    app.ingest("acme", &noon(-1), many_changes).await;
    // Through today, so the tenant's newest day is today in both measurements (read with the
    // tenant, it would save the list on that day its own statement).
    app.recompute("acme", &day(-3), &day(0)).await;

    let counting = counting_schema(&app).await;
    let few = action_lists_cost(&counting, -3, -2).await;
    let many = action_lists_cost(&counting, -2, -1).await;
    assert!(
        many.0 > few.0 + 3,
        "more changes listed: {few:?} then {many:?}"
    );
    assert_eq!(
        many.1, few.1,
        "the improvement lists: {few:?} then {many:?}"
    );
    assert_eq!(
        many.2, few.2,
        "{} changes cost {} statements, {} cost {}",
        many.0, many.2, few.0, few.2
    );
}

/// The dashboard a frontend sends for one tenant (as `securescore-bench reads` sends it).
const DASHBOARD: &str = "query($f: Date!, $t: Date!) { tenant(id: \"acme\") {
    id name goal
    score { date score maxScore percentage coverage plannedScore categories { category score maxScore } }
    scoreHistory(from: $f, to: $t) { date score maxScore percentage }
    improvementActions { action { id title category } status score maxScore potentialIncrease }
    comparison { basis group tenantCount averagePercentage } } }";

#[tokio::test]
async fn a_dashboard_costs_two_statements_once_closed_days_the_catalog_and_comparisons_are_held() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 100).await;
    for days_ago in [120, 60, 10] {
        let facts = json!({"users": {"total": 100, "mfaRegistered": 100 - days_ago / 2}});
        app.ingest("acme", &noon(-days_ago), facts).await;
    }
    let scored = app.recompute("acme", &day(-120), &day(0)).await;
    assert!(scored["errors"].is_null(), "{scored}");
    let counting = counting_schema(&app).await;
    let reader = || viewer(Role::SecurityReader, &["acme"]);
    let range = json!({"f": day(-89), "t": day(0)});
    let (cold, _) = run_counted(&counting, reader(), DASHBOARD, range.clone()).await;
    assert_eq!(cold["tenant"]["scoreHistory"].as_array().unwrap().len(), 90);
    let (warm, sent) = run_counted(&counting, reader(), DASHBOARD, range.clone()).await;
    assert_eq!(warm, cold);
    // The tenant with its newest day, and how many of the caller's tenants each comparison
    // group holds; the closed days, today's action scores, the catalog and the date's
    // comparison averages are held.
    assert_eq!(sent, 2, "a warm dashboard cost {sent} statements");

    // A catalog change made on this replica shows in its next dashboard, without waiting for
    // the event to come back.
    let action = cold["tenant"]["improvementActions"][0]["action"].clone();
    let renamed = app
        .graphql(
            &platform_admin(),
            "mutation($i: UpsertActionInput!) { upsertAction(input: $i) { id } }",
            json!({"i": {"id": action["id"], "title": "Renamed for the dashboard",
                "category": action["category"], "maxScore": 10,
                "rule": {"kind": "BOOLEAN", "fact": "users.mfaRequired"}}}),
        )
        .await;
    assert!(renamed["errors"].is_null(), "{renamed}");
    let (after, _) = run_counted_now(&counting, reader(), DASHBOARD, range).await;
    let titles: Vec<&Value> = after["tenant"]["improvementActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["action"]["title"])
        .collect();
    assert!(
        titles.contains(&&json!("Renamed for the dashboard")),
        "{titles:?}"
    );
}

const DIFF_WHO: &str = "query($f: Date!, $t: Date!) { tenant(id: \"acme\") {
    scoreDiff(from: $f, to: $t) { changes { action { id } directoryChanges { id initiatedBy targets { type } } } } } }";

/// Runs the diff with its directory changes; answers the events listed under the first
/// action that has any, and the statements the diff cost.
async fn diff_with_changes_cost(counting: &Counting, from: i64, to: i64) -> (usize, usize) {
    let reader = viewer(Role::SecurityReader, &["acme"]);
    let variables = json!({"f": day(from), "t": day(to)});
    let (diff, sent) = run_counted(counting, reader, DIFF_WHO, variables).await;
    let listed = diff["tenant"]["scoreDiff"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["directoryChanges"].as_array().unwrap().len())
        .max()
        .unwrap_or(0);
    (listed, sent)
}

#[tokio::test]
async fn a_diff_with_its_directory_changes_costs_the_same_however_many_changes() {
    let app = spawn_app_with(|config| config.scoring.score_cache_bytes = 0).await;
    app.create_tenant("acme", None, 120).await;
    let mut facts = crate::helpers::partial_mfa_facts();
    for (days_ago, registered) in [(3, 90), (2, 100), (1, 110)] {
        facts["users"]["mfaRegistered"] = json!(registered);
        app.ingest("acme", &noon(-days_ago), facts.clone()).await;
    }
    // One registration logged between the first two snapshots, forty between the next two.
    let registration = |n: usize, days_ago: i64| securescore::domain::DirectoryChange {
        id: format!("ev-{days_ago}-{n}"),
        at: chrono::DateTime::parse_from_rfc3339(&noon(-days_ago))
            .unwrap()
            .to_utc()
            - chrono::Duration::minutes(1 + n as i64),
        activity: "User registered security info".into(),
        category: "UserManagement".into(),
        result: Some("success".into()),
        initiated_by: Some(format!("user{n}@contoso.com")),
        targets: vec![securescore::domain::ChangeTarget {
            kind: "User".into(),
            id: Some(format!("u{n}")),
            display_name: None,
            modified_properties: Vec::new(),
        }],
    };
    let mut events = vec![registration(0, 2)];
    events.extend((0..40).map(|n| registration(n, 1)));
    securescore::service::directory_changes::keep_changes(&app.db, "acme", &events)
        .await
        .unwrap();
    app.recompute("acme", &day(-3), &day(0)).await;

    let counting = counting_schema(&app).await;
    let few = diff_with_changes_cost(&counting, -3, -2).await;
    let many = diff_with_changes_cost(&counting, -2, -1).await;
    assert_eq!((few.0, many.0), (1, 40), "{few:?} then {many:?}");
    assert_eq!(
        many.1, few.1,
        "{} events cost {} statements, {} cost {}",
        many.0, many.1, few.0, few.1
    );
}
