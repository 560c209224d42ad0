//! The HTTP side of a collection: one token from the Microsoft identity platform (client
//! credentials), reused for the whole collection and taken again only when Graph says it
//! expired; Graph reads that follow `@odata.nextLink`, retry 429, 503 and 504 after their
//! `Retry-After` a bounded number of times, give each request its own timeout, and follow no
//! redirect to another host.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Mutex;

use super::credential::Credential;
use crate::config::GraphConfig;

/// Most pages followed for one endpoint (a loop in `@odata.nextLink` ends here).
const MAX_PAGES: usize = 10_000;
/// Most redirects followed, all on the same host.
const MAX_REDIRECTS: usize = 5;

/// A client for one collection of one directory.
pub struct GraphClient {
    http: reqwest::Client,
    config: GraphConfig,
    graph_base: Url,
    token_url: String,
    scope: String,
    client_id: String,
    credential: Credential,
    token: Mutex<Option<SecretString>>,
    requests: std::sync::atomic::AtomicU32,
    /// Held while a page's raw JSON is in memory, so a collection holds one at a time
    /// (requests still overlap; bodies are read and parsed one after another).
    raw_page: Mutex<()>,
}

/// What one endpoint (all its pages) answered, its items parsed one by one as each page
/// arrived (a collection holds one page of raw JSON at a time).
#[derive(Debug)]
pub struct Fetched<T> {
    /// The last HTTP status seen; none when nothing answered.
    pub http_status: Option<u16>,
    /// Every item of every page (a single object counts as one item).
    pub items: Vec<T>,
    /// Requests made for the page that took most tries.
    pub attempts: u32,
    /// Why it failed; none when it was read whole and every item parsed.
    pub error: Option<String>,
    /// Graph's error code (`error.code`) when it refused.
    pub error_code: Option<String>,
}

impl<T> Default for Fetched<T> {
    fn default() -> Self {
        Fetched {
            http_status: None,
            items: Vec::new(),
            attempts: 0,
            error: None,
            error_code: None,
        }
    }
}

impl<T> Fetched<T> {
    /// Read whole, every item parsed.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Why no token was issued.
#[derive(Debug)]
pub struct TokenRefused {
    /// The token endpoint's HTTP status; none when it did not answer.
    pub http_status: Option<u16>,
    /// Microsoft's reason (`AADSTS…`) or the transport error, the credential never quoted.
    pub reason: String,
    /// Tries made.
    pub attempts: u32,
}

/// One answer of one request, before retries are decided.
enum Answer {
    Response(reqwest::Response),
    Transport(String),
}

impl GraphClient {
    /// A client for `directory_id` as `client_id`; the URLs were validated at start.
    pub fn new(
        config: &GraphConfig,
        directory_id: &str,
        client_id: &str,
        credential: Credential,
    ) -> Result<GraphClient, String> {
        let graph_base = Url::parse(config.graph_url.trim_end_matches('/'))
            .map_err(|e| format!("--graph-url: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .https_only(!config.allow_http)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_host = attempt.previous().last().is_some_and(|previous| {
                    previous.host_str() == attempt.url().host_str()
                        && previous.port_or_known_default() == attempt.url().port_or_known_default()
                        && previous.scheme() == attempt.url().scheme()
                });
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if same_host {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .user_agent(concat!("securescore/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(GraphClient {
            http,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                config.authority_url.trim_end_matches('/'),
                directory_id
            ),
            scope: format!("{}/.default", config.graph_url.trim_end_matches('/')),
            graph_base,
            client_id: client_id.to_owned(),
            credential,
            config: config.clone(),
            token: Mutex::new(None),
            requests: Default::default(),
            raw_page: Mutex::new(()),
        })
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// HTTP requests made so far (token and Graph, retries included).
    pub fn requests(&self) -> u32 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes a token; the collection's later reads reuse it.
    pub async fn sign_in(&self) -> Result<(), TokenRefused> {
        let token = self.request_token().await?;
        *self.token.lock().await = Some(token);
        Ok(())
    }

    async fn request_token(&self) -> Result<SecretString, TokenRefused> {
        let mut form = vec![
            ("client_id", SecretString::from(self.client_id.clone())),
            ("scope", SecretString::from(self.scope.clone())),
            ("grant_type", SecretString::from("client_credentials")),
        ];
        let refused = |reason: String, http_status: Option<u16>, attempts: u32| TokenRefused {
            http_status,
            reason: self.credential.redact(&reason),
            attempts,
        };
        form.extend(
            self.credential
                .token_form(&self.client_id, &self.token_url)
                .map_err(|reason| refused(reason, None, 0))?,
        );
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.expose_secret())))
            .finish();
        let mut attempts = 0;
        let response = loop {
            attempts += 1;
            let answer = self
                .send(
                    self.http
                        .post(&self.token_url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone()),
                )
                .await;
            match self.retry_after(&answer, attempts) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => break answer,
            }
        };
        let response = match response {
            Answer::Transport(error) => return Err(refused(error, None, attempts)),
            Answer::Response(response) => response,
        };
        let status = response.status();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(refused(
                token_error(status, &json),
                Some(status.as_u16()),
                attempts,
            ));
        }
        json.get("access_token")
            .and_then(Value::as_str)
            .map(|t| SecretString::from(t.to_owned()))
            .ok_or_else(|| {
                refused(
                    "the token endpoint answered without an access_token".into(),
                    Some(status.as_u16()),
                    attempts,
                )
            })
    }

    /// `text` without the credential or the access token in any form an echo may carry them.
    async fn redacted(&self, text: &str) -> String {
        let text = self.credential.redact(text);
        match &*self.token.lock().await {
            Some(token) => super::credential::redact(&text, token.expose_secret()),
            None => text,
        }
    }

    /// Reads a Graph path (`/users?$select=…`) with every page of its `value`, each item
    /// parsed as a `T` when its page arrives; an answer without `value` is one object, one
    /// item. An item that does not parse stops the read with an error naming its position and
    /// the field.
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Fetched<T> {
        self.get_at("v1.0", path_and_query).await
    }

    /// [`GraphClient::get`] on Graph's `beta` version, for what v1.0 does not have.
    pub async fn get_beta<T: DeserializeOwned>(&self, path_and_query: &str) -> Fetched<T> {
        self.get_at("beta", path_and_query).await
    }

    /// Reads a path of one Graph version (`v1.0` or `beta`).
    async fn get_at<T: DeserializeOwned>(&self, version: &str, path_and_query: &str) -> Fetched<T> {
        let mut fetched = Fetched::default();
        let mut next = Some(format!(
            "{}/{version}{path_and_query}",
            self.graph_base.as_str().trim_end_matches('/')
        ));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                fetched.error = Some(format!("more than {MAX_PAGES} pages"));
                return fetched;
            }
            let (answer, attempts) = self.get_page(&url).await;
            fetched.attempts = fetched.attempts.max(attempts);
            let response = match answer {
                Answer::Transport(error) => {
                    fetched.error = Some(error);
                    return fetched;
                }
                Answer::Response(response) => response,
            };
            let status = response.status();
            fetched.http_status = Some(status.as_u16());
            // Until this page's items are typed, no other raw page is read.
            let _raw_page = self.raw_page.lock().await;
            let body: Value = match read_page(response, self.config.max_page_bytes).await {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(body) => body,
                    Err(e) if status.is_success() => {
                        fetched.error = Some(format!("the answer is not JSON: {e}"));
                        return fetched;
                    }
                    Err(_) => Value::Null,
                },
                Err(error) => {
                    fetched.error = Some(error);
                    return fetched;
                }
            };
            if !status.is_success() {
                fetched.error_code = body
                    .pointer("/error/code")
                    .and_then(Value::as_str)
                    .map(|code| code.chars().take(MAX_ERROR_CHARS).collect());
                fetched.error = Some(self.redacted(&graph_error(status, &body)).await);
                return fetched;
            }
            if let Some(link) = body.get("@odata.nextLink").and_then(Value::as_str) {
                match self.same_origin(link) {
                    Ok(()) => next = Some(link.to_owned()),
                    Err(e) => {
                        fetched.error = Some(e);
                        return fetched;
                    }
                }
            }
            let mut body = body;
            let page = match body.get_mut("value") {
                Some(Value::Array(items)) => std::mem::take(items),
                Some(_) => {
                    fetched.error = Some("`value` is not an array".into());
                    return fetched;
                }
                None => vec![body],
            };
            // The raw page is dropped as its items become typed.
            for item in page {
                let position = fetched.items.len();
                match serde_path_to_error::deserialize::<_, T>(item) {
                    Ok(parsed) => fetched.items.push(parsed),
                    Err(error) => {
                        fetched.error = Some(unparsable(position, &error));
                        return fetched;
                    }
                }
            }
        }
        fetched
    }

    /// A next link must stay on Graph's own scheme, host and port.
    fn same_origin(&self, link: &str) -> Result<(), String> {
        let url = Url::parse(link).map_err(|_| "@odata.nextLink is not a URL".to_owned())?;
        if url.scheme() == self.graph_base.scheme()
            && url.host_str() == self.graph_base.host_str()
            && url.port_or_known_default() == self.graph_base.port_or_known_default()
        {
            Ok(())
        } else {
            Err("@odata.nextLink points away from Microsoft Graph; not followed".into())
        }
    }

    /// One page, retried: after 429/503/504 (waiting `Retry-After`) and transport errors, a
    /// bounded number of times; after a 401, once with a new token.
    async fn get_page(&self, url: &str) -> (Answer, u32) {
        let mut attempts = 0;
        let mut renewed = false;
        loop {
            attempts += 1;
            let token = self.token.lock().await.clone();
            let mut request = self.http.get(url);
            if let Some(token) = &token {
                request =
                    request.header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
            }
            let answer = self.send(request).await;
            if let Answer::Response(response) = &answer
                && response.status() == StatusCode::UNAUTHORIZED
                && !renewed
            {
                renewed = true;
                // Requests in flight at once share one renewal: only the first to hold the
                // lock while the expired token is still current asks for a new one.
                let mut current = self.token.lock().await;
                let still_current = match (&*current, &token) {
                    (Some(current), Some(used)) => current.expose_secret() == used.expose_secret(),
                    _ => true,
                };
                if still_current {
                    match self.request_token().await {
                        Ok(fresh) => *current = Some(fresh),
                        Err(_) => return (answer, attempts),
                    }
                }
                continue;
            }
            match self.retry_after(&answer, attempts) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return (answer, attempts),
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match request.send().await {
            Ok(response) => Answer::Response(response),
            Err(e) if e.is_timeout() => Answer::Transport(format!(
                "no answer within {}",
                humantime::format_duration(self.config.request_timeout)
            )),
            Err(e) if e.is_redirect() => Answer::Transport("redirected too often".into()),
            Err(e) => Answer::Transport(format!("unreachable: {}", root_cause(&e))),
        }
    }

    /// How long to wait before trying again, or `None` when the answer stands.
    fn retry_after(&self, answer: &Answer, attempts: u32) -> Option<Duration> {
        if attempts >= self.config.max_attempts {
            return None;
        }
        let backoff = Duration::from_millis(500 * 2u64.pow(attempts.min(6)));
        match answer {
            Answer::Transport(_) => Some(backoff),
            Answer::Response(response) => {
                if !matches!(response.status().as_u16(), 429 | 503 | 504) {
                    return None;
                }
                let told = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                Some(told.unwrap_or(backoff).min(self.config.max_retry_after))
            }
        }
    }
}

/// `item 3: isMfaRegistered: invalid type: null, expected a boolean` (positions from 0).
fn unparsable(position: usize, error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let field = if path == "." {
        "the item".to_owned()
    } else {
        path
    };
    let text = format!("item {position}: {field}: {}", error.inner());
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// A page's body, refused past `max_bytes` so one page cannot take the collection's memory.
async fn read_page(response: reqwest::Response, max_bytes: usize) -> Result<Vec<u8>, String> {
    crate::net::read_bounded(response, max_bytes)
        .await
        .map_err(|error| match error {
            crate::net::ReadError::TooLarge => {
                format!("a page is larger than {max_bytes} bytes; not read")
            }
            crate::net::ReadError::Transport(e) => {
                format!("reading the answer: {}", root_cause(&e))
            }
        })
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    // Seconds, whole or fractional (Microsoft's own throttling sample sends `2.128`).
    if let Ok(seconds) = value.trim().parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or_default())
}

/// What a refusing token endpoint said: only Microsoft's error code and the first line of its
/// description (which holds the AADSTS code), at most [`MAX_ERROR_CHARS`]; never the rest of
/// the body, which may echo the request.
fn token_error(status: StatusCode, body: &Value) -> String {
    let code = body.get("error").and_then(Value::as_str);
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .and_then(|d| d.lines().next());
    let text = match (code, description) {
        (Some(code), Some(description)) => format!("{code}: {description}"),
        (None, Some(description)) => description.to_owned(),
        (Some(code), None) => code.to_owned(),
        (None, None) => format!("the token endpoint answered {status}"),
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// The longest error text kept from an endpoint's answer.
const MAX_ERROR_CHARS: usize = 500;

/// Graph's error as `code: message`, at most [`MAX_ERROR_CHARS`].
fn graph_error(status: StatusCode, body: &Value) -> String {
    let code = body.pointer("/error/code").and_then(Value::as_str);
    let message = body.pointer("/error/message").and_then(Value::as_str);
    let text = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("Microsoft Graph answered {status}"),
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// The innermost cause of a transport error (the useful part: connection refused, DNS, TLS).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("2.128"),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn token_errors_keep_only_the_code_and_the_descriptions_first_line() {
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x\r\nrequest: client_secret=s3cr3t",
            "echo": "client_secret=s3cr3t"
        });
        assert_eq!(
            token_error(StatusCode::UNAUTHORIZED, &body),
            "invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        let long = serde_json::json!({"error": "x".repeat(5000)});
        assert_eq!(
            token_error(StatusCode::BAD_REQUEST, &long).len(),
            MAX_ERROR_CHARS
        );
    }

    #[test]
    fn graph_errors_read_as_code_and_message() {
        let body = serde_json::json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}});
        assert_eq!(
            graph_error(StatusCode::FORBIDDEN, &body),
            "Authorization_RequestDenied: Insufficient privileges to complete the operation."
        );
        assert_eq!(
            graph_error(StatusCode::BAD_GATEWAY, &Value::Null),
            "Microsoft Graph answered 502 Bad Gateway"
        );
    }
}
