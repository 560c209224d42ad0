//! Connections as a flood of idle clients meets them: a real `securescore serve` process under
//! an open-file limit of 256, far more idle connections than that, and a health check that
//! still answers.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::SECRET;
use crate::replicas::Replica;

/// A free port on the loopback address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_flood_of_idle_connections_does_not_lock_out_a_health_check() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let port = free_port();
    // The shell lowers the soft and hard open-file limits to 256 before the server starts;
    // the server then holds at most 256 - 128 = 128 client connections.
    let child = Command::new("sh")
        .args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_securescore"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &database, "--jwt-secret", SECRET])
        // Idle clients are not rescued by the header-read timeout within this test.
        .args(["--request-timeout", "300s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start securescore serve");
    let _server = Replica(child);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let healthz = format!("http://127.0.0.1:{port}/healthz");
    crate::helpers::eventually("the server to start", Duration::from_secs(60), || async {
        client.get(&healthz).send().await.ok().map(|_| ())
    })
    .await;

    // 400 connections that never send a request: past both the cap and the file limit.
    let mut idle = Vec::new();
    for _ in 0..400 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            idle.push(stream);
        }
    }
    assert!(idle.len() > 256, "only {} connections opened", idle.len());
    // A new client still gets its answer: the longest idle connection makes room for it.
    for attempt in 0..3 {
        let fresh = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let response = fresh.get(&healthz).send().await;
        let status = response.map(|r| r.status());
        assert!(
            matches!(status, Ok(s) if s.is_success()),
            "health check {attempt} with 400 idle connections open: {status:?}"
        );
    }
    drop(idle);
}
