//! One partner application for many tenants, against the stand-in authority: directories that
//! trust the one client id, one whose admin has not consented yet, the consent round trip with
//! a real HTTP client following Microsoft's redirect, bulk connects with bad lines, rotation,
//! and consent answers that must change nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::directory::{admin, connected_app, paper_directory};
use crate::graph_standin::{CLIENT, CLIENT_SECRET, DIRECTORY, StandIn};
use crate::helpers::{TestApp, error_code, eventually, platform_admin};

/// A directory whose admin consented to the partner application before it was connected.
const CONSENTED: &str = "0b5d4c3e-2a1f-4e6d-9c8b-7a6f5e4d3c2b";
/// A directory whose admin has not consented yet.
const AWAITING: &str = "6e5f4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f";
/// A directory named twice in one list.
const TWICE: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

const SET_PARTNER: &str = "mutation($input: SetPartnerApplicationInput!) {
    setPartnerApplication(input: $input) { clientId credentialKind createdAt updatedAt } }";
const CONNECT: &str = "mutation($inputs: [ConnectDirectoryInput!]!) { connectDirectories(inputs: $inputs) {
    tenantId error connection { tenantId directoryId clientId credentialKind usesPartnerApplication status
      consentUrl consentedAt consentError updatedAt } } }";
const CONNECTION: &str = "query($t: ID!) { tenant(id: $t) { score { percentage } graphConnection {
    status lastError usesPartnerApplication consentUrl consentedAt consentError clientId updatedAt } } }";
const COLLECT: &str =
    "mutation($t: ID!) { collectNow(tenantId: $t) { status endpoints { name error } } }";

fn partner_input(secret: &str) -> Value {
    json!({"input": {"clientId": CLIENT, "clientSecret": secret}})
}

/// The stand-in with one directory that trusts the client and one waiting for its admin.
async fn standin() -> StandIn {
    let standin = StandIn::start(paper_directory(), 100).await;
    standin.behave(|b| {
        b.consented.insert(CONSENTED.into());
        b.awaiting_consent.insert(AWAITING.into());
    });
    standin
}

async fn connection(app: &TestApp, tenant: &str) -> Value {
    let body = app
        .graphql(&platform_admin(), CONNECTION, json!({"t": tenant}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["tenant"].clone()
}

async fn collect(app: &TestApp, tenant: &str) -> Value {
    let body = app
        .graphql(&platform_admin(), COLLECT, json!({"t": tenant}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["collectNow"].clone()
}

#[tokio::test]
async fn an_msp_connects_a_list_sends_consent_links_and_sees_every_tenant_scored() {
    let standin = standin().await;
    let app = connected_app(&standin, |_| {}).await;
    let list = json!({"inputs": [
        {"tenantId": "acme", "directoryId": DIRECTORY},
        {"tenantId": "fabrikam", "name": "Fabrikam", "directoryId": CONSENTED, "industry": "Retail", "seatCount": 40},
        {"tenantId": "litware", "directoryId": AWAITING},
        {"tenantId": "bad id!", "directoryId": "2f3e4d5c-6b7a-4988-8776-655443322110"},
        {"tenantId": "nodirectory", "directoryId": "litware.onmicrosoft.com"},
        {"tenantId": "twice-a", "directoryId": TWICE},
        {"tenantId": "twice-b", "directoryId": TWICE},
    ]});

    // Nothing to sign in as yet: the whole list is refused.
    let early = app.graphql(&platform_admin(), CONNECT, list.clone()).await;
    assert_eq!(error_code(&early), Some("BAD_USER_INPUT"), "{early}");
    assert!(
        early.to_string().contains("setPartnerApplication"),
        "{early}"
    );
    assert_eq!(app.count("graph_connections").await, 0);

    let set = app
        .graphql(&platform_admin(), SET_PARTNER, partner_input(CLIENT_SECRET))
        .await;
    assert_eq!(
        set["data"]["setPartnerApplication"]["clientId"], CLIENT,
        "{set}"
    );
    assert_eq!(
        set["data"]["setPartnerApplication"]["credentialKind"],
        "SECRET"
    );
    let read = app
        .graphql(
            &platform_admin(),
            "{ partnerApplication { clientId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        read["data"]["partnerApplication"]["clientId"], CLIENT,
        "{read}"
    );
    for answer in [&set, &read] {
        assert!(!answer.to_string().contains(CLIENT_SECRET), "{answer}");
    }
    assert!(
        !app.stored_text("partner_applications", "credential")
            .await
            .contains(CLIENT_SECRET)
    );

    let body = app.graphql(&platform_admin(), CONNECT, list.clone()).await;
    let results = body["data"]["connectDirectories"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["tenantId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "acme",
            "fabrikam",
            "litware",
            "bad id!",
            "nodirectory",
            "twice-a",
            "twice-b"
        ]
    );
    for (i, directory) in [DIRECTORY, CONSENTED, AWAITING].iter().enumerate() {
        let c = &results[i]["connection"];
        assert!(results[i]["error"].is_null(), "{body}");
        assert_eq!(c["directoryId"], *directory);
        assert_eq!(c["usesPartnerApplication"], true);
        assert_eq!(c["clientId"], CLIENT, "the partner application's client id");
        assert_eq!(c["status"], "NEVER_COLLECTED");
        let url = reqwest::Url::parse(c["consentUrl"].as_str().unwrap()).unwrap();
        assert_eq!(url.path(), format!("/{directory}/v2.0/adminconsent"));
        assert!(c["consentUrl"].as_str().unwrap().starts_with(&standin.url));
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], CLIENT);
        assert_eq!(query["scope"], format!("{}/.default", standin.url));
        assert_eq!(
            query["redirect_uri"],
            format!("{}/connect/consented", app.address)
        );
        assert!(query["state"].len() > 40);
    }
    assert!(
        results[3]["error"]
            .as_str()
            .unwrap()
            .contains("tenant id must be"),
        "{body}"
    );
    assert!(
        results[4]["error"]
            .as_str()
            .unwrap()
            .contains("directoryId must be a GUID"),
        "{body}"
    );
    for twice in &results[5..] {
        assert!(twice["connection"].is_null());
        assert!(
            twice["error"].as_str().unwrap().contains("more than once"),
            "{body}"
        );
    }
    // The bad lines created nothing; the new tenants exist with what the list said.
    assert_eq!(app.count("tenants").await, 3);
    assert_eq!(app.count("graph_connections").await, 3);
    let fabrikam = app
        .graphql(
            &platform_admin(),
            "{ tenant(id: \"fabrikam\") { name industry seatCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        fabrikam["data"]["tenant"],
        json!({"name": "Fabrikam", "industry": "Retail", "seatCount": 40})
    );

    // Two directories trust the client; the third's admin has not consented.
    assert_eq!(collect(&app, "acme").await["status"], "SUCCEEDED");
    assert_eq!(collect(&app, "fabrikam").await["status"], "SUCCEEDED");
    let refused = collect(&app, "litware").await;
    assert_eq!(refused["status"], "FAILED", "{refused}");
    assert!(
        refused["endpoints"][0]["error"]
            .as_str()
            .unwrap()
            .contains("AADSTS700016"),
        "{refused}"
    );
    let waiting = connection(&app, "litware").await;
    assert_eq!(
        waiting["graphConnection"]["status"], "CONSENT_REQUIRED",
        "{waiting}"
    );
    assert!(waiting["graphConnection"]["consentedAt"].is_null());
    assert!(waiting["score"].is_null());

    // The customer's admin follows the link: Microsoft's prompt, then its redirect back here.
    let link = waiting["graphConnection"]["consentUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let followed = reqwest::Client::new().get(&link).send().await.unwrap();
    assert_eq!(followed.url().path(), "/connect/consented");
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.headers()["cache-control"], "no-store");
    let page = followed.text().await.unwrap();
    assert!(
        page.contains("Consent recorded") && page.contains("litware"),
        "{page}"
    );
    let scored = eventually(
        "litware collected after consent",
        Duration::from_secs(30),
        || async {
            let now = connection(&app, "litware").await;
            (now["graphConnection"]["status"] == "OK" && !now["score"].is_null()).then_some(now)
        },
    )
    .await;
    assert!(
        scored["graphConnection"]["consentedAt"].is_string(),
        "{scored}"
    );
    assert!(scored["graphConnection"]["consentError"].is_null());

    // The same list again leaves every connection as it is.
    let before: Vec<Value> = [("acme"), ("fabrikam"), ("litware")]
        .iter()
        .map(|t| t.to_string())
        .map(Value::String)
        .collect();
    let mut states = Vec::new();
    for tenant in &before {
        states.push(connection(&app, tenant.as_str().unwrap()).await["graphConnection"].clone());
    }
    let again = app.graphql(&platform_admin(), CONNECT, list).await;
    assert!(again["errors"].is_null(), "{again}");
    for (i, tenant) in before.iter().enumerate() {
        let now = connection(&app, tenant.as_str().unwrap()).await["graphConnection"].clone();
        assert_eq!(now["status"], states[i]["status"], "{tenant}");
        assert_eq!(now["consentedAt"], states[i]["consentedAt"], "{tenant}");
        assert_eq!(now["updatedAt"], states[i]["updatedAt"], "{tenant}");
    }

    // A directory already connected elsewhere is refused on its line.
    let taken = app
        .graphql(
            &platform_admin(),
            CONNECT,
            json!({"inputs": [{"tenantId": "northwind", "directoryId": CONSENTED}]}),
        )
        .await;
    let line = &taken["data"]["connectDirectories"][0];
    assert!(
        line["error"].as_str().unwrap().contains("`fabrikam`"),
        "{taken}"
    );
    assert_eq!(app.count("tenants").await, 3);

    // Rotation: a new secret is used at the next collection, no connection touched.
    let rotated = app
        .graphql(
            &platform_admin(),
            SET_PARTNER,
            partner_input("Wr0ng~rotated-secret-0123456789"),
        )
        .await;
    assert!(rotated["errors"].is_null(), "{rotated}");
    let failed = collect(&app, "fabrikam").await;
    assert_eq!(failed["status"], "FAILED");
    assert!(
        failed["endpoints"][0]["error"]
            .as_str()
            .unwrap()
            .contains("AADSTS7000215"),
        "{failed}"
    );
    assert_eq!(
        connection(&app, "fabrikam").await["graphConnection"]["status"],
        "FAILED"
    );
    app.graphql(&platform_admin(), SET_PARTNER, partner_input(CLIENT_SECRET))
        .await;
    assert_eq!(collect(&app, "fabrikam").await["status"], "SUCCEEDED");
    assert_eq!(
        connection(&app, "fabrikam").await["graphConnection"]["updatedAt"],
        states[1]["updatedAt"]
    );
}

#[tokio::test]
async fn consent_answers_that_cannot_be_trusted_change_nothing() {
    let standin = standin().await;
    let app = connected_app(&standin, |_| {}).await;
    app.graphql(&platform_admin(), SET_PARTNER, partner_input(CLIENT_SECRET))
        .await;
    let connected = app
        .graphql(
            &platform_admin(),
            CONNECT,
            json!({"inputs": [{"tenantId": "litware", "directoryId": AWAITING}]}),
        )
        .await;
    let link = connected["data"]["connectDirectories"][0]["connection"]["consentUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{connected}"))
        .to_owned();
    let state = reqwest::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (body, tag) = state.split_once('.').unwrap();
    // The same claims under the test servers' key, 32 days old.
    let key =
        securescore::secrets::SecretsKey::from_file(&crate::helpers::secrets_key_file()).unwrap();
    let expired = securescore::service::consent::sign_state(
        &key,
        "litware",
        AWAITING,
        chrono::Utc::now() - chrono::Duration::days(32),
    )
    .unwrap();
    let flipped = format!(
        "{}{}.{tag}",
        &body[..body.len() - 1],
        if body.ends_with('A') { 'B' } else { 'A' }
    );
    let callback = format!("{}/connect/consented", app.address);
    let client = reqwest::Client::new();
    for (query, status, says) in [
        (
            vec![("admin_consent", "True"), ("tenant", AWAITING)],
            400,
            "no state",
        ),
        (
            vec![
                ("admin_consent", "True"),
                ("tenant", AWAITING),
                ("state", flipped.as_str()),
            ],
            400,
            "not one this server signed",
        ),
        (
            vec![
                ("admin_consent", "True"),
                ("tenant", AWAITING),
                ("state", expired.as_str()),
            ],
            400,
            "expired",
        ),
        (
            vec![
                ("admin_consent", "True"),
                ("tenant", AWAITING),
                ("state", "<script>alert(1)</script>"),
            ],
            400,
            "not one this server signed",
        ),
        (
            vec![("state", state.as_str())],
            400,
            "neither consent nor an error",
        ),
    ] {
        let answer = client.get(&callback).query(&query).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{query:?}");
        let page = answer.text().await.unwrap();
        assert!(
            page.contains(says) && page.contains("Nothing was recorded"),
            "{query:?}: {page}"
        );
        assert!(!page.contains("<script>"), "{page}");
    }
    let untouched = connection(&app, "litware").await["graphConnection"].clone();
    assert!(
        untouched["consentedAt"].is_null() && untouched["consentError"].is_null(),
        "{untouched}"
    );
    assert_eq!(app.count("collection_runs").await, 0);

    // The admin declines: Microsoft's error is kept, and the page says so.
    standin.behave(|b| {
        b.consent_declined = Some((
            "access_denied".into(),
            "The admin canceled the request".into(),
        ))
    });
    let declined = client.get(&link).send().await.unwrap();
    assert_eq!(declined.status(), 200);
    assert!(
        declined
            .text()
            .await
            .unwrap()
            .contains("Consent was not given")
    );
    let refused = connection(&app, "litware").await["graphConnection"].clone();
    assert_eq!(
        refused["consentError"],
        "access_denied: The admin canceled the request"
    );
    assert!(refused["consentedAt"].is_null());
    assert_eq!(app.count("collection_runs").await, 0);

    // A consent for a connection deleted since is out of date.
    app.graphql(
        &platform_admin(),
        "mutation { deleteGraphConnection(tenantId: \"litware\") }",
        json!({}),
    )
    .await;
    let gone = client
        .get(&callback)
        .query(&[
            ("admin_consent", "True"),
            ("tenant", AWAITING),
            ("state", state.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(app.count("graph_connections").await, 0);
}

#[tokio::test]
async fn a_connection_signs_in_as_the_partner_application_only_when_asked_and_one_is_set() {
    let standin = standin().await;
    let app = connected_app(&standin, |config| config.graph.public_url = None).await;
    let set = "mutation($input: SetGraphConnectionInput!) { setGraphConnection(input: $input) {
        clientId usesPartnerApplication consentUrl status } }";
    let partner = json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "usePartnerApplication": true}});
    let none_set = app.graphql(&admin(), set, partner.clone()).await;
    assert_eq!(error_code(&none_set), Some("BAD_USER_INPUT"), "{none_set}");
    assert!(
        none_set.to_string().contains("no partner application"),
        "{none_set}"
    );
    let forbidden = app
        .graphql(&admin(), SET_PARTNER, partner_input(CLIENT_SECRET))
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    app.graphql(&platform_admin(), SET_PARTNER, partner_input(CLIENT_SECRET))
        .await;
    let mut both = partner.clone();
    both["input"]["clientSecret"] = json!("s");
    let refused = app.graphql(&admin(), set, both).await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    let missing = app
        .graphql(
            &admin(),
            set,
            json!({"input": {"tenantId": "acme", "directoryId": DIRECTORY, "clientSecret": "s"}}),
        )
        .await;
    assert_eq!(error_code(&missing), Some("BAD_USER_INPUT"), "{missing}");
    assert_eq!(app.count("graph_connections").await, 0);

    let connected = app.graphql(&admin(), set, partner).await;
    let c = &connected["data"]["setGraphConnection"];
    assert_eq!(c["usesPartnerApplication"], true, "{connected}");
    assert_eq!(c["clientId"], CLIENT);
    // Without --public-url there is no address for Microsoft to send the admin back to.
    assert!(c["consentUrl"].is_null(), "{connected}");
    let run = app
        .graphql(
            &admin(),
            "mutation { collectNow(tenantId: \"acme\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(run["data"]["collectNow"]["status"], "SUCCEEDED", "{run}");
}
