//! `serve --demo`: the seeded history carries alerts from its alert rules.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{spawn_app_with, token};

#[tokio::test]
async fn the_demo_history_shows_alerts_raised_by_its_rules() {
    let app = spawn_app_with(|config| config.demo = true).await;
    let alerts_of = |tenant: &str| {
        format!(
            "{{ tenant(id: \"{tenant}\") {{ alertRules {{ kind threshold }} alerts(first: 100) {{ edges {{ node {{
                date percentageBefore percentageAfter rule {{ kind threshold }} regressions {{ scoreDelta }} }} }} }} }} }}"
        )
    };
    let contoso = app
        .graphql(
            &token(&[Role::SecurityReader], &["contoso"]),
            &alerts_of("contoso"),
            json!({}),
        )
        .await;
    let tenant = &contoso["data"]["tenant"];
    assert_eq!(
        tenant["alertRules"].as_array().unwrap().len(),
        3,
        "{contoso}"
    );
    assert!(
        alerts_raised_by(tenant, "PLAN_OVERDUE") >= 1,
        "the demo's overdue plan raised its alert: {contoso}"
    );
    let alerts: Vec<&Value> = tenant["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let drops: Vec<&&Value> = alerts
        .iter()
        .filter(|a| a["rule"]["kind"] == "DROP")
        .collect();
    assert!(
        !drops.is_empty(),
        "the random walk drops by 2 points some day: {contoso}"
    );
    for drop in drops {
        let fell =
            drop["percentageBefore"].as_f64().unwrap() - drop["percentageAfter"].as_f64().unwrap();
        assert!(fell >= 2.0, "{drop}");
    }
    let woodgrove = app
        .graphql(
            &token(&[Role::SecurityReader], &["woodgrove-bank"]),
            &alerts_of("woodgrove-bank"),
            json!({}),
        )
        .await;
    let regressions = woodgrove["data"]["tenant"]["alerts"]["edges"]
        .as_array()
        .unwrap();
    assert!(!regressions.is_empty(), "{woodgrove}");
    for alert in regressions {
        let lost = alert["node"]["regressions"].as_array().unwrap();
        assert!(!lost.is_empty() && lost.iter().all(|c| c["scoreDelta"].as_f64().unwrap() < 0.0));
    }
}

#[tokio::test]
async fn the_demo_connects_a_directory_that_exists_nowhere_and_says_its_collection_failed() {
    let app = spawn_app_with(|config| {
        config.demo = true;
        config.secrets_key_file = None;
    })
    .await;
    let reader = token(&[Role::SecurityReader], &["contoso"]);
    let connection = crate::helpers::eventually(
        "the demo's first collection ends",
        std::time::Duration::from_secs(30),
        || async {
            let body = app
                .graphql(
                    &reader,
                    "{ tenant(id: \"contoso\") { graphConnection { status lastError lastCollectedAt }
                       collectionRuns { edges { node { status snapshot { id } endpoints { name error } } } } } }",
                    json!({}),
                )
                .await;
            let tenant = body["data"]["tenant"].clone();
            // The two fields are read one after the other: wait until both show the end.
            (tenant["graphConnection"]["status"] == "FAILED"
                && tenant["collectionRuns"]["edges"][0]["node"]["status"] == "FAILED")
                .then_some(tenant)
        },
    )
    .await;
    let error = connection["graphConnection"]["lastError"].as_str().unwrap();
    assert!(error.starts_with("sign-in refused: "), "{connection}");
    assert!(connection["graphConnection"]["lastCollectedAt"].is_null());
    let run = &connection["collectionRuns"]["edges"][0]["node"];
    assert_eq!(run["status"], "FAILED", "{connection}");
    assert!(
        run["snapshot"].is_null(),
        "nothing collected, nothing faked"
    );
}

/// How many of a tenant's alerts a rule of `kind` raised.
fn alerts_raised_by(tenant: &Value, kind: &str) -> usize {
    tenant["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["rule"]["kind"] == kind)
        .count()
}
