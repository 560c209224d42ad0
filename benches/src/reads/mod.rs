//! `securescore-bench reads`: the reads dashboards make, against a real `securescore serve`
//! child process over HTTP, on a seeded history (1,000 tenants x 365 days by default). For the
//! dashboard query, a 50-tenant page, a 90-day `scoreDiff`, a year of trends and a hello query,
//! each rotating through many tenants (each with its own token), at 1 and 64 concurrent
//! clients (a load child process, see `load`): requests/s, p50, p99, the server's CPU per request (from `/proc/<pid>/stat`),
//! on PostgreSQL the database's CPU per request (its processes' `/proc` accounting), and the
//! statements the server sent per request (its `/metrics`); next to a raw axum handler
//! returning the same bytes and, with `--postgraphile`, PostGraphile 4 answering the closest
//! equivalent dashboard query over the same tables. The servers are measured in turn within
//! each round, in an order that moves on each round, for `--rounds` rounds; the figures are
//! medians with their ranges. It prints figures; nothing here asserts a time.

pub mod load;
mod postgraphile;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use entity::action_score_set::{self, ActionResult};
use entity::enums::{ActionState, ActionStatus};
use entity::{daily_score, improvement_action, latest_action_score, tenant};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::{Value, json};

use crate::child::Server;
use entity::daily_score::StoredCategories;
use load::{Load, Rotated, Rotation};
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
    /// Rounds of every measurement.
    pub rounds: usize,
    /// Tenants each query rotates through.
    pub rotate: usize,
    /// Only the dashboard query.
    pub dashboard_only: bool,
    /// Only the dashboard and the year of trends.
    pub dashboard_and_trends: bool,
    /// Only the estate per action, against the two-field portfolio.
    pub estate_only: bool,
    /// Also the dashboard on a server with the default budgets (see [`BUDGET_CALLERS`]).
    pub budgets: bool,
    /// Where `benches/postgraphile` was installed with npm, to measure PostGraphile 4 on the
    /// same database (PostgreSQL only).
    pub postgraphile: Option<PathBuf>,
    /// A `securescore` binary of an earlier release and a database it reads holding the same
    /// history (see `securescore-bench upgrade --unpack-only`): measured beside this one on
    /// every query, alternated round by round, its answers compared with this one's.
    pub previous: Option<(PathBuf, String)>,
    /// Where `benches/postgraphile5` was installed with npm, and the Node.js 22 binary that
    /// runs it, to measure PostGraphile 5 too.
    pub postgraphile5: Option<(PathBuf, PathBuf)>,
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

/// The estate per action over every tenant in reach, each tenant's latest day.
const ESTATE: &str = "query Estate { portfolio {
  actions { action { id title } statuses { status tenantCount } pointsAtStake } } }";
/// What the estate is measured against: the portfolio's two cheapest figures.
const PORTFOLIO: &str = "query Portfolio { portfolio { tenantCount averagePercentage } }";

/// Callers the budgets-on dashboard rotates through (and, for the same bytes, the budgets-off
/// one): enough that no caller's bucket (20,000 points, 500 a second, a dashboard about 3,250)
/// runs dry during the run, so what is measured is the charging, not the throttling; a
/// throttled answer would fail the run.
const BUDGET_CALLERS: usize = 4_000;

/// Connection counts every query is measured at.
const CLIENTS: [usize; 2] = [1, 64];

/// A rotated tenant: its id and its industry and seat-size comparison groups.
struct RotatedTenant {
    id: String,
    industry: String,
    seats: String,
}

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
    if (options.postgraphile.is_some() || options.postgraphile5.is_some())
        && backend != DbBackend::Postgres
    {
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
            "seed: {} tenants x {} days x {catalog_size} actions ({} day rows, {} action results in {} sets, one per tenant and week) in {:.1} s",
            options.tenants,
            options.days,
            options.tenants as i64 * options.days,
            options.tenants as i64 * options.days * catalog_size,
            options.tenants as i64 * ((options.days + 6) / 7),
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("reusing the seeded database");
    }
    let rotated = rotated_tenants(&db, options.tenants, options.rotate).await?;
    db.close().await.map_err(|e| e.to_string())?;

    let secret = securescore::demo::random_secret();
    // Query-cost budgets off: the benchmark's clients share one subject.
    let server = Server::start(&options.database_url, &secret, &["--cost-bucket", "0"]).await?;
    // The defaults users run, budgets on, for the dashboard alternated with the one above.
    let budgeted = match options.budgets {
        true => Some(Server::start(&options.database_url, &secret, &[]).await?),
        false => None,
    };
    let previous = match &options.previous {
        Some((binary, url)) => {
            Some(Server::start_binary(binary, url, &secret, &["--cost-bucket", "0"]).await?)
        }
        None => None,
    };
    let today = Utc::now().date_naive();
    let subject_token =
        |subject: String, roles: Vec<securescore::domain::Role>, tenants: Vec<String>| {
            securescore::auth::mint::mint_hs256(
                &secrecy::SecretString::from(secret.clone()),
                &securescore::auth::mint::TokenRequest {
                    subject,
                    roles,
                    tenants,
                    ttl: Duration::from_secs(3600),
                    issuer: None,
                    audience: None,
                },
            )
            .map_err(|e| e.to_string())
        };
    let token = |roles, tenants| subject_token("bench".into(), roles, tenants);
    let readers = rotated
        .iter()
        .map(|t| {
            token(
                vec![securescore::domain::Role::SecurityReader],
                vec![t.id.clone()],
            )
        })
        .collect::<Result<Vec<String>, String>>()?;
    let admin = token(vec![securescore::domain::Role::PlatformAdmin], Vec::new())?;
    let day = |back: i64| (today - chrono::Duration::days(back)).to_string();
    let per_tenant = |query: &str, back: i64| -> Vec<Rotated> {
        rotated
            .iter()
            .zip(&readers)
            .map(|(t, token)| Rotated {
                token: token.clone(),
                body: json!({"query": query, "variables": {"id": t.id, "from": day(back), "to": day(0)}})
                    .to_string(),
            })
            .collect()
    };
    let diff_days = 90.min(options.days - 1).max(0);
    let trend_days = 364.min(options.days - 1).max(0);
    let admin_request = |query: &str| {
        vec![Rotated {
            token: admin.clone(),
            body: json!({"query": query}).to_string(),
        }]
    };
    // A case's optional in-run baseline on the same server, alternated with it round by round.
    let mut baselines_of: Vec<Option<(String, Vec<Rotated>)>> = Vec::new();
    let mut cases = Vec::new();
    if options.estate_only {
        cases.push(("estate per action".to_owned(), admin_request(ESTATE)));
        baselines_of.push(Some((
            "  portfolio (2 figures)".to_owned(),
            admin_request(PORTFOLIO),
        )));
    } else if budgeted.is_some() {
        // Each request from a caller of its own, to both servers alike.
        let requests = (0..BUDGET_CALLERS)
            .map(|i| {
                let t = &rotated[i % rotated.len()];
                Ok(Rotated {
                    token: subject_token(
                        format!("bench-{i}"),
                        vec![securescore::domain::Role::SecurityReader],
                        vec![t.id.clone()],
                    )?,
                    body: json!({"query": DASHBOARD,
                        "variables": {"id": t.id, "from": day(89), "to": day(0)}})
                    .to_string(),
                })
            })
            .collect::<Result<Vec<Rotated>, String>>()?;
        cases.push(("dashboard".to_owned(), requests));
    } else {
        cases.push(("dashboard".to_owned(), per_tenant(DASHBOARD, 89)));
    }
    let others = !options.dashboard_only && !options.estate_only;
    if others && !options.dashboard_and_trends {
        cases.push((
            "50-tenant page".into(),
            vec![Rotated {
                token: admin.clone(),
                body: json!({"query": PAGE}).to_string(),
            }],
        ));
        cases.push((
            format!("{diff_days}-day scoreDiff"),
            per_tenant(DIFF, diff_days),
        ));
    }
    if others {
        cases.push((
            format!("{}-day trends", trend_days + 1),
            per_tenant(TRENDS, trend_days),
        ));
    }
    if others && !options.dashboard_and_trends {
        cases.push((
            "hello".into(),
            readers
                .iter()
                .map(|token| Rotated {
                    token: token.clone(),
                    body: json!({"query": HELLO}).to_string(),
                })
                .collect(),
        ));
    }
    let client = reqwest::Client::new();
    let url = format!("http://{}/graphql", server.address);
    let metrics_url = format!("http://{}/metrics", server.address);
    let scripts = tempfile::tempdir().map_err(|e| e.to_string())?;

    let mut baselines: Vec<(String, postgraphile::PostGraphile)> = Vec::new();
    if let Some(dir) = &options.postgraphile {
        for workers in [1usize, 2] {
            let started = postgraphile::PostGraphile::start(dir, &options.database_url, workers);
            baselines.push((format!("  PostGraphile 4 x{workers}"), started.await?));
        }
    }
    if let Some((dir, node)) = &options.postgraphile5 {
        let started = postgraphile::PostGraphile::start_v5(dir, node, &options.database_url);
        baselines.push(("  PostGraphile 5".into(), started.await?));
    }
    let baseline_rotation = if baselines.is_empty() {
        None
    } else {
        let rotation: Vec<Rotated> = rotated
            .iter()
            .map(|t| Rotated {
                token: String::new(),
                body: json!({"query": postgraphile::DASHBOARD,
                    "variables": postgraphile::dashboard_variables(&t.id, &day(0), &t.industry, &t.seats)})
                .to_string(),
            })
            .collect();
        for (_, baseline) in &baselines {
            for request in &rotation {
                check_answer(&client, &baseline.url, request).await?;
            }
        }
        Some(Rotation::write(scripts.path(), "postgraphile", &rotation)?)
    };

    println!(
        "securescore-bench reads: {backend:?}, {} rounds of {} s per measurement; load from a child process on one thread, \
         each query rotating through {} tenants with a token each, query-cost budgets off{}; server CPU from \
         /proc/{}/stat, statements from its /metrics{}; medians [min-max] over the rounds",
        options.rounds,
        options.seconds,
        rotated.len(),
        if budgeted.is_some() {
            format!(
                " (and on, the defaults, on a second server; the dashboard from {BUDGET_CALLERS} callers)"
            )
        } else {
            String::new()
        },
        server.pid,
        if backend == DbBackend::Postgres {
            ", PostgreSQL CPU from its processes' /proc/<pid>/stat"
        } else {
            " (SQLite runs inside the server)"
        }
    );
    if !baselines.is_empty() {
        println!(
            "PostGraphile answers the closest dashboard query on the same database, rotating through the same \
             tenants (CPU: its process group's /proc/<pid>/stat; it checks no token and knows nothing of reach)"
        );
    }
    println!(
        "{:<20} {:>7} {:>19} {:>19} {:>8} {:>13} {:>9} {:>10}",
        "query", "clients", "req/s", "p50 ms", "p99 ms", "server CPU ms", "DB CPU ms", "statements"
    );
    baselines_of.resize(cases.len(), None);
    // The server's peak RSS is started again for each query; this keeps the highest.
    let mut highest_rss = 0;
    for (index, (name, requests)) in cases.iter().enumerate() {
        for request in requests {
            check_answer(&client, &url, request).await?;
        }
        let ours = Rotation::write(scripts.path(), &format!("case-{index}"), requests)?;
        let in_run = match &baselines_of[index] {
            Some((baseline, requests)) => {
                for request in requests {
                    check_answer(&client, &url, request).await?;
                }
                let rotation =
                    Rotation::write(scripts.path(), &format!("case-{index}-baseline"), requests)?;
                Some((baseline.clone(), rotation))
            }
            None => None,
        };
        let first = check_answer(&client, &url, &requests[0]).await?;
        let raw = RawServer::start(first).await?;
        let mut targets = vec![
            Target {
                name: name.clone(),
                url: url.clone(),
                metrics_url: metrics_url.clone(),
                rotation: &ours,
                readings: Readings::Server(server.pid),
            },
            Target {
                name: "  raw (same bytes)".into(),
                url: raw.url.clone(),
                metrics_url: metrics_url.clone(),
                rotation: &ours,
                readings: Readings::None,
            },
        ];
        if let (0, Some(budgeted)) = (index, &budgeted) {
            let budgeted_url = format!("http://{}/graphql", budgeted.address);
            check_answer(&client, &budgeted_url, &requests[0]).await?;
            targets.push(Target {
                name: "  budgets on (defaults)".into(),
                url: budgeted_url,
                metrics_url: format!("http://{}/metrics", budgeted.address),
                rotation: &ours,
                readings: Readings::Server(budgeted.pid),
            });
        }
        if let Some(previous) = &previous {
            let previous_url = format!("http://{}/graphql", previous.address);
            let mut differing = 0;
            for request in requests {
                let theirs = check_answer(&client, &previous_url, request).await?;
                if theirs != check_answer(&client, &url, request).await? {
                    differing += 1;
                }
            }
            println!(
                "{name}: the previous release answered {} of {} rotated requests with the same bytes",
                requests.len() - differing,
                requests.len()
            );
            targets.push(Target {
                name: "  previous release".into(),
                url: previous_url,
                metrics_url: format!("http://{}/metrics", previous.address),
                rotation: &ours,
                readings: Readings::Server(previous.pid),
            });
        }
        if let Some((baseline, rotation)) = &in_run {
            targets.push(Target {
                name: baseline.clone(),
                url: url.clone(),
                metrics_url: metrics_url.clone(),
                rotation,
                readings: Readings::Server(server.pid),
            });
        }
        if let (0, Some(rotation), false) = (index, &baseline_rotation, options.estate_only) {
            for (name, baseline) in &baselines {
                targets.push(Target {
                    name: name.clone(),
                    url: baseline.url.clone(),
                    metrics_url: metrics_url.clone(),
                    rotation,
                    readings: Readings::Group(baseline.group),
                });
            }
        }
        highest_rss = highest_rss.max(kilobytes(&server.peak_rss()));
        server.reset_peak_rss()?;
        if let Some(previous) = &previous {
            previous.reset_peak_rss()?;
        }
        for clients in CLIENTS {
            let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); targets.len()];
            for round in 0..options.rounds {
                for turn in 0..targets.len() {
                    let at = (round + turn) % targets.len();
                    let target = &targets[at];
                    let sample = target
                        .measure(&client, backend, clients, options.seconds)
                        .await?;
                    samples[at].push(sample);
                }
            }
            for (target, samples) in targets.iter().zip(&samples) {
                print_row(&target.name, clients, samples);
            }
            for (target, theirs) in targets.iter().zip(&samples).skip(2) {
                print_ratio(name, clients, &target.name, &samples[0], theirs);
            }
            if let (0, Some(_)) = (index, &budgeted) {
                // The budgets-on server is the third target.
                let kept: Vec<f64> = samples[2]
                    .iter()
                    .zip(&samples[0])
                    .map(|(on, off)| on.load.per_second / off.load.per_second)
                    .collect();
                println!(
                    "{name} at {clients} client(s): budgets on (defaults) / off, req/s by round {}",
                    spread(&kept, 3)
                );
            }
        }
        let peak = server.peak_rss();
        highest_rss = highest_rss.max(kilobytes(&peak));
        match &previous {
            Some(previous) => println!(
                "{name}: server peak RSS during this query {peak}, the previous release's {}",
                previous.peak_rss()
            ),
            None => println!("{name}: server peak RSS during this query {peak}"),
        }
    }
    println!("server peak RSS over every query: {highest_rss} kB");
    if let Some(budgeted) = &budgeted {
        println!("budgets-on server peak RSS: {}", budgeted.peak_rss());
    }
    Ok(())
}

/// A server measured, with where its CPU is read.
struct Target<'a> {
    name: String,
    url: String,
    /// The `/metrics` of the server answering `url`, for its statements.
    metrics_url: String,
    rotation: &'a Rotation,
    readings: Readings,
}

/// Whose CPU a measurement reads.
#[derive(Clone, Copy)]
enum Readings {
    /// The securescore server process, its statements and the database's CPU.
    Server(u32),
    /// A process group (PostGraphile and its workers), and the database's CPU.
    Group(u32),
    /// Nothing (the raw handler runs inside this process).
    None,
}

/// One round's figures for one server.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    load: Load,
    server_cpu_ms: Option<f64>,
    db_cpu_ms: Option<f64>,
    statements: Option<f64>,
}

impl Target<'_> {
    /// One run of the rotation against this server, with its CPU and statements per request.
    async fn measure(
        &self,
        client: &reqwest::Client,
        backend: DbBackend,
        clients: usize,
        seconds: u64,
    ) -> Result<Sample, String> {
        let read = async || match self.readings {
            Readings::Server(pid) => (
                server_cpu(pid),
                postgres_cpu(backend),
                statements_sent(client, &self.metrics_url).await,
            ),
            Readings::Group(group) => (group_cpu(group), postgres_cpu(backend), None),
            Readings::None => (None, None, None),
        };
        let before = read().await;
        let (rotation, url) = (self.rotation.clone(), self.url.clone());
        let load = tokio::task::spawn_blocking(move || rotation.run(&url, clients, seconds))
            .await
            .map_err(|e| e.to_string())??;
        if load.errors > 0 {
            return Err(format!("{}: {} failed requests", self.name, load.errors));
        }
        let after = read().await;
        let requests = load.requests.max(1) as f64;
        let cpu_ms = |before: &Option<CpuByProcess>, after: &Option<CpuByProcess>| {
            Some(1000.0 * cpu_between(before.as_ref()?, after.as_ref()?) / requests)
        };
        Ok(Sample {
            load,
            server_cpu_ms: cpu_ms(&before.0, &after.0),
            db_cpu_ms: cpu_ms(&before.1, &after.1),
            statements: after.2.zip(before.2).map(|(a, b)| (a - b) / requests),
        })
    }
}

/// Median and range of `values`, as `median [min-max]` with `decimals`.
fn spread(values: &[f64], decimals: usize) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = median(&sorted);
    format!(
        "{median:.decimals$} [{:.decimals$}-{:.decimals$}]",
        sorted[0],
        sorted[sorted.len() - 1]
    )
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The median of what `pick` reads from each sample, or `-` when none has it.
fn median_of(samples: &[Sample], pick: impl Fn(&Sample) -> Option<f64>) -> String {
    let mut values: Vec<f64> = samples.iter().filter_map(pick).collect();
    if values.is_empty() {
        return "-".into();
    }
    values.sort_by(f64::total_cmp);
    format!("{:.2}", median(&values))
}

/// Prints one server's figures over the rounds.
fn print_row(name: &str, clients: usize, samples: &[Sample]) {
    let rates: Vec<f64> = samples.iter().map(|s| s.load.per_second).collect();
    let p50s: Vec<f64> = samples.iter().map(|s| s.load.p50_ms).collect();
    println!(
        "{:<20} {:>7} {:>19} {:>19} {:>8} {:>13} {:>9} {:>10}",
        name,
        clients,
        spread(&rates, 0),
        spread(&p50s, 2),
        median_of(samples, |s| Some(s.load.p99_ms)),
        median_of(samples, |s| s.server_cpu_ms),
        median_of(samples, |s| s.db_cpu_ms),
        median_of(samples, |s| s.statements),
    );
}

/// Prints securescore's requests/s over a baseline's, round by round, and the baseline's p50
/// over securescore's (above 1: securescore answers sooner).
fn print_ratio(query: &str, clients: usize, baseline: &str, ours: &[Sample], theirs: &[Sample]) {
    let throughput: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(o, t)| o.load.per_second / t.load.per_second)
        .collect();
    let latency: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(o, t)| t.load.p50_ms / o.load.p50_ms)
        .collect();
    println!(
        "{query} at {clients} client(s), securescore against{baseline}: req/s ratio {} by round, p50 ratio (theirs / ours) {}",
        spread(&throughput, 2),
        spread(&latency, 2)
    );
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

/// `rotate` of the seeded tenants, spread over all of them, with their comparison groups.
async fn rotated_tenants(
    db: &DatabaseConnection,
    tenants: usize,
    rotate: usize,
) -> Result<Vec<RotatedTenant>, String> {
    let count = rotate.clamp(1, tenants.max(1));
    let ids: Vec<String> = (0..count).map(|i| tenant_id(i * tenants / count)).collect();
    let rows = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    if rows.len() != ids.len() {
        return Err(format!(
            "{} of the {} rotated tenants are missing: was the database seeded with --tenants {tenants}?",
            ids.len() - rows.len(),
            ids.len()
        ));
    }
    let group = |row: &tenant::Model, basis| {
        securescore::scoring::comparison::group_of(row.seat_count, row.industry.as_deref(), basis)
    };
    Ok(rows
        .iter()
        .map(|row| RotatedTenant {
            id: row.id.clone(),
            industry: group(row, securescore::domain::ComparisonBasis::Industry),
            seats: group(row, securescore::domain::ComparisonBasis::SeatSize),
        })
        .collect())
}

/// The id of the `i`-th seeded tenant.
fn tenant_id(i: usize) -> String {
    format!("tenant-{i:05}")
}

/// Seeds tenants with `days` of history each: day rows through multi-row inserts, each week
/// of a tenant's days naming that week's action score set (see [`weekly_results`]), its newest
/// day's actions kept as the pipeline keeps them, comparisons of the newest date, and the
/// tenants' pointers to their newest day.
pub(crate) async fn seed(db: &DatabaseConnection, tenants: usize, days: i64) -> Result<(), DbErr> {
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
            emergency_access_accounts: Set(None),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    // Every category, as the release before packed history stored them (this one leaves the
    // 0-of-0 ones out and reads them back), so both releases answer the same bytes.
    let all_categories: Vec<CategoryTotal> = securescore::domain::ActionCategory::ALL
        .iter()
        .map(|&category| {
            let identity = category == securescore::domain::ActionCategory::Identity;
            CategoryTotal {
                category,
                score: if identity { 20.0 } else { 0.0 },
                max_score: if identity { 40.0 } else { 0.0 },
            }
        })
        .collect();
    let categories = StoredCategories::whole(&all_categories);
    let catalog = improvement_action::Entity::find()
        .order_by_asc(improvement_action::Column::Id)
        .all(&txn)
        .await?;
    // Each tenant's results change every week (a set per tenant and week, named by that
    // week's days), as a drifting configuration does: a year of trends decodes and diffs 53
    // distinct sets. Set ids are given, so a day names its set as it is inserted.
    let weeks = (days + 6) / 7;
    let set_id = |t: usize, week: i64| t as i64 * weeks + week + 1;
    let mut sets = Vec::with_capacity(100);
    let mut latest = Vec::with_capacity(1000);
    for (t, id) in ids.iter().enumerate() {
        for week in 0..weeks {
            let results = weekly_results(&catalog, t, week);
            if week == 0 {
                latest.extend(results.iter().map(|r| latest_action_score::ActiveModel {
                    tenant_id: Set(id.clone()),
                    action_id: Set(r.action_id.clone()),
                    status: Set(r.status),
                    points_at_stake: Set(r.max_score - r.score),
                }));
            }
            let text =
                action_score_set::encode(&results).map_err(|e| DbErr::Custom(e.to_string()))?;
            sets.push(action_score_set::ActiveModel {
                id: Set(set_id(t, week)),
                tenant_id: Set(id.clone()),
                version: Set(1),
                digest: Set(action_score_set::digest(&text)),
                results: Set(text),
            });
            if sets.len() == 100 {
                action_score_set::Entity::insert_many(std::mem::take(&mut sets))
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        if latest.len() >= 1000 {
            latest_action_score::Entity::insert_many(std::mem::take(&mut latest))
                .exec_without_returning(&txn)
                .await?;
        }
    }
    if !sets.is_empty() {
        action_score_set::Entity::insert_many(sets)
            .exec_without_returning(&txn)
            .await?;
    }
    if !latest.is_empty() {
        latest_action_score::Entity::insert_many(latest)
            .exec_without_returning(&txn)
            .await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // The ids were given: the sequence moves past them for the sets the server writes.
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('action_score_sets', 'id'), \
             (SELECT max(id) FROM action_score_sets))",
        )
        .await?;
    }
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
                action_set_id: Set(set_id(t, back / 7)),
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
    txn.execute_unprepared(migration::TALLIES_FROM_LATEST)
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

/// Tenant `t`'s results in week `week` back from today: each scored action completed, half
/// done or not done, moving on by one every week (deprecated and not-scored ones 0 of 0).
fn weekly_results(catalog: &[improvement_action::Model], t: usize, week: i64) -> Vec<ActionResult> {
    catalog
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (score, max_score, status) = match (t as i64 + week + i as i64) % 3 {
                _ if a.deprecated => (0.0, 0.0, ActionStatus::Deprecated),
                _ if !a.scored => (0.0, 0.0, ActionStatus::NotScored),
                0 => (a.max_score, a.max_score, ActionStatus::Completed),
                1 => (a.max_score / 2.0, a.max_score, ActionStatus::Partial),
                _ => (0.0, a.max_score, ActionStatus::NotCompleted),
            };
            ActionResult {
                action_id: a.id.clone(),
                score,
                max_score,
                status,
                state: ActionState::Default,
                progress_current: None,
                progress_total: None,
                catalog_max_score: a.max_score,
                catalog_scored: a.scored,
                catalog_deprecated: a.deprecated,
                category: a.category,
            }
        })
        .collect()
}

/// The kilobytes of a `VmHWM` reading ("152988 kB"), 0 when unknown.
fn kilobytes(reading: &str) -> u64 {
    reading
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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

/// Sends a request once and checks it answers without errors; answers its bytes.
async fn check_answer(
    client: &reqwest::Client,
    url: &str,
    request: &Rotated,
) -> Result<Arc<Vec<u8>>, String> {
    let mut sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request.body.clone());
    if !request.token.is_empty() {
        sent = sent.bearer_auth(&request.token);
    }
    let response = sent.send().await.map_err(|e| e.to_string())?;
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if !answer["errors"].is_null() || answer["data"].is_null() {
        return Err(format!("the benchmark query failed: {answer}"));
    }
    Ok(Arc::new(bytes.to_vec()))
}

/// CPU seconds a process has used (user + system), from `/proc/<pid>/stat`.
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds of every PostgreSQL process of this machine (none on SQLite).
fn postgres_cpu(backend: DbBackend) -> Option<CpuByProcess> {
    if backend != DbBackend::Postgres {
        return None;
    }
    processes_cpu(|pid, _| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|name| name.trim() == "postgres")
    })
}

/// CPU seconds of every process of a process group.
fn group_cpu(group: u32) -> Option<CpuByProcess> {
    processes_cpu(|_, stat| {
        // After the command name: state, parent pid, process group.
        stat.rfind(')')
            .and_then(|end| stat[end + 2..].split_whitespace().nth(2))
            .is_some_and(|pgrp| pgrp == group.to_string())
    })
}

/// CPU seconds of one process.
fn server_cpu(pid: u32) -> Option<CpuByProcess> {
    Some(HashMap::from([(pid, process_cpu(pid)?)]))
}

/// CPU seconds (user + system) by process id.
type CpuByProcess = HashMap<u32, f64>;

/// CPU seconds of the processes `select` picks (by pid and `/proc/<pid>/stat`).
fn processes_cpu(select: impl Fn(u32, &str) -> bool) -> Option<CpuByProcess> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if select(pid, &stat)
            && let Some(cpu) = process_cpu(pid)
        {
            found.insert(pid, cpu);
        }
    }
    Some(found)
}

/// CPU seconds used between two readings: each process's growth, a process that started in
/// between counted from zero, one that ended left out (its last moments are lost rather than
/// its whole past subtracted, as a plain difference of totals would).
fn cpu_between(before: &CpuByProcess, after: &CpuByProcess) -> f64 {
    after
        .iter()
        .map(|(pid, cpu)| (cpu - before.get(pid).copied().unwrap_or(0.0)).max(0.0))
        .sum()
}
