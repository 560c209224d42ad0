//! One database per test: a temp SQLite file, or on the PostgreSQL server named by
//! `SECURESCORE_TEST_DATABASE_URL` a database cloned from a migrated template (made once per
//! schema, as crates.io's tests do) and dropped afterwards. Shared by the API tests and the
//! benchmarks' smoke tests.

use std::hash::{DefaultHasher, Hash, Hasher};

use migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
use tokio::sync::OnceCell;

/// The variable naming a PostgreSQL server for the suite (it makes one database per test).
pub const TEST_DATABASE_ENV: &str = "SECURESCORE_TEST_DATABASE_URL";

/// A database made for one test and removed afterwards.
pub enum TestDatabase {
    /// A temp directory holding the SQLite file.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// A PostgreSQL database, dropped through the admin URL.
    Postgres {
        /// The server's URL as the suite was given it.
        admin_url: String,
        /// The database's name.
        name: String,
    },
    /// Another test app's database, removed by that app.
    #[allow(dead_code)]
    Shared,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any async context we can borrow; use a short-lived runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await.ok()?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

/// Makes a fresh database URL: a temp SQLite file, or a new PostgreSQL database.
pub async fn fresh_database() -> (String, TestDatabase) {
    match std::env::var(TEST_DATABASE_ENV) {
        Ok(url) if url.starts_with("postgres") => {
            let template = migrated_template(&url).await;
            let name = format!("securescore_test_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&url)
                .await
                .expect("connect to the PostgreSQL test server");
            admin
                .execute_unprepared(&format!(
                    "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                ))
                .await
                .expect("clone the migrated template");
            admin.close().await.ok();
            (
                database_url(&url, &name),
                TestDatabase::Postgres {
                    admin_url: url,
                    name,
                },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

/// `url` with its database name replaced by `name`.
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// The name of a database holding every migration and nothing else, made once per schema (its
/// name carries a hash of the migrations' names and sources): migrated under another name, then renamed,
/// under an advisory lock, so concurrent test processes never clone a half-migrated one.
async fn migrated_template(url: &str) -> String {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut hasher = DefaultHasher::new();
            for migration in Migrator::migrations() {
                migration.name().hash(&mut hasher);
            }
            // A migration edited in place (while it is being written) makes a new template too.
            for source in migration_sources() {
                source.hash(&mut hasher);
            }
            let template = format!("securescore_template_{:016x}", hasher.finish());
            let admin = sea_orm::Database::connect(url)
                .await
                .expect("connect to the PostgreSQL test server");
            admin
                .execute_unprepared("SELECT pg_advisory_lock(727274)")
                .await
                .expect("take the template lock");
            let exists = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT 1 AS found FROM pg_database WHERE datname = '{template}'"),
                ))
                .await
                .expect("look for the template")
                .is_some();
            if !exists {
                let building = format!("{template}_building");
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{building}\""))
                    .await
                    .expect("drop a half-built template");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{building}\""))
                    .await
                    .expect("create the template");
                let db = sea_orm::Database::connect(database_url(url, &building))
                    .await
                    .expect("connect to the template");
                Migrator::up(&db, None).await.expect("migrate the template");
                db.close().await.ok();
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
                    ))
                    .await
                    .expect("publish the template");
                drop_older_templates(&admin, &template).await;
            }
            admin
                .execute_unprepared("SELECT pg_advisory_unlock(727274)")
                .await
                .expect("release the template lock");
            admin.close().await.ok();
            template
        })
        .await
        .clone()
}

/// The text of every file of the `migration` crate's sources, in name order (found beside the
/// crate whose tests run: the workspace root or one of its members).
fn migration_sources() -> Vec<String> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(dir) = manifest
        .ancestors()
        .map(|dir| dir.join("migration").join("src"))
        .find(|dir| dir.is_dir())
    else {
        return Vec::new();
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .collect()
}

/// Drops the templates of earlier schemas, so they do not pile up on a long-lived server; one
/// in use (a run of other code cloning it right now) stays for its next run to drop.
async fn drop_older_templates(admin: &sea_orm::DatabaseConnection, current: &str) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'securescore\\_template\\_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        if name != current {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .await;
        }
    }
}
