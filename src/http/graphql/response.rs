//! A GraphQL response over HTTP: the status and media type the specification asks for, the
//! body with its errors and cost, and the refusals before execution.

use async_graphql::ServerError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, code};
use crate::graphql::budget::CostReport;
use crate::graphql::schema::{Executed, Outcome};
use crate::http::media::ResponseMedia;

/// What `Retry-After` says when the database does not answer.
pub(crate) const RETRY_AFTER_SECONDS: &str = "5";

/// A request cancelled at its time limit: 503 with `Retry-After`, and a word on mutations.
pub(super) fn timed_out(
    media: ResponseMedia,
    timeout: std::time::Duration,
    request_id: &str,
) -> Response {
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

/// The HTTP answer to what a request became: 429 with `Retry-After` when the caller's budget
/// refused it, a request error (400, or 200 with plain JSON) when it never ran, 503 with
/// `Retry-After` when the database did not answer, 200 otherwise.
pub(super) fn respond(
    media: ResponseMedia,
    executed: Executed,
    request_id: &str,
    cost: Option<&CostReport>,
) -> Response {
    let Executed {
        response, outcome, ..
    } = executed;
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|e| error_json(e, request_id))
        .collect();
    let extensions = cost.map(|cost| json!({ "cost": cost }));
    match outcome {
        Outcome::Throttled { retry_after } => {
            let mut response = json_response(
                media,
                StatusCode::TOO_MANY_REQUESTS,
                &json!({ "errors": errors, "extensions": extensions }),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Outcome::Refused => {
            // A request error: the operation never ran, so there is no `data` entry.
            let status = match media {
                ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
                ResponseMedia::Json => StatusCode::OK,
            };
            let mut body = json!({ "errors": errors });
            if let Some(extensions) = extensions {
                body["extensions"] = extensions;
            }
            json_response(media, status, &body)
        }
        Outcome::Unavailable | Outcome::Ran => {
            let body = ExecutedBody {
                data: &response.data,
                errors,
                extensions,
            };
            if outcome == Outcome::Ran {
                return json_response(media, StatusCode::OK, &body);
            }
            // The database did not answer: say so at the HTTP level too, so that clients and
            // load balancers back off and retry.
            let mut response = json_response(media, StatusCode::SERVICE_UNAVAILABLE, &body);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
            response
        }
    }
}

/// The body of an operation that ran: its data, serialized as it is (no JSON tree in between),
/// and its errors when there are any.
#[derive(serde::Serialize)]
pub(super) struct ExecutedBody<'a> {
    data: &'a async_graphql::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Value>,
}

/// One error as JSON; errors async-graphql raised itself (parse, validation, argument
/// coercion, limits) get BAD_USER_INPUT, and internal ones carry the request id.
pub(super) fn error_json(err: &ServerError, request_id: &str) -> Value {
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

pub(super) fn json_response(
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
pub(super) fn error_response(
    media: ResponseMedia,
    status: StatusCode,
    message: &str,
    code: &str,
) -> Response {
    costed_error_response(media, status, message, code, None)
}

/// A response holding one error with a code, and what the caller's budget holds (headers and
/// `extensions.cost`) when budgets are on.
pub(super) fn costed_error_response(
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
pub(crate) fn insert_cost_headers(response: &mut Response, cost: &CostReport) {
    let (policy, left) = cost.headers();
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", left)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// A malformed request: 400 with the GraphQL response type, 200 with plain JSON.
pub(super) fn request_error(
    media: ResponseMedia,
    message: &str,
    cost: Option<&CostReport>,
) -> Response {
    let status = match media {
        ResponseMedia::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        ResponseMedia::Json => StatusCode::OK,
    };
    costed_error_response(media, status, message, code::BAD_USER_INPUT, cost)
}

pub(super) fn unauthenticated(media: ResponseMedia, err: ApiError) -> Response {
    let mut response = error_response(media, StatusCode::UNAUTHORIZED, err.message(), err.code());
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// A client that accepts neither JSON type still gets a GraphQL-shaped answer (as JSON).
pub(super) fn not_acceptable() -> Response {
    error_response(
        ResponseMedia::Json,
        StatusCode::NOT_ACCEPTABLE,
        "accept application/graphql-response+json or application/json",
        code::BAD_USER_INPUT,
    )
}
