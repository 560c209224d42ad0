//! Relay-style paging: page sizes, opaque cursors and pages that know if more follow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, Condition, Value};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{ApiError, ApiResult};

/// Page size when `first` is omitted.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `first` accepted.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Checks `first`: 0 to 100, 20 when omitted.
pub fn page_size(first: Option<i32>) -> ApiResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => Ok(n as u64),
        Some(_) => Err(ApiError::BadUserInput(format!(
            "first must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// Encodes a cursor position as an opaque string.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Decodes a cursor made by `encode_cursor`; anything else is BAD_USER_INPUT.
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> ApiResult<T> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::BadUserInput("after is not a valid cursor".into()))
}

/// The rows that follow the cursor position `(at, id)` in a list ordered by `primary` then `tie`,
/// both descending: `primary < at`, or `primary = at` and `tie < id`.
pub fn after_descending(
    primary: impl ColumnTrait,
    at: impl Into<Value> + Clone,
    tie: impl ColumnTrait,
    id: impl Into<Value>,
) -> Condition {
    Condition::any()
        .add(primary.lt(at.clone()))
        .add(Condition::all().add(primary.eq(at)).add(tie.lt(id)))
}

/// One page of rows, each with its cursor.
#[derive(Debug)]
pub struct Page<T> {
    /// Rows and their cursors, in page order.
    pub items: Vec<(String, T)>,
    /// Whether rows follow this page.
    pub has_next_page: bool,
    /// Whether the page started after a cursor.
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// The same page with every row converted.
    pub fn map<U>(self, convert: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self
                .items
                .into_iter()
                .map(|(cursor, row)| (cursor, convert(row)))
                .collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }

    /// Builds a page from up to `size + 1` fetched rows: the extra row only says more follow.
    pub fn from_rows(
        mut rows: Vec<T>,
        size: u64,
        after_given: bool,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let has_next_page = rows.len() as u64 > size;
        rows.truncate(size as usize);
        Page {
            items: rows.into_iter().map(|row| (cursor_of(&row), row)).collect(),
            has_next_page,
            has_previous_page: after_given,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor(&("2026-01-01T00:00:00Z", 7));
        let back: (String, i64) = decode_cursor(&cursor).unwrap();
        assert_eq!(back, ("2026-01-01T00:00:00Z".to_string(), 7));
        assert_eq!(
            decode_cursor::<i64>("!!").unwrap_err().code(),
            "BAD_USER_INPUT"
        );
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).unwrap(), 20);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
