//! Real processes: two `securescore serve` replicas against one PostgreSQL database share the
//! scheduled collections (each tenant collected exactly once), and a killed replica's
//! collection is taken over after its lease.
//!
//! Each test locks the snapshots table while replicas collect, so every replica is caught
//! holding a claimed collection before any can finish: what is asserted does not depend on
//! timing.

use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use entity::enums::{ConnectionStatus, CredentialKind};
use entity::graph_connection;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use serde_json::json;

use crate::directory::paper_directory;
use crate::graph_standin::{CLIENT, CLIENT_SECRET, DIRECTORY, StandIn};
use crate::helpers::{SECRET, TEST_DATABASE_ENV, TestDatabase, secrets_key_file};
use crate::replicas::{Replica, database_with_tenants, hold_writes, number, wait_until};

/// Starts a replica whose connector reads the stand-in.
fn start_replica(database_url: &str, graph: &str, lease: &str) -> Replica {
    let key = secrets_key_file();
    let child = Command::new(env!("CARGO_BIN_EXE_securescore"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .args(["--jwt-secret", SECRET, "--scoring-lease", lease])
        .arg("--secrets-key-file")
        .arg(&key)
        .args(["--graph-authority-url", graph, "--graph-url", graph])
        .args(["--graph-allow-http", "--collect-interval", "1h"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start securescore serve");
    Replica(child)
}

/// A migrated PostgreSQL database with `count` tenants, each connected to the stand-in's
/// directory and due for collection; `None` on SQLite, where replicas are not supported.
async fn connected_postgres(count: usize) -> Option<(String, TestDatabase, DatabaseConnection)> {
    if !std::env::var(TEST_DATABASE_ENV).is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!(
            "replica tests need {TEST_DATABASE_ENV}=postgres://…; nothing to check on SQLite"
        );
        return None;
    }
    let ids: Vec<String> = (0..count).map(|i| format!("tenant-{i}")).collect();
    let (url, database, db) = database_with_tenants(&ids).await;
    let key = securescore::secrets::SecretsKey::from_file(&secrets_key_file()).unwrap();
    let now = Utc::now();
    for id in ids {
        let stored = json!({"kind": "SECRET", "secret": CLIENT_SECRET}).to_string();
        let sealed = key
            .seal(
                &securescore::service::connections::credential_purpose(&id),
                stored.as_bytes(),
            )
            .unwrap();
        graph_connection::Entity::insert(graph_connection::ActiveModel {
            tenant_id: Set(id.clone()),
            directory_id: Set(DIRECTORY.into()),
            client_id: Set(CLIENT.into()),
            credential_kind: Set(CredentialKind::Secret),
            credential: Set(sealed),
            enabled: Set(true),
            status: Set(ConnectionStatus::NeverCollected),
            last_collected_at: Set(None),
            last_error: Set(None),
            missing_permissions: Set(json!([])),
            next_collect_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            audit_read_from: Set(None),
            uses_partner_application: Set(false),
            consented_at: Set(None),
            consent_error: Set(None),
        })
        .exec_without_returning(&db)
        .await
        .unwrap();
    }
    Some((url, database, db))
}

const HOLDING: &str =
    "SELECT COUNT(DISTINCT claimed_by) FROM collection_runs WHERE status = 'RUNNING'";
const SUCCEEDED: &str = "SELECT COUNT(*) FROM collection_runs WHERE status = 'SUCCEEDED'";
/// Sessions of this database waiting for a lock: a replica that has read the directory and
/// waits to store its snapshot behind `hold_writes`.
const WAITING_ON_A_LOCK: &str = "SELECT COUNT(*) FROM pg_stat_activity \
    WHERE datname = current_database() AND wait_event_type = 'Lock'";

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn two_replicas_share_the_scheduled_collections_and_collect_each_tenant_once() {
    const TENANTS: i64 = 8;
    let Some((url, _database, db)) = connected_postgres(TENANTS as usize).await else {
        return;
    };
    let standin = StandIn::start(paper_directory(), 100).await;
    let lock = hold_writes(&db, "snapshots").await;
    let _first = start_replica(&url, &standin.url, "60s");
    let _second = start_replica(&url, &standin.url, "60s");
    wait_until(&db, HOLDING, 2).await;
    lock.commit().await.unwrap();
    wait_until(&db, SUCCEEDED, TENANTS).await;
    // Nothing is due again within the interval (an hour): no replica can plan another one.
    let due = securescore::service::connections::plan_due_collections(
        &db,
        Duration::from_secs(3600),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(due, 0);
    assert_eq!(
        number(&db, "SELECT COUNT(*) FROM collection_runs").await,
        TENANTS
    );
    assert_eq!(
        number(&db, "SELECT COUNT(DISTINCT tenant_id) FROM collection_runs").await,
        TENANTS
    );
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(DISTINCT claimed_by) FROM collection_runs"
        )
        .await,
        2,
        "both replicas collected"
    );
    assert_eq!(number(&db, "SELECT COUNT(*) FROM snapshots").await, TENANTS);
    assert_eq!(
        standin.tokens_issued() as i64,
        TENANTS,
        "no tenant was read twice"
    );
    assert_eq!(
        number(
            &db,
            "SELECT COUNT(*) FROM graph_connections WHERE status = 'OK'"
        )
        .await,
        TENANTS
    );
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn a_collection_of_a_killed_replica_is_taken_over_after_its_lease() {
    let Some((url, _database, db)) = connected_postgres(1).await else {
        return;
    };
    let standin = StandIn::start(paper_directory(), 100).await;
    let lock = hold_writes(&db, "snapshots").await;
    let mut doomed = start_replica(&url, &standin.url, "2s");
    wait_until(&db, HOLDING, 1).await;
    // Claimed is not enough: killed before it signed in, it would not have read anything.
    // It is killed once it has read the directory and waits to store the snapshot.
    wait_until(&db, WAITING_ON_A_LOCK, 1).await;
    assert_eq!(standin.tokens_issued(), 1, "the doomed replica signed in");
    let doomed_name: String = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT claimed_by FROM collection_runs",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    lock.commit().await.unwrap();
    let _survivor = start_replica(&url, &standin.url, "2s");
    wait_until(&db, SUCCEEDED, 1).await;
    assert_eq!(number(&db, "SELECT COUNT(*) FROM collection_runs").await, 1);
    assert_eq!(
        number(&db, "SELECT CAST(attempts AS BIGINT) FROM collection_runs").await,
        2,
        "claimed twice: by the killed replica and by the survivor"
    );
    assert_eq!(
        number(
            &db,
            &format!("SELECT COUNT(*) FROM collection_runs WHERE claimed_by <> '{doomed_name}'")
        )
        .await,
        1,
        "the survivor finished it"
    );
    assert_eq!(number(&db, "SELECT COUNT(*) FROM snapshots").await, 1);
    assert_eq!(standin.tokens_issued(), 2, "read once by each replica");
}
