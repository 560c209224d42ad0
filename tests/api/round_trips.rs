//! A year of history with every action score costs as many database round trips as a month:
//! the schema runs on a connection that counts every statement it sends.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Request, Variables};
use securescore::auth::Viewer;
use securescore::config::{RequestLimits, ScoringConfig};
use securescore::domain::Role;
use securescore::graphql::{AppSchema, build_schema};
use serde_json::json;

use crate::helpers::{day, noon, spawn_app};

const HISTORY: &str =
    "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) {
    date score categories { category score }
    actionScores { score maxScore status action { id title maxScore } } } } }";

/// Runs the history query from `days` ago to today; returns the days and statements it cost.
async fn history_cost(schema: &AppSchema, statements: &AtomicUsize, days: i64) -> (usize, usize) {
    let viewer = Viewer {
        subject: "reader".into(),
        roles: BTreeSet::from([Role::SecurityReader]),
        tenant_ids: vec!["acme".into()],
    };
    let request = Request::new(HISTORY)
        .variables(Variables::from_json(json!({"f": day(-days), "t": day(0)})))
        .data(viewer);
    statements.store(0, Ordering::SeqCst);
    let response = schema.execute(request).await;
    let sent = statements.load(Ordering::SeqCst);
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let history = data["tenant"]["scoreHistory"].as_array().unwrap();
    for score in history {
        assert_eq!(
            score["actionScores"].as_array().unwrap().len(),
            11,
            "{score}"
        );
    }
    (history.len(), sent)
}

#[tokio::test]
async fn a_year_of_history_with_every_action_score_costs_the_same_round_trips_as_a_month() {
    let app = spawn_app().await;
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

    let mut db = securescore::db::connect(&app.database_url).await.unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let schema = build_schema(db, ScoringConfig::default(), &RequestLimits::default());

    let (month_days, month_statements) = history_cost(&schema, &statements, 29).await;
    let (year_days, year_statements) = history_cost(&schema, &statements, 365).await;
    assert_eq!((month_days, year_days), (30, 366));
    // The tenant, its days, every day's action scores in one batch, the actions in one batch.
    assert_eq!(
        month_statements, 4,
        "a month cost {month_statements} statements"
    );
    assert_eq!(
        year_statements, month_statements,
        "a year cost {year_statements} statements, a month {month_statements}"
    );
}
