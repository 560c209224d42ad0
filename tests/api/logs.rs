//! JSON logs: one object per line, one access line per request, no token.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{fresh_database, platform_admin};
use crate::hygiene::ServerProcess;

#[tokio::test]
async fn json_logs_parse_line_by_line_with_one_access_line_per_request_and_no_token() {
    let (database_url, _database) = fresh_database().await;
    let server = ServerProcess::start_with(&database_url, &["--log-format", "json"]);
    let token = platform_admin();
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.address))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .header("x-request-id", "logged-request-1")
        .json(&json!({"query": "query WhoAmI { viewer { subject } }", "operationName": "WhoAmI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let log = server.stop();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!lines.is_empty());
    let access = lines
        .iter()
        .find(|line| {
            line["span"]["request_id"] == "logged-request-1" && line["fields"]["status"].is_number()
        })
        .unwrap_or_else(|| panic!("no access line for the request: {log}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["latency"].is_string(), "{access}");
    assert_eq!(access["span"]["method"], "POST");
    assert_eq!(access["span"]["path"], "/graphql");
    assert_eq!(access["span"]["operation"], "WhoAmI");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "the token leaked into the log");
}
