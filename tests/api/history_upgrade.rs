//! Upgrading history to packed action score sets: a database holding one action row per
//! tenant, day and action (as releases before migration 21 wrote them, superseded versions
//! included) migrates in place, a migration stopped half way finishes when started again with
//! nothing lost or doubled, and every answer built on the history is the same afterwards.

use migration::{Migrator, MigratorTrait};
use reqwest::header::AUTHORIZATION;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, UNNAMED_SETS, day, noon, partial_mfa_facts, platform_admin, spawn_app,
};

/// Tenants in the history: more than the migration packs per round.
const TENANTS: usize = 24;

const TENANT_ANSWERS: &str = "query($id: ID!, $from: Date!, $to: Date!, $mid: Date!) {
  tenant(id: $id) {
    scoreHistory(from: $from, to: $to) {
      date score maxScore percentage coverage categories { category score maxScore }
      actionScores { action { id } score maxScore status state progress { current total }
        potentialIncrease scoreImpact }
    }
    scoreDiff(from: $from, to: $to) {
      scoreDelta maxScoreDelta percentageDelta
      changes { action { id } scoreBefore scoreAfter maxScoreBefore maxScoreAfter statusBefore
        statusAfter stateBefore stateAfter progressBefore { current total } progressAfter { current total } reasons }
    }
    trends(from: $from, to: $to, period: WEEK) {
      from to pointsAchieved pointsRegressed regressedActions riskAcceptedPoints percentageAtEnd
    }
    improvementActions(date: $mid, includeCompleted: true) { action { id } score status }
  }
}";

const PORTFOLIO_ANSWERS: &str = "query($d: Date!) {
  portfolio(date: $d) {
    scoredTenantCount averageScore averagePercentage regressedTenantCount overduePlanCount
    categories { category score maxScore }
    actions { action { id } pointsAtStake statuses { status tenantCount } }
  }
  latest: portfolio { actions { action { id } pointsAtStake statuses { status tenantCount } } }
}";

/// The id of the `i`-th tenant.
fn tenant(i: usize) -> String {
    format!("t{i:02}")
}

/// Facts that differ per tenant and per snapshot.
fn facts(i: usize, later: bool) -> Value {
    let mut facts = partial_mfa_facts();
    let registered = if later { 60 + i * 2 } else { 20 + i * 3 };
    facts["users"]["mfaRegistered"] = json!(registered.min(120));
    facts["apps"]["userConsentRestricted"] = json!(later && i.is_multiple_of(2));
    facts["roles"]["globalAdmins"] = json!(1 + i % 5);
    facts
}

/// Everything the history answers, read through the API and the CSV exports.
async fn answers(app: &TestApp) -> Vec<Value> {
    let admin = platform_admin();
    let mut all = Vec::new();
    for i in 0..TENANTS {
        let vars = json!({"id": tenant(i), "from": day(-6), "to": day(0), "mid": day(-3)});
        let body = app.graphql(&admin, TENANT_ANSWERS, vars).await;
        assert!(body["errors"].is_null(), "{body}");
        all.push(body);
    }
    let body = app
        .graphql(&admin, PORTFOLIO_ANSWERS, json!({"d": day(-2)}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    all.push(body);
    for path in ["action-scores", "scores"] {
        let url = format!(
            "{}/export/{path}.csv?from={}&to={}",
            app.address,
            day(-6),
            day(0)
        );
        let response = app
            .client
            .get(url)
            .header(AUTHORIZATION, format!("Bearer {admin}"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        all.push(Value::String(response.text().await.unwrap()));
    }
    all
}

async fn execute(app: &TestApp, sql: &str) {
    app.db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn history_stored_as_rows_migrates_to_sets_restartably_and_answers_the_same() {
    let mut app = spawn_app().await;
    for i in 0..TENANTS {
        let id = tenant(i);
        app.create_tenant(&id, None, 120).await;
        app.ingest(&id, &noon(-6), facts(i, false)).await;
        app.ingest(&id, &noon(-3), facts(i, true)).await;
        let body = app.recompute(&id, &day(-6), &day(0)).await;
        assert_eq!(body["data"]["recomputeScores"]["daysScored"], 7, "{body}");
    }
    let before = answers(&app).await;
    let results = app.named_results("1 = 1").await;
    assert_eq!(results, TENANTS * 7 * crate::helpers::built_in_actions());
    app.kill();

    // The history as the release before wrote it: rows of the current versions, and rows of
    // a superseded version beside them (kept for readers, not yet swept).
    let compact = "daily_scores WHERE json_array_length(categories) < 5";
    assert!(
        app.count(compact).await > 0,
        "days leave out 0-of-0 categories"
    );
    Migrator::down(&app.db, Some(1)).await.unwrap();
    assert_eq!(app.count("daily_action_scores").await as usize, results);
    // Every category is stored again, as the release before stored and read them.
    assert_eq!(app.count(compact).await, 0);
    execute(
        &app,
        "INSERT INTO daily_action_scores (tenant_id, date, action_id, score, max_score, status, \
         state, progress_current, progress_total, catalog_max_score, catalog_scored, \
         catalog_deprecated, category, version) \
         SELECT tenant_id, date, action_id, 0, max_score, 'FAILED', state, NULL, NULL, \
         catalog_max_score, catalog_scored, catalog_deprecated, category, version - 1 \
         FROM daily_action_scores",
    )
    .await;

    // Stopped half way: a row the migration cannot read stops it at the last tenant; the
    // tenants packed before it stay packed where the database kept them.
    let last = tenant(TENANTS - 1);
    execute(
        &app,
        &format!(
            "UPDATE daily_action_scores SET status = 'NOT_A_STATUS' \
             WHERE tenant_id = '{last}' AND date = '{}' AND version = \
             (SELECT version FROM daily_scores d WHERE d.tenant_id = '{last}' AND d.date = '{}') \
             AND action_id = 'MFARegistration'",
            day(-1),
            day(-1)
        ),
    )
    .await;
    assert!(Migrator::up(&app.db, None).await.is_err());
    execute(
        &app,
        "UPDATE daily_action_scores SET status = 'PARTIAL' WHERE status = 'NOT_A_STATUS'",
    )
    .await;
    // Started again: it finishes, the old table goes, and every day names its results.
    Migrator::up(&app.db, None).await.unwrap();
    assert!(
        app.db
            .execute_unprepared("SELECT 1 FROM daily_action_scores")
            .await
            .is_err()
    );
    assert_eq!(app.named_results("1 = 1").await, results);
    assert_eq!(app.count("daily_scores WHERE action_set_id = 0").await, 0);
    assert_eq!(app.count(UNNAMED_SETS).await, 0, "nothing packed twice");
    // A tenant's days with the same results share one set: two snapshots, so at most two
    // sets per tenant (the newest day carries today's states too, the same here).
    assert!(app.count("action_score_sets").await <= 2 * TENANTS as i64);

    let after = app.replica(|_| {}).await;
    let now = answers(&after).await;
    assert_eq!(before.len(), now.len());
    for (i, (was, is)) in before.iter().zip(&now).enumerate() {
        assert!(
            was == is,
            "answer {i} differs: {}",
            first_difference(was, is)
        );
    }
}

/// Where two answers first differ, and how.
fn first_difference(was: &Value, is: &Value) -> String {
    match (was, is) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .find(|(key, value)| b.get(*key) != Some(value))
            .map(|(key, value)| format!("{key}.{}", first_difference(value, &b[key])))
            .unwrap_or_else(|| "keys differ".into()),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .map(|i| format!("[{i}].{}", first_difference(&a[i], &b[i])))
            .unwrap_or_default(),
        _ => format!("{was} != {is}"),
    }
}
