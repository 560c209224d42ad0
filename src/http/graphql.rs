//! `/graphql` over HTTP, following the GraphQL-over-HTTP specification: content negotiation,
//! 405 for mutations over GET, 415 for non-JSON bodies, 400 for request errors when the client
//! accepts `application/graphql-response+json`, 401 without a valid bearer token.

use std::collections::HashMap;

use async_graphql::Variables;
use async_graphql_axum::GraphQLProtocol;
use axum::body::Body;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use super::caller::{Caller, NoCaller};
use super::media::{ResponseMedia, is_json_body, negotiate, wants_html};
use super::persisted::PersistedQueryError;
use super::{AppState, REQUEST_ID_HEADER};
use crate::error::code;
use crate::graphql::budget::CostReport;
use crate::graphql::schema::{Executed, PreparedRequest};
use crate::telemetry;

mod params;
mod response;

use params::*;
use response::*;
pub(crate) use response::{RETRY_AFTER_SECONDS, insert_cost_headers};

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
    caller: Result<Caller, NoCaller>,
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
    let caller = match caller {
        Ok(caller) => caller,
        Err(NoCaller(err)) => return unauthenticated(media, err),
    };
    let left = caller.left(&app);
    let params = match params_from_query(pairs) {
        Ok(sent) => match resolve_query(&app, media, sent, left.as_ref()) {
            Ok(params) => params,
            Err(refusal) => return *refusal,
        },
        Err(message) => return request_error(media, &message, left.as_ref()),
    };
    let prepared = prepare(&app, params, &caller);
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
    execute(&app, media, prepared, &headers, &caller).await
}

/// POST /graphql with a JSON body.
pub async fn graphql_post(
    State(app): State<AppState>,
    caller: Result<Caller, NoCaller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
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
    let caller = match caller {
        Ok(caller) => caller,
        Err(NoCaller(err)) => return unauthenticated(media, err),
    };
    let left = caller.left(&app);
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
                let prepared = prepare(&app, params, &caller);
                execute(&app, media, prepared, &headers, &caller).await
            }
            Err(refusal) => *refusal,
        },
        Err(message) => request_error(media, &message, left.as_ref()),
    }
}

/// The request for async-graphql, with its caller, prepared once (see [`PreparedRequest`]); a
/// refusal is the request's outcome, under the operation name the client sent.
fn prepare(
    app: &AppState,
    params: GraphqlParams,
    caller: &Caller,
) -> Result<PreparedRequest, Box<Executed>> {
    let sent_name = params.operation_name.clone();
    let account = caller.account.as_ref();
    let mut request = async_graphql::Request::new(params.query).data(caller.viewer.clone());
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

/// Runs a prepared request within the request timeout, records it, and answers it with what
/// it cost.
async fn execute(
    app: &AppState,
    media: ResponseMedia,
    prepared: Result<PreparedRequest, Box<Executed>>,
    headers: &HeaderMap,
    caller: &Caller,
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
    record_operation(
        name.as_deref(),
        &caller.label,
        executed.as_ref(),
        clock.elapsed(),
    );
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let cost = caller.left(app);
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
    let operation = super::operation_labels::operation_label(name, caller);
    let outcome = executed.map_or_else(|| code::INTERNAL.to_owned(), Executed::code);
    metrics::counter!(telemetry::GRAPHQL_OPERATIONS, "operation" => operation.clone(), "code" => outcome)
        .increment(1);
    metrics::histogram!(telemetry::GRAPHQL_DURATION, "operation" => operation)
        .record(took.as_secs_f64());
}
