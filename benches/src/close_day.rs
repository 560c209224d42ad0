//! `securescore-bench close-day`: closing a day for many tenants against a raw multi-row insert of the
//! same rows into copies of the same tables on the same database, then closing the next day
//! with one tenant in seven's configuration changed (the daily close once history exists), and
//! the lag from a snapshot's ingest to today's rescored row. It prints figures; nothing here
//! asserts a time.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use entity::{action_score_set, daily_score, improvement_action, snapshot, tenant};
use sea_orm::sea_query::{Alias, Index};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryTrait, TransactionTrait,
};
use serde_json::{Value, json};

use securescore::config::ScoringConfig;
use securescore::domain::ScoringRunKind;
use securescore::pipeline::tasks::RunRequest;
use securescore::pipeline::{LiveRequest, Pipeline};
use securescore::service::daily_scores::DateRange;
use securescore::service::snapshots::{self, SnapshotInput};
use securescore::{db, service};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Database URL; an empty database (tables are created).
    pub database_url: String,
    /// Tenants to seed and close.
    pub tenants: usize,
    /// Ingests whose live rescoring is timed.
    pub ingests: usize,
    /// Tenant-days per scoring task.
    pub batch_tenant_days: usize,
}

/// Rows per multi-row statement of the raw baseline (as the pipeline writes them).
const RAW_ROWS_PER_INSERT: usize = 1000;

/// Runs the benchmark and prints its figures.
pub async fn run(options: BenchOptions) -> Result<(), String> {
    let fail = |what: &str| {
        let what = what.to_owned();
        move |e: DbErr| format!("{what}: {e}")
    };
    let db = db::connect(&options.database_url)
        .await
        .map_err(fail("connecting"))?;
    db::migrate(&db).await.map_err(fail("migrating"))?;
    service::catalog::load_built_in_catalog(&db)
        .await
        .map_err(|e| format!("loading the catalog: {e:?}"))?;
    if tenant::Entity::find()
        .count(&db)
        .await
        .map_err(fail("counting"))?
        > 0
    {
        return Err("the benchmark needs an empty database".into());
    }
    let config = ScoringConfig {
        run_scheduler: false,
        batch_tenant_days: options.batch_tenant_days,
        ..Default::default()
    };
    // Started before seeding: its start-up rescoring of today finds nothing to do.
    let (pipeline, _background) = Pipeline::start(db.clone(), config);
    let backend = format!("{:?}", db.get_database_backend());
    let catalog_size = improvement_action::Entity::find()
        .count(&db)
        .await
        .map_err(fail("counting the catalog"))? as usize;
    println!(
        "securescore-bench close-day: {backend}, {} tenants x the built-in catalog ({catalog_size} actions), tasks of {} tenant-days, query-cost budgets off",
        options.tenants, options.batch_tenant_days
    );

    let started = Instant::now();
    let yesterday = Utc::now().date_naive() - chrono::Duration::days(1);
    let first = yesterday - chrono::Duration::days(1);
    seed(&db, options.tenants, first)
        .await
        .map_err(fail("seeding"))?;
    println!(
        "seed: {} tenants with a snapshot each in {:.2} s",
        options.tenants,
        started.elapsed().as_secs_f64()
    );

    let (close, run) = timed_run(&pipeline, ScoringRunKind::Daily, first, "closing").await?;
    let day_rows = run.tenant_days_done as usize;
    let action_results = day_rows * catalog_size;
    println!(
        "close one day: {:.3} s, run {:?}, {day_rows} days with {action_results} action results ({:.0} results/s), comparisons included",
        close.as_secs_f64(),
        run.status,
        action_results as f64 / close.as_secs_f64()
    );

    println!("peak RSS after the close: {}", peak_rss());
    let raw = raw_insert(&db, first, options.batch_tenant_days)
        .await
        .map_err(fail("raw insert"))?;
    println!(
        "raw multi-row insert of the same rows into copies of the tables: {:.3} s ({:.0} results/s)",
        raw.as_secs_f64(),
        action_results as f64 / raw.as_secs_f64()
    );
    println!(
        "ratio close / raw insert: {:.2}x (target: at most 2x)",
        close.as_secs_f64() / raw.as_secs_f64()
    );
    if let Some(bytes) = stored_bytes(&db).await.map_err(fail("measuring size"))? {
        println!(
            "stored: {:.0} bytes per tenant-day (daily_scores + action_score_sets with their indexes)",
            bytes as f64 / day_rows.max(1) as f64
        );
    }

    // The steady state: every tenant's newest day is kept already and nothing changed, as when
    // today is rescored for everyone at the date change the day after a close.
    let (took, again) =
        timed_run(&pipeline, ScoringRunKind::Recompute, first, "recomputing").await?;
    println!(
        "recompute that day (each tenant's newest day kept already, nothing changed): {:.3} s, run {:?}",
        took.as_secs_f64(),
        again.status
    );

    // The daily close once history exists: every tenant sent a snapshot, one in seven with a
    // configuration that changed since the day before.
    let changed = next_snapshots(&db, options.tenants, yesterday)
        .await
        .map_err(fail("seeding the next day"))?;
    let (took, next) = timed_run(
        &pipeline,
        ScoringRunKind::Daily,
        yesterday,
        "closing the next day",
    )
    .await?;
    println!(
        "close the next day ({changed} of {} tenants' configuration changed): {:.3} s, run {:?}, {} days",
        options.tenants,
        took.as_secs_f64(),
        next.status,
        next.tenant_days_done
    );

    let lags = live_lags(&db, &pipeline, options.tenants, options.ingests)
        .await
        .map_err(fail("live rescoring"))?;
    println!(
        "ingest to today's rescored row over {} ingests: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target: p99 under 1 s)",
        lags.len(),
        percentile(&lags, 0.50),
        percentile(&lags, 0.99),
        percentile(&lags, 1.0)
    );
    let (bytes, growth) = export_memory(&db, &pipeline, yesterday)
        .await
        .map_err(|e| format!("exporting: {e}"))?;
    let rows = catalog_size as u64
        * daily_score::Entity::find()
            .filter(daily_score::Column::Date.gte(yesterday))
            .count(&db)
            .await
            .map_err(fail("counting exported days"))?;
    println!(
        "CSV export of {rows} action rows ({:.1} MB) over HTTP: resident memory grew by at most {:.1} MB while streaming",
        bytes as f64 / 1e6,
        growth as f64 / 1e6
    );
    println!(
        "peak RSS at the end (the raw baseline holds the day's rows in memory): {}",
        peak_rss()
    );
    Ok(())
}

/// Runs `kind` over every tenant on `date`, waiting for it; returns how long it took.
async fn timed_run(
    pipeline: &Pipeline,
    kind: ScoringRunKind,
    date: NaiveDate,
    what: &str,
) -> Result<(Duration, entity::scoring_run::Model), String> {
    let started = Instant::now();
    let run = pipeline
        .run(every_tenant(kind, date), Duration::from_secs(3600))
        .await
        .map_err(|e| format!("{what}: {e:?}"))?;
    Ok((started.elapsed(), run))
}

/// A run of `kind` over every tenant on `date`.
fn every_tenant(kind: ScoringRunKind, date: NaiveDate) -> RunRequest {
    RunRequest {
        kind,
        range: DateRange::day(date),
        tenant_ids: None,
        tenant_id: None,
        requested_by: None,
    }
}

/// Serves the real router on a local port, downloads `/export/action-scores.csv` for yesterday
/// and today over a plain HTTP/1.1 connection while sampling the resident set size, and returns
/// the bytes received and the largest growth of the RSS over its level before.
async fn export_memory(
    db: &DatabaseConnection,
    pipeline: &Pipeline,
    yesterday: NaiveDate,
) -> Result<(usize, u64), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let secret = securescore::demo::random_secret();
    let keys = securescore::auth::KeySources {
        secret: Some(secrecy::SecretString::from(secret.clone())),
        ..Default::default()
    };
    let limits = securescore::config::RequestLimits::default();
    let collector = securescore::collector::Collector::new(
        db.clone(),
        securescore::config::GraphConfig::default(),
        securescore::secrets::SecretsKey::default(),
        pipeline.clone(),
    );
    let app = std::sync::Arc::new(securescore::http::App {
        schema: securescore::graphql::build_schema(
            db.clone(),
            pipeline.clone(),
            ScoringConfig::default(),
            securescore::config::WebhookConfig::default(),
            collector.clone(),
            &limits,
            securescore::graphql::budget::CostConfig::OFF,
        ),
        verifier: securescore::auth::TokenVerifier::from_sources(&keys)
            .map_err(|e| e.to_string())?,
        db: db.clone(),
        limits,
        cors_origins: Vec::new(),
        persisted: Default::default(),
        subscribers: Default::default(),
        demo_tokens: None,
        collector,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(securescore::http::listen::serve_http(
        listener,
        securescore::http::router(app, false),
        limits.request_timeout,
        securescore::http::connections::ConnectionLimit::new(limits.max_connections),
        std::future::pending(),
    ));
    let token = securescore::auth::mint::mint_hs256(
        &secrecy::SecretString::from(secret),
        &securescore::auth::mint::TokenRequest {
            subject: "bench".into(),
            roles: vec![securescore::domain::Role::PlatformAdmin],
            tenants: Vec::new(),
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let baseline = current_rss();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(current_rss(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /export/action-scores.csv?from={yesterday}&to={} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        yesterday + chrono::Duration::days(1)
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let (mut bytes, mut buffer) = (0, vec![0u8; 64 * 1024]);
    loop {
        let read = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        bytes += read;
    }
    sampler.abort();
    server.abort();
    let growth = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(baseline);
    Ok((bytes, growth))
}

/// The process's resident set size in bytes, from `/proc/self/status` (0 elsewhere).
fn current_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kb: u64 = line
                .trim_start_matches("VmRSS:")
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

/// `count` tenants, each with one snapshot captured at noon of `date`, in multi-row inserts.
pub(crate) async fn seed(
    db: &DatabaseConnection,
    count: usize,
    date: NaiveDate,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let captured_at = date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
    let ids: Vec<String> = (0..count).map(|i| format!("bench-{i:06}")).collect();
    for chunk in ids.chunks(SEED_CHUNK) {
        let txn = db.begin().await?;
        tenant::Entity::insert_many(chunk.iter().enumerate().map(|(i, id)| tenant::ActiveModel {
            id: Set(id.clone()),
            name: Set(format!("Bench tenant {id}")),
            industry: Set(Some(["Finance", "Retail", "Technology"][i % 3].to_owned())),
            seat_count: Set(10 + (i as i32 * 37) % 5000),
            created_at: Set(now),
            updated_at: Set(now),
            goal: Set(None),
            latest_score_date: Set(None),
            change_seq: Set(0),
            zone_good: Set(70.0),
            zone_fair: Set(40.0),
            emergency_access_accounts: Set(None),
        }))
        .exec_without_returning(&txn)
        .await?;
        snapshot::Entity::insert_many(chunk.iter().enumerate().map(|(i, id)| {
            snapshot::ActiveModel {
                tenant_id: Set(id.clone()),
                captured_at: Set(captured_at),
                received_at: Set(now),
                facts: Set(facts(i)),
                idempotency_key: Set(None),
                ..Default::default()
            }
        }))
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Tenants seeded per transaction; a tenant's facts are [`facts`] of its place in its chunk.
const SEED_CHUNK: usize = 1000;

/// One seeded tenant in this many changes its configuration on the day after the first.
const CHANGED_EVERY: usize = 7;

/// A snapshot at noon of `date` for each of the `count` seeded tenants: the same facts as the
/// day before, but for one tenant in [`CHANGED_EVERY`], whose facts are another tenant's.
/// Returns how many changed.
async fn next_snapshots(
    db: &DatabaseConnection,
    count: usize,
    date: NaiveDate,
) -> Result<usize, DbErr> {
    let now = Utc::now();
    let captured_at = date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
    let changes = |i: usize| i.is_multiple_of(CHANGED_EVERY);
    for chunk in (0..count).collect::<Vec<_>>().chunks(SEED_CHUNK) {
        snapshot::Entity::insert_many(chunk.iter().map(|&i| snapshot::ActiveModel {
            tenant_id: Set(format!("bench-{i:06}")),
            captured_at: Set(captured_at),
            received_at: Set(now),
            facts: Set(facts(i % SEED_CHUNK + usize::from(changes(i)))),
            idempotency_key: Set(None),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok((0..count).filter(|&i| changes(i)).count())
}

/// Varied facts for every path of the built-in catalog.
pub(crate) fn facts(i: usize) -> Value {
    let users = 20 + (i * 7) % 900;
    let some = |k: usize| (i * k) % (users + 1);
    json!({
        "users": {"total": users, "mfaRegistered": some(13), "legacyAuthBlocked": some(3),
                  "signInRiskCovered": i % (users + 1), "userRiskCovered": some(5),
                  "mfaRequired": some(11), "signInRiskBlocked": some(2),
                  "managedDeviceRequired": some(17), "deviceCodeFlowBlocked": some(19)},
        "admins": {"total": 4, "mfaProtected": i % 5, "phishingResistantRequired": (i / 2) % 5,
                   "phishingResistantRegistered": (i / 3) % 5, "cloudOnly": (i / 5) % 5},
        "passwordPolicy": {"neverExpires": i.is_multiple_of(2)},
        "apps": {"userConsentRestricted": i.is_multiple_of(3), "adminConsentWorkflow": i.is_multiple_of(7),
                 "userRegistrationBlocked": i.is_multiple_of(4)},
        "tenants": {"userCreationBlocked": i.is_multiple_of(6)},
        "groups": {"userCreationBlocked": i.is_multiple_of(8)},
        "guests": {"accessRestricted": !i.is_multiple_of(3), "invitesLimited": i.is_multiple_of(9)},
        "authMethods": {"smsDisabled": i.is_multiple_of(10), "voiceDisabled": i.is_multiple_of(4),
                        "emailOtpDisabled": i.is_multiple_of(11),
                        "authenticatorContextShown": !i.is_multiple_of(5),
                        "systemPreferredEnabled": !i.is_multiple_of(2)},
        "roles": {"globalAdmins": 1 + i % 6},
        "sspr": {"enabled": !i.is_multiple_of(4)},
        "reviews": {"signInWeekly": i.is_multiple_of(5)}
    })
}

/// Copies `date`'s closed day rows and the action score sets they name into fresh copies of
/// the score tables (same columns, same unique indexes) with multi-row inserts, one
/// transaction per batch of `batch` tenant-days as the pipeline does, and returns how long the
/// inserts took; the copies are dropped afterwards.
async fn raw_insert(
    db: &DatabaseConnection,
    date: NaiveDate,
    batch: usize,
) -> Result<Duration, DbErr> {
    let days = daily_score::Entity::find()
        .filter(daily_score::Column::Date.eq(date))
        .all(db)
        .await?;
    let mut sets = std::collections::HashMap::new();
    for chunk in days.chunks(RAW_ROWS_PER_INSERT) {
        let ids = chunk.iter().map(|d| d.action_set_id);
        for set in action_score_set::Entity::find()
            .filter(action_score_set::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            sets.insert(set.id, set);
        }
    }
    let (day_table, set_table) = (
        Alias::new("bench_raw_daily_scores"),
        Alias::new("bench_raw_action_score_sets"),
    );
    for statement in [
        "CREATE TABLE bench_raw_daily_scores AS SELECT * FROM daily_scores WHERE 1 = 0",
        "CREATE TABLE bench_raw_action_score_sets AS SELECT * FROM action_score_sets WHERE 1 = 0",
    ] {
        db.execute_unprepared(statement).await?;
    }
    db.execute(
        Index::create()
            .name("uq_bench_raw_daily_scores")
            .table(day_table.clone())
            .col(daily_score::Column::TenantId)
            .col(daily_score::Column::Date)
            .unique(),
    )
    .await?;
    db.execute(
        Index::create()
            .name("uq_bench_raw_action_score_sets")
            .table(set_table.clone())
            .col(action_score_set::Column::Id)
            .unique(),
    )
    .await?;
    let started = Instant::now();
    for day_chunk in days.chunks(batch.max(1)) {
        let txn = db.begin().await?;
        let day_sets: Vec<action_score_set::Model> = day_chunk
            .iter()
            .filter_map(|d| sets.get(&d.action_set_id).cloned())
            .collect();
        for rows in day_sets.chunks(RAW_ROWS_PER_INSERT / 10) {
            let models = rows
                .iter()
                .cloned()
                .map(action_score_set::ActiveModel::from);
            let mut insert = action_score_set::Entity::insert_many(models).into_query();
            txn.execute(insert.into_table(set_table.clone())).await?;
        }
        for rows in day_chunk.chunks(RAW_ROWS_PER_INSERT) {
            let models = rows.iter().cloned().map(daily_score::ActiveModel::from);
            let mut insert = daily_score::Entity::insert_many(models).into_query();
            txn.execute(insert.into_table(day_table.clone())).await?;
        }
        txn.commit().await?;
    }
    let elapsed = started.elapsed();
    for statement in [
        "DROP TABLE bench_raw_action_score_sets",
        "DROP TABLE bench_raw_daily_scores",
    ] {
        db.execute_unprepared(statement).await?;
    }
    Ok(elapsed)
}

/// Ingests `count` snapshots one after another, each for the next tenant, and measures how
/// long after each ingest returned its tenant's row for today was rescored.
async fn live_lags(
    db: &DatabaseConnection,
    pipeline: &Pipeline,
    tenants: usize,
    count: usize,
) -> Result<Vec<f64>, DbErr> {
    let today = Utc::now().date_naive();
    let mut lags = Vec::with_capacity(count);
    for i in 0..count {
        let tenant_id = format!("bench-{:06}", i % tenants.max(1));
        let stored = snapshots::ingest_snapshot(
            db,
            SnapshotInput {
                tenant_id: tenant_id.clone(),
                captured_at: Utc::now(),
                facts: facts(i + 1),
                idempotency_key: None,
            },
        )
        .await
        .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
        pipeline.rescore_today(LiveRequest::Tenants(vec![tenant_id.clone()]));
        let answered = Instant::now();
        loop {
            let row = daily_score::Entity::find()
                .filter(daily_score::Column::TenantId.eq(tenant_id.clone()))
                .filter(daily_score::Column::Date.eq(today))
                .filter(daily_score::Column::SnapshotId.eq(stored.id))
                .one(db)
                .await?;
            if row.is_some() {
                break;
            }
            if answered.elapsed() > Duration::from_secs(30) {
                return Err(DbErr::Custom(format!(
                    "{tenant_id} was not rescored within 30 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags.push(answered.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(lags)
}

/// On PostgreSQL, the bytes the score tables and their indexes take.
async fn stored_bytes(db: &DatabaseConnection) -> Result<Option<i64>, DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT CAST(pg_total_relation_size('daily_scores') \
             + pg_total_relation_size('action_score_sets') AS BIGINT) AS bytes",
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "bytes")).transpose()
}

/// The value at quantile `q` of `values` (nearest rank).
pub(crate) fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

/// The process's peak resident set size, from `/proc/self/status` (Linux).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
