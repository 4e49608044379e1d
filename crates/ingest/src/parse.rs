//! Strict readers for JSON responses: every field a source needs must be present with the
//! documented type, and every number must parse exactly into a [`Decimal`]. Any miss is a
//! [`SourceError::Malformed`] naming the field, and the whole response is discarded.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::{SourceError, malformed};

/// `value` as an object.
///
/// # Errors
/// When it is not one.
pub fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, SourceError> {
    value
        .as_object()
        .ok_or_else(|| malformed(format!("{what}: expected an object")))
}

/// `value` as an array.
///
/// # Errors
/// When it is not one.
pub fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, SourceError> {
    value
        .as_array()
        .ok_or_else(|| malformed(format!("{what}: expected an array")))
}

/// A required field.
///
/// # Errors
/// When it is missing or null.
pub fn field<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<&'a Value, SourceError> {
    match object.get(name) {
        Some(Value::Null) | None => Err(malformed(format!("{what}: missing `{name}`"))),
        Some(value) => Ok(value),
    }
}

/// A required string field.
///
/// # Errors
/// When it is missing or not a string.
pub fn string(object: &Map<String, Value>, name: &str, what: &str) -> Result<String, SourceError> {
    field(object, name, what)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| malformed(format!("{what}: `{name}` is not a string")))
}

/// An optional string field (absent or null is `None`; another type is an error).
///
/// # Errors
/// When present with another type.
pub fn opt_string(
    object: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Option<String>, SourceError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(malformed(format!("{what}: `{name}` is not a string"))),
    }
}

/// An optional boolean field.
///
/// # Errors
/// When present with another type.
pub fn opt_bool(
    object: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Option<bool>, SourceError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(_) => Err(malformed(format!("{what}: `{name}` is not a boolean"))),
    }
}

/// A decimal from a JSON string (`"64000.5"`) or number (`64000.5`, read from its exact text,
/// never through a float).
///
/// # Errors
/// When it is neither, or does not parse.
pub fn decimal(value: &Value, what: &str) -> Result<Decimal, SourceError> {
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        _ => return Err(malformed(format!("{what}: expected a decimal"))),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| malformed(format!("{what}: `{text}` is not a decimal")))
}

/// A required decimal field.
///
/// # Errors
/// When missing or not a decimal.
pub fn decimal_field(
    object: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Decimal, SourceError> {
    decimal(field(object, name, what)?, &format!("{what}.{name}"))
}

/// An optional decimal field.
///
/// # Errors
/// When present but not a decimal.
pub fn opt_decimal_field(
    object: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Option<Decimal>, SourceError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => decimal(value, &format!("{what}.{name}")).map(Some),
    }
}

/// An integer from a JSON number or a string of digits.
///
/// # Errors
/// When it is neither.
pub fn integer(value: &Value, what: &str) -> Result<i64, SourceError> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| malformed(format!("{what}: expected an integer")))
}

/// A time from Unix milliseconds.
///
/// # Errors
/// When not an integer or out of range.
pub fn millis(value: &Value, what: &str) -> Result<DateTime<Utc>, SourceError> {
    let ms = integer(value, what)?;
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| malformed(format!("{what}: {ms} is not a time")))
}

/// A time from Unix seconds.
///
/// # Errors
/// When not an integer or out of range.
pub fn seconds(value: &Value, what: &str) -> Result<DateTime<Utc>, SourceError> {
    let secs = integer(value, what)?;
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| malformed(format!("{what}: {secs} is not a time")))
}

/// A time from RFC 3339 text.
///
/// # Errors
/// When it does not parse.
pub fn rfc3339(text: &str, what: &str) -> Result<DateTime<Utc>, SourceError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| malformed(format!("{what}: `{text}` is not an RFC 3339 time")))
}

/// A JSON array encoded as a string (Gamma's `outcomes`, `outcomePrices`, `clobTokenIds`).
///
/// # Errors
/// When it is not a string holding a JSON array of strings.
pub fn string_list(
    object: &Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Vec<String>, SourceError> {
    let text = string(object, name, what)?;
    let parsed: Value = serde_json::from_str(&text)
        .map_err(|_| malformed(format!("{what}: `{name}` is not a JSON-encoded array")))?;
    array(&parsed, &format!("{what}.{name}"))?
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| malformed(format!("{what}: `{name}` holds a non-string")))
        })
        .collect()
}
