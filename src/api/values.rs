//! Sluice's values to and from JSON text and `serde_json`.

use std::sync::Arc;

use super::Error;
use crate::diagnostics::codes;
use crate::value::{value_from_json, value_from_json_text, JsonError, Map, Value};

fn json_error(e: JsonError) -> Error {
    let code = match e {
        JsonError::NumberOutOfRange { .. } => codes::E503_RECORD_NUMBER,
        JsonError::Syntax { .. } => codes::E501_RECORD_JSON,
        JsonError::NotAnObject { .. } => codes::E502_RECORD_NOT_OBJECT,
    };
    Error::new(code, e.to_string())
}

impl Value {
    /// Parses JSON text: numbers exactly from their digits (up to 28 significant ones,
    /// E503 beyond), object fields in their order.
    ///
    /// ```
    /// let v = sluice::Value::parse_json(r#"{"price": 12.50, "a": 1}"#)?;
    /// assert_eq!(v.to_json(), r#"{"price":12.50,"a":1}"#);
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn parse_json(text: &str) -> Result<Value, Error> {
        value_from_json_text(text).map_err(json_error)
    }

    /// A `serde_json` value as a Sluice value (its numbers as exact as the host's
    /// `serde_json` keeps them).
    ///
    /// ```
    /// let v = sluice::Value::from_json_value(&serde_json::json!({"a": [1, "x", null]}))?;
    /// assert_eq!(v.to_json(), r#"{"a":[1,"x",null]}"#);
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn from_json_value(json: &serde_json::Value) -> Result<Value, Error> {
        value_from_json(json, "$").map_err(json_error)
    }

    /// The value as `serde_json` (dates as ISO 8601 text; numbers through `serde_json`'s
    /// `Number`, exact when the host enables its `arbitrary_precision`, else the nearest
    /// `f64` for a fraction). [`Value::to_json`] writes the exact text.
    ///
    /// ```
    /// let v = sluice::Value::parse_json(r#"{"a": 2}"#)?;
    /// assert_eq!(v.to_json_value(), serde_json::json!({"a": 2}));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn to_json_value(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json_value).collect())
            }
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json_value()))
                    .collect(),
            ),
            Value::Number(n) => n
                .to_string()
                .parse::<serde_json::Number>()
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Date(_) | Value::DateTime(_) => serde_json::Value::String(self.to_text()),
        }
    }

    /// An object value from fields.
    pub fn from_fields(fields: impl IntoIterator<Item = (String, Value)>) -> Value {
        Value::Object(Arc::new(
            fields
                .into_iter()
                .map(|(k, v)| (Arc::from(k), v))
                .collect::<Map>(),
        ))
    }
}
