//! `securescore-bench history`: what keeping history costs when collectors push every day and a
//! tenant's configuration changes about once a week. Each tenant's collector pushes one
//! snapshot a day through the server's ingest, and every day is then scored by a recompute run
//! of the server's pipeline with the built-in catalog. It prints the whole database's growth
//! per tenant-day; the score tables' bytes per tenant-day against the same results unpacked
//! into one row per tenant, day and action with the unique index the release before kept them
//! under; and the facts bytes per snapshot against the same snapshots each with its facts
//! whole. Nothing here asserts a size.

use std::time::Instant;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

use securescore::config::ScoringConfig;
use securescore::domain::ScoringRunKind;
use securescore::pipeline::Pipeline;
use securescore::pipeline::tasks::RunRequest;
use securescore::service::daily_scores::DateRange;
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
    let empty = database_bytes(&db).await?;
    let (pipeline, _background) = Pipeline::start(
        db.clone(),
        ScoringConfig {
            run_scheduler: false,
            ..Default::default()
        },
    );
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
    let scoring = Instant::now();
    let range = DateRange {
        from: start + Duration::days(1),
        to: Utc::now().date_naive(),
    };
    let run = pipeline
        .run(
            RunRequest {
                kind: ScoringRunKind::Recompute,
                range,
                tenant_ids: None,
                tenant_id: None,
                requested_by: None,
            },
            std::time::Duration::from_secs(3600),
        )
        .await
        .map_err(|e| format!("scoring: {e:?}"))?;
    // The sets only live rescoring of today named while the days were pushed, as the sweeper
    // removes them once no reader can want them.
    let swept = securescore::pipeline::sweeper::sweep(&db, std::time::Duration::ZERO)
        .await
        .map_err(fail("sweeping"))?;
    let tenant_days = scalar(&db, "SELECT COUNT(*) FROM daily_scores").await?;
    let sets = scalar(&db, "SELECT COUNT(*) FROM action_score_sets").await?;
    println!(
        "scored: {tenant_days} tenant-days by a recompute run ({:?}) in {:.2} s, naming {sets} action score sets ({swept} no day named any more swept)",
        run.status,
        scoring.elapsed().as_secs_f64()
    );
    let grown = database_bytes(&db).await? - empty;
    println!(
        "whole database ({}): grew by {:.0} bytes per tenant-day (snapshots, scores, runs and every index)",
        if backend == DbBackend::Postgres {
            "pg_database_size"
        } else {
            "SQLite pages"
        },
        grown as f64 / tenant_days.max(1) as f64
    );
    unpack_results(&db).await.map_err(fail("unpacking"))?;
    let unpacked_rows = scalar(&db, "SELECT COUNT(*) FROM bench_raw_daily_action_scores").await?;
    println!("the same results unpacked: {unpacked_rows} rows, one per tenant, day and action");
    if backend == DbBackend::Postgres {
        let sizes = |t: &str| {
            format!(
                "SELECT CAST(pg_total_relation_size('daily_scores') + pg_total_relation_size('{t}') AS BIGINT)"
            )
        };
        compare(
            &db,
            "score tables with indexes and TOAST (daily_scores + action_score_sets)",
            Measured {
                ours: sizes("action_score_sets"),
                raw: sizes("bench_raw_daily_action_scores"),
                copy_is: " with a row per action",
                per: ("tenant-day", tenant_days),
            },
        )
        .await?;
    }
    db.execute_unprepared("DROP TABLE bench_raw_daily_action_scores")
        .await
        .map_err(fail("dropping the unpacked rows"))?;
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
    let facts =
        |t: &str| format!("SELECT CAST(SUM(LENGTH(CAST(facts AS TEXT))) AS BIGINT) FROM {t}");
    compare(
        &db,
        "facts stored",
        Measured {
            ours: facts("snapshots"),
            raw: facts("bench_raw_snapshots"),
            copy_is: " with every snapshot's facts",
            per: ("snapshot", count),
        },
    )
    .await?;
    if backend == DbBackend::Postgres {
        let size = |t: &str| format!("SELECT CAST(pg_total_relation_size('{t}') AS BIGINT)");
        compare(
            &db,
            "table with indexes and TOAST",
            Measured {
                ours: size("snapshots"),
                raw: size("bench_raw_snapshots"),
                copy_is: "",
                per: ("snapshot", count),
            },
        )
        .await?;
    }
    db.execute_unprepared("DROP TABLE bench_raw_snapshots")
        .await
        .map_err(fail("dropping the copy"))?;
    Ok(())
}

/// The database's size in bytes: `pg_database_size` on PostgreSQL, pages times page size on
/// SQLite (after a checkpoint, so the write-ahead log is in the file).
async fn database_bytes(db: &DatabaseConnection) -> Result<i64, String> {
    if db.get_database_backend() == DbBackend::Postgres {
        return scalar(
            db,
            "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
        )
        .await;
    }
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .map_err(|e| format!("checkpointing: {e}"))?;
    let pages = scalar(db, "SELECT page_count FROM pragma_page_count()").await?;
    let free = scalar(db, "SELECT freelist_count FROM pragma_freelist_count()").await?;
    let size = scalar(db, "SELECT page_size FROM pragma_page_size()").await?;
    Ok((pages - free) * size)
}

/// Writes every stored day's results into `bench_raw_daily_action_scores`, one row per tenant,
/// day and action, shaped and indexed as the release before kept them.
async fn unpack_results(db: &DatabaseConnection) -> Result<(), DbErr> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let txn = db.begin().await?;
    if postgres {
        // Millions of rows in one statement: past the server's per-statement timeout.
        txn.execute_unprepared("SET LOCAL statement_timeout = 0")
            .await?;
    }
    let db = &txn;
    db.execute_unprepared(
        "CREATE TABLE bench_raw_daily_action_scores (id BIGINT PRIMARY KEY, tenant_id TEXT NOT NULL, \
         date DATE NOT NULL, action_id TEXT NOT NULL, score DOUBLE PRECISION NOT NULL, \
         max_score DOUBLE PRECISION NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL, \
         progress_current DOUBLE PRECISION, progress_total DOUBLE PRECISION, \
         catalog_max_score DOUBLE PRECISION NOT NULL, catalog_scored BOOLEAN NOT NULL, \
         catalog_deprecated BOOLEAN NOT NULL, category TEXT NOT NULL, version BIGINT NOT NULL)",
    )
    .await?;
    let (elements, field, flag) = if postgres {
        (
            "json_array_elements(s.results::json) WITH ORDINALITY AS e(value, n)",
            "(e.value->>{})",
            "(e.value->>{})::boolean",
        )
    } else {
        (
            "json_each(s.results) AS e",
            "json_extract(e.value, '$[{}]')",
            "json_extract(e.value, '$[{}]')",
        )
    };
    let text = |i: usize| field.replace("{}", &i.to_string());
    let number = |i: usize| {
        let value = text(i);
        if postgres {
            format!("CAST({value} AS DOUBLE PRECISION)")
        } else {
            value
        }
    };
    let boolean = |i: usize| flag.replace("{}", &i.to_string());
    db.execute_unprepared(&format!(
        "INSERT INTO bench_raw_daily_action_scores SELECT ROW_NUMBER() OVER (), d.tenant_id, d.date, \
         {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, d.version \
         FROM daily_scores d JOIN action_score_sets s ON s.id = d.action_set_id, {elements}",
        text(0),
        number(1),
        number(2),
        text(3),
        text(4),
        number(5),
        number(6),
        number(7),
        boolean(8),
        boolean(9),
        text(10),
    ))
    .await?;
    db.execute_unprepared(
        "CREATE UNIQUE INDEX uq_bench_raw_daily_action_scores \
         ON bench_raw_daily_action_scores (tenant_id, date, version, action_id)",
    )
    .await?;
    txn.commit().await
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

/// Two sizes to print side by side: ours and the release before's shape.
struct Measured {
    /// A query answering our bytes.
    ours: String,
    /// A query answering the copy's bytes.
    raw: String,
    /// What the copy is, after "against N".
    copy_is: &'static str,
    /// What the bytes are divided by, and how many there are.
    per: (&'static str, i64),
}

/// Prints both sizes per unit and their ratio.
async fn compare(db: &DatabaseConnection, what: &str, sizes: Measured) -> Result<(), String> {
    let ours = scalar(db, &sizes.ours).await?;
    let raw = scalar(db, &sizes.raw).await?;
    let (unit, count) = sizes.per;
    let per = |bytes: i64| bytes as f64 / count.max(1) as f64;
    println!(
        "{what}: {:.0} bytes per {unit}, against {:.0}{} ({:.2}x)",
        per(ours),
        per(raw),
        sizes.copy_is,
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
