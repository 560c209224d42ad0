//! SQLite's write-ahead log is checkpointed and cut back.

use serde_json::json;

use crate::helpers::{platform_admin, spawn_app_with};

#[tokio::test]
async fn sqlites_write_ahead_log_is_checkpointed_and_cut_back() {
    let app = spawn_app_with(|config| {
        config.sqlite_checkpoint_interval = std::time::Duration::from_secs(1);
    })
    .await;
    let Some(file) = app
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .map(|path| format!("{path}-wal"))
    else {
        eprintln!("the write-ahead log is SQLite's; nothing to check on PostgreSQL");
        return;
    };
    for tenant in ["a", "b", "c", "d"] {
        app.create_tenant(tenant, None, 10).await;
        app.ingest(
            tenant,
            &crate::helpers::noon(-200),
            json!({"sspr": {"enabled": true}}),
        )
        .await;
    }
    let body = app
        .graphql(&platform_admin(), "mutation($f: Date!, $t: Date!) { recomputeScores(input: {from: $f, to: $t}) { daysScored } }",
            json!({"f": crate::helpers::day(-200), "t": crate::helpers::day(0)}))
        .await;
    assert_eq!(
        body["data"]["recomputeScores"]["daysScored"],
        4 * 201,
        "{body}"
    );
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // Automatic checkpoints leave the file as large as it grew; only the truncating one empties it.
    crate::helpers::eventually(
        "the write-ahead log cut back to nothing",
        std::time::Duration::from_secs(15),
        || async { (size() == 0).then_some(()) },
    )
    .await;
}
