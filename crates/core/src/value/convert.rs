//! Values to and from JSON text and `serde_json`, as the embedding API offers them.

use std::sync::Arc;

use super::{value_from_json, value_from_json_text, JsonError, Map, Value};

impl Value {
    /// Parses JSON text: numbers exactly from their digits (up to 28 significant ones,
    /// E503 beyond), object fields in their order.
    ///
    /// ```
    /// let v = sluice_core::value::Value::parse_json(r#"{"price": 12.50, "a": 1}"#)?;
    /// assert_eq!(v.to_json(), r#"{"price":12.50,"a":1}"#);
    /// # Ok::<(), sluice_core::value::JsonError>(())
    /// ```
    pub fn parse_json(text: &str) -> Result<Value, JsonError> {
        value_from_json_text(text)
    }

    /// A `serde_json` value as a Sluice value (its numbers as exact as the host's
    /// `serde_json` keeps them).
    ///
    /// ```
    /// let v = sluice_core::value::Value::from_json_value(&serde_json::json!({"a": [1, "x", null]}))?;
    /// assert_eq!(v.to_json(), r#"{"a":[1,"x",null]}"#);
    /// # Ok::<(), sluice_core::value::JsonError>(())
    /// ```
    pub fn from_json_value(json: &serde_json::Value) -> Result<Value, JsonError> {
        value_from_json(json, "$")
    }

    /// The value as `serde_json` (dates as ISO 8601 text; numbers through `serde_json`'s
    /// `Number`, exact when the host enables its `arbitrary_precision`, else the nearest
    /// `f64` for a fraction). [`Value::to_json`] writes the exact text.
    ///
    /// ```
    /// let v = sluice_core::value::Value::parse_json(r#"{"a": 2}"#)?;
    /// assert_eq!(v.to_json_value(), serde_json::json!({"a": 2}));
    /// # Ok::<(), sluice_core::value::JsonError>(())
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
