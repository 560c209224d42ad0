//! `securescore-bench upgrade`: how long a database written by the release before packed
//! history takes to migrate, stopped half way and started again. It seeds the read
//! benchmark's history (1,000 tenants x 365 days by default) when the database is empty,
//! turns it into the previous release's shape with migration 21's down (one row per tenant,
//! day and action), then migrates it in a child process (this binary's hidden `migrate`),
//! kills that child half way, starts it again, and times both. It prints the times, the rows
//! and sets, the database's size before and after, and checks that every day names a set and
//! that the sets hold exactly the rows there were: nothing lost, nothing doubled.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait};

use securescore::{db, service};

/// The migration that packs history.
const PACKING_MIGRATION: &str = "m20261208_000021_action_score_sets";

/// Runs the benchmark and prints its figures.
pub async fn run(
    database_url: &str,
    tenants: usize,
    days: i64,
    unpack_only: bool,
) -> Result<(), String> {
    // The bulk statements of seeding and unpacking run past the server's statement timeout.
    let timeouts = db::DatabaseTimeouts {
        statement: Duration::from_secs(24 * 3600),
        ..db::DatabaseTimeouts::default()
    };
    let conn = db::connect_with(database_url, &timeouts)
        .await
        .map_err(|e| e.to_string())?;
    let backend = conn.get_database_backend();
    if !has_unpacked_rows(&conn).await? {
        db::migrate(&conn)
            .await
            .map_err(|e| format!("migrating: {e}"))?;
        service::catalog::load_built_in_catalog(&conn)
            .await
            .map_err(|e| format!("loading the catalog: {e:?}"))?;
        if entity::tenant::Entity::find()
            .count(&conn)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            let started = Instant::now();
            crate::reads::seed(&conn, tenants, days)
                .await
                .map_err(|e| format!("seeding: {e}"))?;
            println!(
                "seeded {tenants} tenants x {days} days in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let started = Instant::now();
        Migrator::down(&conn, Some(1))
            .await
            .map_err(|e| format!("unpacking: {e}"))?;
        println!(
            "unpacked into the previous release's shape (migration 21 down) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("reusing the unpacked database");
    }
    let days_stored = count(&conn, "SELECT COUNT(*) AS n FROM daily_scores").await?;
    let rows_before = count(&conn, "SELECT COUNT(*) AS n FROM daily_action_scores").await?;
    let size_before = database_bytes(&conn).await?;
    println!(
        "before: {days_stored} tenant-days, {rows_before} action rows, database {:.1} MB ({backend:?})",
        size_before as f64 / 1e6
    );
    if unpack_only {
        return Ok(());
    }

    let started = Instant::now();
    let mut first = start_migration(database_url)?;
    let stopped_at = stop_half_way(&conn, &mut first, days_stored).await?;
    let first_run = started.elapsed();
    let left = match packed_days(&conn).await? {
        Some(packed) => format!("{packed} of {days_stored} tenant-days named a set"),
        None => "nothing of it stayed (no action_set_id column: rolled back)".to_owned(),
    };
    println!(
        "first run stopped after {:.1} s ({stopped_at}): {left}",
        first_run.as_secs_f64()
    );
    let started = Instant::now();
    let mut second = start_migration(database_url)?;
    let status = tokio::task::spawn_blocking(move || second.wait())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("the restarted migration failed: {status}"));
    }
    let second_run = started.elapsed();
    println!(
        "restarted run finished in {:.1} s",
        second_run.as_secs_f64()
    );
    let both = first_run + second_run;
    println!(
        "migration time, both runs: {:.1} s ({:.0} tenant-days/s)",
        both.as_secs_f64(),
        days_stored as f64 / both.as_secs_f64()
    );
    check_packed(&conn, days_stored, rows_before).await?;
    let size_after = database_bytes(&conn).await?;
    println!(
        "after: database {:.1} MB ({:.0} bytes per tenant-day, {:.0} before)",
        size_after as f64 / 1e6,
        size_after as f64 / days_stored as f64,
        size_before as f64 / days_stored as f64
    );
    Ok(())
}

/// Whether the database holds history in the previous release's shape already.
async fn has_unpacked_rows(conn: &DatabaseConnection) -> Result<bool, String> {
    let applied = Migrator::get_applied_migrations(conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(!applied.is_empty() && !applied.iter().any(|m| m.name() == PACKING_MIGRATION))
}

/// The migration in a child process (this binary's hidden `migrate`).
fn start_migration(database_url: &str) -> Result<Child, String> {
    Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["migrate", "--database-url", database_url])
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("starting the migration: {e}"))
}

/// Kills `child` once half the days name a set (SQLite packs tenant by tenant, each round
/// visible to others), or after 20 s where the migration is one transaction that shows
/// nothing until it commits (PostgreSQL: what is checked there is that the kill rolls it all
/// back). Says which.
async fn stop_half_way(
    conn: &DatabaseConnection,
    child: &mut Child,
    days_stored: i64,
) -> Result<String, String> {
    let started = Instant::now();
    let transactional = conn.get_database_backend() == DbBackend::Postgres;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return match status.success() {
                true => Ok("it finished before it could be stopped half way".into()),
                false => Err(format!("the first migration run failed: {status}")),
            };
        }
        let reason = if transactional {
            (started.elapsed() >= Duration::from_secs(20)).then(|| "after 20 s".to_owned())
        } else {
            let packed = packed_days(conn).await?.unwrap_or(0);
            (packed * 2 >= days_stored).then(|| format!("{packed} tenant-days seen packed"))
        };
        if let Some(reason) = reason {
            child.kill().map_err(|e| e.to_string())?;
            child.wait().map_err(|e| e.to_string())?;
            return Ok(reason);
        }
    }
}

/// The days that name a set, or `None` while the column naming it does not exist.
async fn packed_days(conn: &DatabaseConnection) -> Result<Option<i64>, String> {
    let schema = migration::SchemaManager::new(conn);
    if !schema
        .has_column("daily_scores", "action_set_id")
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    let sql = "SELECT COUNT(*) AS n FROM daily_scores WHERE action_set_id <> 0";
    count(conn, sql).await.map(Some)
}

/// Checks that every day names a stored set, that the sets hold as many results as there
/// were rows, and that the old table is gone; prints the sets.
async fn check_packed(
    conn: &DatabaseConnection,
    days_stored: i64,
    rows_before: i64,
) -> Result<(), String> {
    let unnamed = count(
        conn,
        "SELECT COUNT(*) AS n FROM daily_scores d WHERE NOT EXISTS \
         (SELECT 1 FROM action_score_sets s WHERE s.id = d.action_set_id)",
    )
    .await?;
    let days_after = count(conn, "SELECT COUNT(*) AS n FROM daily_scores").await?;
    let results = count(
        conn,
        &format!(
            "SELECT CAST(SUM(json_array_length({})) AS BIGINT) AS n FROM daily_scores d \
             JOIN action_score_sets s ON s.id = d.action_set_id",
            match conn.get_database_backend() {
                DbBackend::Postgres => "CAST(s.results AS json)",
                _ => "s.results",
            }
        ),
    )
    .await?;
    let sets = count(conn, "SELECT COUNT(*) AS n FROM action_score_sets").await?;
    let orphans = count(
        conn,
        "SELECT COUNT(*) AS n FROM action_score_sets s WHERE NOT EXISTS \
         (SELECT 1 FROM daily_scores d WHERE d.action_set_id = s.id)",
    )
    .await?;
    let old_table = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT 1 AS n FROM daily_action_scores LIMIT 1",
        ))
        .await
        .is_ok();
    println!(
        "after: {days_after} tenant-days, {unnamed} naming no set, {results} action results in {sets} sets \
         ({orphans} named by no day), daily_action_scores {}",
        if old_table { "still there" } else { "dropped" }
    );
    if days_after != days_stored
        || unnamed != 0
        || results != rows_before
        || orphans != 0
        || old_table
    {
        return Err(format!(
            "the upgrade lost or doubled something: {days_stored} days and {rows_before} rows before"
        ));
    }
    Ok(())
}

/// The whole database's size: PostgreSQL's tables, indexes and TOAST, or SQLite's pages in use.
async fn database_bytes(conn: &DatabaseConnection) -> Result<i64, String> {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            count(
                conn,
                "SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS n",
            )
            .await
        }
        _ => {
            count(
                conn,
                "SELECT (page_count - freelist_count) * page_size AS n \
                 FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
            )
            .await
        }
    }
}

/// The one number `sql` selects as `n`.
async fn count(conn: &DatabaseConnection, sql: &str) -> Result<i64, String> {
    conn.query_one_raw(sea_orm::Statement::from_string(
        conn.get_database_backend(),
        sql,
    ))
    .await
    .map_err(|e| e.to_string())?
    .ok_or("no row")?
    .try_get::<i64>("", "n")
    .map_err(|e| e.to_string())
}
