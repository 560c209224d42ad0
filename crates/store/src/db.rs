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
    connect_with(url, &DatabaseTimeouts::default()).await
}

/// How long the server waits on its database before it says the database is unavailable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseTimeouts {
    /// Longest wait for a pooled connection (one idle for [`PING_IF_IDLE_FOR`] or longer is
    /// checked with a ping first).
    pub acquire: Duration,
    /// Longest wait to open a new connection.
    pub connect: Duration,
    /// Longest a PostgreSQL statement may run (`statement_timeout`).
    pub statement: Duration,
}

impl Default for DatabaseTimeouts {
    fn default() -> Self {
        DatabaseTimeouts {
            acquire: Duration::from_secs(5),
            connect: Duration::from_secs(5),
            statement: Duration::from_secs(30),
        }
    }
}

/// Opens a pool on `url` with these timeouts.
pub async fn connect_with(
    url: &str,
    timeouts: &DatabaseTimeouts,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let statement_timeout = timeouts.statement.as_millis().to_string();
    options
        .max_connections(if url.starts_with("sqlite") { 8 } else { 16 })
        .connect_timeout(timeouts.connect)
        .acquire_timeout(timeouts.acquire)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", statement_timeout.as_str())])
        })
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
        });
    Database::connect(options).await
}

/// A pooled connection idle this long is pinged before it is handed out, so a connection the
/// database, a proxy or a firewall dropped while it sat idle fails at checkout (within the
/// acquire timeout) rather than in a statement; connections in steady use skip the round trip.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

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
