//! GraphQL subscriptions with a real WebSocket client (tokio-tungstenite) speaking
//! `graphql-transport-ws` to the server's `/graphql`: live scores, alerts and runs, the token in
//! `connection_init`, reach, limits, expiry, and events crossing replicas on PostgreSQL.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::SecretString;
use securescore::auth::mint::{TokenRequest, mint_hs256};
use securescore::domain::Role;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{
    SECRET, TEST_DATABASE_ENV, TestApp, day, eventually, noon, partial_mfa_facts, spawn_app, token,
};

/// A `graphql-transport-ws` client connection.
struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// Opens a socket to `app`'s `/graphql` asking for `graphql-transport-ws`.
    async fn open(app: &TestApp) -> Client {
        let url = format!("{}/graphql", app.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Client { socket }
    }

    /// Opens a socket and initialises it with `token`; answers the server's first message.
    async fn init(app: &TestApp, token: &str) -> (Client, Option<Value>) {
        let mut client = Client::open(app).await;
        client
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
            .await;
        let first = client.next().await;
        (client, first)
    }

    /// Opens a socket that the server acknowledged.
    async fn acknowledged(app: &TestApp, token: &str) -> Client {
        let (client, first) = Client::init(app, token).await;
        assert_eq!(first, Some(json!({"type": "connection_ack"})));
        client
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query}}))
            .await;
    }

    /// The next JSON message, or `None` once the server closed the socket (or within 15 s).
    async fn next(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(Duration::from_secs(15), self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return Some(message);
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    eprintln!("closed by the server: {frame:?}");
                    return None;
                }
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue,
                Err(_) => panic!("no message within 15 s"),
            }
        }
    }

    /// The next message of subscription `id`, if one comes within `limit`.
    async fn try_next_of(&mut self, id: &str, limit: Duration) -> Option<Value> {
        tokio::time::timeout(limit, self.next_of(id)).await.ok()
    }

    /// The next message of subscription `id` for which `wanted` holds.
    async fn next_of_where(&mut self, id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.next_of(id).await;
            if wanted(&message) {
                return message;
            }
        }
    }

    /// The next `next` payload of subscription `id`.
    async fn next_of(&mut self, id: &str) -> Value {
        loop {
            let message = self.next().await.expect("the socket stayed open");
            if message["id"] == id {
                return message;
            }
        }
    }
}

/// A SecurityReader token of `acme` for `subject`, valid for `ttl`.
fn reader_of_acme(subject: &str, ttl: Duration) -> String {
    mint_hs256(
        &SecretString::from(SECRET),
        &TokenRequest {
            subject: subject.into(),
            roles: vec![Role::SecurityReader],
            tenants: vec!["acme".into()],
            ttl,
            issuer: None,
            audience: None,
        },
    )
    .unwrap()
}

/// Ingests a snapshot of `tenant` through `app` until subscription `id` delivers (the server
/// starts a subscription asynchronously, so an early change may precede it); answers the first
/// message.
async fn ingest_until_live(client: &mut Client, id: &str, app: &TestApp, tenant: &str) -> Value {
    for _ in 0..10 {
        app.ingest(tenant, &noon(0), partial_mfa_facts()).await;
        if let Some(message) = client.try_next_of(id, Duration::from_secs(2)).await {
            return message;
        }
    }
    panic!("subscription {id} never delivered");
}

const SCORES: &str = "subscription { scoreUpdated(tenantId: \"acme\") { date score maxScore final actionScores { score } } }";

#[tokio::test]
async fn today_follows_snapshots_and_overrides_live_over_the_socket() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let mut client = Client::acknowledged(&app, &token(&[Role::SecurityReader], &["acme"])).await;
    client.subscribe("s", SCORES).await;
    let first = ingest_until_live(&mut client, "s", &app, "acme").await;
    assert_eq!(first["type"], "next", "{first}");
    let day = &first["payload"]["data"]["scoreUpdated"];
    assert_eq!(
        (&day["date"], &day["score"], &day["maxScore"], &day["final"]),
        (
            &json!(crate::helpers::day(0)),
            &json!(30.75),
            &json!(48.0),
            &json!(false)
        )
    );
    let sum: f64 = day["actionScores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["score"].as_f64().unwrap())
        .sum();
    assert_eq!(sum, 30.75);

    let admin = token(&[Role::SecurityAdmin], &["acme"]);
    let body = app
        .graphql(&admin, "mutation { setActionOverride(input: {tenantId: \"acme\", actionId: \"RestrictUserConsent\", state: THIRD_PARTY}) { state } }", json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let second = client
        .next_of_where("s", |m| {
            m["payload"]["data"]["scoreUpdated"]["score"] != 30.75
        })
        .await;
    assert_eq!(
        second["payload"]["data"]["scoreUpdated"]["score"], 34.75,
        "{second}"
    );
    // Unsubscribing ends the subscription with `complete`.
    client.send(json!({"id": "s", "type": "complete"})).await;
}

#[tokio::test]
async fn alerts_and_runs_arrive_as_they_are_raised_and_updated() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    let mut client = Client::acknowledged(&app, &admin).await;
    client
        .subscribe("a", "subscription { alertRaised(tenantId: \"acme\") { date percentageAfter rule { kind threshold } } }")
        .await;
    // Both subscriptions of the connection are live once one of them delivers.
    client.subscribe("s", SCORES).await;
    ingest_until_live(&mut client, "s", &app, "acme").await;
    let body = app
        .graphql(&admin, "mutation { createAlertRule(input: {tenantId: \"acme\", kind: BELOW_PERCENTAGE, threshold: 90}) { id } }", json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    let alert = client.next_of("a").await;
    assert_eq!(
        alert["payload"]["data"]["alertRaised"],
        json!({"date": day(0), "percentageAfter": 64.0625, "rule": {"kind": "BELOW_PERCENTAGE", "threshold": 90.0}})
    );

    // A run: its state now, then each update until it finishes, then `complete`.
    let recompute = app.recompute("acme", &day(-1), &day(0)).await;
    let run = recompute["data"]["recomputeScores"]["run"]["id"].clone();
    let run = match run {
        Value::String(id) => id,
        _ => {
            let runs = app
                .graphql(
                    &admin,
                    "{ scoringRuns { edges { node { id } } } }",
                    json!({}),
                )
                .await;
            runs["data"]["scoringRuns"]["edges"][0]["node"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    client
        .subscribe(
            "r",
            &format!("subscription {{ scoringRunUpdated(id: \"{run}\") {{ id status }} }}"),
        )
        .await;
    let mut statuses = Vec::new();
    loop {
        let message = client.next_of("r").await;
        if message["type"] == "complete" {
            break;
        }
        statuses.push(message["payload"]["data"]["scoringRunUpdated"]["status"].clone());
    }
    assert_eq!(statuses.last(), Some(&json!("SUCCEEDED")), "{statuses:?}");
}

#[tokio::test]
async fn a_tenant_out_of_reach_answers_like_a_missing_one_and_tokens_are_checked_at_init() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.create_tenant("victim", None, 120).await;
    let mut client = Client::acknowledged(&app, &token(&[Role::GlobalAdmin], &["acme"])).await;
    client
        .subscribe(
            "v",
            "subscription { scoreUpdated(tenantId: \"victim\") { score } }",
        )
        .await;
    let victim = client.next_of("v").await;
    client
        .subscribe(
            "g",
            "subscription { scoreUpdated(tenantId: \"ghost\") { score } }",
        )
        .await;
    let ghost = client.next_of("g").await;
    assert_eq!(
        victim["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{victim}"
    );
    assert!(victim["payload"]["data"].is_null());
    assert_eq!(
        victim["payload"].to_string().replace("victim", "X"),
        ghost["payload"].to_string().replace("ghost", "X")
    );
    // A collector may not read scores.
    let (mut collector, _) = Client::init(&app, &token(&[Role::Collector], &["acme"])).await;
    collector.subscribe("c", SCORES).await;
    let refused = collector.next_of("c").await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    // No token, or a bad one: no acknowledgement, the socket is closed.
    for payload in [json!({}), json!({"Authorization": "Bearer not.a.token"})] {
        let mut client = Client::open(&app).await;
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        assert_eq!(client.next().await, None, "{payload}");
    }
}

#[tokio::test]
async fn subscriptions_per_connection_and_connections_per_token_are_bounded() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let mut client = Client::acknowledged(&app, &reader).await;
    // The server starts a connection's subscriptions in no particular order: whichever comes
    // last of 21 is refused, and only one.
    for i in 0..21 {
        client.subscribe(&i.to_string(), SCORES).await;
    }
    let refused = loop {
        let message = client.next().await.expect("the socket stayed open");
        if message["type"] == "next" && !message["payload"]["errors"].is_null() {
            break message;
        }
    };
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 20"),
        "{refused}"
    );
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let held = |i: &i32| i.to_string() != refused["id"].as_str().unwrap();
    let first_held = (0..21).find(held).unwrap();
    // Ending one frees its place (the server handles a connection's messages in order).
    client
        .send(json!({"id": first_held.to_string(), "type": "complete"}))
        .await;
    client.subscribe("again", SCORES).await;
    let live = ingest_until_live(&mut client, "again", &app, "acme").await;
    assert_eq!(live["type"], "next", "{live}");
    assert!(live["payload"]["errors"].is_null(), "{live}");

    let mut held = vec![client];
    for _ in 1..10 {
        held.push(Client::acknowledged(&app, &reader).await);
    }
    let (mut eleventh, first) = Client::init(&app, &reader).await;
    assert_eq!(
        first, None,
        "the eleventh connection of one token is refused"
    );
    drop(eleventh.socket.close(None).await);
    // Once one connection ends, the token may open another.
    let mut leaving = held.pop().unwrap();
    drop(leaving.socket.close(None).await);
    drop(leaving);
    eventually(
        "a freed place given again",
        Duration::from_secs(5),
        || async {
            let (_client, first) = Client::init(&app, &reader).await;
            (first == Some(json!({"type": "connection_ack"}))).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_socket_closes_when_its_token_expires() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let short = reader_of_acme("short@example.com", Duration::from_secs(1));
    let mut client = Client::acknowledged(&app, &short).await;
    client.subscribe("s", SCORES).await;
    let live = ingest_until_live(&mut client, "s", &app, "acme").await;
    assert_eq!(live["type"], "next", "live while the token is valid");
    // The test server allows 5 s of clock leeway after `exp`; then the socket closes.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(20), client.socket.next()).await {
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => break true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => break false,
        }
    };
    assert!(closed, "the socket stayed open after its token expired");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set SECURESCORE_TEST_DATABASE_URL=postgres://…"
)]
async fn events_cross_replicas_through_postgresql() {
    if !std::env::var(TEST_DATABASE_ENV).is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!("events cross replicas only on PostgreSQL; on SQLite one process serves");
        return;
    }
    let first = spawn_app().await;
    let second = first.replica(|_| {}).await;
    first.create_tenant("acme", None, 120).await;
    let mut client =
        Client::acknowledged(&second, &token(&[Role::SecurityReader], &["acme"])).await;
    client.subscribe("s", SCORES).await;
    // Ingested through the first replica, which rescores today and announces it.
    let update = ingest_until_live(&mut client, "s", &first, "acme").await;
    assert_eq!(
        update["payload"]["data"]["scoreUpdated"]["score"], 30.75,
        "{update}"
    );
}

#[tokio::test]
async fn each_subscribe_message_is_charged_to_the_callers_budget() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.cost = securescore::graphql::budget::CostConfig {
            bucket: 300,
            restore_per_second: 0.001,
        }
    })
    .await;
    app.create_tenant("acme", None, 120).await;
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let mut client = Client::acknowledged(&app, &reader).await;
    // Each subscription costs its selection once (a score per catalog action, 73 points with
    // the built-in catalog); 300 points hold a few, not twenty.
    for i in 0..20 {
        client.subscribe(&i.to_string(), SCORES).await;
    }
    let throttled = loop {
        let message = client.next().await.expect("the socket stayed open");
        if message["type"] == "next" && !message["payload"]["errors"].is_null() {
            break message;
        }
    };
    let error = &throttled["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{throttled}");
    assert!(
        error["message"].as_str().unwrap().contains("throttled"),
        "{throttled}"
    );
    assert!(error["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn an_overdue_plan_arrives_as_an_alert_over_the_socket() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    let mut client = Client::acknowledged(&app, &admin).await;
    client
        .subscribe("a", "subscription { alertRaised(tenantId: \"acme\") { date rule { kind } overdueAction { id } } }")
        .await;
    client.subscribe("s", SCORES).await;
    ingest_until_live(&mut client, "s", &app, "acme").await;
    let rule = app
        .graphql(
            &admin,
            "mutation { createAlertRule(input: {tenantId: \"acme\", kind: PLAN_OVERDUE}) { id } }",
            json!({}),
        )
        .await;
    assert!(rule["errors"].is_null(), "{rule}");
    let plan = app
        .graphql(
            &admin,
            "mutation($d: Date!) { setActionPlan(input: {tenantId: \"acme\", actionId: \"MFARegistration\", dueDate: $d}) { status } }",
            json!({"d": day(-2)}),
        )
        .await;
    assert_eq!(plan["data"]["setActionPlan"]["status"], "OVERDUE", "{plan}");
    let alert = client.next_of("a").await;
    assert_eq!(
        alert["payload"]["data"]["alertRaised"],
        json!({"date": day(0), "rule": {"kind": "PLAN_OVERDUE"}, "overdueAction": {"id": "MFARegistration"}})
    );
}

#[tokio::test]
async fn messages_are_held_to_64_kib_before_connection_init_and_to_the_body_limit_after() {
    let app =
        crate::helpers::spawn_app_with(|config| config.limits.max_body_bytes = 256 * 1024).await;
    let reader = token(&[Role::SecurityReader], &["acme"]);
    let init = |pad: usize| {
        json!({"type": "connection_init", "payload": {
            "Authorization": format!("Bearer {reader}"), "pad": "x".repeat(pad)}})
    };
    // Under 64 KiB before connection_init: acknowledged.
    let mut padded = Client::open(&app).await;
    padded.send(init(60 * 1024)).await;
    assert_eq!(padded.next().await, Some(json!({"type": "connection_ack"})));
    // Over 64 KiB before it: the socket closes, even with a good token.
    let mut oversized = Client::open(&app).await;
    let _ = oversized
        .socket
        .send(Message::Text(init(100 * 1024).to_string().into()))
        .await;
    assert_eq!(oversized.next().await, None, "a 100 KiB connection_init");

    // Once accepted, a message up to the body limit runs; one past it closes the socket.
    let padded_query = |pad: usize| format!("{{ viewer {{ subject }} }}\n#{}", "x".repeat(pad));
    padded.subscribe("under", &padded_query(200 * 1024)).await;
    let answered = padded.next().await.expect("an answer to a 200 KiB query");
    assert_eq!(answered["type"], "next", "{answered}");
    assert_eq!(
        answered["payload"]["data"]["viewer"]["subject"],
        "tester@example.com"
    );
    assert_eq!(
        padded.next().await,
        Some(json!({"id": "under", "type": "complete"}))
    );
    let _ = padded
        .socket
        .send(Message::Text(
            json!({"id": "over", "type": "subscribe", "payload": {"query": padded_query(300 * 1024)}})
                .to_string()
                .into(),
        ))
        .await;
    assert_eq!(padded.next().await, None, "a 300 KiB subscribe");
}

#[tokio::test]
async fn each_event_reads_afresh_the_tenant_it_belongs_to() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let admin = token(&[Role::GlobalAdmin], &["acme"]);
    let zones = |fair: f64, good: f64| {
        let (app, admin) = (&app, &admin);
        async move {
            let body = app
                .graphql(
                    admin,
                    "mutation($f: Float!, $g: Float!) { setScoreZones(tenantId: \"acme\", fair: $f, good: $g) { id } }",
                    json!({"f": fair, "g": good}),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    };
    // The day scores 30.75 of 48 (64 %): GOOD above 20 %, POOR below 90 %.
    zones(10.0, 20.0).await;
    let mut client = Client::acknowledged(&app, &token(&[Role::SecurityReader], &["acme"])).await;
    client
        .subscribe(
            "z",
            "subscription { scoreUpdated(tenantId: \"acme\") { percentage zone } }",
        )
        .await;
    let first = ingest_until_live(&mut client, "z", &app, "acme").await;
    assert_eq!(
        first["payload"]["data"]["scoreUpdated"]["zone"], "GOOD",
        "{first}"
    );
    zones(90.0, 95.0).await;
    for _ in 0..5 {
        app.ingest("acme", &noon(0), partial_mfa_facts()).await;
        let Some(next) = client.try_next_of("z", Duration::from_secs(5)).await else {
            continue;
        };
        let zone = &next["payload"]["data"]["scoreUpdated"]["zone"];
        assert_eq!(*zone, json!("POOR"), "an event after the change: {next}");
        return;
    }
    panic!("no event after the zones changed");
}

/// The points `token`'s caller has left, read with a query that costs 2.
async fn points_left(app: &TestApp, token: &str) -> f64 {
    let body = app
        .graphql(token, "{ viewer { subject } }", json!({}))
        .await;
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_f64()
        .unwrap_or_else(|| panic!("{body}"))
}

/// Spends `token`'s bucket down to less than 1 point (a day of history costs 1 point, and so
/// does a request refused at parse).
async fn drain(app: &TestApp, token: &str) {
    loop {
        let left = points_left(app, token).await;
        if left < 4.0 {
            for _ in 0..(left as usize) {
                app.graphql(token, "{", json!({})).await;
            }
            return;
        }
        let days = ((left as i64) - 2).clamp(0, 360);
        let query = format!(
            "{{ tenant(id: \"acme\") {{ scoreHistory(from: \"{}\", to: \"{}\") {{ date }} }} }}",
            crate::helpers::day(-days),
            crate::helpers::day(0)
        );
        app.graphql(token, &query, json!({})).await;
    }
}

/// Today's stored score of `tenant`, read from the database.
async fn stored_score(app: &TestApp, tenant: &str) -> Option<f64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::daily_score::Entity::find()
        .filter(entity::daily_score::Column::TenantId.eq(tenant))
        .filter(entity::daily_score::Column::Date.eq(chrono::Utc::now().date_naive()))
        .one(&app.db)
        .await
        .unwrap()
        .map(|day| day.score)
}

#[tokio::test]
async fn score_events_are_charged_and_those_past_the_budget_coalesce_into_the_latest() {
    // `scoreUpdated { score }` costs 2 points, charged again for every event sent; buckets
    // refill a point every two seconds.
    let app = crate::helpers::spawn_app_with(|config| {
        config.cost = securescore::graphql::budget::CostConfig {
            bucket: 1000,
            restore_per_second: 0.5,
        }
    })
    .await;
    app.create_tenant("acme", None, 120).await;
    let watcher = reader_of_acme("watcher@example.com", Duration::from_secs(600));
    let mut client = Client::acknowledged(&app, &watcher).await;
    client
        .subscribe(
            "s",
            "subscription { scoreUpdated(tenantId: \"acme\") { score } }",
        )
        .await;
    let first = ingest_until_live(&mut client, "s", &app, "acme").await;
    assert_eq!(first["type"], "next", "{first}");
    let left = points_left(&app, &watcher).await;
    let facts = |registered: i64| {
        let mut facts = partial_mfa_facts();
        facts["users"]["mfaRegistered"] = json!(registered);
        facts
    };
    // Each event sent costs the subscription's 2 points.
    app.ingest("acme", &noon(0), facts(100)).await;
    let second = client.next_of("s").await;
    let after = points_left(&app, &watcher).await;
    assert!(
        (left - 2.0 - 2.0 - after).abs() < 1.0,
        "{left} before, {after} after an event and a query: {second}"
    );
    // With the bucket empty, two changes in a row wait, merged, and the subscriber is sent
    // one event with the latest score once the bucket holds 2 points again.
    drain(&app, &watcher).await;
    app.ingest("acme", &noon(0), facts(110)).await;
    eventually(
        "the first change stored",
        Duration::from_secs(10),
        || async {
            let score = stored_score(&app, "acme").await?;
            (json!(score) != second["payload"]["data"]["scoreUpdated"]["score"]).then_some(())
        },
    )
    .await;
    app.ingest("acme", &noon(0), facts(120)).await;
    let latest = eventually(
        "the last change stored",
        Duration::from_secs(10),
        || async {
            let score = stored_score(&app, "acme").await?;
            (score > 0.0 && json!(score) != second["payload"]["data"]["scoreUpdated"]["score"])
                .then_some(score)
        },
    )
    .await;
    let sent = client.next_of("s").await;
    let final_score = stored_score(&app, "acme").await.unwrap();
    assert_eq!(
        sent["payload"]["data"]["scoreUpdated"]["score"],
        json!(final_score),
        "{sent} ({latest} seen)"
    );
    // Nothing of the changes in between was kept to send later: once the pipeline is settled,
    // the next message is the next change's (not an older state sent late).
    app.ingest("acme", &noon(0), facts(60)).await;
    assert!(app.pipeline.settled(Duration::from_secs(30)).await);
    let after = stored_score(&app, "acme").await.unwrap();
    assert_ne!(after, final_score, "the next change moves the score");
    let next = client.next_of("s").await;
    assert_eq!(
        next["payload"]["data"]["scoreUpdated"]["score"],
        json!(after),
        "{next}"
    );
}
