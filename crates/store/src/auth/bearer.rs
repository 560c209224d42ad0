//! The one reading of an `Authorization` value, for HTTP headers and WebSocket
//! `connection_init` payloads alike.

use crate::error::ApiError;

/// The token of `Bearer <token>` (the scheme in any case); UNAUTHENTICATED otherwise.
pub fn bearer_token(value: &str) -> Result<&str, ApiError> {
    value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization value must be `Bearer <token>`".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_scheme_with_a_token_is_read() {
        assert_eq!(bearer_token("Bearer abc.def").unwrap(), "abc.def");
        assert_eq!(bearer_token("bearer  abc.def ").unwrap(), "abc.def");
        for refused in ["Basic abc", "Bearer", "Bearer   ", "abc.def", ""] {
            assert!(bearer_token(refused).is_err(), "{refused}");
        }
    }
}
