//! Automatic persisted queries: round trips, unknown and mismatched hashes.

use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde_json::{Value, json};

use crate::helpers::{platform_admin, spawn_app};

#[tokio::test]
async fn automatic_persisted_queries_round_trip_and_refuse_unknown_or_mismatched_hashes() {
    use sha2::Digest;

    let app = spawn_app().await;
    let admin = platform_admin();
    let query = "query Catalog { actions { id } }";
    let hash = format!("{:x}", sha2::Sha256::digest(query.as_bytes()));
    let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let get = |extensions: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let response = app
                .client
                .get(format!("{}/graphql", app.address))
                .query(&[
                    ("extensions", extensions.to_string()),
                    ("operationName", "Catalog".into()),
                ])
                .header(AUTHORIZATION, format!("Bearer {admin}"))
                .header(ACCEPT, "application/json")
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    // Unknown at first: the client must send the query along.
    let unknown = get(extensions.clone()).await;
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let registered = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {admin}"))
        .header(ACCEPT, "application/json")
        .json(&json!({"query": query, "extensions": extensions}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        registered["data"]["actions"].as_array().unwrap().len(),
        crate::helpers::built_in_actions(),
        "{registered}"
    );
    // Then the hash alone, by GET, answers the same.
    let by_hash = get(extensions).await;
    assert_eq!(by_hash["data"], registered["data"]);
    // A hash that is not the query's is refused and remembers nothing.
    let wrong = json!({"persistedQuery": {"version": 1, "sha256Hash": "ab".repeat(32)}});
    let mismatched = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {admin}"))
        .header(ACCEPT, "application/json")
        .json(&json!({"query": query, "extensions": wrong}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        mismatched["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert!(
        mismatched["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let still_unknown = get(wrong).await;
    assert_eq!(
        still_unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
}
