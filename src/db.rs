//! Connecting to SQLite or PostgreSQL and applying the migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Opens a pool on `url`. SQLite files get, deliberately: the write-ahead log (readers never
/// wait for the writer), `synchronous = NORMAL` (durable at every checkpoint, and safe from
/// corruption; the usual pairing with WAL), a busy timeout so writers queue rather than fail,
/// foreign keys, and a `journal_size_limit` of 64 MiB so a checkpointed log is cut back to it.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if url.starts_with("sqlite") { 8 } else { 16 })
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
        });
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The size SQLite cuts its write-ahead log back to after a checkpoint, in bytes.
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// On SQLite, checkpoints the write-ahead log into the database and truncates it every
/// `interval`, so the log does not grow without bound under a steady write load (automatic
/// checkpoints move pages but leave the file as large as it ever was). Nothing on PostgreSQL.
pub async fn checkpoint_wal_periodically(db: DatabaseConnection, interval: Duration) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(err) = db
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
        {
            tracing::warn!(error = %err, "SQLite checkpoint failed; the next one retries");
        }
    }
}
