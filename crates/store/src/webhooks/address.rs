//! Where a webhook may go: HTTPS to public addresses only (unless private targets are allowed
//! for development), checked when the endpoint is saved and again at every delivery against
//! the address the name resolves to then, which the request is pinned to (DNS rebinding).

use std::net::SocketAddr;

pub use crate::net::is_public;

use reqwest::Url;

/// Longest URL accepted.
pub const MAX_URL_LENGTH: usize = 2048;

/// A webhook URL that passed the syntax checks.
#[derive(Clone, Debug)]
pub struct WebhookUrl {
    /// The parsed URL.
    pub url: Url,
    /// Its host name (or address literal).
    pub host: String,
    /// Its port, explicit or the scheme's.
    pub port: u16,
}

/// Checks a URL's syntax and scheme: HTTPS, or HTTP too when `allow_private`; no credentials.
pub fn parse_url(raw: &str, allow_private: bool) -> Result<WebhookUrl, String> {
    if raw.len() > MAX_URL_LENGTH {
        return Err(format!("url is longer than {MAX_URL_LENGTH} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("url is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("url must use https".into()),
        other => return Err(format!("url must use https, not {other}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not carry credentials".into());
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("url has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().ok_or("url has no port")?;
    Ok(WebhookUrl { url, host, port })
}

/// Resolves the URL's host and answers the address to connect to: every address it resolves
/// to must be public unless `allow_private`.
pub async fn resolve(target: &WebhookUrl, allow_private: bool) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("{} does not resolve: {e}", target.host))?
        .collect();
    let first = *addresses
        .first()
        .ok_or_else(|| format!("{} resolves to no address", target.host))?;
    if let Some(refused) = addresses
        .iter()
        .find(|a| !allow_private && !is_public(a.ip()))
    {
        return Err(format!(
            "{} resolves to {}, which is not a public address",
            target.host,
            refused.ip()
        ));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn ipv6_forms_that_reach_private_ipv4_or_tunnel_to_any_are_not_public() {
        for refused in [
            "::7f00:1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "::ffff:127.0.0.1",
            "::ffff:0:a00:1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "fec0::1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!is_public(ip), "{refused} is public");
        }
        for allowed in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::808:808",
        ] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert!(is_public(ip), "{allowed} is not public");
        }
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for allowed in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(allowed.parse().unwrap()), "{allowed}");
        }
    }

    #[test]
    fn only_https_without_credentials_unless_private_targets_are_allowed() {
        assert!(parse_url("https://hooks.example.com/x", false).is_ok());
        assert!(
            parse_url("http://hooks.example.com/x", false)
                .unwrap_err()
                .contains("https")
        );
        assert!(parse_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(
            parse_url("ftp://example.com", true)
                .unwrap_err()
                .contains("https")
        );
        assert!(
            parse_url("https://u:p@example.com", false)
                .unwrap_err()
                .contains("credentials")
        );
        assert!(
            parse_url("not a url", false)
                .unwrap_err()
                .contains("not a valid URL")
        );
        let v6 = parse_url("https://[::1]:8443/x", false).unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8443));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let target = parse_url("https://localhost/x", false).unwrap();
        assert!(
            resolve(&target, false)
                .await
                .unwrap_err()
                .contains("not a public address")
        );
        assert!(resolve(&target, true).await.unwrap().ip().is_loopback());
    }
}
