//! Alert rules, alerts and webhooks over HTTP: validation, each kind firing once per rule and
//! date, acknowledgement, and signed deliveries to a real HTTP receiver that are retried,
//! resumed by a restarted server, re-checked against private addresses and given up on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sea_orm::ConnectionTrait;
use securescore::domain::Role;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{
    TestApp, assert_error, day, eventually, noon, partial_mfa_facts, spawn_app, spawn_app_with,
    token,
};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// What the receiver got, and the statuses it answers with next (then 200).
#[derive(Default)]
struct Inbox {
    received: Vec<Received>,
    answers: Vec<u16>,
}

/// A real HTTP server on a local port that records webhook deliveries.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    /// Starts on `port` (0 for any) answering with `answers` first, then 200.
    async fn start(port: u16, answers: &[u16]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            received: Vec::new(),
            answers: answers.iter().rev().copied().collect(),
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let url = format!(
            "http://{}/hooks/securescore",
            listener.local_addr().unwrap()
        );
        let router = axum::Router::new()
            .route("/hooks/securescore", axum::routing::post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, inbox }
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().received.clone()
    }

    /// Waits up to `limit` for at least `n` requests; answers what came.
    async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        eventually(&format!("{n} requests received"), limit, || async {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
    }
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut inbox = inbox.lock().unwrap();
    inbox.received.push(Received {
        headers,
        body: body.to_vec(),
    });
    StatusCode::from_u16(inbox.answers.pop().unwrap_or(200)).unwrap()
}

/// Verifies a delivery as a receiver would, with the Standard Webhooks recipe.
fn verify(secret: &str, request: &Received) -> bool {
    let header = |name: &str| request.headers[name].to_str().unwrap().to_owned();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header("webhook-signature")
        .split(' ')
        .any(|signature| signature == expected)
}

const RULES: &str =
    "{ tenant(id: \"acme\") { alertRules { id kind threshold windowDays enabled createdBy } } }";
const ALERTS: &str = "{ tenant(id: \"acme\") { alerts { edges { node {
    id date percentageBefore percentageAfter acknowledgedBy acknowledgedAt
    rule { id kind } regressions { action { id } scoreDelta reasons } } } } } }";

fn admin() -> String {
    token(&[Role::GlobalAdmin], &["acme"])
}

async fn create_rule(app: &TestApp, input: Value) -> Value {
    app.graphql(
        &admin(),
        "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { id kind threshold windowDays enabled } }",
        json!({ "i": input }),
    )
    .await
}

async fn alerts(app: &TestApp) -> Vec<Value> {
    let body = app.graphql(&admin(), ALERTS, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Creates an endpoint for acme at `url`; answers (id, secret).
async fn create_endpoint(app: &TestApp, url: &str) -> (String, String) {
    let body = app
        .graphql(
            &admin(),
            "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url enabled } } }",
            json!({"i": {"tenantId": "acme", "url": url}}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let created = &body["data"]["createWebhookEndpoint"];
    (
        created["endpoint"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// The endpoint's deliveries as the API shows them.
async fn deliveries(app: &TestApp) -> Vec<Value> {
    let body = app
        .graphql(
            &admin(),
            "{ tenant(id: \"acme\") { webhookEndpoints { enabled disabledReason deliveries { edges { node {
                id status attempts lastResponseStatus lastError nextAttemptAt alert { id }
                attemptHistory { responseStatus error durationMs } } } } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"]["webhookEndpoints"][0]["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    for (input, words) in [
        (
            json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE"}),
            "threshold is required",
        ),
        (
            json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 100.5}),
            "0 to 100",
        ),
        (
            json!({"tenantId": "acme", "kind": "DROP", "threshold": -1}),
            "0 to 100",
        ),
        (
            json!({"tenantId": "acme", "kind": "DROP", "threshold": 5, "windowDays": 0}),
            "1 to 90",
        ),
        (
            json!({"tenantId": "acme", "kind": "DROP", "threshold": 5, "windowDays": 91}),
            "1 to 90",
        ),
        (
            json!({"tenantId": "acme", "kind": "REGRESSION", "threshold": 5}),
            "does not apply",
        ),
        (
            json!({"tenantId": "acme", "kind": "REGRESSION", "windowDays": 3}),
            "DROP only",
        ),
    ] {
        let body = create_rule(&app, input.clone()).await;
        assert_error(&body, "BAD_USER_INPUT", words);
        assert_eq!(app.count("alert_rules").await, 0, "{input}");
    }
    let created = create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "DROP", "threshold": 5, "windowDays": 7}),
    )
    .await;
    let id = created["data"]["createAlertRule"]["id"].clone();
    let body = app
        .graphql(
            &admin(),
            "mutation($id: ID!) { updateAlertRule(input: {id: $id, windowDays: 120}) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT", "1 to 90");
    let rules = app.graphql(&admin(), RULES, json!({})).await;
    assert_eq!(
        rules["data"]["tenant"]["alertRules"],
        json!([{"id": id, "kind": "DROP", "threshold": 5.0, "windowDays": 7, "enabled": true, "createdBy": "tester@example.com"}])
    );
    // A reader may read rules but not change them; another tenant's rule does not exist.
    let delete = |caller: String, id: Value| {
        let app = &app;
        async move {
            app.graphql(
                &caller,
                "mutation($id: ID!) { deleteAlertRule(id: $id) }",
                json!({"id": id}),
            )
            .await
        }
    };
    let body = delete(token(&[Role::SecurityReader], &["acme"]), id.clone()).await;
    assert_error(&body, "FORBIDDEN", "");
    let stranger = token(&[Role::GlobalAdmin], &["other"]);
    let theirs = delete(stranger.clone(), id.clone()).await;
    let missing = delete(stranger, json!("999999")).await;
    assert_error(&theirs, "NOT_FOUND", "");
    assert_eq!(
        theirs["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(id.as_str().unwrap(), "X"),
        missing["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("999999", "X")
    );
}

#[tokio::test]
async fn each_kind_fires_once_per_rule_and_date_with_both_percentages_and_the_regressions() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let below = create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 70}),
    )
    .await;
    let drop = create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "DROP", "threshold": 10, "windowDays": 2}),
    )
    .await;
    let regression = create_rule(&app, json!({"tenantId": "acme", "kind": "REGRESSION"})).await;
    let id = |body: &Value| body["data"]["createAlertRule"]["id"].clone();

    // Three days ago most is done (83.3 %); two days ago MFA registration, legacy auth, risk
    // coverage, consent and passwords regress to 30.75 of 48 (64.0625 %) and stay so.
    let mut all_done = partial_mfa_facts();
    all_done["users"]["mfaRegistered"] = json!(120);
    all_done["users"]["legacyAuthBlocked"] = json!(120);
    all_done["users"]["signInRiskCovered"] = json!(120);
    all_done["apps"]["userConsentRestricted"] = json!(true);
    all_done["passwordPolicy"]["neverExpires"] = json!(false);
    app.ingest("acme", &noon(-3), all_done).await;
    app.ingest("acme", &noon(-2), partial_mfa_facts()).await;
    let body = app.recompute("acme", &day(-3), &day(-1)).await;
    assert_eq!(body["data"]["recomputeScores"]["daysScored"], 3, "{body}");

    let scores = app
        .graphql(&admin(), "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreHistory(from: $f, to: $t) { date percentage } } }", json!({"f": day(-3), "t": day(-1)}))
        .await;
    let percentage = |i: usize| {
        scores["data"]["tenant"]["scoreHistory"][i]["percentage"]
            .as_f64()
            .unwrap()
    };
    let (p3, p2, p1) = (percentage(0), percentage(1), percentage(2));
    assert!(
        p3 - p2 >= 10.0 && p3 >= 70.0 && p2 < 70.0 && p1 == p2,
        "{scores}"
    );

    // Today is live and scored too, in the background (64.0625 % since the second snapshot):
    // BELOW fires for it as well.
    let today_fired = |raised: &[Value]| {
        raised
            .iter()
            .any(|a| a["date"] == json!(day(0)) && a["rule"]["id"] == id(&below))
    };
    let raised = eventually("today's BELOW alert", Duration::from_secs(15), || async {
        let raised = alerts(&app).await;
        today_fired(&raised).then_some(raised)
    })
    .await;
    let of = |rule: &Value| -> Vec<Value> {
        raised
            .iter()
            .filter(|a| a["rule"]["id"] == *rule && a["date"] != json!(day(0)))
            .cloned()
            .collect()
    };
    // BELOW_PERCENTAGE: the two days under 70 %.
    let below_alerts = of(&id(&below));
    assert_eq!(below_alerts.len(), 2, "{raised:?}");
    assert_eq!(below_alerts[0]["date"], json!(day(-1)));
    assert_eq!(below_alerts[1]["date"], json!(day(-2)));
    assert_eq!(below_alerts[1]["percentageBefore"].as_f64().unwrap(), p3);
    assert_eq!(below_alerts[1]["percentageAfter"].as_f64().unwrap(), p2);
    // DROP over 2 days: only the last day compares with three days ago (the day before it has
    // no score to compare with).
    let drop_alerts = of(&id(&drop));
    assert_eq!(drop_alerts.len(), 1, "{raised:?}");
    assert_eq!(drop_alerts[0]["date"], json!(day(-1)));
    assert_eq!(drop_alerts[0]["percentageBefore"].as_f64().unwrap(), p3);
    // Day -1 lost nothing against day -2, so its alerts list no regressions.
    assert_eq!(drop_alerts[0]["regressions"], json!([]));
    // REGRESSION: two days ago, with every action that lost points, largest loss first.
    let regression_alerts = of(&id(&regression));
    assert_eq!(regression_alerts.len(), 1, "{raised:?}");
    let lost = regression_alerts[0]["regressions"].as_array().unwrap();
    assert!(!lost.is_empty());
    assert!(lost.iter().all(|c| c["scoreDelta"].as_f64().unwrap() < 0.0));
    let diff = app
        .graphql(&admin(), "query($f: Date!, $t: Date!) { tenant(id: \"acme\") { scoreDiff(from: $f, to: $t) { changes { action { id } scoreDelta } } } }", json!({"f": day(-3), "t": day(-2)}))
        .await;
    let losses: Vec<Value> = diff["data"]["tenant"]["scoreDiff"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["scoreDelta"].as_f64().unwrap() < 0.0)
        .cloned()
        .collect();
    let regressed: Vec<Value> = lost
        .iter()
        .map(|c| json!({"action": c["action"], "scoreDelta": c["scoreDelta"]}))
        .collect();
    assert_eq!(regressed, losses, "the alert lists what scoreDiff lists");
    // Every kind's alert lists the day's regressions: BELOW on day -2 too.
    assert_eq!(
        below_alerts[1]["regressions"],
        regression_alerts[0]["regressions"]
    );

    // Writing the same days again raises nothing new.
    app.recompute("acme", &day(-3), &day(-1)).await;
    assert_eq!(alerts(&app).await.len(), raised.len());

    // Acknowledging records who and when, once; unacknowledgedOnly leaves it out.
    let first = raised[0]["id"].clone();
    let ack = "mutation($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedBy acknowledgedAt } }";
    let once = app.graphql(&admin(), ack, json!({"id": first})).await;
    let twice = app
        .graphql(
            &token(&[Role::SecurityAdmin], &["acme"]),
            ack,
            json!({"id": first}),
        )
        .await;
    assert_eq!(
        once["data"]["acknowledgeAlert"]["acknowledgedBy"],
        "tester@example.com"
    );
    assert_eq!(once, twice, "the first acknowledgement stays");
    let open = app
        .graphql(&admin(), "{ tenant(id: \"acme\") { alerts(unacknowledgedOnly: true) { edges { node { id } } } } }", json!({}))
        .await;
    let open_ids: Vec<Value> = open["data"]["tenant"]["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(open_ids.len(), raised.len() - 1);
    assert!(!open_ids.contains(&first));
}

#[tokio::test]
async fn an_alert_is_delivered_signed_and_a_failed_attempt_is_retried() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let receiver = Receiver::start(0, &[500]).await;
    let (_, secret) = create_endpoint(&app, &receiver.url).await;
    assert!(secret.starts_with("whsec_"));
    let key = STANDARD.decode(&secret["whsec_".len()..]).unwrap();
    assert!((24..=64).contains(&key.len()));
    create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 90}),
    )
    .await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;

    // The first attempt gets a 500, the retry 5 s later a 200.
    let got = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    for request in &got {
        assert!(verify(&secret, request), "bad signature: {request:?}");
        assert!(!verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", request));
    }
    assert_eq!(
        got[0].headers["webhook-id"], got[1].headers["webhook-id"],
        "one message"
    );
    // Standard Webhooks: a retry sends the same bytes; only the timestamp header and the
    // signature change.
    assert_eq!(got[0].body, got[1].body, "a retry re-sends the stored body");
    assert_ne!(
        got[0].headers["webhook-timestamp"],
        got[1].headers["webhook-timestamp"]
    );
    assert_ne!(
        got[0].headers["webhook-signature"],
        got[1].headers["webhook-signature"]
    );
    let payload: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(
        payload["timestamp"], payload["data"]["raisedAt"],
        "the payload's timestamp is when the alert was raised"
    );
    assert_eq!(payload["type"], "securescore.alert.raised");
    assert_eq!(payload["data"]["tenantId"], "acme");
    assert_eq!(payload["data"]["kind"], "BELOW_PERCENTAGE");
    assert_eq!(payload["data"]["date"], json!(day(0)));
    assert_eq!(payload["data"]["percentageAfter"], json!(64.0625));

    let listed = eventually("the delivery succeeded", Duration::from_secs(5), || async {
        let listed = deliveries(&app).await;
        (listed[0]["status"] == "SUCCEEDED").then_some(listed)
    })
    .await;
    let delivery = &listed[0];
    assert_eq!(delivery["status"], "SUCCEEDED", "{delivery}");
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["lastResponseStatus"], 200);
    assert!(delivery["nextAttemptAt"].is_null());
    let history = delivery["attemptHistory"].as_array().unwrap();
    assert_eq!(history[0]["responseStatus"], 500);
    assert!(history[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(history[1]["responseStatus"], 200);
    assert_eq!(
        app.count("webhook_deliveries").await,
        1,
        "one alert, one endpoint"
    );
    // The secret is never readable again: no field of the endpoint carries it.
    let fields = app
        .graphql(
            &admin(),
            "{ __type(name: \"WebhookEndpoint\") { fields { name } } }",
            json!({}),
        )
        .await;
    assert!(
        !fields.to_string().to_lowercase().contains("secret"),
        "{fields}"
    );
    let endpoint = app
        .graphql(&admin(), "{ tenant(id: \"acme\") { webhookEndpoints { id url enabled disabledReason createdAt } } }", json!({}))
        .await;
    assert!(!endpoint.to_string().contains(&secret["whsec_".len()..]));
}

#[tokio::test]
async fn a_restarted_server_resumes_the_pending_deliveries_of_the_one_that_stopped() {
    let mut first = spawn_app().await;
    first.create_tenant("acme", None, 120).await;
    // Nobody listens on the port yet: the first attempt fails to connect.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hooks/securescore");
    let (_, secret) = create_endpoint(&first, &url).await;
    create_rule(
        &first,
        json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 90}),
    )
    .await;
    first.ingest("acme", &noon(0), partial_mfa_facts()).await;
    let listed = eventually("a first attempt", Duration::from_secs(10), || async {
        let listed = deliveries(&first).await;
        listed
            .first()
            .is_some_and(|d| d["attempts"] == 1)
            .then_some(listed)
    })
    .await;
    assert_eq!(listed[0]["status"], "PENDING");
    assert!(
        listed[0]["lastError"].as_str().unwrap().contains("connect"),
        "{listed:?}"
    );
    // The first server stops; a second one on the same database and the receiver come up.
    first.kill();
    let second = first.replica(|_| {}).await;
    let receiver = Receiver::start(port, &[]).await;
    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1);
    assert!(verify(&secret, &got[0]));
    eventually(
        "the delivery succeeded",
        Duration::from_secs(10),
        || async { (deliveries(&second).await[0]["status"] == "SUCCEEDED").then_some(()) },
    )
    .await;
    assert_eq!(receiver.received().len(), 1, "delivered once");
}

#[tokio::test]
async fn urls_must_be_https_to_public_addresses_and_are_checked_again_at_delivery() {
    let app = spawn_app_with(|config| config.webhooks.allow_private = false).await;
    app.create_tenant("acme", None, 120).await;
    for (url, words) in [
        ("http://hooks.example.com/x", "https"),
        ("https://127.0.0.1/x", "not a public address"),
        ("https://10.0.0.8/x", "not a public address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
        ("https://[::1]/x", "not a public address"),
        ("https://localhost/x", "not a public address"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("file:///etc/passwd", "https"),
    ] {
        let body = app
            .graphql(&admin(), "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }", json!({"i": {"tenantId": "acme", "url": url}}))
            .await;
        assert_error(&body, "BAD_USER_INPUT", words);
        assert_eq!(app.count("webhook_endpoints").await, 0, "{url}");
    }
    // A host that resolved publicly when saved but privately now (DNS rebinding): the row is
    // written directly, as if the name had changed since.
    let receiver = Receiver::start(0, &[]).await;
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO webhook_endpoints (tenant_id, url, signing_key, enabled, created_by, created_at) \
             VALUES ('acme', '{}', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', true, 'x', '2026-01-01T00:00:00Z')",
            receiver.url.replace("http://127.0.0.1", "https://localhost")
        ))
        .await
        .unwrap();
    create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 90}),
    )
    .await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    assert!(app.pipeline.settled(Duration::from_secs(10)).await);
    app.run_pending_jobs().await;
    let delivery = deliveries(&app).await[0].clone();
    assert_eq!(
        delivery["attempts"], 1,
        "one attempt, the next one later: {delivery}"
    );
    assert!(
        delivery["lastError"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{delivery}"
    );
    assert!(delivery["lastResponseStatus"].is_null());
    assert!(
        receiver.received().is_empty(),
        "nothing reached the private address"
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_three_days_is_disabled_with_the_reason_and_re_enabled_by_its_admin()
 {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    let receiver = Receiver::start(0, &[503]).await;
    let (id, _) = create_endpoint(&app, &receiver.url).await;
    // Every attempt has failed for four days already.
    app.db
        .execute_unprepared(&format!(
            "UPDATE webhook_endpoints SET failing_since = '{}' WHERE id = {id}",
            (chrono::Utc::now() - chrono::Duration::days(4)).to_rfc3339()
        ))
        .await
        .unwrap();
    create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "BELOW_PERCENTAGE", "threshold": 90}),
    )
    .await;
    app.ingest("acme", &noon(0), partial_mfa_facts()).await;
    assert!(app.pipeline.settled(Duration::from_secs(10)).await);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 1, "one attempt");
    let body = app
        .graphql(
            &admin(),
            "{ tenant(id: \"acme\") { webhookEndpoints { enabled disabledReason } } }",
            json!({}),
        )
        .await;
    let endpoint = body["data"]["tenant"]["webhookEndpoints"][0].clone();
    assert_eq!(endpoint["enabled"], false, "{body}");
    let reason = endpoint["disabledReason"].as_str().unwrap();
    assert!(
        reason.contains("failed since") && reason.contains("503"),
        "{reason}"
    );
    // Disabled: the pending retry waits. Its admin enables it again and it is delivered.
    let body = app
        .graphql(&admin(), "mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, enabled: true}) { enabled disabledReason } }", json!({"id": id}))
        .await;
    assert_eq!(
        body["data"]["updateWebhookEndpoint"],
        json!({"enabled": true, "disabledReason": null})
    );
    let got = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn two_replicas_share_the_deliveries_and_send_each_once() {
    let first = spawn_app().await;
    let second = first.replica(|_| {}).await;
    let receiver = Receiver::start(0, &[]).await;
    let tenants: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    for tenant in &tenants {
        first.create_tenant(tenant, None, 120).await;
        let admin = token(&[Role::GlobalAdmin], &[tenant]);
        for (document, variables) in [
            (
                "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
                json!({"i": {"tenantId": tenant, "url": receiver.url}}),
            ),
            (
                "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { id } }",
                json!({"i": {"tenantId": tenant, "kind": "BELOW_PERCENTAGE", "threshold": 90}}),
            ),
        ] {
            let body = first.graphql(&admin, document, variables).await;
            assert!(body["errors"].is_null(), "{body}");
        }
    }
    // Half the snapshots through each replica; both delivery workers poll the one outbox.
    for (i, tenant) in tenants.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        app.ingest(tenant, &noon(0), partial_mfa_facts()).await;
    }
    let got = receiver
        .wait_for(tenants.len(), Duration::from_secs(30))
        .await;
    // Once every delivery is recorded as succeeded, no replica sends anything again.
    eventually(
        "every delivery recorded",
        Duration::from_secs(10),
        || async {
            let done = first
                .count("webhook_deliveries WHERE status = 'SUCCEEDED'")
                .await;
            (done == tenants.len() as i64).then_some(())
        },
    )
    .await;
    let got_now = receiver.received();
    assert_eq!(got_now.len(), got.len(), "nothing arrived twice later");
    let mut ids: Vec<String> = got_now
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), tenants.len(), "each delivery sent once: {ids:?}");
    assert_eq!(got_now.len(), tenants.len());
}

#[tokio::test]
async fn a_plan_past_its_due_date_raises_plan_overdue_once_delivered_like_every_alert() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 120).await;
    app.ingest(
        "acme",
        &noon(0),
        json!({"users": {"total": 120, "mfaRegistered": 90}, "admins": {"total": 4, "mfaProtected": 4}}),
    )
    .await;
    let receiver = Receiver::start(0, &[]).await;
    let (_, secret) = create_endpoint(&app, &receiver.url).await;
    let rule = create_rule(&app, json!({"tenantId": "acme", "kind": "PLAN_OVERDUE"})).await;
    assert!(rule["errors"].is_null(), "{rule}");
    let refused = create_rule(
        &app,
        json!({"tenantId": "acme", "kind": "PLAN_OVERDUE", "threshold": 5}),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    let plan = |action: &str, due: String| json!({"i": {"tenantId": "acme", "actionId": action, "dueDate": due, "assignedTo": "ops@acme.test"}});
    let set = "mutation($i: SetActionPlanInput!) { setActionPlan(input: $i) { status } }";
    // MFARegistration is PARTIAL today: its plan, due yesterday, is overdue. AdminMFA is
    // COMPLETED: its plan raises nothing. BlockLegacyAuthentication is due tomorrow.
    for (action, due) in [
        ("MFARegistration", day(-1)),
        ("AdminMFA", day(-1)),
        ("BlockLegacyAuthentication", day(1)),
    ] {
        let body = app.graphql(&admin(), set, plan(action, due)).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let query = "{ tenant(id: \"acme\") { alerts { edges { node { date rule { kind } overdueAction { id } } } } } }";
    let raised = eventually(
        "the overdue plan's alert",
        Duration::from_secs(10),
        || async {
            let body = app.graphql(&admin(), query, json!({})).await;
            let edges = body["data"]["tenant"]["alerts"]["edges"]
                .as_array()?
                .clone();
            (!edges.is_empty()).then_some(edges)
        },
    )
    .await;
    assert_eq!(
        raised,
        [
            json!({"node": {"date": day(0), "rule": {"kind": "PLAN_OVERDUE"}, "overdueAction": {"id": "MFARegistration"}}})
        ]
    );
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert!(verify(&secret, &delivered[0]));
    let body: Value = serde_json::from_slice(&delivered[0].body).unwrap();
    assert_eq!(body["data"]["kind"], "PLAN_OVERDUE");
    assert_eq!(body["data"]["overdueActionId"], "MFARegistration");
    // Once per plan: today written again, and the plan set again, raise nothing more.
    app.ingest("acme", &noon(0), json!({"users": {"total": 120, "mfaRegistered": 91}, "admins": {"total": 4, "mfaProtected": 4}})).await;
    let body = app
        .graphql(&admin(), set, plan("MFARegistration", day(-1)))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // Once today's rescoring has run (and with it the alert rules), still one alert.
    assert!(app.pipeline.settled(Duration::from_secs(30)).await);
    assert_eq!(app.count("alerts").await, 1);
}
