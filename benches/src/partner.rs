//! `partner`: many connections sharing one partner application (2,000 by default), collected
//! by two `serve` processes on one database from the Graph stand-in: connecting them through
//! the API in lists of 500, the first collection of each (all due at once: collections per
//! minute, and how the two replicas shared them), then one whole interval of scheduled ones
//! (how they spread over it, the gaps between a tenant's collections, and that no tenant was
//! collected twice within half an interval), and each process's peak RSS. The
//! raw baseline in the same run: `collect()` called in a loop in this process on the same
//! stand-in, no queue, no database, no scoring.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::{Value, json};

use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::config::GraphConfig;
use securescore::domain::Role;
use securescore::msgraph::client::GraphClient;
use securescore::msgraph::collect::collect;
use securescore::msgraph::credential::Credential;
use securescore::service::catalog::AuditIndex;

use crate::child::Server;
use crate::collect::serve_standin;

/// Entries per `connectDirectories` call (its limit).
const LIST: usize = 500;
/// The partner application's client id.
const CLIENT: &str = "3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38";
/// Collections of the raw baseline.
const BASELINE_COLLECTIONS: usize = 50;

/// What to run.
pub struct PartnerOptions {
    /// The database (PostgreSQL for the replica figures users run).
    pub database_url: String,
    /// Connections sharing the partner application.
    pub connections: usize,
    /// Users in each (stand-in) directory.
    pub users: usize,
    /// `--collect-interval` of both processes.
    pub interval: Duration,
}

/// Runs the benchmark and prints its figures.
pub async fn run(options: PartnerOptions) -> Result<(), String> {
    let (base, standin, standin_task) = serve_standin(options.users).await?;
    let secret = securescore::demo::random_secret();
    let key_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(
        key_file.path(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )
    .map_err(|e| e.to_string())?;
    let interval = humantime_seconds(options.interval);
    let key_path = key_file.path().display().to_string();
    let args = [
        "--secrets-key-file",
        key_path.as_str(),
        "--graph-authority-url",
        base.as_str(),
        "--graph-url",
        base.as_str(),
        "--graph-allow-http",
        "--collect-interval",
        interval.as_str(),
        "--public-url",
        "https://score.example.com",
    ];
    println!(
        "partner: {} connections sharing one partner application, directories of {} users, two serve processes, --collect-interval {interval}, budgets on",
        options.connections, options.users
    );
    let first = Server::start(&options.database_url, &secret, &args).await?;
    let second = Server::start(&options.database_url, &secret, &args).await?;
    let db = securescore::db::connect(&options.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let token = mint_hs256(
        &SecretString::from(secret.clone()),
        &TokenRequest {
            subject: "bench-platform-admin".into(),
            roles: vec![Role::PlatformAdmin],
            tenants: Vec::new(),
            ttl: Duration::from_secs(24 * 3600),
            issuer: None,
            audience: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let api = Api {
        client: reqwest::Client::new(),
        url: format!("http://{}/graphql", first.address),
        token,
    };
    api.run(
        "mutation($id: String!) { setPartnerApplication(input: {clientId: $id, clientSecret: \"bench-secret\"}) { clientId } }",
        json!({"id": CLIENT}),
    )
    .await?;

    // Connect them, a list at a time.
    let connect_started = Instant::now();
    let mut list_times = Vec::new();
    for chunk in (0..options.connections).collect::<Vec<_>>().chunks(LIST) {
        let inputs: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"tenantId": format!("msp-{i:05}"), "name": format!("Customer {i}"),
                            "directoryId": format!("00000000-0000-4000-8000-{i:012}")})
            })
            .collect();
        let started = Instant::now();
        let answer = api
            .run(
                "mutation($inputs: [ConnectDirectoryInput!]!) { connectDirectories(inputs: $inputs) { tenantId error connection { status } } }",
                json!({"inputs": inputs}),
            )
            .await?;
        list_times.push(started.elapsed());
        let refused = answer["connectDirectories"].as_array().map_or(0, |lines| {
            lines.iter().filter(|l| !l["error"].is_null()).count()
        });
        if refused > 0 {
            return Err(format!("{refused} entries were refused: {answer}"));
        }
    }
    println!(
        "connectDirectories: {} lists of up to {LIST}: {}",
        list_times.len(),
        list_times
            .iter()
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // The first collection of every connection.
    let requests_before = standin.requests();
    loop {
        let collected = count(
            &db,
            "SELECT COUNT(*) AS n FROM graph_connections WHERE status = 'OK'",
        )
        .await?;
        if collected >= options.connections as i64 {
            break;
        }
        if connect_started.elapsed() > Duration::from_secs(3600) {
            return Err(format!(
                "after an hour only {collected} connections were collected"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let burst = connect_started.elapsed();
    let burst_ended = Instant::now();
    let per_replica = per_replica(&db).await?;
    println!(
        "first collections: {} in {:.1} s = {:.0} collections a minute ({}), {:.0} stand-in requests each",
        options.connections,
        burst.as_secs_f64(),
        options.connections as f64 * 60.0 / burst.as_secs_f64(),
        per_replica,
        (standin.requests() - requests_before) as f64 / options.connections as f64
    );

    // The raw baseline: the same collections without queue, database or scoring.
    let config = GraphConfig {
        authority_url: base.clone(),
        graph_url: base.clone(),
        allow_http: true,
        ..Default::default()
    };
    let started = Instant::now();
    for i in 0..BASELINE_COLLECTIONS {
        let credential = Credential::from_input(Some("bench-secret".into()), None, None)?;
        let directory = format!("00000000-0000-4000-8000-{i:012}");
        let client = GraphClient::new(&config, &directory, CLIENT, credential)?;
        let collected = collect(
            &client,
            &[],
            Utc::now() - chrono::Duration::days(7),
            AuditIndex::shipped(),
        )
        .await;
        if collected.error.is_some() {
            return Err(format!(
                "a baseline collection failed: {:?}",
                collected.error
            ));
        }
    }
    let raw = started.elapsed();
    println!(
        "raw baseline: {BASELINE_COLLECTIONS} collect() calls in a loop, one process, no queue, database or scoring: {:.0} collections a minute; ratio ours (two processes) / raw (one loop): {:.2}",
        BASELINE_COLLECTIONS as f64 * 60.0 / raw.as_secs_f64(),
        (options.connections as f64 / burst.as_secs_f64())
            / (BASELINE_COLLECTIONS as f64 / raw.as_secs_f64())
    );

    // The scheduled collections of one whole interval, once every tenant is on its slot: a
    // tenant's first scheduled collection falls half to one and a half intervals after its
    // first one, so from one interval after the first collections on, each tenant is due
    // exactly once per interval.
    let steady = options.interval.saturating_sub(burst_ended.elapsed());
    tokio::time::sleep(steady).await;
    let watch_from = Utc::now();
    let watch_to =
        watch_from + chrono::Duration::from_std(options.interval).map_err(|e| e.to_string())?;
    tokio::time::sleep(options.interval + Duration::from_secs(2)).await;
    let runs = runs(&db).await?;
    let scheduled: Vec<DateTime<Utc>> = runs
        .values()
        .flat_map(|times| {
            times
                .iter()
                .copied()
                .filter(|t| *t >= watch_from && *t < watch_to)
        })
        .collect();
    // Gaps between a tenant's scheduled collections (its first collection left out).
    let mut gaps: Vec<f64> = runs
        .values()
        .flat_map(|times| {
            times
                .windows(2)
                .skip(1)
                .map(|w| (w[1] - w[0]).num_milliseconds() as f64 / 1000.0)
                .collect::<Vec<_>>()
        })
        .collect();
    gaps.sort_by(f64::total_cmp);
    let buckets = 10usize;
    let width = options.interval.as_secs_f64() / buckets as f64;
    let mut spread = vec![0usize; buckets];
    for at in &scheduled {
        let offset = (*at - watch_from).num_milliseconds() as f64 / 1000.0;
        let bucket = ((offset / width) as usize).min(buckets - 1);
        spread[bucket] += 1;
    }
    let half = chrono::Duration::from_std(options.interval / 2).map_err(|e| e.to_string())?;
    let twice = runs
        .values()
        .filter(|times| times.windows(2).any(|w| w[1] - w[0] < half))
        .count();
    let gap = |q: f64| {
        gaps.get(((gaps.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "gaps between a tenant's scheduled collections: {} gaps, min {:.1} s, median {:.1} s, max {:.1} s (interval {} s)",
        gaps.len(),
        gap(0.0),
        gap(0.5),
        gap(1.0),
        options.interval.as_secs()
    );
    println!(
        "one interval on the schedule: {} collections for {} tenants; per tenth of the interval {:?} (min {}, max {}); tenants ever collected twice within half an interval: {twice}",
        scheduled.len(),
        options.connections,
        spread,
        spread.iter().min().unwrap_or(&0),
        spread.iter().max().unwrap_or(&0)
    );
    println!(
        "peak RSS: first process {}, second {}",
        first.peak_rss(),
        second.peak_rss()
    );
    drop((first, second));
    standin_task.abort();
    if twice > 0 {
        return Err(format!(
            "{twice} tenants were collected twice within half an interval"
        ));
    }
    Ok(())
}

/// `interval` as `--collect-interval` takes it.
fn humantime_seconds(interval: Duration) -> String {
    format!("{}s", interval.as_secs().max(1))
}

/// A GraphQL client with one token, honouring `Retry-After` when the budget says so.
struct Api {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn run(&self, query: &str, variables: Value) -> Result<Value, String> {
        loop {
            let response = self
                .client
                .post(&self.url)
                .bearer_auth(&self.token)
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body: Value = response.json().await.map_err(|e| e.to_string())?;
            match (body["errors"][0]["extensions"]["code"].as_str(), wait) {
                (Some("RATE_LIMITED"), Some(seconds)) => {
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
                (Some(_), _) => return Err(body.to_string()),
                (None, _) => return Ok(body["data"].clone()),
            }
        }
    }
}

/// One number a query answers as `n`.
async fn count(db: &DatabaseConnection, sql: &str) -> Result<i64, String> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no row")?;
    row.try_get::<i64>("", "n").map_err(|e| e.to_string())
}

/// How many successful collections each replica made, as `replica n, …`.
async fn per_replica(db: &DatabaseConnection) -> Result<String, String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT claimed_by, COUNT(*) AS n FROM collection_runs WHERE status = 'SUCCEEDED' GROUP BY claimed_by ORDER BY claimed_by",
        ))
        .await
        .map_err(|e| e.to_string())?;
    let counts: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "n").ok())
        .enumerate()
        .map(|(i, n)| format!("replica {} {n}", i + 1))
        .collect();
    Ok(counts.join(", "))
}

/// Every collection's creation time per tenant, oldest first.
async fn runs(db: &DatabaseConnection) -> Result<HashMap<String, Vec<DateTime<Utc>>>, String> {
    use entity::collection_run;
    use sea_orm::{EntityTrait, QueryOrder};
    let rows = collection_run::Entity::find()
        .order_by_asc(collection_run::Column::Id)
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    let mut by_tenant: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
    for row in rows {
        by_tenant
            .entry(row.tenant_id)
            .or_default()
            .push(row.created_at);
    }
    Ok(by_tenant)
}
