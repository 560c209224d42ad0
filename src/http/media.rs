//! Media types of GraphQL over HTTP: what the client sent and what it accepts.

use axum::http::{HeaderMap, header};

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy JSON media type.
pub const APPLICATION_JSON: &str = "application/json";

/// The media type a response is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/graphql-response+json`: request errors are 4xx.
    GraphqlResponseJson,
    /// `application/json`: request errors are 200 with `errors`.
    Json,
}

impl ResponseMedia {
    /// The `Content-Type` value.
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseMedia::GraphqlResponseJson => {
                "application/graphql-response+json; charset=utf-8"
            }
            ResponseMedia::Json => "application/json; charset=utf-8",
        }
    }
}

/// Media types of an `Accept` header, in the client's order of preference (q-values honoured).
fn accepted(headers: &HeaderMap) -> Vec<String> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    let mut ranked: Vec<(f32, usize, String)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let media = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !media.is_empty()).then_some((q, i, media))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, media)| media).collect()
}

/// The response media type for this request; `None` when the client accepts neither.
/// A missing `Accept` or a wildcard gets `application/json`, as the specification asks.
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseMedia> {
    let accepted = accepted(headers);
    if accepted.is_empty() {
        return Some(ResponseMedia::Json);
    }
    accepted.iter().find_map(|media| match media.as_str() {
        GRAPHQL_RESPONSE_JSON => Some(ResponseMedia::GraphqlResponseJson),
        APPLICATION_JSON | "application/*" | "*/*" => Some(ResponseMedia::Json),
        _ => None,
    })
}

/// True when a browser asks for a page (GraphiQL) rather than a GraphQL response.
pub fn wants_html(headers: &HeaderMap) -> bool {
    accepted(headers).first().is_some_and(|m| m == "text/html")
}

/// True when the request body is declared as JSON (`application/json`, any parameters).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(APPLICATION_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiation_follows_the_clients_preference() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(ResponseMedia::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(ResponseMedia::Json));
        assert_eq!(
            negotiate(&accept(GRAPHQL_RESPONSE_JSON)),
            Some(ResponseMedia::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json;q=0.5, application/graphql-response+json"
            )),
            Some(ResponseMedia::GraphqlResponseJson)
        );
        assert_eq!(negotiate(&accept("text/plain")), None);
    }

    #[test]
    fn browsers_get_the_page() {
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!wants_html(&accept("application/json")));
    }
}
