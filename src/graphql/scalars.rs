//! The custom scalars of the contract: Date, DateTime and JSON.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// A UTC calendar day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// YYYY-MM-DD, a UTC calendar day
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if s.len() == 10 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not a date like 2026-01-31"))
                }),
            Value::String(s) => Err(InputValueError::custom(format!(
                "`{s}` is not a date like 2026-01-31"
            ))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    // Checked at validation, for literals and variables alike, so a bad date is a request
    // error before execution rather than a field error that drops the field from `data`.
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        // ISO 8601 (`2026-01-31`), without parsing a format string every time.
        Value::String(self.0.to_string())
    }
}

/// An instant, RFC 3339, always shown in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// RFC 3339
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|dt| DateTime(dt.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not an RFC 3339 date-time"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// Any JSON value.
#[derive(Clone, Debug, PartialEq)]
pub struct Json(pub serde_json::Value);

/// Any JSON value
#[Scalar(name = "JSON")]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Json)
            .map_err(|_| InputValueError::custom("not representable as JSON"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
