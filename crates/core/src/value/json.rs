//! Values from JSON text, numbers read exactly from their digits (never through f64).

use std::sync::Arc;

use rust_decimal::Decimal;

use super::{Map, Value};
use crate::syntax::parser::parse_decimal_literal;

/// Why JSON input could not become a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    /// Not valid JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// serde_json's message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A number outside the exact decimal range.
    #[error("number {text} at {path} is outside the decimal range (28 significant digits)")]
    NumberOutOfRange {
        /// The number as written.
        text: String,
        /// Where it is in the document.
        path: String,
    },
    /// A record that is not a JSON object.
    #[error("a record must be a JSON object, found {found}")]
    NotAnObject {
        /// The kind found instead.
        found: &'static str,
    },
}

/// Parses JSON text into a value.
pub fn value_from_json_text(text: &str) -> Result<Value, JsonError> {
    super::de::value_from_text(text).map_err(|e| {
        let message = e.to_string();
        let (line, column) = (e.line(), e.column());
        match message
            .strip_prefix("number ")
            .and_then(|m| m.split_once(&format!(" is {}", super::de::OUT_OF_RANGE)))
        {
            Some((number, _)) => JsonError::NumberOutOfRange {
                text: number.to_string(),
                path: format!("line {line}, column {column}"),
            },
            None => JsonError::Syntax {
                message,
                line,
                column,
            },
        }
    })
}

/// Parses one record (a JSON object).
pub fn parse_record(text: &str) -> Result<Value, JsonError> {
    let value = value_from_json_text(text)?;
    match value {
        Value::Object(_) => Ok(value),
        other => Err(JsonError::NotAnObject {
            found: other.type_name(),
        }),
    }
}

/// Converts a parsed JSON document; `path` names the position for error messages.
pub fn value_from_json(json: &serde_json::Value, path: &str) -> Result<Value, JsonError> {
    Ok(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(decimal_from_json_number(n, path)?),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(items) => Value::array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| value_from_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(fields) => {
            let mut map = Map::with_capacity_and_hasher(fields.len(), Default::default());
            for (k, v) in fields {
                map.insert(
                    Arc::from(k.as_str()),
                    value_from_json(v, &format!("{path}.{k}"))?,
                );
            }
            Value::object(map)
        }
    })
}

fn decimal_from_json_number(n: &serde_json::Number, path: &str) -> Result<Decimal, JsonError> {
    let text = n.to_string();
    parse_decimal_literal(text.trim_start_matches('-'))
        .map(|d| if text.starts_with('-') { -d } else { d })
        .ok_or(JsonError::NumberOutOfRange {
            text,
            path: path.to_string(),
        })
}

/// Serde for a [`Value`] inside a serde-modelled structure (a connector's `raw` mapping):
/// read exactly from JSON (numbers with their digits), as typed values from other formats
/// (TOML); written as its JSON text.
pub mod serde_value {
    use serde::de::DeserializeSeed;
    use serde::{Deserializer, Serialize, Serializer};

    use crate::value::Value;

    /// Reads an optional value (`null` is the null value, not absence).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        crate::value::ValueSeed.deserialize(d).map(Some)
    }

    /// Writes an optional value as JSON.
    pub fn serialize<S: Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serde_json::value::RawValue::from_string(v.to_json())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
            None => s.serialize_none(),
        }
    }
}
