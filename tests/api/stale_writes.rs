//! A computation that read a tenant's state before a change never overwrites a day computed
//! after it, and raises no alert from that older state.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use securescore::domain::Role;
use securescore::pipeline::batch::{self, Unfenced};
use securescore::service::daily_scores::DateRange;
use serde_json::{Value, json};

use crate::helpers::{TestApp, day, eventually, noon, partial_mfa_facts, spawn_app, token};

/// Today's stored row of `tenant`.
async fn stored_today(app: &TestApp, tenant: &str) -> entity::daily_score::Model {
    entity::daily_score::Entity::find()
        .filter(entity::daily_score::Column::TenantId.eq(tenant))
        .filter(entity::daily_score::Column::Date.eq(Utc::now().date_naive()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("today is stored")
}

async fn set_state(app: &TestApp, tenant: &str, action: &str, state: &str) -> Value {
    app.graphql(
        &token(&[Role::SecurityAdmin], &[tenant]),
        "mutation($i: SetActionOverrideInput!) { setActionOverride(input: $i) { state } }",
        json!({"i": {"tenantId": tenant, "actionId": action, "state": state}}),
    )
    .await
}

#[tokio::test]
async fn a_rescore_that_read_before_an_override_does_not_overwrite_the_recompute_after_it() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    let today = DateRange::day(Utc::now().date_naive());
    // A live rescore reads the state, then is held up before its write.
    let before_override = batch::compute(&app.db, &["acme".to_owned()], today)
        .await
        .unwrap();
    let stale_percentage = before_override.days[0].day.totals.percentage;

    let set = set_state(&app, "acme", "SigninRiskPolicy", "THIRD_PARTY").await;
    assert_eq!(
        set["data"]["setActionOverride"]["state"], "THIRD_PARTY",
        "{set}"
    );
    let recomputed = app.recompute("acme", &day(-1), &day(0)).await;
    assert!(recomputed["errors"].is_null(), "{recomputed}");
    let after = stored_today(&app, "acme").await;
    assert!(after.percentage > stale_percentage, "the override counts");
    // A rule that the older state would fire and the stored one does not.
    let threshold = (stale_percentage + after.percentage) / 2.0;
    let rule = app
        .graphql(
            &token(&[Role::GlobalAdmin], &["acme"]),
            "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { id } }",
            json!({"i": {"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": threshold}}),
        )
        .await;
    assert!(rule["errors"].is_null(), "{rule}");

    // The held-up rescore now writes: it must lose to the newer row.
    let outcome = batch::store(&app.db, &before_override, &Unfenced)
        .await
        .unwrap();
    assert_eq!((outcome.stored, outcome.superseded), (0, 1));
    assert!(outcome.alerts.is_empty());
    // (Live rescoring of the override may have rewritten the day since: from the same state.)
    let kept = stored_today(&app, "acme").await;
    assert_eq!(kept.percentage, after.percentage);
    assert!(kept.input_seq >= after.input_seq);
    assert_eq!(
        app.count("alerts").await,
        0,
        "no alert from the older state"
    );

    let reader = token(&[Role::SecurityReader], &["acme"]);
    let read = app
        .graphql(&reader, "{ tenant(id: \"acme\") { scoreDiff(from: \"yesterday\", to: \"today\") { scoreDelta } } }".replace("yesterday", &day(-1)).replace("today", &day(0)).as_str(), json!({}))
        .await;
    assert_eq!(
        read["data"]["tenant"]["scoreDiff"]["scoreDelta"], 7.0,
        "{read}"
    );
}

#[tokio::test]
async fn a_computation_from_the_same_state_still_writes_and_a_newer_one_wins() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest("acme", &noon(-1), partial_mfa_facts()).await;
    // The ingest's live rescore settles first, so nothing else writes the day meanwhile.
    let seq = tenant_seq(&app, "acme").await;
    eventually(
        "live rescoring stores today",
        Duration::from_secs(10),
        || async {
            let stored = entity::daily_score::Entity::find()
                .filter(entity::daily_score::Column::TenantId.eq("acme"))
                .filter(entity::daily_score::Column::Date.eq(Utc::now().date_naive()))
                .one(&app.db)
                .await
                .unwrap();
            stored.filter(|d| d.input_seq == seq).map(|_| ())
        },
    )
    .await;
    let today = DateRange::day(Utc::now().date_naive());
    let tenants = ["acme".to_owned()];
    let first = batch::compute(&app.db, &tenants, today).await.unwrap();
    let second = batch::compute(&app.db, &tenants, today).await.unwrap();
    // The later read of the same state wins over the earlier one, in either order of writes.
    let later = batch::store(&app.db, &second, &Unfenced).await.unwrap();
    assert_eq!(later.stored, 1);
    let earlier = batch::store(&app.db, &first, &Unfenced).await.unwrap();
    assert_eq!((earlier.stored, earlier.superseded), (0, 1));
    // A change, then a computation from the newer state replaces the row.
    let mut better = partial_mfa_facts();
    better["users"]["mfaRegistered"] = json!(120);
    app.ingest("acme", &just_now(), better).await;
    let newer = batch::compute(&app.db, &tenants, today).await.unwrap();
    assert!(newer.days[0].input_seq > second.days[0].input_seq);
    // Written, or beaten by the ingest's own live rescore, which read the same state later.
    let replaced = batch::store(&app.db, &newer, &Unfenced).await.unwrap();
    assert_eq!(replaced.done(), 1);
    assert_eq!(
        stored_today(&app, "acme").await.input_seq,
        newer.days[0].input_seq
    );
}

/// A capture instant a moment ago.
fn just_now() -> String {
    (Utc::now() - chrono::Duration::milliseconds(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Every stored day of `tenants` over `range` equals a fresh computation from the state now
/// (today's also read at the final change sequence).
async fn stored_days_match_a_fresh_computation(
    app: &TestApp,
    tenants: &[String],
    range: DateRange,
) -> bool {
    let fresh = batch::compute(&app.db, tenants, range).await.unwrap();
    for day in &fresh.days {
        let stored = entity::daily_score::Entity::find()
            .filter(entity::daily_score::Column::TenantId.eq(day.tenant_id.clone()))
            .filter(entity::daily_score::Column::Date.eq(day.date))
            .one(&app.db)
            .await
            .unwrap();
        let Some(stored) = stored else { return false };
        let today = day.date == Utc::now().date_naive();
        if stored.score != day.day.totals.score
            || stored.max_score != day.day.totals.max_score
            || stored.snapshot_id != Some(day.snapshot_id)
            || (today && stored.input_seq != day.input_seq)
        {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn concurrent_overrides_ingests_and_recomputes_leave_every_day_as_the_final_state_scores_it()
{
    let app = spawn_app().await;
    let tenants: Vec<String> = (0..3).map(|i| format!("t{i}")).collect();
    for tenant in &tenants {
        app.create_tenant(tenant, None, 120).await;
        app.ingest(tenant, &noon(-2), partial_mfa_facts()).await;
    }
    let states = ["THIRD_PARTY", "RISK_ACCEPTED", "PLANNED", "DEFAULT"];
    let actions = [
        "SigninRiskPolicy",
        "MFARegistration",
        "BlockLegacyAuthentication",
    ];
    let mut workers = Vec::new();
    for (w, tenant) in tenants.iter().cycle().take(6).enumerate() {
        let (app, tenant) = (&app, tenant.clone());
        workers.push(async move {
            for round in 0..6 {
                match (w + round) % 3 {
                    0 => {
                        let state = states[(w * 7 + round) % states.len()];
                        let action = actions[(w + round) % actions.len()];
                        let set = set_state(app, &tenant, action, state).await;
                        assert!(set["errors"].is_null(), "{set}");
                    }
                    1 => {
                        let mut facts = partial_mfa_facts();
                        facts["users"]["mfaRegistered"] = json!(60 + (w * 11 + round * 5) % 60);
                        let ingested = app.ingest(&tenant, &just_now(), facts).await;
                        assert!(ingested["errors"].is_null(), "{ingested}");
                    }
                    _ => {
                        // A read after recomputeScores answered shows at least the state the
                        // recompute started from.
                        let seq_before = tenant_seq(app, &tenant).await;
                        let done = app.recompute(&tenant, &day(-2), &day(0)).await;
                        assert!(done["errors"].is_null(), "{done}");
                        let today = stored_today(app, &tenant).await;
                        assert!(
                            today.input_seq >= seq_before,
                            "{tenant}: today read at {} after a recompute from {seq_before}",
                            today.input_seq
                        );
                    }
                }
            }
        });
    }
    futures::future::join_all(workers).await;
    let range = DateRange::parse(
        Utc::now().date_naive() - chrono::Duration::days(2),
        Utc::now().date_naive(),
    )
    .unwrap();
    eventually(
        "live rescoring settles on the final state",
        Duration::from_secs(20),
        || async {
            stored_days_match_a_fresh_computation(&app, &tenants, range)
                .await
                .then_some(())
        },
    )
    .await;
    // Each tenant's newest day as the estate reads it is that day as stored, whichever writer
    // of it committed last.
    assert!(app.assert_newest_days_kept().await > 0);
}

async fn tenant_seq(app: &TestApp, tenant: &str) -> i64 {
    entity::tenant::Entity::find_by_id(tenant.to_owned())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .change_seq
}
