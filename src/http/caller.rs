//! Who is asking, decided once per request for every entry point: the viewer a bearer token
//! proves, its label, and (budgets on) the account its requests are charged to. GraphQL over
//! HTTP and the CSV exports extract it from the `Authorization` header; the WebSocket builds
//! the same from its `connection_init` payload.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::auth::Viewer;
use crate::auth::bearer::bearer_token;
use crate::error::ApiError;
use crate::graphql::budget::{CostAccount, CostReport};

/// A verified caller.
#[derive(Clone)]
pub struct Caller {
    /// Who the token says the caller is, and what it may reach.
    pub viewer: Viewer,
    /// Its label for budgets and metrics (`Viewer::caller`).
    pub label: String,
    /// The account its requests are charged to; none with budgets off.
    pub account: Option<CostAccount>,
    /// When its token expires, in seconds since the epoch.
    pub expires_at: u64,
}

impl Caller {
    /// The caller an `Authorization` value (`Bearer <JWT>`) proves.
    pub async fn from_authorization(app: &AppState, value: &str) -> Result<Caller, ApiError> {
        let (viewer, expires_at) = app.verifier.verify_until(bearer_token(value)?).await?;
        let label = viewer.caller();
        let account = app
            .schema
            .budgets()
            .map(|_| CostAccount::new(label.clone()));
        Ok(Caller {
            viewer,
            label,
            account,
            expires_at,
        })
    }

    /// What its budget has left, when budgets are on.
    pub fn left(&self, app: &AppState) -> Option<CostReport> {
        self.account
            .as_ref()
            .zip(app.schema.budgets())
            .map(|(account, budgets)| account.report(budgets))
    }
}

/// Why a request has no caller; each entry point answers it in its own media (a GraphQL
/// response, a CSV export's short text), a plain 401 otherwise.
pub struct NoCaller(pub ApiError);

impl IntoResponse for NoCaller {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, self.0.message().to_owned()).into_response()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = NoCaller;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Caller, NoCaller> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            NoCaller(ApiError::Unauthenticated(
                "a bearer token is required".into(),
            ))
        })?;
        Caller::from_authorization(app, value.to_str().unwrap_or_default())
            .await
            .map_err(NoCaller)
    }
}
