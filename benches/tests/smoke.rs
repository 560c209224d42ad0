//! The benchmarks run end to end on a small seed, on SQLite or on the PostgreSQL server named by
//! `SECURESCORE_TEST_DATABASE_URL` (a database of their own, dropped afterwards): they print
//! their figures. No figure is asserted, only that each is printed.

use std::process::Command;

#[path = "../../tests/api/database.rs"]
mod database;

use database::fresh_database;

/// Entries of the built-in catalog, one action result each per tenant-day.
fn catalog_size() -> usize {
    securescore::service::catalog::BuiltInCatalog::shipped()
        .unwrap()
        .actions
        .len()
}

#[tokio::test]
async fn the_benchmark_closes_a_day_and_prints_its_figures() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args(["close-day", "--database-url", &url, "--tenants", "40"])
        .args(["--ingests", "5", "--batch", "10"])
        .output()
        .expect("run securescore-bench close-day");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("close one day")
            && printed.contains(&format!(
                "run Succeeded, 40 days with {} action results",
                40 * catalog_size()
            )),
        "{printed}"
    );
    assert!(printed.contains("ratio close / raw insert"), "{printed}");
    assert!(printed.contains("over 5 ingests: p50"), "{printed}");
}

#[tokio::test]
async fn the_upgrade_benchmark_migrates_the_unpacked_history_stopped_and_restarted() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args([
            "upgrade",
            "--database-url",
            &url,
            "--tenants",
            "12",
            "--days",
            "20",
        ])
        .output()
        .expect("run securescore-bench upgrade");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = 240 * catalog_size();
    assert!(
        printed.contains(&format!("before: 240 tenant-days, {rows} action rows")),
        "{printed}"
    );
    assert!(printed.contains("first run stopped after"), "{printed}");
    assert!(
        printed.contains(&format!(
            "after: 240 tenant-days, 0 naming no set, {rows} action results in"
        )),
        "{printed}"
    );
    assert!(
        printed.contains("(0 named by no day), daily_action_scores dropped"),
        "{printed}"
    );
}

#[tokio::test]
async fn the_read_benchmark_seeds_serves_and_prints_its_figures() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args(["reads", "--database-url", &url, "--tenants", "12"])
        .args([
            "--days",
            "20",
            "--seconds",
            "1",
            "--rounds",
            "2",
            "--rotate",
            "5",
        ])
        .output()
        .expect("run securescore-bench reads");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains(&format!(
            "seed: 12 tenants x 20 days x {} actions (240 day rows, {} action results in 36 sets",
            catalog_size(),
            240 * catalog_size()
        )),
        "{printed}"
    );
    for query in [
        "dashboard",
        "50-tenant page",
        "19-day scoreDiff",
        "20-day trends",
        "hello",
    ] {
        let lines: Vec<&str> = printed
            .lines()
            .filter(|l| l.starts_with(query) && !l.contains("peak RSS"))
            .collect();
        assert_eq!(lines.len(), 2, "{query} at 1 and 64 clients: {printed}");
        let peak = format!("{query}: server peak RSS during this query ");
        assert!(printed.contains(&peak), "{printed}");
    }
    assert!(
        printed.contains("server peak RSS over every query: "),
        "{printed}"
    );
    assert_eq!(printed.matches("raw (same bytes)").count(), 10, "{printed}");
    assert!(
        printed.contains("2 rounds of 1 s per measurement")
            && printed.contains("rotating through 5 tenants with a token each"),
        "{printed}"
    );
}

#[tokio::test]
async fn the_history_benchmark_pushes_daily_snapshots_scores_them_and_prints_what_they_take() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args([
            "history",
            "--database-url",
            &url,
            "--tenants",
            "3",
            "--days",
            "8",
        ])
        .output()
        .expect("run securescore-bench history");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    // 3 seeded + 24 pushed. Each tenant's days 1-6 repeat day 0's facts and day 7 changes
    // them: 6 sharing each; tenant 0's day 0 also repeats its seeded snapshot: 19.
    assert!(
        printed.contains("27 snapshots with the seeded ones, 19 sharing"),
        "{printed}"
    );
    assert!(printed.contains("facts stored: "), "{printed}");
    // 3 tenants x the 9 days from the first push to today.
    assert!(printed.contains("scored: 27 tenant-days"), "{printed}");
    assert!(printed.contains("grew by "), "{printed}");
    assert!(
        printed.contains(&format!(
            "the same results unpacked: {} rows",
            27 * catalog_size()
        )),
        "{printed}"
    );
}

#[tokio::test]
async fn the_collection_benchmark_reads_a_directory_and_prints_its_figures() {
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args(["collect", "--users", "400"])
        .output()
        .expect("run securescore-bench collect");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    // 400 users: one page of users ($top=999), 4 of registrations (Graph's default 100), one
    // of each other list (role assignments, policies, domains, subscribed SKUs, directory
    // settings, named locations, PIM schedule instances, access reviews), 2 of the 130 PIM
    // policies, the six groups, the seven single policies (the cross-tenant default among
    // them), the two beta reads (policies again, Microsoft Authenticator), the audit log (40
    // events), and the token: 1 + 4 + 8 + 2 + 6 + 7 + 2 + 1 + 1.
    assert!(
        printed.contains("requests per collection: 32 (token included)"),
        "{printed}"
    );
    assert!(printed.contains("\"users\":{\"total\":372"), "{printed}");
    assert_eq!(printed.matches("  round ").count(), 3, "{printed}");
}

#[tokio::test]
async fn the_estate_benchmark_measures_the_rollup_against_the_portfolio_in_the_same_run() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args(["reads", "--estate-only", "--database-url", &url])
        .args(["--tenants", "12", "--days", "2", "--seconds", "1"])
        .args(["--rounds", "2", "--rotate", "5"])
        .output()
        .expect("run securescore-bench reads --estate-only");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for query in ["estate per action ", "  portfolio (2 figures) "] {
        let rows = printed
            .lines()
            .filter(|l| l.starts_with(query) && !l.contains("against"))
            .count();
        assert_eq!(rows, 2, "{query} at 1 and 64 clients: {printed}");
    }
    assert!(!printed.contains("dashboard"), "{printed}");
    let ratios = printed
        .lines()
        .filter(|l| l.contains("securescore against  portfolio (2 figures)"))
        .count();
    assert_eq!(ratios, 2, "one ratio at each client count: {printed}");
}

#[tokio::test]
async fn the_partner_benchmark_collects_every_connection_once_an_interval_with_two_processes() {
    let (url, _database) = fresh_database().await;
    let output = Command::new(env!("CARGO_BIN_EXE_securescore-bench"))
        .args(["partner", "--database-url", &url])
        .args([
            "--connections",
            "12",
            "--users",
            "50",
            "--interval-seconds",
            "6",
        ])
        .output()
        .expect("run securescore-bench partner");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("first collections: 12 in"), "{printed}");
    assert!(
        printed.contains("raw baseline: 50 collect() calls"),
        "{printed}"
    );
    assert!(
        printed.contains("collections for 12 tenants")
            && printed.contains("gaps between a tenant's scheduled collections")
            && printed.contains("tenants ever collected twice within half an interval: 0"),
        "{printed}"
    );
    assert!(printed.contains("peak RSS: first process"), "{printed}");
}
