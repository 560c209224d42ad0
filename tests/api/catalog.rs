//! The catalog: the built-in file, validation of entries, and who may change it.

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    assert_error, built_in_actions, built_in_max_score, error_code, platform_admin, spawn_app,
    token,
};

const UPSERT: &str = "mutation($i: UpsertActionInput!) { upsertAction(input: $i) { id maxScore scored deprecated rule { kind fact numerator denominator min max } } }";

fn action(rule: Value, max: f64) -> Value {
    json!({"id": "DeviceEncryption", "title": "Encrypt devices", "category": "DEVICE", "maxScore": max, "rule": rule})
}

#[tokio::test]
async fn the_built_in_catalog_is_loaded_at_first_start() {
    let app = spawn_app().await;
    let reader = token(&[Role::SecurityReader], &["x"]);
    let body = app
        .graphql(
            &reader,
            "{ actions { id maxScore scored rule { kind } } }",
            json!({}),
        )
        .await;
    let actions = body["data"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), built_in_actions(), "{body}");
    assert!(actions.len() >= 26, "the catalog grew: {body}");
    let scored_total: f64 = actions
        .iter()
        .filter(|a| a["scored"] == true)
        .map(|a| a["maxScore"].as_f64().unwrap())
        .sum();
    assert_eq!(scored_total, built_in_max_score());
    assert!(actions.iter().filter(|a| a["scored"] == true).count() >= 25);
    let admin_mfa = app
        .graphql(
            &reader,
            "{ action(id: \"AdminMFA\") { rule { kind numerator denominator } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        admin_mfa["data"]["action"]["rule"],
        json!({"kind": "RATIO", "numerator": "admins.mfaProtected", "denominator": "admins.total"})
    );
    let apps = app
        .graphql(&reader, "{ actions(category: APPS) { id } }", json!({}))
        .await;
    assert_eq!(
        apps["data"]["actions"],
        json!([{"id": "AdminConsentWorkflow"}, {"id": "BlockApplicationPasswords"},
               {"id": "BlockCustomApplicationPasswords"}, {"id": "BlockUserAppRegistration"},
               {"id": "DisableUserConsent"}, {"id": "LimitApplicationCertificateLifetime"},
               {"id": "LimitApplicationPasswordLifetime"}, {"id": "RestrictUserConsent"}])
    );
}

#[tokio::test]
async fn upsert_action_creates_replaces_and_hides_deprecated_entries() {
    let app = spawn_app().await;
    let rule =
        json!({"kind": "RATIO", "numerator": "devices.encrypted", "denominator": "devices.total"});
    let created = app
        .graphql(
            &platform_admin(),
            UPSERT,
            json!({"i": action(rule.clone(), 5.0)}),
        )
        .await;
    assert_eq!(
        created["data"]["upsertAction"]["maxScore"], 5.0,
        "{created}"
    );
    let mut deprecated = action(rule, 6.0);
    deprecated["deprecated"] = json!(true);
    app.graphql(&platform_admin(), UPSERT, json!({"i": deprecated}))
        .await;
    let reader = token(&[Role::SecurityReader], &[]);
    let visible = app
        .graphql(&reader, "{ actions(category: DEVICE) { id } }", json!({}))
        .await;
    assert_eq!(visible["data"]["actions"], json!([]));
    let all = app
        .graphql(
            &reader,
            "{ actions(category: DEVICE, includeDeprecated: true) { id maxScore deprecated } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["data"]["actions"],
        json!([{"id": "DeviceEncryption", "maxScore": 6.0, "deprecated": true}])
    );
}

#[tokio::test]
async fn rules_that_do_not_fit_their_kind_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({"kind": "BOOLEAN"}), "rule.fact"),
        (
            json!({"kind": "BOOLEAN", "fact": "a", "min": 1}),
            "rule.min",
        ),
        (
            json!({"kind": "RATIO", "numerator": "a"}),
            "rule.denominator",
        ),
        (
            json!({"kind": "RATIO", "numerator": "a", "denominator": "b", "fact": "c"}),
            "rule.fact",
        ),
        (json!({"kind": "RANGE", "fact": "a"}), "rule.min"),
        (
            json!({"kind": "RANGE", "fact": "a", "min": 5, "max": 1}),
            "rule.min",
        ),
        (json!({"kind": "BOOLEAN", "fact": "a..b"}), "rule.fact"),
    ];
    for (rule, field) in cases {
        let body = app
            .graphql(&platform_admin(), UPSERT, json!({"i": action(rule, 5.0)}))
            .await;
        assert_error(&body, "BAD_USER_INPUT", field);
    }
    for max in [0.0, -3.0] {
        let body = app
            .graphql(
                &platform_admin(),
                UPSERT,
                json!({"i": action(json!({"kind": "BOOLEAN", "fact": "a"}), max)}),
            )
            .await;
        assert_error(&body, "BAD_USER_INPUT", "maxScore");
    }
    assert_eq!(
        app.count("improvement_actions").await,
        built_in_actions() as i64
    );
}

#[tokio::test]
async fn only_platform_admins_change_the_catalog() {
    let app = spawn_app().await;
    for role in [
        Role::GlobalAdmin,
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::Collector,
    ] {
        let body = app
            .graphql(
                &token(&[role], &["t"]),
                UPSERT,
                json!({"i": action(json!({"kind": "BOOLEAN", "fact": "a"}), 1.0)}),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role:?}");
    }
    assert_eq!(
        app.count("improvement_actions").await,
        built_in_actions() as i64
    );
}

#[tokio::test]
async fn a_later_mutation_field_reads_what_an_earlier_one_changed() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let both = token(&[Role::SecurityAdmin, Role::PlatformAdmin], &["acme"]);
    let body = app
        .graphql(
            &both,
            "mutation($i: UpsertActionInput!) {
                before: setActionOverride(input: {tenantId: \"acme\", actionId: \"AdminMFA\", state: PLANNED}) { action { title maxScore } }
                rename: upsertAction(input: $i) { title }
                after: setActionOverride(input: {tenantId: \"acme\", actionId: \"AdminMFA\", state: IGNORED}) { action { title maxScore } }
            }",
            json!({"i": {"id": "AdminMFA", "title": "Renamed", "category": "IDENTITY", "maxScore": 12,
                "rule": {"kind": "RATIO", "numerator": "admins.mfaProtected", "denominator": "admins.total"}}}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_ne!(
        body["data"]["before"]["action"]["title"], "Renamed",
        "{body}"
    );
    assert_eq!(body["data"]["before"]["action"]["maxScore"], 10.0, "{body}");
    assert_eq!(body["data"]["rename"]["title"], "Renamed", "{body}");
    assert_eq!(
        body["data"]["after"]["action"],
        json!({"title": "Renamed", "maxScore": 12.0}),
        "{body}"
    );
}
