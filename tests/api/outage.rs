//! The database away: a proxy between the server and PostgreSQL that forwards, refuses or
//! blackholes connections. Readiness answers within two seconds, requests fail fast with 503, and
//! the server recovers by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TEST_DATABASE_ENV, TestApp, eventually, platform_admin, spawn_app_with};

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const BLACKHOLE: u8 = 2;

/// A TCP proxy to PostgreSQL whose behaviour can be switched; existing connections follow.
struct Proxy {
    port: u16,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(FORWARD));
        let shared = Arc::clone(&mode);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let mode = Arc::clone(&shared);
                let upstream = upstream.clone();
                tokio::spawn(async move { relay(client, &upstream, mode).await });
            }
        });
        Proxy { port, mode }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

/// Relays one connection while the mode is FORWARD; closes it on REFUSE; holds it silently on
/// BLACKHOLE (nothing is read or written any more).
async fn relay(mut client: TcpStream, upstream: &str, mode: Arc<AtomicU8>) {
    match mode.load(Ordering::SeqCst) {
        REFUSE => return,
        BLACKHOLE => {
            let _held = client;
            while mode.load(Ordering::SeqCst) == BLACKHOLE {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return;
        }
        _ => {}
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let copying = tokio::io::copy_bidirectional(&mut client, &mut server);
    let watching = async {
        while mode.load(Ordering::SeqCst) == FORWARD {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        _ = copying => {}
        () = watching => {
            if mode.load(Ordering::SeqCst) == BLACKHOLE {
                // Keep both sockets open and silent until the mode changes again.
                while mode.load(Ordering::SeqCst) == BLACKHOLE {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

async fn ready(app: &TestApp) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            Some("5"),
            "a 503 says when to try again"
        );
    }
    (status, started.elapsed())
}

/// A read that needs the database; returns the status, Retry-After, body and time taken.
async fn read(app: &TestApp) -> (StatusCode, Option<String>, Value, Duration) {
    let started = Instant::now();
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(AUTHORIZATION, format!("Bearer {}", platform_admin()))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .json(&json!({"query": "{ tenants { edges { node { id } } } }"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, retry, body, started.elapsed())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn with_the_database_away_readiness_and_requests_fail_fast_and_the_server_recovers() {
    let Ok(base) = std::env::var(TEST_DATABASE_ENV) else {
        eprintln!(
            "the outage test needs PostgreSQL ({TEST_DATABASE_ENV}); nothing to check on SQLite"
        );
        return;
    };
    if !base.starts_with("postgres") {
        return;
    }
    let proxy = Proxy::start("127.0.0.1:5432".into()).await;
    let port = proxy.port;
    let app = spawn_app_with(move |config| {
        // The test's own database, reached through the proxy.
        config.database_url = config
            .database_url
            .expose_secret()
            .replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"))
            .into();
        config.database_timeouts.acquire = Duration::from_secs(1);
        config.database_timeouts.connect = Duration::from_secs(1);
    })
    .await;
    assert_eq!(ready(&app).await.0, StatusCode::OK);
    assert_eq!(read(&app).await.0, StatusCode::OK);

    for mode in [BLACKHOLE, REFUSE] {
        proxy.set(mode);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, took) = ready(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "mode {mode}");
        assert!(
            took < Duration::from_millis(2800),
            "readiness took {took:?} (mode {mode})"
        );
        let (status, retry, body, took) = read(&app).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "mode {mode}: {body}"
        );
        assert_eq!(retry.as_deref(), Some("5"));
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INTERNAL",
            "{body}"
        );
        assert!(
            body["errors"][0]["extensions"]["requestId"].is_string(),
            "{body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("database is unavailable"),
            "{body}"
        );
        assert!(
            took < Duration::from_secs(5),
            "the request took {took:?} (mode {mode})"
        );
        proxy.set(FORWARD);
        let recovered = format!("the server recovers after mode {mode}");
        eventually(&recovered, Duration::from_secs(20), || async {
            let (status, ..) = read(&app).await;
            (status == StatusCode::OK && ready(&app).await.0 == StatusCode::OK).then_some(())
        })
        .await;
    }
}
