//! Signing keys fetched from an identity provider: its JWKS, found through OpenID discovery
//! (`{issuer}/.well-known/openid-configuration`) or named directly, cached, refreshed on a
//! schedule, and fetched again at once for a `kid` the cache does not know, but never more
//! often than the minimum interval (at least 5 s). A failed fetch, or a set with no usable key,
//! keeps the last good keys; each key is parsed on its own, so one the server cannot use is
//! skipped, never the set. A document is at most 1 MiB, a URL resolving to a loopback, private
//! or link-local address is refused (unless plain HTTP is allowed, for tests), and a sign-in
//! never waits on the provider longer than the request timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;

/// One key of a set, with the single algorithm it verifies.
#[derive(Clone)]
pub struct RemoteKey {
    /// The key's id.
    pub kid: String,
    /// RS256, PS256 or ES256.
    pub algorithm: Algorithm,
    /// The key.
    pub key: DecodingKey,
}

/// Where the key set comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySetSource {
    /// An OpenID Provider: its discovery document names the JWKS.
    Issuer(String),
    /// A JWKS URL.
    Url(String),
}

/// How often keys are fetched, and how long a sign-in may wait for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// The regular refresh.
    pub every: Duration,
    /// The soonest an unknown `kid` may cause another fetch (at least [`MIN_REFRESH`]).
    pub at_least: Duration,
    /// The longest a sign-in waits for a fetch (the request timeout).
    pub sign_in_wait: Duration,
}

/// The shortest `--jwks-min-refresh` accepted: a flood of made-up `kid`s may cause at most one
/// fetch this often.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);
/// The largest JWKS or discovery document read.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Fetches the key set's JSON text.
pub type Fetcher =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync>;

/// The cache of one provider's keys.
pub struct RemoteKeys {
    fetch: Fetcher,
    policy: RefreshPolicy,
    keys: RwLock<Option<Arc<Vec<RemoteKey>>>>,
    /// When the last fetch started; held while a fetch runs, so fetches never overlap.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl RemoteKeys {
    /// A cache that fetches with `fetch` (see [`http_fetcher`]).
    pub fn new(fetch: Fetcher, policy: RefreshPolicy) -> RemoteKeys {
        RemoteKeys {
            fetch,
            policy,
            keys: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether a key set has been loaded.
    pub fn loaded(&self) -> bool {
        self.keys.read().map(|k| k.is_some()).unwrap_or(false)
    }

    fn find(&self, kid: &str) -> Option<RemoteKey> {
        let keys = self.keys.read().ok()?;
        keys.as_ref()?.iter().find(|k| k.kid == kid).cloned()
    }

    /// The key with this `kid`, fetching the set again first when it is unknown and the last
    /// fetch is at least the minimum interval old; none after waiting the sign-in limit.
    pub async fn key(&self, kid: &str) -> Option<RemoteKey> {
        if let Some(key) = self.find(kid) {
            return Some(key);
        }
        tokio::time::timeout(self.policy.sign_in_wait, self.fetch_for(kid))
            .await
            .ok()
            .flatten()
    }

    async fn fetch_for(&self, kid: &str) -> Option<RemoteKey> {
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.find(kid) {
            return Some(key);
        }
        if last.is_some_and(|at| at.elapsed() < self.policy.at_least) {
            return None;
        }
        *last = Some(Instant::now());
        if let Err(error) = self.fetch_now().await {
            tracing::warn!(%error, "fetching signing keys for an unknown kid failed; the last good keys stay");
        }
        self.find(kid)
    }

    /// Fetches the set and replaces the cached keys; on failure the cached keys stay.
    async fn fetch_now(&self) -> Result<usize, String> {
        let text = (self.fetch)().await?;
        let keys = usable_keys(&text)?;
        let count = keys.len();
        if let Ok(mut cached) = self.keys.write() {
            *cached = Some(Arc::new(keys));
        }
        Ok(count)
    }

    /// A scheduled refresh: fetches unless a fetch ran within the minimum interval.
    pub async fn refresh(&self) -> Result<usize, String> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.policy.at_least) && self.loaded() {
            return Ok(0);
        }
        *last = Some(Instant::now());
        self.fetch_now().await
    }

    /// Refreshes every `every` until the task is dropped; until a first set loads, tries again
    /// every minimum interval.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.refresh().await {
                Ok(count) if count > 0 => tracing::info!(keys = count, "signing keys loaded"),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "fetching signing keys failed; the last good keys stay")
                }
            }
            let wait = if self.loaded() {
                self.policy.every
            } else {
                self.policy.at_least.max(Duration::from_secs(1))
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// The keys of a JWKS that verify tokens: RSA keys for RS256 (or PS256 when the key says so)
/// and P-256 EC keys for ES256, each with a string `kid`. Each key is read on its own: keys for
/// encryption (`use: enc`), symmetric keys, keys of a type or curve this server does not read
/// (OKP, AKP, secp256k1), malformed ones and keys naming any other algorithm are skipped. A
/// document with no usable key is an error, so the last good keys stay.
pub fn usable_keys(text: &str) -> Result<Vec<RemoteKey>, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let set: Document =
        serde_json::from_str(text).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = Vec::new();
    let parsed = set
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok());
    for jwk in &parsed.collect::<Vec<_>>() {
        if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
            continue;
        }
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::PS256)) => Algorithm::PS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        keys.push(RemoteKey {
            kid,
            algorithm,
            key,
        });
    }
    if keys.is_empty() {
        return Err("the key set holds no RS256, PS256 or ES256 signing key with a kid".into());
    }
    Ok(keys)
}

/// Checks that `url` is HTTPS, or plain HTTP when allowed.
pub fn check_url(option: &str, url: &str, allow_http: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{option}: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_http => Ok(parsed),
        _ => Err(format!(
            "{option} must be an https:// URL (plain http only with --jwks-allow-http)"
        )),
    }
}

/// Fetches over HTTP(S): the JWKS named, or the one an OpenID Provider's discovery document
/// names (its `issuer` must be the one configured). The JWKS URL found is kept.
pub fn http_fetcher(source: KeySetSource, allow_http: bool) -> Result<Fetcher, String> {
    match &source {
        KeySetSource::Issuer(issuer) => check_url("--oidc-issuer", issuer, allow_http)?,
        KeySetSource::Url(url) => check_url("--jwks-url", url, allow_http)?,
    };
    let jwks_url: Arc<RwLock<Option<String>>> = Arc::new(RwLock::new(match &source {
        KeySetSource::Url(url) => Some(url.clone()),
        KeySetSource::Issuer(_) => None,
    }));
    Ok(Box::new(move || {
        let (source, jwks_url) = (source.clone(), jwks_url.clone());
        Box::pin(async move {
            let known = jwks_url.read().ok().and_then(|u| u.clone());
            let url = match (known, &source) {
                (Some(url), _) => url,
                (None, KeySetSource::Issuer(issuer)) => {
                    let found = discover(issuer, allow_http).await?;
                    if let Ok(mut kept) = jwks_url.write() {
                        *kept = Some(found.clone());
                    }
                    found
                }
                (None, KeySetSource::Url(url)) => url.clone(),
            };
            get_text(&url, allow_http).await
        }) as Pin<Box<dyn Future<Output = Result<String, String>> + Send>>
    }))
}

/// The `jwks_uri` of an OpenID Provider, after checking that the document names the issuer.
async fn discover(issuer: &str, allow_http: bool) -> Result<String, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let document: serde_json::Value = serde_json::from_str(&get_text(&url, allow_http).await?)
        .map_err(|e| format!("{url}: not JSON: {e}"))?;
    let named = document["issuer"].as_str().unwrap_or_default();
    if named.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!("{url} names the issuer {named:?}, not {issuer:?}"));
    }
    let jwks = document["jwks_uri"]
        .as_str()
        .ok_or_else(|| format!("{url} has no jwks_uri"))?;
    check_url("the discovery document's jwks_uri", jwks, allow_http)?;
    Ok(jwks.to_owned())
}

/// The text at `url`, at most [`MAX_DOCUMENT_BYTES`]; its host must resolve to public
/// addresses only (unless `allow_private`), and the request goes to the address checked.
async fn get_text(url: &str, allow_private: bool) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let resolved: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("{url}: {host} does not resolve: {e}"))?
            .collect();
    let first = *resolved
        .first()
        .ok_or_else(|| format!("{url}: {host} resolves to nothing"))?;
    if let Some(private) = resolved
        .iter()
        .find(|a| !allow_private && !crate::net::is_public(a.ip()))
    {
        return Err(format!(
            "{url}: {host} resolves to {}, a loopback, private or link-local address",
            private.ip()
        ));
    }
    let pinned = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(host, first)
        .build()
        .map_err(|e| e.to_string())?;
    let response = pinned
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let body = crate::net::read_bounded(response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| match error {
            crate::net::ReadError::TooLarge => {
                format!("{url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes")
            }
            crate::net::ReadError::Transport(e) => format!("{url}: {e}"),
        })?;
    String::from_utf8(body).map_err(|_| format!("{url}: the document is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const RSA_N: &str = "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw";

    fn set(kids: &[&str]) -> String {
        let keys: Vec<serde_json::Value> = kids
            .iter()
            .map(|kid| serde_json::json!({"kty": "RSA", "kid": kid, "use": "sig", "n": RSA_N, "e": "AQAB"}))
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    /// A cache whose fetches count and serve what `served` holds (an error when empty).
    fn counted(
        served: Arc<RwLock<String>>,
        at_least: Duration,
    ) -> (Arc<RemoteKeys>, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let fetch: Fetcher = Box::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let text = served.read().unwrap().clone();
            Box::pin(async move {
                if text.is_empty() {
                    Err("down".to_owned())
                } else {
                    Ok(text)
                }
            })
        });
        let policy = RefreshPolicy {
            every: Duration::from_secs(3600),
            sign_in_wait: Duration::from_secs(30),
            at_least,
        };
        (Arc::new(RemoteKeys::new(fetch, policy)), fetches)
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_kid_fetches_at_most_once_per_minimum_interval() {
        let served = Arc::new(RwLock::new(set(&["k1"])));
        let (keys, fetches) = counted(served.clone(), Duration::from_secs(30));
        keys.refresh().await.unwrap();
        assert!(keys.key("k1").await.is_some());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Within the interval: a flood of made-up kids fetches nothing.
        for i in 0..100 {
            assert!(keys.key(&format!("made-up-{i}")).await.is_none());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // The provider rotates; once the interval passed, the new kid fetches once.
        *served.write().unwrap() = set(&["k2", "k1"]);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(keys.key("k2").await.is_some());
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        for i in 0..100 {
            assert!(keys.key(&format!("again-{i}")).await.is_none());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_fetch_keeps_the_last_good_keys() {
        let served = Arc::new(RwLock::new(set(&["k1"])));
        let (keys, fetches) = counted(served.clone(), Duration::from_secs(1));
        keys.refresh().await.unwrap();
        served.write().unwrap().clear();
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(keys.refresh().await.is_err());
        assert!(
            keys.key("k1").await.is_some(),
            "the cached key still verifies"
        );
        assert!(keys.loaded());
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_schedule_refreshes_and_retries_until_a_first_set_loads() {
        let served = Arc::new(RwLock::new(String::new()));
        let (keys, fetches) = counted(served.clone(), Duration::from_secs(5));
        let running = tokio::spawn(keys.clone().run());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!keys.loaded());
        *served.write().unwrap() = set(&["k1"]);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert!(keys.loaded(), "retried after the minimum interval");
        let after_load = fetches.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            after_load + 1,
            "one scheduled refresh an hour"
        );
        running.abort();
    }

    #[test]
    fn encryption_symmetric_and_foreign_keys_are_left_out() {
        let text = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "sig", "use": "sig", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "pss", "alg": "PS256", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": RSA_N, "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"},
            {"kty": "RSA", "kid": "rs512", "alg": "RS512", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "n": RSA_N, "e": "AQAB"}
        ]})
        .to_string();
        let keys = usable_keys(&text).unwrap();
        let found: Vec<(&str, Algorithm)> =
            keys.iter().map(|k| (k.kid.as_str(), k.algorithm)).collect();
        assert_eq!(
            found,
            [("sig", Algorithm::RS256), ("pss", Algorithm::PS256)]
        );
    }

    #[test]
    fn keys_the_server_cannot_read_are_skipped_one_by_one() {
        let text = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
            {"kty": "AKP", "alg": "ML-DSA-44", "kid": "mldsa", "pub": "AAAA"},
            {"kty": "EC", "crv": "secp256k1", "kid": "k1",
             "x": "WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis", "y": "y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE"},
            {"kty": "RSA", "kid": "no-e", "n": RSA_N},
            {"kty": "RSA", "kid": 7, "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "good", "n": RSA_N, "e": "AQAB"}
        ]})
        .to_string();
        let kids: Vec<String> = usable_keys(&text)
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["good"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_set_with_no_usable_key_keeps_the_last_good_keys() {
        let served = Arc::new(RwLock::new(set(&["k1"])));
        let (keys, _) = counted(served.clone(), Duration::from_secs(5));
        keys.refresh().await.unwrap();
        *served.write().unwrap() =
            serde_json::json!({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}).to_string();
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(keys.refresh().await.is_err());
        assert!(keys.key("k1").await.is_some(), "the last good key stays");
        *served.write().unwrap() = serde_json::json!({"keys": []}).to_string();
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(keys.refresh().await.is_err());
        assert!(
            keys.key("k1").await.is_some(),
            "an empty set replaces nothing"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_sign_in_waits_on_a_slow_provider_no_longer_than_its_limit() {
        let fetch: Fetcher = Box::new(|| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Err("too slow".to_owned())
            })
        });
        let keys = RemoteKeys::new(
            fetch,
            RefreshPolicy {
                every: Duration::from_secs(3600),
                at_least: Duration::from_secs(5),
                sign_in_wait: Duration::from_secs(30),
            },
        );
        let started = Instant::now();
        assert!(keys.key("unknown").await.is_none());
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn documents_are_capped_and_private_addresses_refused() {
        let refused = get_text("http://127.0.0.1:9/keys", false)
            .await
            .unwrap_err();
        assert!(
            refused.contains("loopback, private or link-local"),
            "{refused}"
        );
        let metadata = get_text("http://169.254.169.254/keys", false)
            .await
            .unwrap_err();
        assert!(
            metadata.contains("loopback, private or link-local"),
            "{metadata}"
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let large = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(2 << 20));
        let router = axum::Router::new()
            .route("/large", axum::routing::get(move || async move { large }))
            .route("/small", axum::routing::get(|| async { "{\"keys\": []}" }));
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let too_large = get_text(&format!("http://{address}/large"), true)
            .await
            .unwrap_err();
        assert!(
            too_large.contains("larger than 1048576 bytes"),
            "{too_large}"
        );
        assert_eq!(
            get_text(&format!("http://{address}/small"), true)
                .await
                .unwrap(),
            "{\"keys\": []}"
        );
        server.abort();
    }
}
