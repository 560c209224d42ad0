//! GraphQL over HTTP: negotiation, methods, request errors, GraphiQL and probes.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_error, platform_admin, spawn_app, token};

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
    for (path, title) in [("/", "securescore dashboard"), ("/graphql", "graphiql")] {
        let page = app
            .client
            .get(format!("{}{path}", app.address))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().to_lowercase().contains(title));
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

#[tokio::test]
async fn small_hardenings_request_ids_old_captures_duplicate_keys_and_406() {
    use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

    let app = crate::helpers::spawn_app().await;
    let admin = crate::helpers::platform_admin();
    let post = |body: String, request_id: &str| {
        let (app, admin) = (&app, &admin);
        let request_id = request_id.to_owned();
        async move {
            app.client
                .post(format!("{}/graphql", app.address))
                .header(AUTHORIZATION, format!("Bearer {admin}"))
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .header("x-request-id", request_id)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let query = r#"{"query": "{ viewer { subject } }"}"#.to_owned();
    let kept = post(query.clone(), "dash-board_1.2").await;
    assert_eq!(kept.headers()["x-request-id"], "dash-board_1.2");
    for unsafe_id in ["has space", "quote\"d", &"x".repeat(65)] {
        let replaced = post(query.clone(), unsafe_id).await;
        let id = replaced.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(id, unsafe_id);
        assert_eq!(id.len(), 36, "a generated uuid: {id}");
    }
    let duplicated = post(
        r#"{"query": "{ viewer { subject } }", "query": "mutation { x }"}"#.to_owned(),
        "dup",
    )
    .await;
    let body: Value = duplicated.json().await.unwrap();
    crate::helpers::assert_error(&body, "BAD_USER_INPUT", "repeats the top-level key `query`");

    app.create_tenant("acme", None, 10).await;
    let old = app.ingest("acme", "1999-12-31T23:59:59Z", json!({})).await;
    crate::helpers::assert_error(&old, "BAD_USER_INPUT", "2000-01-01");
    assert_eq!(app.count("snapshots").await, 0);

    let refused = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {admin}"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/csv")
        .body(query)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn after_shutdown_begins_new_connections_are_refused_while_a_request_in_flight_finishes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut app = crate::helpers::spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let body = r#"{"query": "{ viewer { subject } }"}"#;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n",
        crate::helpers::platform_admin(),
        body.len()
    );
    let mut in_flight = tokio::net::TcpStream::connect(&address).await.unwrap();
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.shut_down();
    crate::helpers::eventually(
        "new connections refused after shutdown began",
        std::time::Duration::from_secs(5),
        || async {
            tokio::net::TcpStream::connect(&address)
                .await
                .is_err()
                .then_some(())
        },
    )
    .await;
    in_flight.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"subject\""), "{answer}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_whatever_the_response_type() {
    let app = spawn_app().await;
    let tenants_before = app.count("tenants").await;
    for accept in ["application/json", "application/graphql-response+json"] {
        for body in [
            "{\"query\": \"mutation { createTenant(input: {id: \\\"x\\\", name: \\\"x\\\", seatCount: 1}) { id } }\"",
            "not json at all",
            "{\"query\": \"{ viewer { subject } }\", \"query\": \"{ viewer { roles } }\"}",
        ] {
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header(AUTHORIZATION, format!("Bearer {}", platform_admin()))
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, accept)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::BAD_REQUEST,
                "{accept}: {body}"
            );
            let answer: Value = response.json().await.unwrap();
            assert_eq!(
                answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "{answer}"
            );
            assert!(answer.get("data").is_none(), "{answer}");
        }
    }
    assert_eq!(
        app.count("tenants").await,
        tenants_before,
        "nothing changed"
    );
}
