//! Mints HS256 tokens for development and scripts (`securescore token`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::{ExposeSecret, SecretString};

use super::Claims;
use crate::domain::Role;

/// What a minted token says.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// The `sub` claim.
    pub subject: String,
    /// Roles granted.
    pub roles: Vec<Role>,
    /// First tenant becomes `tid`, the rest `tenants`.
    pub tenants: Vec<String>,
    /// Lifetime from now.
    pub ttl: Duration,
    /// `iss` to embed, when the server checks one.
    pub issuer: Option<String>,
    /// `aud` to embed, when the server checks one.
    pub audience: Option<String>,
}

/// Signs the requested claims with the HS256 secret.
pub fn mint_hs256(
    secret: &SecretString,
    request: &TokenRequest,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut tenants = request.tenants.iter().cloned();
    let tid = tenants.next();
    let extra: Vec<String> = tenants.collect();
    let claims = Claims {
        sub: request.subject.clone(),
        roles: request
            .roles
            .iter()
            .map(|r| r.claim_name().to_owned())
            .collect(),
        tid,
        tenants: (!extra.is_empty()).then_some(extra),
        exp: now + request.ttl.as_secs(),
        nbf: None,
        iat: Some(now),
        iss: request.issuer.clone(),
        aud: request.audience.clone(),
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
}
