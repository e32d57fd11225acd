//! Runtime values: exact decimals, strings, dates, arrays and objects.
//!
//! Strings, arrays and objects are reference-counted so that reading a field or passing a
//! value to a function never copies its contents.

mod convert;
mod de;
mod json;
pub mod order;
mod path;
mod plain;
mod scan;
pub mod schema;
mod slots;
mod stops;
mod typeset;

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use indexmap::IndexMap;
use rust_decimal::Decimal;

pub use de::{parse_record_fields, parse_record_fields_exact, ValueSeed, Want};
pub use json::{parse_record, serde_value, value_from_json, value_from_json_text, JsonError};
pub use path::{index_of, FieldPath, Step};
pub use slots::{parse_into_slots, parse_into_slots_exact, SlotTable};

pub use schema::Schema;
pub use typeset::TypeSet;

/// The text of a string value: small-string optimized, immutable, O(1) to clone.
pub type Text = smol_str::SmolStr;

/// Builds a [`Text`] piece by piece, inline while it fits.
pub type TextBuilder = smol_str::SmolStrBuilder;

/// The fields of an object, in their original order (FxHash: keys are short field names,
/// hashed on every field read, and records are not attacker-chosen hash tables).
pub type Map = IndexMap<Arc<str>, Value, rustc_hash::FxBuildHasher>;

/// A runtime value.
///
/// `repr(u8)`: a tag byte of its own. Without it the compiler packs the tag into the niche
/// of the inline string's length byte (the value is then 24 bytes, not 32), and every match
/// on a value decodes it: that cost 3–7 % on the interpreter's numeric mappings and the
/// writer (`sluice bench` instructions), more than the 8 bytes save.
#[derive(Debug, Clone, PartialEq, Default)]
#[repr(u8)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An exact decimal number.
    Number(Decimal),
    /// Text: up to 23 bytes held inline (no allocation), longer text shared by reference
    /// count; cloning is O(1) either way.
    String(Text),
    /// A calendar date without time.
    Date(NaiveDate),
    /// An instant with its UTC offset.
    DateTime(DateTime<FixedOffset>),
    /// An ordered list.
    Array(Arc<Vec<Value>>),
    /// Fields in order.
    Object(Arc<Map>),
}

impl Value {
    /// A string value (inline, without allocating, up to [`Text::INLINE_CAP`] bytes).
    pub fn str(s: &str) -> Value {
        Value::String(Text::new(s))
    }

    /// A string value from an owned string.
    pub fn string(s: String) -> Value {
        Value::String(Text::from(s))
    }

    /// An array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// An object value.
    pub fn object(map: Map) -> Value {
        Value::Object(Arc::new(map))
    }

    /// The single kind of this value, as a [`TypeSet`].
    pub fn kind(&self) -> TypeSet {
        match self {
            Value::Null => TypeSet::NULL,
            Value::Bool(_) => TypeSet::BOOLEAN,
            Value::Number(_) => TypeSet::NUMBER,
            Value::String(_) => TypeSet::STRING,
            Value::Date(_) => TypeSet::DATE,
            Value::DateTime(_) => TypeSet::DATETIME,
            Value::Array(_) => TypeSet::ARRAY,
            Value::Object(_) => TypeSet::OBJECT,
        }
    }

    /// The name of this value's kind, as `typeof` returns it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The field `key` of an object (null when absent or not an object).
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Text form used by `&`, `concat` and `tostring`: null is '', strings as they are,
    /// numbers with their digits, dates in ISO 8601, arrays and objects as compact JSON.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::String(s) => s.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Date(d) => format_date(d),
            Value::DateTime(dt) => format_datetime(dt),
            Value::Array(_) | Value::Object(_) => self.to_json(),
        }
    }

    /// Appends the text form (see [`Value::to_text`]) to `out`.
    pub fn write_text(&self, out: &mut impl std::fmt::Write) {
        let _ = match self {
            Value::Null => Ok(()),
            Value::String(s) => out.write_str(s),
            Value::Number(n) => write!(out, "{n}"),
            other => out.write_str(&other.to_text()),
        };
    }

    /// Compact JSON; numbers with their exact digits, dates as ISO 8601 strings.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends compact JSON to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_decimal(n, out),
            Value::String(s) => write_json_string(s, out),
            Value::Date(d) => write_json_string(&format_date(d), out),
            Value::DateTime(dt) => write_json_string(&format_datetime(dt), out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(map) => write_json_object(map, out),
        }
    }
}

/// ISO 8601 text of a date: `2024-01-31`.
pub fn format_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// RFC 3339 text of an instant, `Z` for UTC, fractional seconds only when present.
pub fn format_datetime(dt: &DateTime<FixedOffset>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Appends the fields of an object as a JSON object, in their order.
pub fn write_json_object(map: &Map, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(k, out);
        out.push(':');
        v.write_json(out);
    }
    out.push('}');
}

/// Appends `n` as `Decimal`'s `Display` writes it (its scale kept: `12.50`), with `itoa`
/// for the digits (a 128-bit mantissa too: a quotient's 28 digits cost no formatter).
pub fn write_decimal(n: &rust_decimal::Decimal, out: &mut String) {
    let mantissa = n.mantissa();
    let digits = mantissa.unsigned_abs();
    if mantissa == 0 {
        // zero's sign and scale as Display has them
        let _ = write!(out, "{n}");
        return;
    }
    let mut buffer = itoa::Buffer::new();
    // the 64-bit formatting is the faster one, and holds every amount of money
    let digits = match u64::try_from(digits) {
        Ok(digits) => buffer.format(digits),
        Err(_) => buffer.format(digits),
    };
    let scale = n.scale() as usize;
    if mantissa < 0 {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    }
}

/// Appends `s` as a JSON string literal: runs without a byte to escape are copied whole,
/// found eight bytes at a time.
pub fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut at = 0;
    loop {
        let end = plain::plain_end(bytes, at);
        // a run ends before an ASCII byte or at the end: a char boundary
        out.push_str(s.get(at..end).unwrap_or_default());
        let Some(&byte) = bytes.get(end) else { break };
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{:04x}", byte);
            }
        }
        at = end + 1;
    }
    out.push('"');
}

/// "a string", "an array": a kind name with its indefinite article.
pub fn with_article(name: &str) -> String {
    let an = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {name}", if an { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_four_words_with_its_own_tag_and_inline_text() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
        let short = Value::str("twenty-three bytes, ok!");
        let Value::String(text) = &short else {
            unreachable!()
        };
        assert!(!text.is_heap_allocated());
        assert!(matches!(Value::str(&"x".repeat(24)), Value::String(t) if t.is_heap_allocated()));
    }
}
