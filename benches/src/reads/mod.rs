//! `securescore-bench reads`: the reads dashboards make, against a real `securescore serve`
//! child process over HTTP, on a seeded history (1,000 tenants x 365 days by default). For the
//! dashboard query, a 50-tenant page, a 90-day `scoreDiff` and a hello query, at 1 and 64
//! concurrent clients: requests/s, p50, p99, the server's CPU per request (from
//! `/proc/<pid>/stat`), on PostgreSQL the database's CPU per request (its processes' `/proc`
//! accounting), and the statements the server sent per request (its `/metrics`); next to a raw
//! axum handler returning the same bytes, measured in the same run, and, with `--postgraphile`,
//! next to PostGraphile 4 answering the closest equivalent dashboard query over the same tables.
//! It prints figures; nothing here asserts a time.

mod postgraphile;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use entity::{daily_score, improvement_action, tenant};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, TransactionTrait,
};
use serde_json::{Value, json};

use securescore::scoring::totals::CategoryTotal;
use securescore::{db, service};

/// What to measure.
#[derive(Clone, Debug)]
pub struct ReadBenchOptions {
    /// An empty database to fill.
    pub database_url: String,
    /// Tenants to seed.
    pub tenants: usize,
    /// Days of history per tenant (today included).
    pub days: i64,
    /// How long each measurement runs.
    pub seconds: u64,
    /// Where `benches/postgraphile` was installed with npm, to measure PostGraphile 4 on the
    /// same database (PostgreSQL only).
    pub postgraphile: Option<PathBuf>,
}

/// The dashboard a frontend sends for one tenant.
const DASHBOARD: &str = "query Dashboard($id: ID!, $from: Date!, $to: Date!) { tenant(id: $id) {
  id name goal
  score { date score maxScore percentage coverage plannedScore categories { category score maxScore } }
  scoreHistory(from: $from, to: $to) { date score maxScore percentage }
  improvementActions { action { id title category } status score maxScore potentialIncrease }
  comparison { basis group tenantCount averagePercentage }
} }";
/// A page of 50 tenants with their latest score.
const PAGE: &str =
    "query Page { tenants(first: 50) { edges { node { id name score { percentage } } } } }";
/// Why the score moved over 90 days.
const DIFF: &str = "query Diff($id: ID!, $from: Date!, $to: Date!) { tenant(id: $id) {
  scoreDiff(from: $from, to: $to) { scoreDelta changes { action { id } scoreDelta reasons } } } }";
/// GraphQL itself.
const HELLO: &str = "query Hello { viewer { subject } }";
/// A year of weekly trends: every stored day's action rows read and diffed.
const TRENDS: &str = "query Trends($id: ID!, $from: Date!, $to: Date!) { tenant(id: $id) {
    trends(from: $from, to: $to) { from pointsAchieved pointsRegressed regressedActions riskAcceptedPoints percentageAtEnd } } }";

/// Runs the benchmark and prints its figures.
pub async fn run(options: ReadBenchOptions) -> Result<(), String> {
    let db = db::connect(&options.database_url)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    db::migrate(&db)
        .await
        .map_err(|e| format!("migrating: {e}"))?;
    service::catalog::load_built_in_catalog(&db)
        .await
        .map_err(|e| format!("loading the catalog: {e:?}"))?;
    let backend = db.get_database_backend();
    if options.postgraphile.is_some() && backend != DbBackend::Postgres {
        return Err("--postgraphile needs a PostgreSQL --database-url".into());
    }
    if tenant::Entity::find()
        .count(&db)
        .await
        .map_err(|e| e.to_string())?
        == 0
    {
        let started = Instant::now();
        seed(&db, options.tenants, options.days)
            .await
            .map_err(|e| format!("seeding: {e}"))?;
        let catalog_size = improvement_action::Entity::find()
            .count(&db)
            .await
            .map_err(|e| e.to_string())? as i64;
        println!(
            "seed: {} tenants x {} days x {catalog_size} actions ({} day rows, {} action rows) in {:.1} s",
            options.tenants,
            options.days,
            options.tenants as i64 * options.days,
            options.tenants as i64 * options.days * catalog_size,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("reusing the seeded database");
    }
    let watched = tenant_id(7.min(options.tenants.saturating_sub(1)));
    let watched_groups = {
        let row = tenant::Entity::find_by_id(watched.clone())
            .one(&db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the seeded tenants are missing")?;
        let group = |basis| {
            securescore::scoring::comparison::group_of(
                row.seat_count,
                row.industry.as_deref(),
                basis,
            )
        };
        (
            group(securescore::domain::ComparisonBasis::Industry),
            group(securescore::domain::ComparisonBasis::SeatSize),
        )
    };
    db.close().await.map_err(|e| e.to_string())?;

    let secret = securescore::demo::random_secret();
    let server = Server::start(&options.database_url, &secret).await?;
    let today = Utc::now().date_naive();
    let token = |roles: Vec<securescore::domain::Role>, tenants: Vec<String>| {
        securescore::auth::mint::mint_hs256(
            &secrecy::SecretString::from(secret.clone()),
            &securescore::auth::mint::TokenRequest {
                subject: "bench".into(),
                roles,
                tenants,
                ttl: Duration::from_secs(3600),
                issuer: None,
                audience: None,
            },
        )
        .map_err(|e| e.to_string())
    };
    let reader = token(
        vec![securescore::domain::Role::SecurityReader],
        vec![watched.clone()],
    )?;
    let admin = token(vec![securescore::domain::Role::PlatformAdmin], Vec::new())?;
    let day = |back: i64| (today - chrono::Duration::days(back)).to_string();
    let diff_days = 90.min(options.days - 1).max(0);
    let diff_name = format!("{diff_days}-day scoreDiff");
    let trend_days = 364.min(options.days - 1).max(0);
    let trends_name = format!("{}-day trends", trend_days + 1);
    let cases = [
        (
            "dashboard",
            &reader,
            json!({"query": DASHBOARD, "variables": {"id": watched, "from": day(89), "to": day(0)}}),
        ),
        ("50-tenant page", &admin, json!({"query": PAGE})),
        (
            diff_name.as_str(),
            &reader,
            json!({"query": DIFF, "variables": {"id": watched, "from": day(diff_days), "to": day(0)}}),
        ),
        (
            trends_name.as_str(),
            &reader,
            json!({"query": TRENDS, "variables": {"id": watched, "from": day(trend_days), "to": day(0)}}),
        ),
        ("hello", &reader, json!({"query": HELLO})),
    ];
    println!(
        "securescore-bench reads: {backend:?}, {} s per measurement, query-cost budgets off; server CPU from /proc/{}/stat, \
         statements from its /metrics{}",
        options.seconds,
        server.pid,
        if backend == DbBackend::Postgres {
            ", PostgreSQL CPU from its processes' /proc/<pid>/stat"
        } else {
            " (SQLite runs inside the server)"
        }
    );
    println!(
        "{:<18} {:>7} {:>10} {:>9} {:>9} {:>13} {:>11} {:>10}",
        "query", "clients", "req/s", "p50 ms", "p99 ms", "server CPU ms", "DB CPU ms", "statements"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("http://{}/graphql", server.address);
    let metrics_url = format!("http://{}/metrics", server.address);
    let mut dashboard_at_64 = None;
    for (name, token, body) in &cases {
        let bytes = check_answer(&client, &url, token, body).await?;
        for clients in [1usize, 64] {
            let figures = measure(
                name,
                &client,
                &url,
                (token, body),
                clients,
                options.seconds,
                async || Readings {
                    server_cpu: process_cpu(server.pid),
                    db_cpu: postgres_cpu(backend),
                    statements: statements_sent(&client, &metrics_url).await,
                },
            )
            .await;
            if *name == "dashboard" && clients == 64 {
                dashboard_at_64 = Some(figures.per_second);
            }
        }
        let raw = RawServer::start(bytes).await?;
        for clients in [1usize, 64] {
            let nothing = async || Readings::default();
            measure(
                "  raw (same bytes)",
                &client,
                &raw.url,
                (token, body),
                clients,
                options.seconds,
                nothing,
            )
            .await;
        }
    }
    println!("server peak RSS: {}", server.peak_rss());
    drop(server);
    if let (Some(dir), Some(ours)) = (&options.postgraphile, dashboard_at_64) {
        let variables = postgraphile::dashboard_variables(
            &watched,
            &day(0),
            &watched_groups.0,
            &watched_groups.1,
        );
        let body = json!({"query": postgraphile::DASHBOARD, "variables": variables});
        println!(
            "PostGraphile 4 on the same database, the closest dashboard query (CPU: its process \
             group's /proc/<pid>/stat)"
        );
        for workers in [1usize, 2] {
            let baseline =
                postgraphile::PostGraphile::start(dir, &options.database_url, workers).await?;
            check_answer(&client, &baseline.url, "", &body).await?;
            let name = format!("  PostGraphile x{workers}");
            let mut at_64 = 0.0;
            for clients in [1usize, 64] {
                let figures = measure(
                    &name,
                    &client,
                    &baseline.url,
                    ("", &body),
                    clients,
                    options.seconds,
                    async || Readings {
                        server_cpu: group_cpu(baseline.group),
                        db_cpu: postgres_cpu(backend),
                        statements: None,
                    },
                )
                .await;
                at_64 = figures.per_second;
            }
            println!(
                "dashboard at 64 clients: securescore / PostGraphile with {workers} worker(s) = \
                 {:.2}",
                ours / at_64
            );
        }
    }
    Ok(())
}

/// What is read before and after a measurement, when known: the server's and the database's CPU
/// seconds, and the statements the server sent.
#[derive(Clone, Copy, Default)]
struct Readings {
    server_cpu: Option<f64>,
    db_cpu: Option<f64>,
    statements: Option<f64>,
}

/// The statements the server has sent so far, from its `/metrics`.
async fn statements_sent(client: &reqwest::Client, metrics_url: &str) -> Option<f64> {
    let text = client
        .get(metrics_url)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| {
            line.strip_prefix(securescore::telemetry::DB_STATEMENTS)?
                .strip_prefix(' ')
        })
        .and_then(|value| value.trim().parse().ok())
}

/// Loads `url` with `request` (token and body) from `clients` clients and prints a row named
/// `name`, with what `read` saw change per request.
async fn measure(
    name: &str,
    client: &reqwest::Client,
    url: &str,
    (token, body): (&str, &Value),
    clients: usize,
    seconds: u64,
    read: impl AsyncFn() -> Readings,
) -> Figures {
    let before = read().await;
    let figures = load(client, url, token, body, clients, seconds).await;
    let after = read().await;
    let per_request = |before: Option<f64>, after: Option<f64>, scale: f64| match (before, after) {
        (Some(b), Some(a)) => format!("{:.2}", scale * (a - b) / figures.requests as f64),
        _ => "-".into(),
    };
    println!(
        "{:<18} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>13} {:>11} {:>10}",
        name,
        clients,
        figures.per_second,
        figures.p50_ms,
        figures.p99_ms,
        per_request(before.server_cpu, after.server_cpu, 1000.0),
        per_request(before.db_cpu, after.db_cpu, 1000.0),
        per_request(before.statements, after.statements, 1.0),
    );
    figures
}

/// The id of the `i`-th seeded tenant.
fn tenant_id(i: usize) -> String {
    format!("tenant-{i:05}")
}

/// Seeds tenants with `days` of history each: day rows through multi-row inserts, action rows
/// derived from them in SQL (one per catalog entry), comparisons of the newest date, and the
/// tenants' pointers to their newest day.
async fn seed(db: &DatabaseConnection, tenants: usize, days: i64) -> Result<(), DbErr> {
    let now = Utc::now();
    let today = now.date_naive();
    let ids: Vec<String> = (0..tenants).map(tenant_id).collect();
    let txn = db.begin().await?;
    for chunk in ids.chunks(1000) {
        tenant::Entity::insert_many(chunk.iter().enumerate().map(|(i, id)| tenant::ActiveModel {
            id: Set(id.clone()),
            name: Set(format!("Tenant {id}")),
            industry: Set(Some(["Finance", "Retail", "Technology"][i % 3].to_owned())),
            seat_count: Set(10 + (i as i32 * 37) % 5000),
            created_at: Set(now),
            updated_at: Set(now),
            goal: Set(Some(80.0)),
            latest_score_date: Set(Some(today)),
            change_seq: Set(0),
            zone_good: Set(70.0),
            zone_fair: Set(40.0),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let categories = CategoryTotal::to_stored(&[CategoryTotal {
        category: securescore::domain::ActionCategory::Identity,
        score: 20.0,
        max_score: 40.0,
    }])
    .map_err(|e| DbErr::Custom(e.to_string()))?;
    let mut rows = Vec::with_capacity(1000);
    for (t, id) in ids.iter().enumerate() {
        for back in 0..days {
            let date: NaiveDate = today - chrono::Duration::days(back);
            let score = 10.0 + ((t as i64 * 7 + back * 3) % 30) as f64;
            rows.push(daily_score::ActiveModel {
                tenant_id: Set(id.clone()),
                date: Set(date),
                score: Set(score),
                max_score: Set(48.0),
                percentage: Set(100.0 * score / 48.0),
                planned_score: Set(score),
                categories: Set(categories.clone()),
                snapshot_id: Set(None),
                computed_at: Set(now),
                r#final: Set(back > 0),
                no_data_max_score: Set(0.0),
                coverage: Set(100.0),
                version: Set(1),
                stale_actions: Set(false),
                ..Default::default()
            });
            if rows.len() == 1000 {
                daily_score::Entity::insert_many(std::mem::take(&mut rows))
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
    }
    if !rows.is_empty() {
        daily_score::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Millions of rows in one statement: past the server's per-statement timeout.
        txn.execute_unprepared("SET LOCAL statement_timeout = 0")
            .await?;
    }
    txn.execute_unprepared(
        "INSERT INTO daily_action_scores (tenant_id, date, action_id, score, max_score, status, \
         state, progress_current, progress_total, catalog_max_score, catalog_scored, \
         catalog_deprecated, category, version) \
         SELECT d.tenant_id, d.date, a.id, a.max_score / 2, a.max_score, 'PARTIAL', 'DEFAULT', \
         NULL, NULL, a.max_score, a.scored, a.deprecated, a.category, d.version \
         FROM daily_scores d CROSS JOIN improvement_actions a",
    )
    .await?;
    txn.commit().await?;
    service::comparisons::refresh_comparisons(db, today)
        .await
        .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}

/// A `securescore serve` child process on the benchmark's database.
struct Server {
    child: std::process::Child,
    pid: u32,
    address: String,
}

impl Server {
    async fn start(database_url: &str, secret: &str) -> Result<Server, String> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            probe.local_addr().map_err(|e| e.to_string())?.port()
        };
        let address = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            // Query-cost budgets off: the benchmark's clients share one subject.
            .args([
                "serve",
                "--bind",
                &address,
                "--database-url",
                database_url,
                "--cost-bucket",
                "0",
            ])
            .env("SECURESCORE_JWT_SECRET", secret)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the server: {e}"))?;
        let pid = child.id();
        let ready = format!("http://{address}/readyz");
        for _ in 0..300 {
            if reqwest::get(&ready)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(Server {
                    child,
                    pid,
                    address,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the server did not become ready".into())
    }

    fn peak_rss(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw axum handler that answers every POST with the same bytes.
struct RawServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    async fn start(bytes: Arc<Vec<u8>>) -> Result<RawServer, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://{}/graphql",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let router = axum::Router::new().route(
            "/graphql",
            axum::routing::post(move || {
                let bytes = bytes.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        bytes.as_ref().clone(),
                    )
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(RawServer { url, task })
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends the request once and checks it answers without errors; answers its bytes.
async fn check_answer(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Arc<Vec<u8>>, String> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if !answer["errors"].is_null() {
        return Err(format!("the benchmark query failed: {answer}"));
    }
    Ok(Arc::new(bytes.to_vec()))
}

/// What one measurement saw.
struct Figures {
    requests: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `clients` loops sending the request for `seconds`.
async fn load(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    clients: usize,
    seconds: u64,
) -> Figures {
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, url, token, body) = (
            client.clone(),
            url.to_owned(),
            token.to_owned(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let sent = Instant::now();
                let ok = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().is_success());
                if let Ok(true) = ok {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    Figures {
        requests: latencies.len().max(1),
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: crate::close_day::percentile(&latencies, 0.50),
        p99_ms: crate::close_day::percentile(&latencies, 0.99),
    }
}

/// CPU seconds a process has used (user + system), from `/proc/<pid>/stat`.
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds used by every PostgreSQL process of this machine (none on SQLite).
fn postgres_cpu(backend: DbBackend) -> Option<f64> {
    if backend != DbBackend::Postgres {
        return None;
    }
    processes_cpu(|pid, _| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|name| name.trim() == "postgres")
    })
}

/// CPU seconds used by every process of a process group.
fn group_cpu(group: u32) -> Option<f64> {
    processes_cpu(|_, stat| {
        // After the command name: state, parent pid, process group.
        stat.rfind(')')
            .and_then(|end| stat[end + 2..].split_whitespace().nth(2))
            .is_some_and(|pgrp| pgrp == group.to_string())
    })
}

/// CPU seconds used by the processes `select` picks (by pid and `/proc/<pid>/stat`).
fn processes_cpu(select: impl Fn(u32, &str) -> bool) -> Option<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if select(pid, &stat) {
            total += process_cpu(pid).unwrap_or(0.0);
        }
    }
    Some(total)
}
