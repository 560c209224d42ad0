//! A bad date in any argument is a request error before anything runs.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{platform_admin, spawn_app};

/// A valid value for a required argument of `type_name`.
fn valid_argument(type_name: &str) -> &'static str {
    match type_name {
        "Date" => "\"2026-01-01\"",
        "DateTime" => "\"2026-01-01T00:00:00Z\"",
        "Int" => "1",
        "Float" => "1.0",
        "Boolean" => "true",
        _ => "\"acme\"",
    }
}

/// The named type under NON_NULL and LIST wrappers, and whether the outer one is NON_NULL.
fn named_type(type_ref: &Value) -> (String, bool) {
    let required = type_ref["kind"] == "NON_NULL";
    let mut inner = type_ref;
    while inner["name"].is_null() {
        assert!(
            inner["ofType"].is_object(),
            "the introspection query is not deep enough for {type_ref}"
        );
        inner = &inner["ofType"];
    }
    (
        inner["name"].as_str().unwrap_or_default().to_owned(),
        required,
    )
}

#[tokio::test]
async fn a_bad_date_in_any_argument_is_a_request_error_before_execution() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 10).await;
    let admin = platform_admin();
    let schema = app
        .graphql(
            &admin,
            "{ __schema { types { name kind fields { name
                type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
                args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }",
            json!({}),
        )
        .await;
    let types = schema["data"]["__schema"]["types"].as_array().unwrap();
    let kinds: std::collections::HashMap<&str, &str> = types
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    let mut checked = 0;
    for parent in ["Query", "Tenant", "Mutation"] {
        let parent_type = types.iter().find(|t| t["name"] == parent).unwrap();
        for field in parent_type["fields"].as_array().unwrap() {
            let args = field["args"].as_array().unwrap();
            for target in args {
                let (target_type, _) = named_type(&target["type"]);
                if target_type != "Date" && target_type != "DateTime" {
                    continue;
                }
                for (bad, as_variable) in [("2026-13-45", false), ("yesterday", true)] {
                    let mut rendered = Vec::new();
                    for arg in args {
                        let (arg_type, required) = named_type(&arg["type"]);
                        let name = arg["name"].as_str().unwrap();
                        if arg["name"] == target["name"] {
                            let value = if as_variable {
                                "$bad".to_owned()
                            } else {
                                format!("\"{bad}\"")
                            };
                            rendered.push(format!("{name}: {value}"));
                        } else if required {
                            rendered.push(format!("{name}: {}", valid_argument(&arg_type)));
                        }
                    }
                    let (result_type, _) = named_type(&field["type"]);
                    let selection = if kinds.get(result_type.as_str()) == Some(&"OBJECT") {
                        " { __typename }"
                    } else {
                        ""
                    };
                    let call = format!(
                        "{}({}){selection}",
                        field["name"].as_str().unwrap(),
                        rendered.join(", ")
                    );
                    let body = match parent {
                        "Tenant" => format!("tenant(id: \"acme\") {{ {call} }}"),
                        _ => call,
                    };
                    let keyword = if parent == "Mutation" {
                        "mutation"
                    } else {
                        "query"
                    };
                    let declared = if as_variable {
                        format!("($bad: {target_type})")
                    } else {
                        String::new()
                    };
                    let document = format!("{keyword} Probe{declared} {{ {body} }}");
                    let response = app
                        .client
                        .post(format!("{}/graphql", app.address))
                        .header(AUTHORIZATION, format!("Bearer {admin}"))
                        .header(CONTENT_TYPE, "application/json")
                        .header(ACCEPT, "application/graphql-response+json")
                        .json(&json!({"query": document, "variables": {"bad": bad}}))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let answer: Value = response.json().await.unwrap();
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{document}: {answer}");
                    assert_eq!(
                        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                        "{document}: {answer}"
                    );
                    assert!(answer.get("data").is_none(), "{document}: {answer}");
                    checked += 1;
                }
            }
        }
    }
    // score, scoreHistory (2), scoreDiff (2), comparison, improvementActions, portfolio: 8 arguments.
    assert!(checked >= 16, "only {checked} probes");
}
