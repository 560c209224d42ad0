//! GraphQL over HTTP: negotiation, methods, request errors, GraphiQL and probes.

use reqwest::StatusCode;
use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, token};

#[tokio::test]
async fn a_get_query_works_and_a_get_mutation_is_refused_with_405() {
    let app = spawn_app().await;
    let t = token(&[Role::PlatformAdmin], &[]);
    let ok = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ viewer { subject } }")])
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let refused = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[(
            "query",
            "mutation { createTenant(input: {id: \"x\", name: \"x\", seatCount: 1}) { id } }",
        )])
        .header("accept", "application/graphql-response+json")
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.headers()["allow"], "POST");
    assert_eq!(app.count("tenants").await, 0);
}

#[tokio::test]
async fn a_post_without_a_json_body_type_is_refused_with_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "text/plain")
        .bearer_auth(token(&[Role::PlatformAdmin], &[]))
        .body(r#"{"query":"{ viewer { subject } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn request_errors_are_400_for_graphql_response_json_and_200_for_json() {
    let app = spawn_app().await;
    let t = token(&[Role::PlatformAdmin], &[]);
    for (accept, status) in [
        ("application/graphql-response+json", StatusCode::BAD_REQUEST),
        ("application/json", StatusCode::OK),
    ] {
        for query in ["{", "{ noSuchField }"] {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header("accept", accept)
                .bearer_auth(&t)
                .json(&json!({"query": query}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{accept} {query}");
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(accept)
            );
            let body: Value = response.json().await.unwrap();
            assert!(body.get("data").is_none(), "{body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
    }
}

#[tokio::test]
async fn field_errors_keep_status_200_and_data() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(token(&[Role::SecurityReader], &[]))
        .json(&json!({"query": "mutation { createTenant(input: {id: \"x\", name: \"x\", seatCount: 1}) { id } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn browsers_get_graphiql_and_probes_answer() {
    let app = spawn_app().await;
    for path in ["/", "/graphql"] {
        let page = app
            .client
            .get(format!("{}{path}", app.address))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("graphiql")
        );
    }
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(ready.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn oversized_and_overly_complex_requests_are_refused() {
    let app = spawn_app().await;
    let t = token(&[Role::PlatformAdmin], &[]);
    let aliases: String = (0..5000)
        .map(|i| format!("a{i}: viewer {{ subject }} "))
        .collect();
    let body = app
        .graphql(&t, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(20),
        "} ".repeat(20)
    );
    let body = app.graphql(&t, &deep, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(body.get("data").is_none());
    let huge = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query":"{{ viewer {{ subject }} }}","variables":{{"pad":"{}"}}}}"#,
            "x".repeat(2 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let refusal: Value = huge.json().await.unwrap();
    assert_error(&refusal, "BAD_USER_INPUT", "larger than 1048576 bytes");
    let still_serving = app.graphql(&t, "{ viewer { subject } }", json!({})).await;
    assert_eq!(
        still_serving["data"]["viewer"]["subject"],
        "tester@example.com"
    );
}
