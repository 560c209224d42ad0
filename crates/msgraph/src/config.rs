//! The connector's configuration, built by the command line (or by tests) and passed in.

use std::time::Duration;

/// The Microsoft Graph connector's endpoints and schedule.
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// The Microsoft identity platform (`https://login.microsoftonline.com`; national clouds
    /// and tests change it).
    pub authority_url: String,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    pub graph_url: String,
    /// Accept plain-HTTP URLs for the two above (development and tests only).
    pub allow_http: bool,
    /// How often every enabled connection is collected.
    pub collect_interval: Duration,
    /// Longest one Graph or token request may take.
    pub request_timeout: Duration,
    /// Most tries of one request answered 429, 503 or 504 (or not answered).
    pub max_attempts: u32,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// Largest page of a Graph answer read; a larger one fails its endpoint.
    pub max_page_bytes: usize,
    /// How long a claim on a collection lasts without renewal.
    pub lease: Duration,
    /// How often an idle collection worker looks for queued collections.
    pub poll: Duration,
    /// The address browsers reach this server at (`--public-url`): admin consent redirects
    /// come back to its `/connect/consented`; none: consent URLs are null.
    pub public_url: Option<String>,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            authority_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            allow_http: false,
            collect_interval: Duration::from_secs(12 * 3600),
            request_timeout: Duration::from_secs(10),
            max_attempts: 4,
            max_retry_after: Duration::from_secs(60),
            max_page_bytes: 16 << 20,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            public_url: None,
        }
    }
}

impl GraphConfig {
    /// Checks the two URLs: absolute, HTTPS unless plain HTTP is allowed, no query.
    pub fn validate(&self) -> Result<(), String> {
        for (option, raw) in [
            ("--graph-authority-url", &self.authority_url),
            ("--graph-url", &self.graph_url),
        ] {
            let url = reqwest::Url::parse(raw).map_err(|e| format!("{option}: {e}"))?;
            match url.scheme() {
                "https" => {}
                "http" if self.allow_http => {}
                _ => {
                    return Err(format!(
                        "{option} must be an https:// URL (plain http only with --graph-allow-http)"
                    ));
                }
            }
            if url.host_str().is_none() || url.query().is_some() {
                return Err(format!(
                    "{option} must be a base URL with a host and no query"
                ));
            }
        }
        if let Some(raw) = &self.public_url {
            let url = reqwest::Url::parse(raw).map_err(|e| format!("--public-url: {e}"))?;
            if !matches!(url.scheme(), "https" | "http")
                || url.host_str().is_none()
                || url.query().is_some()
                || url.fragment().is_some()
            {
                return Err(
                    "--public-url must be an http(s) base URL with a host and no query".into(),
                );
            }
        }
        Ok(())
    }
}
