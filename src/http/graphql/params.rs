//! A GraphQL request as sent over HTTP: its parameters from a JSON body or a query string,
//! checked for types and repeated keys, and its body read within the size limit.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use http_body_util::LengthLimitError;
use serde_json::{Map, Value};

use crate::config::RequestLimits;

/// The parameters of one GraphQL request, as sent (the query may be a persisted one's hash).
pub(super) struct SentParams {
    pub(super) query: Option<String>,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<Map<String, Value>>,
    pub(super) extensions: Option<Map<String, Value>>,
}

/// The parameters of one GraphQL request, its query resolved.
pub(super) struct GraphqlParams {
    pub(super) query: String,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<Map<String, Value>>,
}

/// Reads the whole body within the size limit and the request's time limit, so that a client
/// sending slowly cannot hold a connection and its buffer for ever.
pub(super) async fn read_body(
    limits: &RequestLimits,
    body: Body,
) -> Result<Bytes, (StatusCode, String)> {
    let read = axum::body::to_bytes(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.request_timeout, read).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(if err.into_inner().is::<LengthLimitError>() {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} bytes",
                    limits.max_body_bytes
                ),
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                "the request body could not be read".to_owned(),
            )
        }),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {}",
                humantime::format_duration(limits.request_timeout)
            ),
        )),
    }
}

/// How a duplicate top-level key is reported.
pub(super) const DUPLICATE_KEY: &str = "the request body repeats the top-level key";

/// A JSON body whose top-level object names each key once: `{"query": …, "query": …}` is
/// refused rather than read as its last value.
pub(super) struct UniqueKeys(pub(super) Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = UniqueKeys;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<UniqueKeys, M::Error> {
                let mut object = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("{DUPLICATE_KEY} `{key}`")));
                    }
                    let value: Value = map.next_value()?;
                    object.insert(key, value);
                }
                Ok(UniqueKeys(Value::Object(object)))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

pub(super) fn params_from_json(value: Value) -> Result<SentParams, String> {
    let Value::Object(mut body) = value else {
        return Err("the request body must be a JSON object".into());
    };
    let query = match body.remove("query") {
        Some(Value::String(query)) => Some(query),
        None | Some(Value::Null) => None,
        Some(_) => return Err("`query` must be a string".into()),
    };
    let operation_name = match body.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err("`operationName` must be a string or null".into()),
    };
    let variables = match body.remove("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(vars)) => Some(vars),
        Some(_) => return Err("`variables` must be an object or null".into()),
    };
    let extensions = match body.remove("extensions") {
        None | Some(Value::Null) => None,
        Some(Value::Object(extensions)) => Some(extensions),
        Some(_) => return Err("`extensions` must be an object or null".into()),
    };
    Ok(SentParams {
        query,
        operation_name,
        variables,
        extensions,
    })
}

pub(super) fn params_from_query(mut pairs: HashMap<String, String>) -> Result<SentParams, String> {
    let query = pairs.remove("query");
    let parse_object =
        |name: &str, raw: Option<String>| -> Result<Option<Map<String, Value>>, String> {
            match raw.map(|r| serde_json::from_str::<Value>(&r)) {
                None | Some(Ok(Value::Null)) => Ok(None),
                Some(Ok(Value::Object(map))) => Ok(Some(map)),
                Some(_) => Err(format!("`{name}` must be a URL-encoded JSON object")),
            }
        };
    let variables = parse_object("variables", pairs.remove("variables"))?;
    let extensions = parse_object("extensions", pairs.remove("extensions"))?;
    Ok(SentParams {
        query,
        operation_name: pairs.remove("operationName"),
        variables,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_parameters_must_have_the_right_types() {
        assert!(params_from_json(json!({"query": "{a}", "variables": null})).is_ok());
        assert!(params_from_json(json!({"query": 0})).is_err());
        assert!(params_from_json(json!({"query": "{a}", "variables": "x"})).is_err());
        assert!(params_from_json(json!({"query": "{a}", "operationName": false})).is_err());
        assert!(params_from_json(json!({"query": "{a}", "extensions": []})).is_err());
        assert!(params_from_json(json!(["{a}"])).is_err());
    }
}
