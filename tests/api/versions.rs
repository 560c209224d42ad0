//! A day and its action scores are always read as one computation, however often the day is
//! rewritten, and superseded action rows are swept only after the grace period.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use securescore::domain::Role;
use serde_json::json;

use crate::helpers::{TestApp, UNNAMED_SETS, day, noon, partial_mfa_facts, spawn_app, token};

const DAY_WITH_ACTIONS: &str = "query($id: ID!, $d: Date) { tenant(id: $id) { score(date: $d) {
    score maxScore actionScores { score maxScore } } } }";

/// Reads `tenant`'s day; answers its score and whether its totals disagree with its actions.
async fn read_day(app: &TestApp, reader: &str, tenant: &str, date: &str) -> Option<(f64, bool)> {
    let body = app
        .graphql(reader, DAY_WITH_ACTIONS, json!({"id": tenant, "d": date}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let day = &body["data"]["tenant"]["score"];
    if day.is_null() {
        return None;
    }
    let sum = |field: &str| -> f64 {
        day["actionScores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a[field].as_f64().unwrap())
            .sum()
    };
    let (score, max) = (
        day["score"].as_f64().unwrap(),
        day["maxScore"].as_f64().unwrap(),
    );
    let torn = (sum("score") - score).abs() > 1e-9 || (sum("maxScore") - max).abs() > 1e-9;
    if torn {
        eprintln!("torn day: {day}");
    }
    Some((score, torn))
}

#[tokio::test]
async fn readers_never_see_a_torn_day_while_today_is_rewritten_in_a_loop() {
    let app = Arc::new(spawn_app().await);
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    let today = day(0);
    let reader = token(&[Role::SecurityReader], &["acme"]);
    crate::helpers::eventually("today scored", Duration::from_secs(20), || {
        read_day(&app, &reader, "acme", &today)
    })
    .await;

    let writing = Arc::new(AtomicBool::new(true));
    let reads_so_far = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (app, reader, today, writing, counted) = (
            app.clone(),
            reader.clone(),
            today.clone(),
            writing.clone(),
            reads_so_far.clone(),
        );
        readers.push(tokio::spawn(async move {
            let (mut reads, mut torn, mut scores) = (0, 0, BTreeSet::new());
            while writing.load(Ordering::Relaxed) {
                let (score, is_torn) = read_day(&app, &reader, "acme", &today).await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                reads += 1;
                torn += usize::from(is_torn);
                scores.insert(score.to_bits());
            }
            (reads, torn, scores)
        }));
    }
    // Each change rewrites today's day and action rows through live rescoring.
    let admin = token(&[Role::SecurityAdmin], &["acme"]);
    for round in 0..40 {
        let state = if round % 2 == 0 {
            "THIRD_PARTY"
        } else {
            "DEFAULT"
        };
        let body = app
            .graphql(&admin, &format!("mutation {{ setActionOverride(input: {{tenantId: \"acme\", actionId: \"RestrictUserConsent\", state: {state}}}) {{ state }} }}"), json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
        // The change is written (the readers racing it), then read at least four times before
        // the next one, however fast or slow the machine.
        assert!(app.pipeline.settled(Duration::from_secs(30)).await);
        let before = reads_so_far.load(Ordering::SeqCst);
        crate::helpers::eventually("the readers to read", Duration::from_secs(20), || {
            let counted = reads_so_far.clone();
            async move { (counted.load(Ordering::SeqCst) >= before + 4).then_some(()) }
        })
        .await;
    }
    writing.store(false, Ordering::Relaxed);
    let (mut reads, mut torn, mut scores) = (0, 0, BTreeSet::new());
    for handle in readers {
        let (r, t, s) = handle.await.unwrap();
        reads += r;
        torn += t;
        scores.extend(s);
    }
    assert!(scores.len() >= 2, "the readers saw the day change");
    assert!(reads >= 160, "only {reads} reads");
    assert_eq!(torn, 0, "{torn} of {reads} reads were torn");
}

#[tokio::test]
async fn sets_no_day_names_stay_through_the_grace_period_then_go() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let mut fewer = partial_mfa_facts();
    fewer["users"]["mfaRegistered"] = json!(30);
    app.ingest("acme", &noon(-3), fewer).await;
    // Today is rescored live first: the recomputed days then name the set today names.
    assert!(app.pipeline.settled(Duration::from_secs(30)).await);
    let body = app.recompute("acme", &day(-3), &day(-1)).await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 3, "{body}");
    // Recomputed from the same state again and again: the days name the set they named.
    for _ in 0..2 {
        let body = app.recompute("acme", &day(-3), &day(-1)).await;
        assert_eq!(body["data"]["recomputeScores"]["daysScored"], 3, "{body}");
    }
    assert_eq!(app.count(UNNAMED_SETS).await, 0);
    // A later snapshot of the same day changes the results: the days name a new set, and the
    // one they named before stays for readers in flight.
    app.ingest(
        "acme",
        &noon(-3).replace("T12:", "T13:"),
        partial_mfa_facts(),
    )
    .await;
    assert!(app.pipeline.settled(Duration::from_secs(30)).await);
    let body = app.recompute("acme", &day(-3), &day(0)).await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 4, "{body}");
    let closed = format!("d.date < '{}'", day(0));
    assert_eq!(
        app.named_results(&closed).await,
        3 * crate::helpers::built_in_actions()
    );
    assert_eq!(app.count(UNNAMED_SETS).await, 1, "kept for readers");

    let sweep = securescore::pipeline::sweeper::sweep;
    assert_eq!(sweep(&app.db, Duration::from_secs(60)).await.unwrap(), 0);
    assert_eq!(app.count(UNNAMED_SETS).await, 1);
    assert_eq!(sweep(&app.db, Duration::ZERO).await.unwrap(), 1);
    assert_eq!(app.count(UNNAMED_SETS).await, 0);
    assert_eq!(app.count("action_score_sets").await, 1);
    assert_eq!(
        app.named_results(&closed).await,
        3 * crate::helpers::built_in_actions()
    );

    let reader = token(&[Role::SecurityReader], &["acme"]);
    let (score, torn) = read_day(&app, &reader, "acme", &day(-2)).await.unwrap();
    assert_eq!((score, torn), (30.75, false));
}
