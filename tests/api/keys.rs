//! Asymmetric keys, JWKS, algorithm confusion, issuer and audience.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use securescore::auth::KeySources;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, error_code, spawn_app_with};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// PlatformAdmin claims: a token accepted by mistake would be able to create tenants.
fn claims() -> Value {
    json!({"sub": "key-tester", "roles": ["PlatformAdmin"], "exp": chrono::Utc::now().timestamp() + 600})
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap()
}

fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("ec-private.pem")).unwrap()).unwrap()
}

/// Tries to create a tenant with `token`: true when it was created; a refusal must be
/// UNAUTHENTICATED and leave the database as it was.
async fn creates_tenant(app: &TestApp, token: &str) -> bool {
    let id = uuid::Uuid::new_v4().to_string();
    let before = app.count("tenants").await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($id: ID!) { createTenant(input: {id: $id, name: \"Probe\", seatCount: 1}) { id } }",
            "variables": {"id": id},
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let after = app.count("tenants").await;
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        assert_eq!(after, before, "a refused token changed the database");
        false
    } else {
        assert_eq!(body["data"]["createTenant"]["id"], id.as_str(), "{body}");
        assert_eq!(after, before + 1);
        true
    }
}

async fn app_with(keys: KeySources) -> TestApp {
    spawn_app_with(|config| {
        config.keys = KeySources {
            leeway_seconds: 5,
            ..keys
        }
    })
    .await
}

#[tokio::test]
async fn rs256_tokens_verify_with_a_pem_key_and_other_algorithms_do_not() {
    let app = app_with(KeySources {
        public_key_pem: Some(fixture("rsa-public.pem")),
        ..Default::default()
    })
    .await;
    assert!(creates_tenant(&app, &sign(Algorithm::RS256, None, &rsa_key(), &claims())).await);
    let hs = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        &claims(),
    );
    assert!(!creates_tenant(&app, &hs).await);
    // Algorithm confusion: an HS256 token whose HMAC key is the server's public key.
    let public = std::fs::read(fixture("rsa-public.pem")).unwrap();
    let confused = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&public),
        &claims(),
    );
    assert!(!creates_tenant(&app, &confused).await);
    assert!(!creates_tenant(&app, &sign(Algorithm::ES256, None, &ec_key(), &claims())).await);
}

#[tokio::test]
async fn es256_tokens_verify_with_a_pem_key() {
    let app = app_with(KeySources {
        public_key_pem: Some(fixture("ec-public.pem")),
        ..Default::default()
    })
    .await;
    assert!(creates_tenant(&app, &sign(Algorithm::ES256, None, &ec_key(), &claims())).await);
    assert!(!creates_tenant(&app, &sign(Algorithm::RS256, None, &rsa_key(), &claims())).await);
}

#[tokio::test]
async fn jwks_keys_are_chosen_by_kid() {
    let app = app_with(KeySources {
        jwks: Some(fixture("jwks.json")),
        ..Default::default()
    })
    .await;
    assert!(
        creates_tenant(
            &app,
            &sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), &claims())
        )
        .await
    );
    assert!(
        creates_tenant(
            &app,
            &sign(Algorithm::ES256, Some("ec-1"), &ec_key(), &claims())
        )
        .await
    );
    for token in [
        sign(Algorithm::RS256, Some("unknown"), &rsa_key(), &claims()),
        sign(Algorithm::RS256, None, &rsa_key(), &claims()),
        sign(Algorithm::RS256, Some("ec-1"), &rsa_key(), &claims()),
        sign(Algorithm::ES256, Some("rsa-1"), &ec_key(), &claims()),
    ] {
        assert!(!creates_tenant(&app, &token).await);
    }
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = app_with(KeySources {
        secret: Some(SECRET.into()),
        issuer: Some("https://idp.example".into()),
        audience: Some("securescore".into()),
        ..Default::default()
    })
    .await;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let with = |iss: Option<&str>, aud: Option<&str>| {
        let mut c = claims();
        if let Some(iss) = iss {
            c["iss"] = json!(iss);
        }
        if let Some(aud) = aud {
            c["aud"] = json!(aud);
        }
        sign(Algorithm::HS256, None, &key, &c)
    };
    assert!(
        creates_tenant(
            &app,
            &with(Some("https://idp.example"), Some("securescore"))
        )
        .await
    );
    for token in [
        with(None, Some("securescore")),
        with(Some("https://idp.example"), None),
        with(Some("https://evil.example"), Some("securescore")),
        with(Some("https://idp.example"), Some("other")),
    ] {
        assert!(!creates_tenant(&app, &token).await);
    }
}
