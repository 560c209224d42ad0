//! Authentication: every way a bearer token can be wrong is UNAUTHENTICATED.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use securescore::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{SECRET, error_code, spawn_app, token};

const CREATE_TENANT: &str =
    "mutation { createTenant(input: {id: \"probe\", name: \"Probe\", seatCount: 1}) { id } }";

async fn post_with(
    app: &crate::helpers::TestApp,
    authorization: Option<String>,
    query: &str,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .json(&json!({ "query": query }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn signed(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

#[tokio::test]
async fn a_valid_token_becomes_the_viewer() {
    let app = spawn_app().await;
    let t = token(&[Role::SecurityReader, Role::Collector], &["a", "b"]);
    let body = app
        .graphql(&t, "{ viewer { subject roles tenantIds } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["viewer"],
        json!({"subject": "tester@example.com", "roles": ["SECURITY_READER", "COLLECTOR"], "tenantIds": ["a", "b"]})
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    // PlatformAdmin claims: any of these tokens accepted by mistake could create a tenant.
    let claims = |exp: u64| json!({"sub": "x", "roles": ["PlatformAdmin"], "exp": exp});
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims = URL_SAFE_NO_PAD.encode(claims(now() + 600).to_string());
    let valid = signed(claims(now() + 600), SECRET);
    let (head, rest) = valid.split_once('.').unwrap();
    let tampered_claims = URL_SAFE_NO_PAD.encode(
        json!({"sub": "x", "roles": ["PlatformAdmin", "GlobalAdmin"], "exp": now() + 600})
            .to_string(),
    );
    let cases = [
        ("missing", None),
        ("not bearer", Some(format!("Basic {valid}"))),
        ("garbage", Some("Bearer not.a.token".to_string())),
        (
            "expired",
            Some(format!("Bearer {}", signed(claims(now() - 3600), SECRET))),
        ),
        (
            "wrong secret",
            Some(format!(
                "Bearer {}",
                signed(claims(now() + 600), "another-secret-0123456789")
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {none_header}.{none_claims}.")),
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}",
                signed(json!({"sub": "x", "roles": ["PlatformAdmin"]}), SECRET)
            )),
        ),
        (
            "tampered",
            Some(format!(
                "Bearer {head}.{tampered_claims}.{}",
                rest.split_once('.').unwrap().1
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                signed(
                    json!({"sub": "x", "roles": ["PlatformAdmin"], "exp": now() + 7200, "nbf": now() + 3600}),
                    SECRET
                )
            )),
        ),
    ];
    for (case, authorization) in cases {
        for query in ["{ viewer { subject } }", CREATE_TENANT] {
            let (status, body) = post_with(&app, authorization.clone(), query).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{case}: {body}");
            assert!(body.get("data").is_none(), "{case}");
            assert!(!body.to_string().contains(SECRET), "{case}");
        }
    }
    assert_eq!(
        app.count("tenants").await,
        0,
        "a refused token created a tenant"
    );
}

#[tokio::test]
async fn unknown_or_miscased_roles_grant_nothing() {
    let app = spawn_app().await;
    app.create_tenant("a", None, 1).await;
    let t = signed(
        json!({"sub": "x", "roles": ["globaladmin", "Root"], "tid": "a", "exp": now() + 600}),
        SECRET,
    );
    let body = app
        .graphql(
            &t,
            "{ viewer { roles } tenant(id: \"a\") { id } actions { id } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["viewer"]["roles"], json!([]), "{body}");
    assert_eq!(body["data"]["tenant"], Value::Null);
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let miscased_admin = signed(
        json!({"sub": "x", "roles": ["platformAdmin", "PLATFORMADMIN", "Platform Admin"], "exp": now() + 600}),
        SECRET,
    );
    let body = app.graphql(&miscased_admin, CREATE_TENANT, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        app.count("tenants").await,
        1,
        "only the tenant made by the setup"
    );
}

/// Runs `securescore token` with `args` and the test secret; returns the printed token.
fn token_command(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_securescore"))
        .arg("token")
        .args(args)
        .env("SECURESCORE_JWT_SECRET", SECRET)
        .output()
        .expect("run securescore token");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_token_command_mints_tokens_the_server_accepts() {
    let app = spawn_app().await;
    app.create_tenant("acme", None, 1).await;
    let partner = token_command(&[
        "--role",
        "security-reader",
        "--role",
        "collector",
        "--tenant",
        "acme",
        "--tenant",
        "beta",
        "--subject",
        "partner@example.com",
        "--ttl",
        "5m",
    ]);
    let body = app
        .graphql(
            &partner,
            "{ viewer { subject roles tenantIds } tenant(id: \"acme\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({
            "viewer": {"subject": "partner@example.com", "roles": ["SECURITY_READER", "COLLECTOR"], "tenantIds": ["acme", "beta"]},
            "tenant": {"id": "acme"},
        }),
        "{body}"
    );
    // The minted lifetime is the one asked for.
    let payload = partner.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let lifetime = claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((290..=300).contains(&lifetime), "{claims}");
    // A token for one role grants nothing else.
    let collector = token_command(&["--role", "collector", "--tenant", "acme"]);
    let body = app
        .graphql(
            &collector,
            "{ tenant(id: \"acme\") { snapshots { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

/// An HS256 token with this protected header and these claims, signed with the test secret.
fn hand_signed(header: serde_json::Value, claims: serde_json::Value) -> String {
    use base64::Engine;
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let message = format!("{}.{}", encode(&header), encode(&claims));
    let key = jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn tokens_with_crit_headers_empty_subjects_long_lives_or_huge_reach_are_refused() {
    let app = crate::helpers::spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, exp: i64, tenants: usize| {
        let tenants: Vec<String> = (0..tenants).map(|i| format!("t{i}")).collect();
        json!({"sub": sub, "roles": ["PlatformAdmin"], "exp": exp, "tenants": tenants})
    };
    let plain = json!({"alg": "HS256", "typ": "JWT"});
    let query = "{ viewer { subject tenantIds } }";
    let accepted = app
        .graphql(
            &hand_signed(plain.clone(), claims("ok", now + 3600, 3)),
            query,
            json!({}),
        )
        .await;
    assert_eq!(accepted["data"]["viewer"]["subject"], "ok", "{accepted}");
    for (token, words) in [
        (
            hand_signed(
                json!({"alg": "HS256", "typ": "JWT", "crit": ["b64"], "b64": false}),
                claims("x", now + 3600, 1),
            ),
            "crit",
        ),
        (
            hand_signed(plain.clone(), claims("", now + 3600, 1)),
            "sub must not be empty",
        ),
        (
            hand_signed(plain.clone(), claims("  ", now + 3600, 1)),
            "sub must not be empty",
        ),
        (
            hand_signed(plain.clone(), claims("x", now + 48 * 3600, 1)),
            "exp too far ahead",
        ),
        (
            hand_signed(plain.clone(), claims("x", now + 3600, 5001)),
            "5001 tenants",
        ),
    ] {
        let body = app.graphql(&token, query, json!({})).await;
        crate::helpers::assert_error(&body, "UNAUTHENTICATED", words);
    }
    // A partner token at the limit works, tenants page included.
    let big = hand_signed(plain, claims("partner", now + 3600, 5000));
    let body = app
        .graphql(
            &big,
            "{ viewer { tenantIds } tenants(first: 5) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["viewer"]["tenantIds"]
            .as_array()
            .unwrap()
            .len(),
        5000
    );
}
