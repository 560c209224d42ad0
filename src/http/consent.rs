//! `GET /connect/consented`: where Microsoft sends a customer's admin back after the admin
//! consent prompt. The signed `state` names the tenant; a missing, forged or expired one is
//! answered 400 and changes nothing. Consent is recorded and the directory collected at once;
//! a refusal is recorded as the connection's `consentError`. The admin reads a short page.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use crate::error::ApiError;
use crate::service::connections::request_collection;
use crate::service::consent::{
    ConsentAnswer, ConsentRecorded, ConsentState, record_consent, verify_state,
};

/// What Microsoft's redirect carries (Microsoft's documented names).
#[derive(Debug, Deserialize)]
pub struct ConsentRedirect {
    /// `True` when the admin consented.
    admin_consent: Option<String>,
    /// The directory the admin consented in.
    tenant: Option<String>,
    /// The state the server signed into the link.
    state: Option<String>,
    /// Microsoft's error code when the admin did not consent.
    error: Option<String>,
    /// Its description.
    error_description: Option<String>,
}

/// Checks the state, records the answer, queues a collection after consent, and answers a
/// page saying what happened.
pub async fn consented(
    State(app): State<AppState>,
    Query(redirect): Query<ConsentRedirect>,
) -> Response {
    let now = Utc::now();
    let state = match verify_state(app.collector.secrets(), redirect.state.as_deref(), now) {
        Ok(state) => state,
        Err(refused) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This consent link cannot be used",
                &format!("{refused}. Nothing was recorded."),
            );
        }
    };
    let answer = match (redirect.error, redirect.admin_consent.as_deref()) {
        (Some(error), _) => ConsentAnswer::Refused {
            error,
            description: redirect.error_description,
        },
        (None, Some(granted)) if granted.eq_ignore_ascii_case("true") => ConsentAnswer::Granted {
            directory_id: redirect.tenant,
        },
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "This answer says nothing",
                "It carries neither consent nor an error. Nothing was recorded.",
            );
        }
    };
    match record_consent(&app.db, &state, answer, now).await {
        Ok(ConsentRecorded::Granted) => granted(&app, &state).await,
        Ok(ConsentRecorded::Refused(reason)) => page(
            StatusCode::OK,
            "Consent was not given",
            &format!(
                "Microsoft answered: {reason}. Tenant {} stays waiting for consent; ask for a new link when you are ready.",
                state.tenant_id
            ),
        ),
        Ok(ConsentRecorded::NoSuchConnection) => page(
            StatusCode::GONE,
            "This consent link is out of date",
            "The connection it was made for has been deleted or points at another directory now. Nothing was recorded; ask for a new link.",
        ),
        Err(err) => {
            tracing::error!(error = %err.message(), "recording an admin consent failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Consent could not be recorded",
                "The server could not store the answer. Follow the link again in a minute.",
            )
        }
    }
}

/// After consent: queues the tenant's collection (one already queued or running serves) and
/// says so.
async fn granted(app: &AppState, state: &ConsentState) -> Response {
    let collector = &app.collector;
    let queued = request_collection(
        &app.db,
        &state.tenant_id,
        Some("admin consent"),
        collector.collect_interval(),
    )
    .await;
    let next = match queued {
        Ok(_) => {
            collector.wake();
            "Its directory is being read now; its score follows within minutes."
        }
        Err(ApiError::BadUserInput(_)) => {
            "Its connection is turned off, so it is read once it is turned on again."
        }
        Err(err) => {
            tracing::error!(error = %err.message(), "queueing the collection after consent failed");
            "It is read at the next scheduled collection."
        }
    };
    page(
        StatusCode::OK,
        "Consent recorded",
        &format!(
            "Thank you. Consent is recorded for tenant {}. {next} You can close this page.",
            state.tenant_id
        ),
    )
}

/// A short page a person can read, that loads nothing and is not kept or referred on.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · securescore</title></head><body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem\">\
         <h1 id=\"title\">{title}</h1><p id=\"text\">{text}</p></body></html>\n",
        title = escape(title),
        text = escape(text),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        body,
    )
        .into_response()
}

/// `text` with HTML's five special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
