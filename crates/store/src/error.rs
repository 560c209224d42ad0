//! The one error type of securescore and its stable `extensions.code` values.

use async_graphql::ErrorExtensions;

/// Stable values of `extensions.code`.
pub mod code {
    /// No valid bearer token.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller's roles do not allow the operation.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The thing does not exist, or is not visible to the caller.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The request is malformed, breaks a limit, or carries invalid values.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The request conflicts with stored state.
    pub const CONFLICT: &str = "CONFLICT";
    /// Something failed on the server; details are only in the server's log.
    pub const INTERNAL: &str = "INTERNAL";
    /// An automatic persisted query's hash this replica does not know: send the query with it.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// The caller's query-cost budget holds less than the request costs: retry later.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

/// Everything that can go wrong in a request, as the client will see it.
///
/// It deliberately has no `Display`: async-graphql turns any `Display` type into an error
/// without a code, so the only way out is the `From` impl below, which sets `extensions.code`.
#[derive(Debug)]
pub enum ApiError {
    /// No valid bearer token.
    Unauthenticated(String),
    /// The caller's roles do not allow the operation.
    Forbidden(String),
    /// The thing does not exist, or is not visible to the caller.
    NotFound(String),
    /// Invalid input; the message names the field.
    BadUserInput(String),
    /// Conflicts with stored state.
    Conflict(String),
    /// A failure whose detail is logged, never shown.
    Internal(String),
    /// The database does not answer (detail logged); INTERNAL with a message that says so, and
    /// HTTP 503 with `Retry-After`.
    Unavailable(String),
}

/// What a client is told when the database does not answer.
pub const DATABASE_UNAVAILABLE: &str = "the database is unavailable; retry in a few seconds";

impl ApiError {
    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => code::UNAUTHENTICATED,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::BadUserInput(_) => code::BAD_USER_INPUT,
            ApiError::Conflict(_) => code::CONFLICT,
            ApiError::Internal(_) | ApiError::Unavailable(_) => code::INTERNAL,
        }
    }

    /// A database error: unavailable when no connection could be had, internal otherwise.
    pub fn from_db(context: &str, err: &sea_orm::DbErr) -> Self {
        match err {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                ApiError::Unavailable(format!("{context}: {err}"))
            }
            _ => ApiError::Internal(format!("{context}: {err}")),
        }
    }

    /// The message shown to the client; internal details are replaced by a generic one.
    pub fn message(&self) -> &str {
        match self {
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::BadUserInput(m)
            | ApiError::Conflict(m) => m,
            ApiError::Internal(_) => "internal error",
            ApiError::Unavailable(_) => DATABASE_UNAVAILABLE,
        }
    }

    /// A tenant the caller cannot see, worded exactly like one that does not exist.
    pub fn tenant_not_found(id: &str) -> Self {
        ApiError::NotFound(format!("tenant `{id}` not found"))
    }

    /// A record of `kind` named by `id` that does not exist (or lies out of the caller's reach).
    pub fn record_not_found(kind: &str, id: &str) -> Self {
        ApiError::NotFound(format!("{kind} `{id}` not found"))
    }

    /// An unknown catalog action.
    pub fn action_not_found(id: &str) -> Self {
        ApiError::NotFound(format!("improvement action `{id}` not found"))
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::from_db("database", &err)
    }
}

impl<E: Into<ApiError> + std::fmt::Debug> From<sea_orm::TransactionError<E>> for ApiError {
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        if let ApiError::Internal(detail) | ApiError::Unavailable(detail) = &err {
            tracing::error!(error = %detail, "internal error while resolving a request");
        }
        let unavailable = matches!(err, ApiError::Unavailable(_));
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if unavailable {
                ext.set("unavailable", true);
            }
        })
    }
}

/// The result type of services and resolvers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: ApiError) -> String {
        let gql: async_graphql::Error = err.into();
        match gql.extensions.and_then(|e| e.get("code").cloned()) {
            Some(async_graphql::Value::String(s)) => s,
            other => panic!("no code: {other:?}"),
        }
    }

    #[test]
    fn every_variant_maps_to_its_code() {
        assert_eq!(
            code_of(ApiError::Unauthenticated("x".into())),
            "UNAUTHENTICATED"
        );
        assert_eq!(code_of(ApiError::Forbidden("x".into())), "FORBIDDEN");
        assert_eq!(code_of(ApiError::NotFound("x".into())), "NOT_FOUND");
        assert_eq!(
            code_of(ApiError::BadUserInput("x".into())),
            "BAD_USER_INPUT"
        );
        assert_eq!(code_of(ApiError::Conflict("x".into())), "CONFLICT");
        assert_eq!(code_of(ApiError::Internal("x".into())), "INTERNAL");
    }

    #[test]
    fn an_unreachable_database_is_internal_unavailable_and_says_so() {
        let acquire = sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        let err = ApiError::from_db("loading", &acquire);
        assert!(matches!(err, ApiError::Unavailable(_)));
        let gql: async_graphql::Error = err.into();
        assert_eq!(gql.message, DATABASE_UNAVAILABLE);
        let extensions = gql.extensions.unwrap();
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("INTERNAL"))
        );
        assert_eq!(
            extensions.get("unavailable"),
            Some(&async_graphql::Value::from(true))
        );
        let other = ApiError::from_db("x", &sea_orm::DbErr::Custom("boom".into()));
        assert!(matches!(other, ApiError::Internal(_)));
    }

    #[test]
    fn internal_details_are_not_shown() {
        let gql: async_graphql::Error = ApiError::Internal("SELECT secret FROM t".into()).into();
        assert_eq!(gql.message, "internal error");
    }
}
