//! `securescore-bench snapshots`: what keeping snapshots costs when collectors push every day
//! and a tenant's configuration changes about once a week. Each tenant's collector pushes one
//! snapshot a day through the server's ingest; the same snapshots, each with its facts, are
//! then copied into a table shaped as the snapshots table (the release before facts were
//! shared stored them so). It prints the facts bytes per snapshot (both databases) and the
//! whole table's bytes with its indexes (PostgreSQL) for both; nothing here asserts a size.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use securescore::service::snapshots::{self, SnapshotInput};
use securescore::{db, service};

use crate::close_day::{facts, seed};

/// Days between two changes of a tenant's configuration.
const DAYS_PER_CHANGE: usize = 7;

/// Runs the benchmark on an empty database and prints its figures.
pub async fn run(database_url: &str, tenants: usize, days: usize) -> Result<(), String> {
    let fail = |what: &'static str| move |e: DbErr| format!("{what}: {e}");
    let db = db::connect(database_url)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    db::migrate(&db).await.map_err(fail("migrating"))?;
    service::catalog::load_built_in_catalog(&db)
        .await
        .map_err(|e| format!("loading the catalog: {e:?}"))?;
    let start = Utc::now().date_naive() - Duration::days(days as i64 + 1);
    seed(&db, tenants, start).await.map_err(fail("seeding"))?;
    let started = std::time::Instant::now();
    for day in 0..days {
        let captured_at = (start + Duration::days(day as i64 + 1))
            .and_hms_opt(6, 0, 0)
            .unwrap_or_default()
            .and_utc();
        for tenant in 0..tenants {
            snapshots::ingest_snapshot(
                &db,
                SnapshotInput {
                    tenant_id: format!("bench-{tenant:06}"),
                    captured_at,
                    facts: facts(tenant * 1_000 + day / DAYS_PER_CHANGE),
                    idempotency_key: None,
                },
            )
            .await
            .map_err(|e| format!("ingesting: {e:?}"))?;
        }
    }
    let ingest = started.elapsed();
    let backend = db.get_database_backend();
    copy_with_whole_facts(&db).await.map_err(fail("copying"))?;
    let count = scalar(&db, "SELECT COUNT(*) FROM snapshots").await?;
    let sharing = scalar(
        &db,
        "SELECT COUNT(*) FROM snapshots WHERE facts_of IS NOT NULL",
    )
    .await?;
    println!(
        "snapshots: {tenants} tenants x {days} daily pushes through ingestSnapshot's service ({:.0} a second), \
         a tenant's facts changing every {DAYS_PER_CHANGE} days; {count} snapshots with the seeded ones, {sharing} sharing an earlier one's facts",
        (tenants * days) as f64 / ingest.as_secs_f64()
    );
    compare(
        &db,
        "facts stored",
        " with every snapshot's facts",
        |t| format!("SELECT CAST(SUM(LENGTH(CAST(facts AS TEXT))) AS BIGINT) FROM {t}"),
        count,
    )
    .await?;
    if backend == DbBackend::Postgres {
        compare(
            &db,
            "table with indexes and TOAST",
            "",
            |t| format!("SELECT CAST(pg_total_relation_size('{t}') AS BIGINT)"),
            count,
        )
        .await?;
    }
    db.execute_unprepared("DROP TABLE bench_raw_snapshots")
        .await
        .map_err(fail("dropping the copy"))?;
    Ok(())
}

/// Copies every snapshot, its facts whole, into `bench_raw_snapshots` (on PostgreSQL with the
/// snapshots table's indexes).
async fn copy_with_whole_facts(db: &DatabaseConnection) -> Result<(), DbErr> {
    let create = match db.get_database_backend() {
        DbBackend::Postgres => "CREATE TABLE bench_raw_snapshots (LIKE snapshots INCLUDING ALL)",
        _ => "CREATE TABLE bench_raw_snapshots AS SELECT * FROM snapshots WHERE 0 = 1",
    };
    db.execute_unprepared(create).await?;
    db.execute_unprepared(
        "INSERT INTO bench_raw_snapshots (id, tenant_id, captured_at, received_at, facts, idempotency_key, facts_of) \
         SELECT s.id, s.tenant_id, s.captured_at, s.received_at, \
         CASE WHEN s.facts_of IS NULL THEN s.facts ELSE o.facts END, s.idempotency_key, NULL \
         FROM snapshots s LEFT JOIN snapshots o ON o.id = s.facts_of",
    )
    .await?;
    Ok(())
}

/// Prints what `bytes_of` answers for `snapshots` and for the copy, per snapshot, and their
/// ratio.
async fn compare(
    db: &DatabaseConnection,
    what: &str,
    copy_is: &str,
    bytes_of: impl Fn(&str) -> String,
    count: i64,
) -> Result<(), String> {
    let ours = scalar(db, &bytes_of("snapshots")).await?;
    let raw = scalar(db, &bytes_of("bench_raw_snapshots")).await?;
    let per = |bytes: i64| bytes as f64 / count.max(1) as f64;
    println!(
        "{what}: {:.0} bytes per snapshot, against {:.0}{copy_is} ({:.2}x)",
        per(ours),
        per(raw),
        ours as f64 / raw.max(1) as f64
    );
    Ok(())
}

/// One whole number a query answers.
async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64, String> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .ok_or_else(|| format!("{sql}: no row"))?;
    row.try_get_by_index::<i64>(0)
        .map_err(|e| format!("{sql}: {e}"))
}
