//! Real processes: replicas sharing runs (`securescore serve` twice against one PostgreSQL
//! database).
//!
//! Each test holds a table lock while the replicas start, so every replica is caught holding a
//! claimed task before any finishes: what the tests assert does not depend on timing.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use entity::{snapshot, tenant};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, Statement, TransactionTrait,
};
use serde_json::json;

use crate::helpers::{SECRET, TEST_DATABASE_ENV, TestDatabase, eventually, fresh_database};

/// Tenants seeded; with 20 tenant-days per task, 15 tasks to share.
const TENANTS: usize = 300;

/// A `securescore serve` process, killed when dropped.
pub struct Replica(pub Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a replica that closes yesterday at once, in tasks of 20 tenant-days.
fn start_replica(database_url: &str, lease: &str) -> Replica {
    let child = Command::new(env!("CARGO_BIN_EXE_securescore"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .args(["--jwt-secret", SECRET, "--scoring-time", "00:00"])
        .args(["--catch-up-days", "1", "--scoring-batch", "20"])
        .args(["--scoring-tick", "1s", "--scoring-lease", lease])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start securescore serve");
    Replica(child)
}

/// A migrated PostgreSQL database with the catalog and `TENANTS` tenants that each have a
/// snapshot from yesterday; `None` on SQLite, where replicas are not supported.
async fn seeded_postgres() -> Option<(String, TestDatabase, DatabaseConnection)> {
    if !std::env::var(TEST_DATABASE_ENV).is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!(
            "replica tests need {TEST_DATABASE_ENV}=postgres://…; nothing to check on SQLite"
        );
        return None;
    }
    let ids: Vec<String> = (0..TENANTS).map(|i| format!("tenant-{i:04}")).collect();
    let (url, database, db) = database_with_tenants(&ids).await;
    let now = Utc::now();
    let yesterday_noon = (now.date_naive() - chrono::Duration::days(1))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    snapshot::Entity::insert_many(ids.iter().map(|id| snapshot::ActiveModel {
        tenant_id: Set(id.clone()),
        captured_at: Set(yesterday_noon),
        received_at: Set(now),
        facts: Set(json!({"users": {"total": 100, "mfaRegistered": 50}})),
        idempotency_key: Set(None),
        ..Default::default()
    }))
    .exec_without_returning(&db)
    .await
    .unwrap();
    Some((url, database, db))
}

/// A number from a one-value query.
pub async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Waits until `sql` returns `want` (at most 60 s).
pub async fn wait_until(db: &DatabaseConnection, sql: &str, want: i64) {
    eventually(
        &format!("`{sql}` reaches {want}"),
        Duration::from_secs(60),
        || async { (number(db, sql).await == want).then_some(()) },
    )
    .await;
}

/// A fresh, migrated database with the built-in catalog and the tenants `ids` (100 seats, no
/// industry, default goal and zones), written directly, as many tests' setup does.
pub async fn database_with_tenants(ids: &[String]) -> (String, TestDatabase, DatabaseConnection) {
    let (url, database) = fresh_database().await;
    let db = securescore::db::connect(&url).await.unwrap();
    securescore::db::migrate(&db).await.unwrap();
    securescore::service::catalog::load_built_in_catalog(&db)
        .await
        .unwrap();
    let now = Utc::now();
    tenant::Entity::insert_many(ids.iter().map(|id| tenant::ActiveModel {
        id: Set(id.clone()),
        name: Set(id.clone()),
        industry: Set(None),
        seat_count: Set(100),
        created_at: Set(now),
        updated_at: Set(now),
        goal: Set(None),
        latest_score_date: Set(None),
        change_seq: Set(0),
        zone_good: Set(70.0),
        zone_fair: Set(40.0),
        emergency_access_accounts: Set(None),
    }))
    .exec_without_returning(&db)
    .await
    .unwrap();
    (url, database, db)
}

/// A transaction that blocks every write of scores until it ends.
async fn hold_score_writes(db: &DatabaseConnection) -> sea_orm::DatabaseTransaction {
    hold_writes(db, "daily_scores").await
}

/// A transaction that blocks every write to `table` until it ends.
pub async fn hold_writes(db: &DatabaseConnection, table: &str) -> sea_orm::DatabaseTransaction {
    let lock = db.begin().await.unwrap();
    lock.execute_unprepared(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
        .await
        .unwrap();
    lock
}

const REPLICAS_HOLDING_TASKS: &str = "SELECT COUNT(DISTINCT claimed_by) FROM scoring_tasks \
    WHERE kind = 'TENANTS' AND status = 'RUNNING'";
const CLOSE_SUCCEEDED: &str =
    "SELECT COUNT(*) FROM scoring_runs WHERE kind = 'DAILY' AND status = 'SUCCEEDED'";

/// Asserts that yesterday holds exactly one final set of rows per tenant.
async fn assert_yesterday_scored_once(db: &DatabaseConnection) {
    let yesterday = (Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    assert_eq!(
        number(
            db,
            &format!("SELECT COUNT(*) FROM daily_scores WHERE date = '{yesterday}' AND final")
        )
        .await,
        TENANTS as i64
    );
    assert_eq!(
        number(
            db,
            &format!(
                "SELECT COUNT(*) FROM daily_scores d JOIN action_score_sets s \
                 ON s.id = d.action_set_id AND s.tenant_id = d.tenant_id \
                 WHERE d.date = '{yesterday}'"
            )
        )
        .await,
        TENANTS as i64,
        "each tenant's day names a set of its own"
    );
    assert_eq!(
        number(db, "SELECT COALESCE(SUM(done), 0) FROM scoring_tasks").await,
        TENANTS as i64,
        "every tenant-day was counted once"
    );
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn two_replicas_closing_the_same_day_each_score_part_and_together_all_once() {
    let Some((url, _database, db)) = seeded_postgres().await else {
        return;
    };
    let lock = hold_score_writes(&db).await;
    let _first = start_replica(&url, "60s");
    let _second = start_replica(&url, "60s");
    // Both replicas hold a task, blocked on the lock: both take part in the close.
    wait_until(&db, REPLICAS_HOLDING_TASKS, 2).await;
    lock.commit().await.unwrap();
    wait_until(&db, CLOSE_SUCCEEDED, 1).await;
    assert_yesterday_scored_once(&db).await;
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(DISTINCT claimed_by) FROM scoring_tasks WHERE kind = 'TENANTS'"
        )
        .await,
        2
    );
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(*) FROM scoring_tasks WHERE attempts <> 1 OR status <> 'DONE'"
        )
        .await,
        0,
        "no task was claimed twice or left undone"
    );
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(*) FROM scoring_runs WHERE kind = 'DAILY'"
        )
        .await,
        1,
        "the date was planned once"
    );
    let shares = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT claimed_by, CAST(SUM(done) AS BIGINT) AS days FROM scoring_tasks \
             WHERE kind = 'TENANTS' GROUP BY claimed_by",
        ))
        .await
        .unwrap();
    for share in shares {
        let days: i64 = share.try_get("", "days").unwrap();
        assert!(
            days > 0 && days < TENANTS as i64,
            "each replica scored a part"
        );
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn a_task_of_a_killed_replica_is_finished_by_another_after_its_lease() {
    let Some((url, _database, db)) = seeded_postgres().await else {
        return;
    };
    let lock = hold_score_writes(&db).await;
    let mut doomed = start_replica(&url, "2s");
    wait_until(&db, REPLICAS_HOLDING_TASKS, 1).await;
    let held = number(
        &db,
        "SELECT MIN(id) FROM scoring_tasks WHERE kind = 'TENANTS' AND status = 'RUNNING'",
    )
    .await;
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    lock.commit().await.unwrap();
    let _survivor = start_replica(&url, "2s");
    wait_until(&db, CLOSE_SUCCEEDED, 1).await;
    assert_yesterday_scored_once(&db).await;
    assert_eq!(
        number(
            &db,
            &format!("SELECT CAST(attempts AS BIGINT) FROM scoring_tasks WHERE id = {held}")
        )
        .await,
        2,
        "the killed replica's task was taken over once its lease lapsed"
    );
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(DISTINCT claimed_by) FROM scoring_tasks WHERE kind = 'TENANTS'"
        )
        .await,
        1,
        "the survivor finished every task, the killed one's included"
    );
}
