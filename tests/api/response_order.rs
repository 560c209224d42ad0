//! Responses keep the order of the selection, aliases, fragments and prefetched lists included.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// The keys of a JSON object, in order.
fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn responses_keep_the_order_of_the_selection_with_aliases_fragments_and_prefetched_lists() {
    let app = spawn_app().await;
    app.create_tenant("acme", Some("Finance"), 120).await;
    app.ingest(
        "acme",
        &crate::helpers::noon(-1),
        json!({"users": {"total": 4, "mfaRegistered": 1}}),
    )
    .await;
    app.recompute("acme", &crate::helpers::day(-1), &crate::helpers::day(0))
        .await;
    let reader = crate::helpers::token(&[securescore::domain::Role::SecurityReader], &["acme"]);
    let body = app
        .graphql(
            &reader,
            "query Dashboard($from: Date!, $to: Date!) {
               tenant(id: \"acme\") {
                 ...Names
                 scoreHistory(from: $from, to: $to) { percentage date }
                 latest: score { percentage date categories { maxScore category } }
                 improvementActions { scoreImpact action { title id } }
                 comparison { tenantCount basis }
                 ... on Tenant { seatCount }
               }
               viewer { tenantIds subject }
             }
             fragment Names on Tenant { name id }",
            json!({"from": crate::helpers::day(-1), "to": crate::helpers::day(0)}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let data = &body["data"];
    assert_eq!(keys(data), ["tenant", "viewer"]);
    let tenant = &data["tenant"];
    assert_eq!(
        keys(tenant),
        [
            "name",
            "id",
            "scoreHistory",
            "latest",
            "improvementActions",
            "comparison",
            "seatCount"
        ]
    );
    assert_eq!(keys(&tenant["scoreHistory"][1]), ["percentage", "date"]);
    assert_eq!(
        keys(&tenant["latest"]),
        ["percentage", "date", "categories"]
    );
    assert_eq!(
        keys(&tenant["latest"]["categories"][0]),
        ["maxScore", "category"]
    );
    assert_eq!(
        keys(&tenant["improvementActions"][0]),
        ["scoreImpact", "action"]
    );
    assert_eq!(
        keys(&tenant["improvementActions"][0]["action"]),
        ["title", "id"]
    );
    assert_eq!(keys(&data["viewer"]), ["tenantIds", "subject"]);
}
