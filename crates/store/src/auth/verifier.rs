//! Verifies bearer tokens against the configured keys, accepting only the algorithms they imply.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::{ExposeSecret, SecretString};

use super::remote_keys::{KeySetSource, MIN_REFRESH, RefreshPolicy, RemoteKeys, http_fetcher};
use super::{Claims, Viewer};
use crate::error::ApiError;

/// Where verification keys come from; any combination may be configured.
#[derive(Clone, Debug)]
pub struct KeySources {
    /// HS256 shared secret.
    pub secret: Option<SecretString>,
    /// PEM file holding an RSA (RS256) or P-256 EC (ES256) public key.
    pub public_key_pem: Option<PathBuf>,
    /// JWKS file; keys are chosen by the token's `kid`.
    pub jwks: Option<PathBuf>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// Longest a token may still be valid for (`exp` further ahead is refused), in seconds.
    pub max_lifetime_seconds: u64,
    /// Most tenants a token may reach (`tid` and `tenants` together).
    pub max_tenants: usize,
    /// An OpenID Provider whose discovery document names its JWKS; its issuer is required.
    pub oidc_issuer: Option<String>,
    /// A JWKS URL.
    pub jwks_url: Option<String>,
    /// Accept plain-HTTP issuer and JWKS URLs (development and tests only).
    pub jwks_allow_http: bool,
    /// How often fetched keys are refreshed, and the soonest an unknown `kid` may fetch again.
    pub jwks_refresh: RefreshPolicy,
    /// The claim that carries the caller's own tenant.
    pub tenant_claim: String,
    /// The claim that carries the caller's roles.
    pub roles_claim: String,
}

impl Default for KeySources {
    fn default() -> Self {
        KeySources {
            secret: None,
            public_key_pem: None,
            jwks: None,
            issuer: None,
            audience: None,
            leeway_seconds: 30,
            max_lifetime_seconds: 24 * 3600,
            max_tenants: 5000,
            oidc_issuer: None,
            jwks_url: None,
            jwks_allow_http: false,
            jwks_refresh: RefreshPolicy {
                every: Duration::from_secs(3600),
                at_least: Duration::from_secs(30),
                sign_in_wait: Duration::from_secs(30),
            },
            tenant_claim: "tid".into(),
            roles_claim: "roles".into(),
        }
    }
}

/// One usable key and the single algorithm it verifies.
#[derive(Clone)]
struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Turns a bearer token into a `Viewer`, or says why not.
pub struct TokenVerifier {
    keys: Vec<VerificationKey>,
    remote: Option<Arc<RemoteKeys>>,
    tenant_claim: String,
    roles_claim: String,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_seconds: u64,
    max_lifetime_seconds: u64,
    max_tenants: usize,
}

/// Why the configured keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// No key source was configured.
    #[error(
        "no JWT key configured: set --jwt-secret, --jwt-public-key, --jwks, --jwks-url or --oidc-issuer"
    )]
    NoKey,
    /// A key file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key file's content is not a usable key.
    #[error("{0}")]
    Invalid(String),
}

impl TokenVerifier {
    /// Loads every configured key; fails when none is configured or one is unusable.
    pub fn from_sources(sources: &KeySources) -> Result<Self, KeyLoadError> {
        let mut keys = Vec::new();
        if let Some(secret) = &sources.secret {
            let bytes = secret.expose_secret().as_bytes();
            if bytes.len() < 16 {
                return Err(KeyLoadError::Invalid(
                    "the JWT secret must be at least 16 bytes".into(),
                ));
            }
            keys.push(VerificationKey {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(bytes),
            });
        }
        if let Some(path) = &sources.public_key_pem {
            keys.push(pem_key(&read(path)?, path)?);
        }
        if let Some(path) = &sources.jwks {
            keys.extend(jwks_keys(&read(path)?, path)?);
        }
        let source = match (&sources.oidc_issuer, &sources.jwks_url) {
            (Some(_), Some(_)) => {
                return Err(KeyLoadError::Invalid(
                    "set --oidc-issuer or --jwks-url, not both".into(),
                ));
            }
            (Some(issuer), None) => Some(KeySetSource::Issuer(issuer.clone())),
            (None, Some(url)) => Some(KeySetSource::Url(url.clone())),
            (None, None) => None,
        };
        let issuer = match (&sources.oidc_issuer, &sources.issuer) {
            (Some(oidc), Some(configured)) if oidc != configured => {
                return Err(KeyLoadError::Invalid(
                    "--jwt-issuer differs from --oidc-issuer (the provider's issuer is checked)"
                        .into(),
                ));
            }
            (Some(oidc), _) => Some(oidc.clone()),
            (None, configured) => configured.clone(),
        };
        if source.is_some()
            && sources
                .audience
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
        {
            // Entra ID (and most providers) sign every application's tokens with the same
            // issuer and keys: without an audience, a token for any of them would be accepted.
            return Err(KeyLoadError::Invalid(
                "--jwt-audience is required with --oidc-issuer or --jwks-url: every application \
                 of a directory shares its issuer and keys"
                    .into(),
            ));
        }
        if source.is_some() && sources.jwks_refresh.at_least < MIN_REFRESH {
            return Err(KeyLoadError::Invalid(format!(
                "--jwks-min-refresh must be at least {}",
                humantime::format_duration(MIN_REFRESH)
            )));
        }
        let remote = match source {
            Some(source) => {
                let fetch =
                    http_fetcher(source, sources.jwks_allow_http).map_err(KeyLoadError::Invalid)?;
                Some(Arc::new(RemoteKeys::new(fetch, sources.jwks_refresh)))
            }
            None => None,
        };
        if keys.is_empty() && remote.is_none() {
            return Err(KeyLoadError::NoKey);
        }
        for (option, claim) in [
            ("--jwt-tenant-claim", &sources.tenant_claim),
            ("--jwt-roles-claim", &sources.roles_claim),
        ] {
            if claim.trim().is_empty() {
                return Err(KeyLoadError::Invalid(format!("{option} must name a claim")));
            }
        }
        Ok(TokenVerifier {
            keys,
            remote,
            tenant_claim: sources.tenant_claim.clone(),
            roles_claim: sources.roles_claim.clone(),
            issuer,
            audience: sources.audience.clone(),
            leeway_seconds: sources.leeway_seconds,
            max_lifetime_seconds: sources.max_lifetime_seconds,
            max_tenants: sources.max_tenants,
        })
    }

    /// The identity provider's key cache, for the task that refreshes it; none when keys are
    /// only configured locally.
    pub fn remote_keys(&self) -> Option<Arc<RemoteKeys>> {
        self.remote.clone()
    }

    /// False until the identity provider's first key set is loaded (readiness says so).
    pub fn ready(&self) -> bool {
        self.remote.as_ref().is_none_or(|remote| remote.loaded())
    }

    /// Verifies a compact JWT; every failure is UNAUTHENTICATED with a short reason.
    pub async fn verify(&self, token: &str) -> Result<Viewer, ApiError> {
        self.verify_until(token).await.map(|(viewer, _)| viewer)
    }

    /// The key a token names: a configured one, else one of the identity provider's (fetched
    /// again for an unknown `kid`, at most once per minimum interval).
    async fn key_for(&self, header: &jsonwebtoken::Header) -> Option<VerificationKey> {
        let configured = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str())),
            None => self
                .keys
                .iter()
                .find(|k| k.kid.is_none() && k.algorithm == header.alg),
        };
        if let Some(key) = configured {
            return Some(key.clone());
        }
        let remote = self.remote.as_ref()?.key(header.kid.as_deref()?).await?;
        Some(VerificationKey {
            kid: Some(remote.kid),
            algorithm: remote.algorithm,
            key: remote.key,
        })
    }

    /// Verifies a compact JWT and answers its caller with the token's expiry (`exp`, seconds
    /// since the epoch, the leeway added), for connections that outlive a request.
    pub async fn verify_until(&self, token: &str) -> Result<(Viewer, u64), ApiError> {
        let unauthenticated =
            |why: &str| ApiError::Unauthenticated(format!("invalid token: {why}"));
        if has_critical_extensions(token) {
            // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we know none.
            return Err(unauthenticated(
                "its crit header names extensions this server does not understand",
            ));
        }
        let header = decode_header(token).map_err(|_| unauthenticated("malformed"))?;
        let key = self.key_for(&header).await.ok_or_else(|| {
            unauthenticated(if self.ready() {
                "no configured key matches its kid or algorithm"
            } else {
                "the identity provider's signing keys are not loaded yet"
            })
        })?;
        if key.algorithm != header.alg {
            return Err(unauthenticated("algorithm not accepted for this key"));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_seconds;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let data =
            decode::<serde_json::Map<String, serde_json::Value>>(token, &key.key, &validation)
                .map_err(|err| {
                    use jsonwebtoken::errors::ErrorKind;
                    unauthenticated(match err.kind() {
                        ErrorKind::ExpiredSignature => "expired",
                        ErrorKind::ImmatureSignature => "not valid yet",
                        ErrorKind::InvalidSignature => "bad signature",
                        ErrorKind::InvalidIssuer => "wrong issuer",
                        ErrorKind::InvalidAudience => "wrong audience",
                        ErrorKind::InvalidAlgorithm => "algorithm not accepted",
                        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                        _ => "malformed",
                    })
                })?;
        let claims = self
            .read_claims(data.claims)
            .map_err(|_| unauthenticated("malformed"))?;
        if claims.sub.trim().is_empty() {
            return Err(unauthenticated("sub must not be empty"));
        }
        let named = std::iter::once(&claims.sub)
            .chain(claims.tid.iter())
            .chain(claims.tenants.iter().flatten());
        for text in named {
            if crate::domain::forbidden_character(text).is_some() {
                return Err(unauthenticated(
                    "sub, tid and tenants must not hold control characters",
                ));
            }
        }
        let now = jsonwebtoken::get_current_timestamp();
        if claims.exp > now.saturating_add(self.max_lifetime_seconds) {
            return Err(unauthenticated(&format!(
                "it is valid for longer than {} (exp too far ahead)",
                humantime::format_duration(std::time::Duration::from_secs(
                    self.max_lifetime_seconds
                ))
            )));
        }
        let reach = usize::from(claims.tid.is_some()) + claims.tenants.as_ref().map_or(0, Vec::len);
        if reach > self.max_tenants {
            return Err(unauthenticated(&format!(
                "it names {reach} tenants; at most {} are accepted",
                self.max_tenants
            )));
        }
        Ok((
            Viewer::from_claims(&claims),
            claims.exp.saturating_add(self.leeway_seconds),
        ))
    }
}

impl TokenVerifier {
    /// The claims securescore reads, the tenant and roles taken from the claims configured to
    /// carry them (an Entra ID token: `tid` and `roles`).
    fn read_claims(
        &self,
        mut claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Claims, serde_json::Error> {
        for (named, ours) in [(&self.tenant_claim, "tid"), (&self.roles_claim, "roles")] {
            if named != ours {
                match claims.remove(named.as_str()) {
                    Some(value) => claims.insert(ours.to_owned(), value),
                    None => claims.remove(ours),
                };
            }
        }
        // Checked above when configured; providers send it as a string or a list.
        claims.remove("aud");
        serde_json::from_value(serde_json::Value::Object(claims))
    }
}

/// True when the token's protected header has a `crit` member.
fn has_critical_extensions(token: &str) -> bool {
    use base64::Engine;
    let Some(encoded) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("crit").is_some())
}

fn read(path: &PathBuf) -> Result<Vec<u8>, KeyLoadError> {
    std::fs::read(path).map_err(|source| KeyLoadError::Read {
        path: path.clone(),
        source,
    })
}

/// An RSA public key verifies RS256; a P-256 EC key verifies ES256.
fn pem_key(pem: &[u8], path: &Path) -> Result<VerificationKey, KeyLoadError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(VerificationKey {
            kid: None,
            algorithm: Algorithm::RS256,
            key,
        });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok(VerificationKey {
            kid: None,
            algorithm: Algorithm::ES256,
            key,
        });
    }
    Err(KeyLoadError::Invalid(format!(
        "{} is not an RSA or EC public key in PEM format",
        path.display()
    )))
}

/// Keys of a JWKS file that have a `kid` and are RSA (RS256) or P-256 EC (ES256).
fn jwks_keys(json: &[u8], path: &Path) -> Result<Vec<VerificationKey>, KeyLoadError> {
    let set: JwkSet = serde_json::from_slice(json).map_err(|e| {
        KeyLoadError::Invalid(format!("{} is not a JWKS document: {e}", path.display()))
    })?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            return Err(KeyLoadError::Invalid(format!(
                "{}: every key needs a kid",
                path.display()
            )));
        };
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => {
                return Err(KeyLoadError::Invalid(format!(
                    "{}: key {kid} is neither RSA nor P-256 EC",
                    path.display()
                )));
            }
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| KeyLoadError::Invalid(format!("{}: key {kid}: {e}", path.display())))?;
        keys.push(VerificationKey {
            kid: Some(kid),
            algorithm,
            key,
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_without_an_audience_is_refused_at_start() {
        for (oidc_issuer, jwks_url) in [
            (Some("https://login.example.com/t/v2.0".to_owned()), None),
            (None, Some("https://login.example.com/keys".to_owned())),
        ] {
            let mut sources = KeySources {
                oidc_issuer,
                jwks_url,
                ..KeySources::default()
            };
            let refused = TokenVerifier::from_sources(&sources)
                .err()
                .map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|e| e.contains("--jwt-audience is required")),
                "{refused:?}"
            );
            sources.audience = Some("api://securescore".into());
            assert!(TokenVerifier::from_sources(&sources).is_ok());
        }
    }
}
