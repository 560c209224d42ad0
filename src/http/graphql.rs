//! `/graphql` over HTTP, following the GraphQL-over-HTTP specification: content negotiation,
//! 405 for mutations over GET, 415 for non-JSON bodies, 400 for request errors when the client
//! accepts `application/graphql-response+json`, 401 without a valid bearer token.

use std::collections::HashMap;

use async_graphql::{ServerError, Variables};
use async_graphql_axum::GraphQLProtocol;
use axum::body::{Body, Bytes};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;
use serde_json::{Map, Value, json};

use super::media::{ResponseMedia, is_json_body, negotiate, wants_html};
use super::persisted::PersistedQueryError;
use super::{AppState, REQUEST_ID_HEADER};
use crate::auth::Viewer;
use crate::config::RequestLimits;
use crate::error::{ApiError, code};
use crate::graphql::budget::{CostAccount, CostReport};
use crate::graphql::schema::{Executed, PreparedRequest};
use crate::telemetry;

/// The parameters of one GraphQL request, as sent (the query may be a persisted one's hash).
struct SentParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// The parameters of one GraphQL request, its query resolved.
struct GraphqlParams {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

/// Resolves a sent request's query through the persisted queries; a refusal is the response.
fn resolve_query(
    app: &AppState,
    media: ResponseMedia,
    sent: SentParams,
    cost: Option<&CostReport>,
) -> Result<GraphqlParams, Box<Response>> {
    match app.persisted.resolve(sent.query, sent.extensions.as_ref()) {
        Ok(query) => Ok(GraphqlParams {
            query,
            operation_name: sent.operation_name,
            variables: sent.variables,
        }),
        Err(PersistedQueryError::Invalid(message)) => {
            Err(Box::new(request_error(media, &message, cost)))
        }
        Err(PersistedQueryError::NotFound) => {
            let status = match media {
                ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
                ResponseMedia::Json => StatusCode::OK,
            };
            Err(Box::new(costed_error_response(
                media,
                status,
                "PersistedQueryNotFound",
                code::PERSISTED_QUERY_NOT_FOUND,
                cost,
            )))
        }
    }
}

/// GET /graphql: a WebSocket upgrade for subscriptions, GraphiQL for browsers, otherwise a
/// query (never a mutation).
pub async fn graphql_get(
    State(app): State<AppState>,
    connection: Option<axum::Extension<std::sync::Arc<super::connections::Connection>>>,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Ok(websocket) = websocket {
        return match protocol {
            Ok(protocol) => super::subscriptions::upgrade(
                app,
                websocket,
                protocol,
                connection.map(|axum::Extension(connection)| connection),
            ),
            Err(_) => error_response(
                ResponseMedia::Json,
                StatusCode::BAD_REQUEST,
                "a WebSocket client must ask for the graphql-transport-ws protocol",
                code::BAD_USER_INPUT,
            ),
        };
    }
    let pairs: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    if wants_html(&headers) && !pairs.contains_key("query") && !pairs.contains_key("extensions") {
        return super::graphiql::page().await;
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let viewer = match authenticate(&app, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return unauthenticated(media, err),
    };
    let account = cost_account(&app, &viewer);
    let caller = viewer.caller();
    let left = left_in(&app, account.as_ref());
    let params = match params_from_query(pairs) {
        Ok(sent) => match resolve_query(&app, media, sent, left.as_ref()) {
            Ok(params) => params,
            Err(refusal) => return *refusal,
        },
        Err(message) => return request_error(media, &message, left.as_ref()),
    };
    let prepared = prepare(&app, params, viewer, account.as_ref());
    if prepared.as_ref().is_ok_and(PreparedRequest::is_mutation) {
        let mut response = costed_error_response(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
            code::BAD_USER_INPUT,
            left.as_ref(),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&app, media, prepared, &headers, account, &caller).await
}

/// POST /graphql with a JSON body.
pub async fn graphql_post(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if !is_json_body(&headers) {
        return error_response(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be application/json",
            code::BAD_USER_INPUT,
        );
    }
    let viewer = match authenticate(&app, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return unauthenticated(media, err),
    };
    let account = cost_account(&app, &viewer);
    let left = left_in(&app, account.as_ref());
    let body = match read_body(&app.limits, body).await {
        Ok(body) => body,
        Err((status, message)) => {
            return costed_error_response(
                media,
                status,
                &message,
                code::BAD_USER_INPUT,
                left.as_ref(),
            );
        }
    };
    // A body that is not JSON is a 400 whatever the response type (GraphQL over HTTP).
    let value = match serde_json::from_slice::<UniqueKeys>(&body) {
        Ok(UniqueKeys(value)) => value,
        Err(err) => {
            let message = if err.to_string().starts_with(DUPLICATE_KEY) {
                err.to_string()
            } else {
                "the request body is not valid JSON".to_owned()
            };
            return costed_error_response(
                media,
                StatusCode::BAD_REQUEST,
                &message,
                code::BAD_USER_INPUT,
                left.as_ref(),
            );
        }
    };
    match params_from_json(value) {
        Ok(sent) => match resolve_query(&app, media, sent, left.as_ref()) {
            Ok(params) => {
                let caller = viewer.caller();
                let prepared = prepare(&app, params, viewer, account.as_ref());
                execute(&app, media, prepared, &headers, account, &caller).await
            }
            Err(refusal) => *refusal,
        },
        Err(message) => request_error(media, &message, left.as_ref()),
    }
}

/// Reads the whole body within the size limit and the request's time limit, so that a client
/// sending slowly cannot hold a connection and its buffer for ever.
async fn read_body(limits: &RequestLimits, body: Body) -> Result<Bytes, (StatusCode, String)> {
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

/// Verifies `Authorization: Bearer <JWT>`.
pub(crate) async fn authenticate(app: &AppState, headers: &HeaderMap) -> Result<Viewer, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("a bearer token is required".into()))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    app.verifier.verify(token).await
}

/// What `Retry-After` says when the database does not answer.
pub(crate) const RETRY_AFTER_SECONDS: &str = "5";

/// How a duplicate top-level key is reported.
const DUPLICATE_KEY: &str = "the request body repeats the top-level key";

/// A JSON body whose top-level object names each key once: `{"query": …, "query": …}` is
/// refused rather than read as its last value.
struct UniqueKeys(Value);

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

fn params_from_json(value: Value) -> Result<SentParams, String> {
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

fn params_from_query(mut pairs: HashMap<String, String>) -> Result<SentParams, String> {
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

/// The request for async-graphql, with its caller, prepared once (see [`PreparedRequest`]); a
/// refusal is the request's outcome, under the operation name the client sent.
fn prepare(
    app: &AppState,
    params: GraphqlParams,
    viewer: Viewer,
    account: Option<&CostAccount>,
) -> Result<PreparedRequest, Box<Executed>> {
    let sent_name = params.operation_name.clone();
    let mut request = async_graphql::Request::new(params.query).data(viewer);
    if let Some(account) = account {
        request = request.data(account.clone());
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    app.schema.prepare(request).map_err(|refusal| {
        // Parsing it was work: a request refused here costs what one refused at validation does.
        if let Some((account, budgets)) = account.zip(app.schema.budgets()) {
            account.charge_refused(budgets);
        }
        Box::new(Executed::refused(refusal, sent_name))
    })
}

/// What the caller has left, for a request refused before it could be costed.
fn left_in(app: &AppState, account: Option<&CostAccount>) -> Option<CostReport> {
    account
        .zip(app.schema.budgets())
        .map(|(account, budgets)| account.report(budgets))
}

/// The caller's budget account for one request; none when budgets are off.
pub(crate) fn cost_account(app: &AppState, viewer: &Viewer) -> Option<CostAccount> {
    app.schema
        .budgets()
        .map(|_| CostAccount::new(viewer.caller()))
}

/// Runs a prepared request within the request timeout, records it, and answers it with what
/// it cost.
async fn execute(
    app: &AppState,
    media: ResponseMedia,
    prepared: Result<PreparedRequest, Box<Executed>>,
    headers: &HeaderMap,
    account: Option<CostAccount>,
    caller: &str,
) -> Response {
    let clock = std::time::Instant::now();
    let name = match &prepared {
        Ok(prepared) => prepared.operation_name().map(str::to_owned),
        Err(refused) => refused.operation_name.clone(),
    };
    if let Some(name) = &name {
        // For the access line; client-chosen, so cut to a sensible length.
        let logged: String = name.chars().take(100).collect();
        tracing::Span::current().record("operation", logged.as_str());
    }
    let timeout = app.limits.request_timeout;
    let executed = match prepared {
        Ok(prepared) => tokio::time::timeout(timeout, app.schema.run(prepared))
            .await
            .ok(),
        Err(refused) => Some(*refused),
    };
    record_operation(name.as_deref(), caller, executed.as_ref(), clock.elapsed());
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let cost = left_in(app, account.as_ref());
    let mut response = match executed {
        Some(executed) => respond(media, executed, request_id, cost.as_ref()),
        None => timed_out(media, timeout, request_id),
    };
    if let Some(cost) = &cost {
        insert_cost_headers(&mut response, cost);
    }
    response
}

/// Counts an operation by name and outcome (`OK` or its first error's code; `INTERNAL` when it
/// timed out) and records its latency.
fn record_operation(
    name: Option<&str>,
    caller: &str,
    executed: Option<&Executed>,
    took: std::time::Duration,
) {
    let operation = telemetry::operation_label(name, caller);
    let outcome = match executed {
        Some(Executed { response, .. }) => response
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| {
                if response.errors.is_empty() {
                    "OK"
                } else {
                    code::BAD_USER_INPUT
                }
                .to_owned()
            }),
        None => code::INTERNAL.to_owned(),
    };
    metrics::counter!(telemetry::GRAPHQL_OPERATIONS, "operation" => operation.clone(), "code" => outcome)
        .increment(1);
    metrics::histogram!(telemetry::GRAPHQL_DURATION, "operation" => operation)
        .record(took.as_secs_f64());
}

/// A request cancelled at its time limit: 503 with `Retry-After`, and a word on mutations.
fn timed_out(media: ResponseMedia, timeout: std::time::Duration, request_id: &str) -> Response {
    tracing::warn!(?timeout, "request cancelled after its time limit");
    let message = format!(
        "the request took longer than {} and was cancelled; a mutation in it may or may not \
         have been applied",
        humantime::format_duration(timeout)
    );
    let mut response = json_response(
        media,
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "errors": [{
            "message": message,
            "extensions": { "code": code::INTERNAL, "requestId": request_id },
        }] }),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    response
}

/// The HTTP answer to what a request became: a request error (400, or 200 with plain JSON) when
/// it never ran, 503 with `Retry-After` when the database did not answer, 200 otherwise.
fn respond(
    media: ResponseMedia,
    executed: Executed,
    request_id: &str,
    cost: Option<&CostReport>,
) -> Response {
    let Executed { response, ran, .. } = executed;
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|e| error_json(e, request_id))
        .collect();
    let extensions = cost.map(|cost| json!({ "cost": cost }));
    if let Some(retry_after) = throttled(&errors) {
        // Refused by the caller's budget before it ran: 429, and when to come back.
        let mut response = json_response(
            media,
            StatusCode::TOO_MANY_REQUESTS,
            &json!({ "errors": errors, "extensions": extensions }),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    if !ran {
        // A request error: the operation never ran, so there is no `data` entry.
        let status = match media {
            ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
            ResponseMedia::Json => StatusCode::OK,
        };
        let mut body = json!({ "errors": errors });
        if let Some(extensions) = extensions {
            body["extensions"] = extensions;
        }
        return json_response(media, status, &body);
    }
    let unavailable = errors
        .iter()
        .any(|e| e["extensions"]["unavailable"] == Value::Bool(true));
    let body = ExecutedBody {
        data: &response.data,
        errors,
        extensions,
    };
    if unavailable {
        // The database did not answer: say so at the HTTP level too, so that clients and load
        // balancers back off and retry.
        let mut response = json_response(media, StatusCode::SERVICE_UNAVAILABLE, &body);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        return response;
    }
    json_response(media, StatusCode::OK, &body)
}

/// The body of an operation that ran: its data, serialized as it is (no JSON tree in between),
/// and its errors when there are any.
#[derive(serde::Serialize)]
struct ExecutedBody<'a> {
    data: &'a async_graphql::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Value>,
}

/// The seconds to wait when the request was refused by the caller's budget.
fn throttled(errors: &[Value]) -> Option<u64> {
    errors
        .iter()
        .find(|e| e["extensions"]["code"] == code::RATE_LIMITED)
        .map(|e| e["extensions"]["retryAfter"].as_u64().unwrap_or(1))
}

/// One error as JSON; errors async-graphql raised itself (parse, validation, argument
/// coercion, limits) get BAD_USER_INPUT, and internal ones carry the request id.
fn error_json(err: &ServerError, request_id: &str) -> Value {
    let mut value = serde_json::to_value(err).unwrap_or_else(|_| json!({ "message": "error" }));
    if let Value::Object(obj) = &mut value {
        let extensions = obj.entry("extensions").or_insert_with(|| json!({}));
        if let Value::Object(ext) = extensions {
            ext.entry("code")
                .or_insert_with(|| json!(code::BAD_USER_INPUT));
            if ext.get("code") == Some(&json!(code::INTERNAL)) {
                ext.insert("requestId".into(), json!(request_id));
            }
        }
    }
    value
}

fn json_response(
    media: ResponseMedia,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| {
        br#"{"errors":[{"message":"the response could not be serialized"}]}"#.to_vec()
    });
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    response
}

/// A response holding one error with a code.
fn error_response(media: ResponseMedia, status: StatusCode, message: &str, code: &str) -> Response {
    costed_error_response(media, status, message, code, None)
}

/// A response holding one error with a code, and what the caller's budget holds (headers and
/// `extensions.cost`) when budgets are on.
fn costed_error_response(
    media: ResponseMedia,
    status: StatusCode,
    message: &str,
    code: &str,
    cost: Option<&CostReport>,
) -> Response {
    let mut body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    if let Some(cost) = cost {
        body["extensions"] = json!({ "cost": cost });
    }
    let mut response = json_response(media, status, &body);
    if let Some(cost) = cost {
        insert_cost_headers(&mut response, cost);
    }
    response
}

/// `RateLimit-Policy` and `RateLimit`.
pub(super) fn insert_cost_headers(response: &mut Response, cost: &CostReport) {
    let (policy, left) = cost.headers();
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", left)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// A malformed request: 400 with the GraphQL response type, 200 with plain JSON.
fn request_error(media: ResponseMedia, message: &str, cost: Option<&CostReport>) -> Response {
    let status = match media {
        ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        ResponseMedia::Json => StatusCode::OK,
    };
    costed_error_response(media, status, message, code::BAD_USER_INPUT, cost)
}

fn unauthenticated(media: ResponseMedia, err: ApiError) -> Response {
    let mut response = error_response(media, StatusCode::UNAUTHORIZED, err.message(), err.code());
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// A client that accepts neither JSON type still gets a GraphQL-shaped answer (as JSON).
fn not_acceptable() -> Response {
    error_response(
        ResponseMedia::Json,
        StatusCode::NOT_ACCEPTABLE,
        "accept application/graphql-response+json or application/json",
        code::BAD_USER_INPUT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
