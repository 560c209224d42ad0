//! Catalog metadata and framework scores: every built-in action carries Microsoft's metadata
//! and its CIS and NIST 800-53 controls, custom actions map to any framework, and a day's
//! framework totals are the sums the contract defines.

use std::time::Duration;

use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    assert_error, built_in_actions, day, eventually, noon, platform_admin, spawn_app, token,
};

const CIS: &str = "CIS Microsoft 365 Foundations Benchmark v7.0.0";
const NIST: &str = "NIST SP 800-53 Rev. 5";
const SCUBA: &str = "CISA SCuBA Microsoft Entra ID";
const ISO: &str = "ISO/IEC 27001:2022";

const UPSERT: &str = "mutation($i: UpsertActionInput!) { upsertAction(input: $i) { id tier actionType threats compliance { framework controls } } }";

/// A custom action mapped to a framework no built-in action names.
fn iso_action() -> Value {
    json!({
        "id": "AccessReviewsQuarterly", "title": "Review access quarterly", "category": "IDENTITY",
        "maxScore": 5, "rule": {"kind": "BOOLEAN", "fact": "iso.accessReviewed"},
        "tier": "ADVANCED", "actionType": "REVIEW", "threats": ["maliciousInsider"],
        "compliance": [{"framework": ISO, "controls": ["A.5.15", "A.5.18"]}]
    })
}

#[tokio::test]
async fn built_in_actions_carry_their_metadata_and_both_frameworks() {
    let app = spawn_app().await;
    let reader = token(&[Role::SecurityReader], &["x"]);
    let body = app
        .graphql(
            &reader,
            "{ action(id: \"AdminMFA\") { tier actionType threats compliance { framework controls } }
               actions { id scored tier actionType compliance { framework controls } } frameworks }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["action"],
        json!({"tier": "CORE", "actionType": "CONFIG",
               "threats": ["accountBreach", "elevationOfPrivilege", "passwordCracking"],
               "compliance": [{"framework": CIS, "controls": ["5.2.2.1"]},
                              {"framework": NIST, "controls": ["IA-2(1)"]}]}),
        "{body}"
    );
    let actions = body["data"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), built_in_actions());
    for action in actions.iter().filter(|a| a["scored"] == true) {
        let frameworks: Vec<&str> = action["compliance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["framework"].as_str().unwrap())
            .collect();
        // Every scored action answers to a benchmark (CIS or SCuBA; a few SCuBA policies
        // have no CIS recommendation) and to NIST 800-53.
        assert!(
            frameworks.iter().any(|f| *f == CIS || *f == SCUBA),
            "{action}"
        );
        assert!(frameworks.iter().any(|f| f.contains("800-53")), "{action}");
        assert!(
            action["tier"].is_string() && action["actionType"].is_string(),
            "{action}"
        );
    }
    assert_eq!(body["data"]["frameworks"], json!([CIS, SCUBA, NIST]));
}

#[tokio::test]
async fn a_days_framework_scores_are_the_sums_of_its_mapped_actions() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 100).await;
    let created = app
        .graphql(&platform_admin(), UPSERT, json!({"i": iso_action()}))
        .await;
    assert_eq!(
        created["data"]["upsertAction"],
        json!({"id": "AccessReviewsQuarterly", "tier": "ADVANCED", "actionType": "REVIEW",
               "threats": ["maliciousInsider"],
               "compliance": [{"framework": ISO, "controls": ["A.5.15", "A.5.18"]}]}),
        "{created}"
    );
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    let overridden = app
        .graphql(&admin, "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"DisableVoiceCall\", state: THIRD_PARTY, comment: \"Voice is off at the carrier\"}) { state } }", json!({}))
        .await;
    assert!(overridden["errors"].is_null(), "{overridden}");
    // By hand: AdminMFA 10/10, MFARegistration 4.5/9, MFAForAllUsers 9/9, the two global admin
    // ranges 1/1 each, DisableSmsSignIn 0/4, DisableVoiceCall THIRD_PARTY 4/4; the rest NO_DATA
    // (0 of 0). Every one maps to both CIS and NIST: 29.5 of 38, 5 of 7 completed. SCuBA maps
    // MFAForAllUsers (3.2), the two ranges (7.1) and the two methods (3.5), not AdminMFA or
    // MFARegistration: 9 + 1 + 1 + 0 + 4 = 15 of 19, 4 of 5 completed.
    let facts = json!({
        "users": {"total": 100, "mfaRegistered": 50, "mfaRequired": 100},
        "admins": {"total": 4, "mfaProtected": 4},
        "roles": {"globalAdmins": 3},
        "authMethods": {"smsDisabled": false},
        "iso": {"accessReviewed": true}
    });
    let ingested = app.ingest("acme", &noon(0), facts).await;
    assert!(ingested["errors"].is_null(), "{ingested}");
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let query = "query($d: Date) { tenant(id: \"acme\") { score(date: $d) { score frameworks {
        framework score maxScore percentage actionsCompleted actionsTotal } } } }";
    let frameworks = eventually(
        "today scored with the snapshot",
        Duration::from_secs(10),
        || {
            let app = &app;
            let reader = reader.clone();
            async move {
                let body = app.graphql(&reader, query, json!({"d": day(0)})).await;
                let score = &body["data"]["tenant"]["score"];
                (score["score"] == json!(34.5)).then(|| score["frameworks"].clone())
            }
        },
    )
    .await;
    let expected = |framework: &str, score: f64, max: f64, completed: i64, total: i64| {
        json!({"framework": framework, "score": score, "maxScore": max,
               "percentage": 100.0 * score / max, "actionsCompleted": completed, "actionsTotal": total})
    };
    assert_eq!(
        frameworks,
        json!([
            expected(CIS, 29.5, 38.0, 5, 7),
            expected(SCUBA, 15.0, 19.0, 4, 5),
            expected(ISO, 5.0, 5.0, 1, 1),
            expected(NIST, 29.5, 38.0, 5, 7),
        ])
    );

    let ranked = |framework: &str, include_completed: bool| {
        let (app, reader) = (&app, reader.clone());
        let framework = framework.to_owned();
        async move {
            let body = app
                .graphql(
                    &reader,
                    "query($f: String, $c: Boolean) { tenant(id: \"acme\") {
                        improvementActions(framework: $f, includeCompleted: $c) { action { id } } } }",
                    json!({"f": framework, "c": include_completed}),
                )
                .await;
            body["data"]["tenant"]["improvementActions"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .map(|a| a["action"]["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ranked(CIS, false).await,
        ["MFARegistration", "DisableSmsSignIn"]
    );
    assert_eq!(ranked(ISO, true).await, ["AccessReviewsQuarterly"]);
    assert!(ranked("SOC 2", true).await.is_empty());
    let names = app.graphql(&reader, "{ frameworks }", json!({})).await;
    assert_eq!(names["data"]["frameworks"], json!([CIS, SCUBA, ISO, NIST]));
}

#[tokio::test]
async fn bad_metadata_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let with = |field: &str, value: Value| {
        let mut action = iso_action();
        action[field] = value;
        json!({"i": action})
    };
    let cases = [
        (
            with("compliance", json!([{"framework": " ", "controls": ["1"]}])),
            "compliance.framework",
        ),
        (
            with(
                "compliance",
                json!([{"framework": "SOC 2", "controls": []}]),
            ),
            "1 to 100 controls",
        ),
        (
            with(
                "compliance",
                json!([{"framework": "SOC 2", "controls": ["CC6.1"]}, {"framework": "SOC 2", "controls": ["CC6.2"]}]),
            ),
            "named twice",
        ),
        (
            with(
                "compliance",
                json!([{"framework": "SOC 2", "controls": ["CC6.1", "CC6.1"]}]),
            ),
            "listed twice",
        ),
        (with("threats", json!(["account breach"])), "threats"),
        (with("tier", json!("ESSENTIAL")), "ActionTier"),
    ];
    for (input, part) in cases {
        let body = app.graphql(&platform_admin(), UPSERT, input).await;
        if part == "ActionTier" {
            // Not an enum value: GraphQL itself refuses the variables.
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains(part),
                "{body}"
            );
        } else {
            assert_error(&body, "BAD_USER_INPUT", part);
        }
    }
    assert_eq!(
        app.count("improvement_actions").await,
        built_in_actions() as i64
    );
}

/// The README, which says why each recommendation or policy left unmapped is not measured.
fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first column of a benchmark id list kept in `tests/fixtures/benchmarks`.
fn benchmark_ids(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .collect()
}

/// The controls of `framework` that scored built-in actions map to, each checked against the
/// benchmark's `ids`.
fn mapped_controls(framework: &str, ids: &[&str]) -> std::collections::BTreeSet<String> {
    let catalog = securescore::service::catalog::BuiltInCatalog::shipped().unwrap();
    let mut mapped = std::collections::BTreeSet::new();
    for action in catalog.actions.iter().filter(|a| a.scored) {
        for mapping in action
            .compliance
            .iter()
            .filter(|m| m.framework == framework)
        {
            for control in &mapping.controls {
                assert!(ids.contains(&control.as_str()), "{}: {control}", action.id);
                mapped.insert(control.clone());
            }
        }
    }
    mapped
}

#[test]
fn every_cis_recommendation_a_built_in_action_names_exists_in_v7_and_every_automated_one_is_mapped()
{
    let list = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/benchmarks/cis-m365-v7.0.0-ids.tsv"
    ))
    .unwrap();
    let ids = benchmark_ids(&list);
    assert_eq!(ids.len(), 160, "CIS v7.0.0 has 160 recommendations");
    let mapped = mapped_controls(CIS, &ids);
    // The directory's automated recommendations (section 5, and 1.1.1, 1.1.3, 1.1.4, 1.3.1)
    // not measured: the README says why for each.
    let unmeasurable = ["5.1.8.1"];
    let unmapped: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|cells| {
            let id = cells[0];
            cells[2] == "Automated"
                && (id.starts_with("5.") || ["1.1.1", "1.1.3", "1.1.4", "1.3.1"].contains(&id))
        })
        .map(|cells| cells[0])
        .filter(|id| !mapped.contains(*id) && !unmeasurable.contains(id))
        .collect();
    assert_eq!(unmapped, Vec::<&str>::new());
    let readme = readme();
    for id in unmeasurable {
        assert!(
            readme.contains(&format!("CIS {id}")),
            "the README says why {id} is not measured"
        );
    }
}

#[test]
fn every_scuba_policy_a_built_in_action_names_exists_in_the_baseline() {
    let baseline = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/benchmarks/cisa-scuba-ms-aad-ids.tsv"
    ))
    .unwrap();
    let ids = benchmark_ids(&baseline);
    assert_eq!(ids.len(), 34, "the baseline has 34 MS.AAD policies");
    let mapped = mapped_controls(SCUBA, &ids);
    // Not measured: the README says why for each.
    let unmapped: Vec<&str> = ids.into_iter().filter(|id| !mapped.contains(*id)).collect();
    assert_eq!(unmapped, ["MS.AAD.2.2v1", "MS.AAD.4.1v1", "MS.AAD.9.1v1"]);
    let readme = readme();
    for id in unmapped {
        assert!(
            readme.contains(&format!("`{id}`")),
            "the README says why {id} is not measured"
        );
    }
}
