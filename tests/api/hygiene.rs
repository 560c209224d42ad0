//! Error hygiene: internal failures say nothing about SQL or tables, carry the request id the
//! log has, and the server's log at info level holds no token, secret or SQL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    SECRET, TestApp, day, eventually, fresh_database, noon, platform_admin, spawn_app, token,
};

const COMPARISON: &str = "{ tenant(id: \"acme\") { comparison { basis } } }";

/// A scored tenant whose comparison table has then been dropped behind the server's back.
async fn break_comparisons(app: &TestApp) {
    app.create_tenant("acme", Some("Finance"), 10).await;
    app.ingest(
        "acme",
        &noon(0),
        json!({"users": {"total": 10, "mfaRegistered": 5}}),
    )
    .await;
    let recomputed = app.recompute("acme", &day(0), &day(0)).await;
    assert_eq!(
        recomputed["data"]["recomputeScores"]["daysScored"], 1,
        "{recomputed}"
    );
    app.db
        .execute_unprepared("DROP TABLE comparative_scores")
        .await
        .unwrap();
}

/// POSTs `query` with a request id and returns the response's id header and body.
async fn post_with_request_id(
    client: &reqwest::Client,
    address: &str,
    bearer: &str,
    query: &str,
    request_id: Option<&str>,
) -> (String, Value) {
    let mut request = client
        .post(format!("{address}/graphql"))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .json(&json!({ "query": query }));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (id, response.json().await.unwrap())
}

fn assert_says_nothing_internal(body: &Value) {
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL", "{body}");
    assert_eq!(error["message"], "internal error", "{body}");
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "comparative",
        "table",
        "sqlite",
        "postgres",
        "src/",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {body}");
    }
}

#[tokio::test]
async fn an_internal_failure_is_generic_and_carries_the_request_id() {
    let app = spawn_app().await;
    break_comparisons(&app).await;
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let (id, body) = post_with_request_id(
        &app.client,
        &app.address,
        &reader,
        COMPARISON,
        Some("probe-7"),
    )
    .await;
    assert_says_nothing_internal(&body);
    assert_eq!(id, "probe-7");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "probe-7");
    // Without a client id the server makes one, returns it as a header and in the error.
    let (id, body) =
        post_with_request_id(&app.client, &app.address, &reader, COMPARISON, None).await;
    assert_says_nothing_internal(&body);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], id.as_str());
    // Other fields of the same request still resolve.
    let (_, body) = post_with_request_id(
        &app.client,
        &app.address,
        &reader,
        "{ tenant(id: \"acme\") { id comparison { basis } } }",
        None,
    )
    .await;
    assert_eq!(body["data"]["tenant"]["id"], "acme", "{body}");
    assert_eq!(body["data"]["tenant"]["comparison"], Value::Null, "{body}");
    assert_says_nothing_internal(&body);
}

/// The `securescore serve` binary with its stderr collected line by line.
pub struct ServerProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
}

impl ServerProcess {
    fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[])
    }

    /// Starts the server with extra command-line arguments.
    pub fn start_with(database_url: &str, extra: &[&str]) -> Self {
        Self::start_logging(database_url, extra, None)
    }

    /// Starts the server with extra arguments, logging at `level` (`RUST_LOG`; default info).
    pub fn start_logging(database_url: &str, extra: &[&str], level: Option<&str>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_securescore"));
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("DATABASE_URL", database_url)
            .env("SECURESCORE_JWT_SECRET", SECRET)
            .env_remove("RUST_LOG");
        if let Some(level) = level {
            command.env("RUST_LOG", level);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start securescore serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Text logs say `address=…`, JSON logs `"address":"…"`.
                let found = line
                    .split_once("address=")
                    .map(|(_, rest)| rest.split_whitespace().next().unwrap_or_default())
                    .or_else(|| {
                        let (_, rest) = line.split_once("\"address\":\"")?;
                        rest.split('"').next()
                    });
                if let Some(address) = found {
                    let _ = address_tx.send(format!("http://{address}"));
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs the address it listens on");
        ServerProcess {
            child,
            log,
            reader: Some(reader),
            address,
        }
    }

    /// True once a line that `matches` was logged.
    pub fn logged(&self, matches: impl Fn(&str) -> bool) -> bool {
        self.log.lock().unwrap().iter().any(|line| matches(line))
    }

    /// Stops the server and returns everything it logged.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test]
async fn the_info_log_holds_no_token_secret_or_sql_but_names_failed_requests() {
    let (database_url, _database) = fresh_database().await;
    let server = ServerProcess::start(&database_url);
    let client = reqwest::Client::new();
    let admin = platform_admin();
    let (_, created) = post_with_request_id(
        &client,
        &server.address,
        &admin,
        "mutation { createTenant(input: {id: \"acme\", name: \"Acme\", seatCount: 10}) { id } }",
        None,
    )
    .await;
    assert_eq!(created["data"]["createTenant"]["id"], "acme", "{created}");
    let foreign = mint_hs256(
        &SecretString::from("another-secret-entirely-0123456789"),
        &TokenRequest {
            subject: "intruder".into(),
            roles: vec![Role::PlatformAdmin],
            tenants: Vec::new(),
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .unwrap();
    let garbage = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    for bad in [foreign.as_str(), garbage] {
        let (_, refused) = post_with_request_id(
            &client,
            &server.address,
            bad,
            "{ viewer { subject } }",
            None,
        )
        .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"],
            "UNAUTHENTICATED"
        );
        assert!(!refused.to_string().contains(bad), "{refused}");
    }
    let collector = token(&[Role::Collector], &["acme"]);
    let (_, ingested) = post_with_request_id(
        &client,
        &server.address,
        &collector,
        &format!(
            "mutation {{ ingestSnapshot(input: {{tenantId: \"acme\", capturedAt: \"{}\", facts: {{users: {{total: 10, mfaRegistered: 5}}}}}}) {{ id }} }}",
            noon(0)
        ),
        None,
    )
    .await;
    assert!(
        ingested["data"]["ingestSnapshot"]["id"].is_string(),
        "{ingested}"
    );
    let admin_of_acme = token(&[Role::GlobalAdmin], &["acme"]);
    let (_, recomputed) = post_with_request_id(
        &client,
        &server.address,
        &admin_of_acme,
        &format!(
            "mutation {{ recomputeScores(input: {{tenantId: \"acme\", from: \"{}\", to: \"{}\"}}) {{ daysScored }} }}",
            day(0),
            day(0)
        ),
        None,
    )
    .await;
    assert_eq!(
        recomputed["data"]["recomputeScores"]["daysScored"], 1,
        "{recomputed}"
    );
    let db = securescore::db::connect(&database_url).await.unwrap();
    db.execute_unprepared("DROP TABLE comparative_scores")
        .await
        .unwrap();
    db.close().await.unwrap();
    let (_, failed) = post_with_request_id(
        &client,
        &server.address,
        &admin_of_acme,
        COMPARISON,
        Some("log-probe-1"),
    )
    .await;
    assert_says_nothing_internal(&failed);
    // The error line is written while the response is built: wait until the pipe carried it.
    eventually("the error line logged", Duration::from_secs(10), || async {
        let error_line = |line: &str| line.contains("log-probe-1") && line.contains("ERROR");
        server.logged(error_line).then_some(())
    })
    .await;
    let log = server.stop();

    for secret in [
        SECRET,
        &admin,
        &foreign,
        garbage,
        &collector,
        &admin_of_acme,
    ] {
        assert!(
            !log.contains(secret),
            "a token or secret is in the log:\n{log}"
        );
        let signature = secret.rsplit('.').next().unwrap();
        assert!(
            !log.contains(signature),
            "a token signature is in the log:\n{log}"
        );
    }
    for sql in ["SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"] {
        assert!(!log.contains(sql), "SQL (`{sql}`) is in the log:\n{log}");
    }
    let failure = log
        .lines()
        .find(|line| line.contains("log-probe-1"))
        .unwrap_or_else(|| panic!("no log line names the failed request:\n{log}"));
    assert!(failure.contains("ERROR"), "{failure}");
    assert!(failure.contains("internal error"), "{failure}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log:\n{log}"
    );
}

#[tokio::test]
async fn no_help_text_log_line_or_error_shows_a_database_password() {
    const PASSWORD: &str = "pa55-hunter2-in-the-url";
    // Port 1 on loopback refuses connections at once.
    let url = format!("postgres://alice:{PASSWORD}@127.0.0.1:1/securescore");
    for args in [
        &["serve", "--help"][..],
        &["migrate", "--help"],
        &["migrate"],
        &["serve"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_securescore"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("SECURESCORE_JWT_SECRET", SECRET)
            .env("SECURESCORE_DB_CONNECT_TIMEOUT", "2s")
            .env("SECURESCORE_DB_ACQUIRE_TIMEOUT", "2s")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .output()
            .expect("run securescore");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !printed.contains(PASSWORD),
            "{args:?} printed the password:\n{printed}"
        );
        if args.contains(&"--help") {
            assert!(printed.contains("DATABASE_URL"), "{args:?}: {printed}");
        } else {
            assert!(
                !output.status.success(),
                "{args:?} cannot reach its database"
            );
            assert!(!printed.trim().is_empty(), "{args:?} says why it failed");
        }
    }
}
