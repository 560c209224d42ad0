//! Marks the PostgreSQL-only tests as ignored unless the tests run on PostgreSQL
//! (`SECURESCORE_TEST_DATABASE_URL=postgres://…`), so that a run on SQLite reports them as not
//! run instead of passing them without checking anything.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=SECURESCORE_TEST_DATABASE_URL");
    let on_postgres =
        std::env::var("SECURESCORE_TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if on_postgres {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
