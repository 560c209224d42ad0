//! `spawn_app()` and typed helpers: each test gets its own database and server.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::SecretString;
use securescore::auth::KeySources;
use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::config::{RequestLimits, ScoringConfig, ServeConfig};
use securescore::domain::Role;
use serde_json::{Value, json};

pub use crate::database::{TEST_DATABASE_ENV, TestDatabase, fresh_database};

/// Entries of the built-in catalog every test server loads.
pub fn built_in_actions() -> usize {
    securescore::service::catalog::BuiltInCatalog::shipped()
        .expect("the shipped catalog reads")
        .actions
        .len()
}

/// How many built-in actions map to `framework`.
pub fn built_in_actions_mapped_to(framework: &str) -> usize {
    securescore::service::catalog::BuiltInCatalog::shipped()
        .expect("the shipped catalog reads")
        .actions
        .iter()
        .filter(|a| a.compliance.iter().any(|m| m.framework == framework))
        .count()
}

/// Points of the built-in catalog's scored entries.
pub fn built_in_max_score() -> f64 {
    securescore::service::catalog::BuiltInCatalog::shipped()
        .expect("the shipped catalog reads")
        .actions
        .iter()
        .filter(|a| a.scored)
        .map(|a| a.max_score)
        .sum()
}

/// The HS256 secret test servers accept.
pub const SECRET: &str = "integration-test-secret-0123456789";
/// A running server and a direct connection to its database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The server's database, for asserting what was (not) stored.
    pub db: DatabaseConnection,
    /// The URL of that database, for opening further connections to it.
    pub database_url: String,
    /// The server's scoring pipeline.
    pub pipeline: securescore::pipeline::Pipeline,
    /// The server's jobs (scoring tasks, collections, webhook deliveries).
    jobs: securescore::server::Jobs,
    /// Starts the server's graceful shutdown (as SIGTERM does) when sent or dropped.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    background: Option<securescore::pipeline::Background>,
    _database: TestDatabase,
}

/// A secrets key file every test server uses unless a test says otherwise: webhook signing
/// keys are sealed under it, and Graph credentials can be stored.
pub fn secrets_key_file() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("securescore-test-{}.key", std::process::id()));
        std::fs::write(&path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        path
    })
    .clone()
}

/// Prints what test servers log at `SECURESCORE_TEST_LOG`'s level (default `error`) into
/// the test's captured output, so a failing test shows the server's side of it.
fn log_server_errors() {
    let filter = std::env::var("SECURESCORE_TEST_LOG").unwrap_or_else(|_| "error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .with_ansi(false)
        .try_init();
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(customize: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let (database_url, database) = fresh_database().await;
    spawn_on(database_url, database, customize).await
}

impl TestApp {
    /// Starts another server on this app's database (a second replica), configured by
    /// `customize`; it lives as long as the returned app.
    pub async fn replica(&self, customize: impl FnOnce(&mut ServeConfig)) -> TestApp {
        let shared = TestDatabase::Shared;
        spawn_on(self.database_url.clone(), shared, customize).await
    }
}

/// Starts a server on an existing database (one a test prepared, e.g. as an older release
/// left it).
pub async fn spawn_app_on(database_url: String, database: TestDatabase) -> TestApp {
    spawn_on(database_url, database, |_| {}).await
}

/// Starts a server on `database_url`.
async fn spawn_on(
    database_url: String,
    database: TestDatabase,
    customize: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    log_server_errors();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut config = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone().into(),
        demo: false,
        keys: KeySources {
            secret: Some(SecretString::from(SECRET)),
            leeway_seconds: 5,
            ..Default::default()
        },
        scoring: ScoringConfig {
            run_scheduler: false,
            ..Default::default()
        },
        limits: RequestLimits {
            request_timeout: Duration::from_secs(60),
            ..Default::default()
        },
        // Budgets are off but where a test is about them (tests/api/budgets.rs).
        cost: securescore::graphql::budget::CostConfig::OFF,
        cors_origins: Vec::new(),
        metrics_bind: None,
        sqlite_checkpoint_interval: Duration::from_secs(300),
        database_timeouts: Default::default(),
        webhooks: securescore::config::WebhookConfig {
            allow_private: true,
            poll: std::time::Duration::from_millis(100),
        },
        // Nothing listens on port 9: a collection fails at once unless a test points the
        // connector at a stand-in.
        graph: securescore::config::GraphConfig {
            allow_http: true,
            authority_url: "http://127.0.0.1:9".into(),
            graph_url: "http://127.0.0.1:9".into(),
            max_attempts: 1,
            poll: Duration::from_millis(100),
            // Admin consent comes back to this server.
            public_url: Some(address.clone()),
            ..Default::default()
        },
        secrets_key_file: Some(secrets_key_file()),
    };
    customize(&mut config);
    let prepared = securescore::server::prepare(config)
        .await
        .expect("server prepares");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(securescore::http::listen::serve_http(
        listener,
        prepared.router,
        prepared.header_timeout,
        prepared.connections,
        async move {
            let _ = stopped.await;
        },
    ));
    let db = securescore::db::connect(&database_url)
        .await
        .expect("test connection");
    TestApp {
        address,
        // The server's own Graph client decodes gzip; the tests see the bytes as sent.
        client: reqwest::Client::builder().no_gzip().build().unwrap(),
        db,
        database_url,
        pipeline: prepared.pipeline,
        jobs: prepared.jobs,
        stop: Some(stop),
        background: Some(prepared.background),
        _database: database,
    }
}

/// Mints a token for `roles` reaching `tenants` (first is `tid`).
pub fn token(roles: &[Role], tenants: &[&str]) -> String {
    mint_hs256(
        &SecretString::from(SECRET),
        &TokenRequest {
            subject: "tester@example.com".into(),
            roles: roles.to_vec(),
            tenants: tenants.iter().map(|t| t.to_string()).collect(),
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .unwrap()
}

/// A PlatformAdmin token.
pub fn platform_admin() -> String {
    token(&[Role::PlatformAdmin], &[])
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Today's UTC date, `YYYY-MM-DD`, offset by `days`.
pub fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

/// Noon UTC of `day(days)`, RFC 3339 (clamped to the past for today).
pub fn noon(days: i64) -> String {
    let now = chrono::Utc::now();
    let at = (now.date_naive() + chrono::Duration::days(days))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    at.min(now - chrono::Duration::seconds(1)).to_rfc3339()
}

impl TestApp {
    /// Begins a graceful shutdown, as SIGTERM does.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and its background work (pipeline, delivery worker) as a process
    /// that dies would, keeping its database for another server.
    pub fn kill(&mut self) {
        self.shut_down();
        self.background.take();
    }

    /// Runs the server's claimable jobs until none is left or running (its own loops run
    /// beside it), as crates.io's `TestApp::run_pending_background_jobs` does; answers how
    /// many ran here.
    pub async fn run_pending_jobs(&self) -> usize {
        self.jobs.run_pending().await.expect("the jobs run")
    }

    /// POSTs a GraphQL request with a bearer token and returns the JSON body.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.address))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON body")
    }

    /// Creates a tenant as a PlatformAdmin.
    pub async fn create_tenant(&self, id: &str, industry: Option<&str>, seats: i32) {
        let body = self
            .graphql(
                &platform_admin(),
                "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }",
                json!({ "i": { "id": id, "name": format!("Tenant {id}"), "industry": industry, "seatCount": seats } }),
            )
            .await;
        assert_eq!(body["data"]["createTenant"]["id"], id, "{body}");
    }

    /// Ingests a snapshot as the tenant's collector; returns the response body.
    pub async fn ingest(&self, tenant: &str, captured_at: &str, facts: Value) -> Value {
        self.graphql(
            &token(&[Role::Collector], &[tenant]),
            "mutation($i: IngestSnapshotInput!) { ingestSnapshot(input: $i) { id capturedAt } }",
            json!({ "i": { "tenantId": tenant, "capturedAt": captured_at, "facts": facts } }),
        )
        .await
    }

    /// Recomputes a tenant's range as its GlobalAdmin; returns the response body.
    pub async fn recompute(&self, tenant: &str, from: &str, to: &str) -> Value {
        self.graphql(
            &token(&[Role::GlobalAdmin], &[tenant]),
            "mutation($i: RecomputeScoresInput!) { recomputeScores(input: $i) { tenantsScored daysScored } }",
            json!({ "i": { "tenantId": tenant, "from": from, "to": to } }),
        )
        .await
    }

    /// The action results the stored days matching `condition` (on `daily_scores d`) name,
    /// counted once per day.
    pub async fn named_results(&self, condition: &str) -> usize {
        let days: Vec<i64> = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT d.action_set_id FROM daily_scores d WHERE {condition}"),
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "action_set_id").unwrap())
            .collect();
        let sets = securescore::service::action_sets::read_sets(&self.db, days.iter().copied())
            .await
            .unwrap();
        days.iter().map(|id| sets[id].len()).sum()
    }

    /// Counts rows of a table (for asserting that refused requests changed nothing).
    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Every value of a text or JSON column, joined (for asserting what is never stored).
    pub async fn stored_text(&self, table: &str, column: &str) -> String {
        let rows = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT CAST({column} AS TEXT) AS v FROM {table}"),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                row.try_get::<Option<String>>("", "v")
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// For [`TestApp::count`]: the action score sets no stored day names.
pub const UNNAMED_SETS: &str = "action_score_sets s
    WHERE NOT EXISTS (SELECT 1 FROM daily_scores d WHERE d.action_set_id = s.id)";

/// The tallies that equal the sums of `latest_action_scores` per action and status.
const TALLIES_MATCHING_LATEST: &str = "latest_action_tallies t JOIN (
    SELECT action_id, status, COUNT(*) AS n, SUM(ROUND(points_at_stake * 1000000)) AS m
    FROM latest_action_scores GROUP BY action_id, status) g
    ON g.action_id = t.action_id AND g.status = t.status AND g.n = t.tenants AND g.m = t.micro_points";

impl TestApp {
    /// Asserts that what the pipeline keeps of each tenant's newest day (its actions, and their
    /// sums per action and status) is that day as stored; answers the rows kept.
    pub async fn assert_newest_days_kept(&self) -> i64 {
        let newest = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT d.tenant_id, d.action_set_id FROM daily_scores d \
                 JOIN tenants t ON t.id = d.tenant_id AND d.date = t.latest_score_date",
            ))
            .await
            .unwrap();
        let named: Vec<(String, i64)> = newest
            .iter()
            .map(|row| {
                (
                    row.try_get("", "tenant_id").unwrap(),
                    row.try_get("", "action_set_id").unwrap(),
                )
            })
            .collect();
        let sets =
            securescore::service::action_sets::read_sets(&self.db, named.iter().map(|(_, id)| *id))
                .await
                .unwrap();
        let mut stored: Vec<(String, String, String, i64)> = named
            .iter()
            .flat_map(|(tenant, id)| {
                sets[id]
                    .iter()
                    .map(|r| {
                        let at_stake = ((r.max_score - r.score) * 1e6).round() as i64;
                        (
                            tenant.clone(),
                            r.action_id.clone(),
                            r.status.as_str().to_owned(),
                            at_stake,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        stored.sort();
        let mut kept: Vec<(String, String, String, i64)> = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT tenant_id, action_id, status, points_at_stake FROM latest_action_scores",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let at_stake: f64 = row.try_get("", "points_at_stake").unwrap();
                (
                    row.try_get("", "tenant_id").unwrap(),
                    row.try_get("", "action_id").unwrap(),
                    row.try_get("", "status").unwrap(),
                    (at_stake * 1e6).round() as i64,
                )
            })
            .collect();
        kept.sort();
        assert_eq!(
            kept, stored,
            "latest_action_scores is each tenant's newest day as stored"
        );
        let kept = kept.len() as i64;
        let groups = self
            .count("(SELECT DISTINCT action_id, status FROM latest_action_scores) g")
            .await;
        assert_eq!(
            groups,
            self.count("latest_action_tallies WHERE tenants <> 0").await
        );
        assert_eq!(groups, self.count(TALLIES_MATCHING_LATEST).await);
        kept
    }
}

/// Asserts that the first error has `code` and a message containing `part`.
pub fn assert_error(body: &Value, code: &str, part: &str) {
    assert_eq!(error_code(body), Some(code), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(part),
        "`{part}` is not in the message: {body}"
    );
}

/// 90 of 120 users with MFA, all 4 admins protected, half blocked from legacy auth, passwords
/// never expire, no sign-in risk policy, user risk unknown, consent open, 3 global admins,
/// SSPR unknown, weekly reviews done (not scored).
pub fn partial_mfa_facts() -> Value {
    json!({
        "users": {"total": 120, "mfaRegistered": 90, "legacyAuthBlocked": 60, "signInRiskCovered": 0},
        "admins": {"total": 4, "mfaProtected": 4},
        "passwordPolicy": {"neverExpires": true},
        "apps": {"userConsentRestricted": false},
        "roles": {"globalAdmins": 3},
        "reviews": {"signInWeekly": true}
    })
}

/// Waits until `check` answers `Some`, trying every 50 ms for at most `limit`; panics with
/// `what` when it never does.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A response header's value, when it is there and readable.
pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}
