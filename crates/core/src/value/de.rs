//! Reading values straight from JSON text with serde, without an intermediate tree.
//!
//! Numbers keep their exact digits without serde_json's `arbitrary_precision` (a Cargo
//! feature would switch it on for every crate of a host's build, changing how the host's
//! own types deserialize): each value is asked for as its raw JSON text (the newtype name
//! serde_json's `raw_value` feature answers), a number's digits become a decimal, a string
//! without escapes is taken as it stands, and an array or object is read from its own text.
//! [`PickFields`] reads only the top-level fields a connector uses and skips the rest
//! unparsed.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Map, Value};
use crate::syntax::parser::parse_decimal_literal;

/// The newtype name under which serde_json hands over a value's raw text.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// How many arrays and objects may nest inside a record's field: the record's own object
/// is one level of serde_json's 128, so a value fails where serde_json would (E509).
pub(super) const MAX_DEPTH: u8 = 127;

/// The whole of a value.
static ALL: Want = Want::All;

/// The start of the message of a number outside the decimal range.
pub const OUT_OF_RANGE: &str = "outside the decimal range";

/// Parses one JSON document, numbers exactly. Errors carry their position in `text`.
pub fn value_from_text(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let trimmed = text.trim_start();
    let value = if trimmed.starts_with(['{', '[']) {
        // read as a container here, so that an error inside is placed in `text`
        de.deserialize_any(TreeVisitor {
            want: &ALL,
            depth: MAX_DEPTH + 1,
        })?
    } else {
        ValueSeed.deserialize(&mut de)?
    };
    de.end()?;
    Ok(value)
}

/// Deserializes one whole [`Value`], numbers exactly.
#[derive(Clone, Copy)]
pub struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        WantSeed {
            want: &ALL,
            depth: MAX_DEPTH,
        }
        .deserialize(d)
    }
}

/// The visits of scalars from a deserializer that hands them over typed (TOML, a
/// `serde_json::Value`), the same for every value visitor here.
macro_rules! scalar_visits {
    () => {
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v.into()))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
            decimal(&v.to_string())
        }

        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::str(v))
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
}

fn decimal<E: serde::de::Error>(text: &str) -> Result<Value, E> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    short_decimal(digits)
        .or_else(|| parse_decimal_literal(digits))
        .map(|d| Value::Number(if neg { -d } else { d }))
        .ok_or_else(|| {
            E::custom(format!(
                "number {text} is {OUT_OF_RANGE} (28 significant digits)"
            ))
        })
}

/// Digits with an optional fraction, 18 digits at most (`12.50`: the numbers records
/// mostly hold), straight to their `Decimal` — the same value and scale as
/// `Decimal::from_str_exact` gives — without its general parse; `None` for any other text.
fn short_decimal(digits: &str) -> Option<Decimal> {
    let bytes = digits.as_bytes();
    let (first, last) = (bytes.first()?, bytes.last()?);
    if bytes.len() > 19 || !first.is_ascii_digit() || !last.is_ascii_digit() {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut scale = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(b - b'0'),
            b'.' if scale == 0 => scale = bytes.len() - i - 1,
            _ => return None,
        }
    }
    // 19 bytes hold 18 digits when one is the point: a 19-digit integer may overflow
    if scale == 0 && bytes.len() > 18 {
        return None;
    }
    Some(Decimal::from_i128_with_scale(
        i128::from(mantissa),
        scale as u32,
    ))
}

fn too_deep<E: serde::de::Error>() -> E {
    E::custom("recursion limit exceeded")
}

/// A serde_json error's message without its position (the position inside a value's own
/// text means nothing to a reader; the outer error adds the record's).
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_string(),
        None => text,
    }
}

/// A value as raw JSON text: what `want` asks for of it, `depth` more levels allowed.
/// `previous`, the value this one replaces, lends its object when it is one nothing else
/// holds.
#[inline]
pub(super) fn parse_raw<E: serde::de::Error>(
    text: &str,
    want: &Want,
    depth: u8,
    previous: Option<Value>,
) -> Result<Value, E> {
    match text.as_bytes().first() {
        Some(b'"') => {
            let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
            if inner.contains('\\') {
                serde_json::from_str::<String>(text)
                    .map(Value::string)
                    .map_err(|e| E::custom(message_of(&e)))
            } else {
                Ok(Value::str(inner))
            }
        }
        Some(b'{' | b'[') => {
            if let (Want::Keys(keys), Some(inner)) = (want, depth.checked_sub(1)) {
                if let Some(object) = scan_wanted_keys(text, keys, inner, previous) {
                    return Ok(object);
                }
            }
            let mut de = serde_json::Deserializer::from_str(text);
            de.deserialize_any(TreeVisitor { want, depth })
                .map_err(|e| E::custom(message_of(&e)))
        }
        Some(b't') => Ok(Value::Bool(true)),
        Some(b'f') => Ok(Value::Bool(false)),
        Some(b'n') => Ok(Value::Null),
        _ => decimal(text),
    }
}

/// An object's `keys` (each value within `depth` levels) read in one pass over `text`, as
/// the tree visitor reads them; `None` when the pass cannot settle it (not an object, or
/// anything the serde path must decide).
fn scan_wanted_keys(
    text: &str,
    keys: &[(Arc<str>, Want)],
    depth: u8,
    previous: Option<Value>,
) -> Option<Value> {
    let mut object = match previous {
        Some(Value::Object(map)) if Arc::strong_count(&map) == 1 => map,
        _ => Arc::new(Map::with_capacity_and_hasher(
            keys.len(),
            Default::default(),
        )),
    };
    let out = Arc::make_mut(&mut object);
    out.clear();
    let scanned = super::scan::scan_object(text, depth, |member| {
        let Some((name, want)) = keys.iter().find(|(k, _)| k.as_bytes() == member.key()) else {
            return true;
        };
        let Some(raw) = member.raw() else {
            return false;
        };
        parse_raw::<serde_json::Error>(raw, want, depth, None)
            .map(|v| out.insert(name.clone(), v))
            .is_ok()
    });
    scanned.then_some(Value::Object(object))
}

/// Deserializes a value keeping only what `want` asks for, within `depth` levels.
pub(super) struct WantSeed<'w> {
    pub(super) want: &'w Want,
    pub(super) depth: u8,
}

impl<'de> DeserializeSeed<'de> for WantSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(
            RAW_TOKEN,
            RawVisitor {
                want: self.want,
                depth: self.depth,
            },
        )
    }
}

/// Takes the raw text serde_json hands over; from any other deserializer, the value itself.
struct RawVisitor<'w> {
    want: &'w Want,
    depth: u8,
}

impl<'de> Visitor<'de> for RawVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!();

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(TreeVisitor {
            want: self.want,
            depth: self.depth,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        TreeVisitor {
            want: self.want,
            depth: self.depth,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let first = match map.next_key_seed(FirstKeySeed)? {
            None => return Ok(Value::object(Map::default())),
            Some(FirstKey::Raw) => {
                return map.next_value_seed(RawText {
                    want: self.want,
                    depth: self.depth,
                })
            }
            Some(FirstKey::Key(k)) => k,
        };
        let inner = self.depth.checked_sub(1).ok_or_else(too_deep)?;
        whole_map(map, Some(first), inner)
    }
}

/// The rest of a map read whole (its values within `depth` levels), after `first`, a key
/// already read.
fn whole_map<'de, A: MapAccess<'de>>(
    mut map: A,
    first: Option<Arc<str>>,
    depth: u8,
) -> Result<Value, A::Error> {
    let mut out = Map::default();
    let mut key = first;
    if key.is_none() {
        key = map.next_key_seed(KeySeed)?;
    }
    while let Some(k) = key {
        let v = map.next_value_seed(WantSeed { want: &ALL, depth })?;
        out.insert(k, v);
        key = map.next_key_seed(KeySeed)?;
    }
    Ok(Value::object(out))
}

/// A value's raw JSON text, parsed for what `want` asks.
struct RawText<'w> {
    want: &'w Want,
    depth: u8,
}

impl<'de> DeserializeSeed<'de> for RawText<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for RawText<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("raw JSON text")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        parse_raw(v, self.want, self.depth, None)
    }
}

/// An array or object (or, from a typed deserializer, any value), its items and wanted
/// fields read as values in turn.
struct TreeVisitor<'w> {
    want: &'w Want,
    depth: u8,
}

impl<'de> Visitor<'de> for TreeVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.depth.checked_sub(1).ok_or_else(too_deep)?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(WantSeed {
            want: &ALL,
            depth: inner,
        })? {
            items.push(v);
        }
        Ok(Value::array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.depth.checked_sub(1).ok_or_else(too_deep)?;
        let Want::Keys(keys) = self.want else {
            return whole_map(map, None, inner);
        };
        let mut out = Map::default();
        while let Some(key) = map.next_key_seed(KeyLookup { keys })? {
            match key.and_then(|i| keys.get(i)) {
                Some((k, want)) => {
                    let v = map.next_value_seed(WantSeed { want, depth: inner })?;
                    out.insert(k.clone(), v);
                }
                None => map.next_value_seed(Skip(inner))?,
            }
        }
        Ok(Value::object(out))
    }
}

/// The first key of a map: serde_json's raw-value token (no allocation), or a real key.
enum FirstKey {
    Raw,
    Key(Arc<str>),
}

struct FirstKeySeed;

impl<'de> DeserializeSeed<'de> for FirstKeySeed {
    type Value = FirstKey;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FirstKeySeed {
    type Value = FirstKey;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<FirstKey, E> {
        Ok(if v == RAW_TOKEN {
            FirstKey::Raw
        } else {
            FirstKey::Key(Arc::from(v))
        })
    }
}

/// Deserializes an object key as a shared string.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Arc<str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Arc<str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Arc<str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Arc<str>, E> {
        Ok(Arc::from(v))
    }
}

/// Reads a JSON object, keeping only the listed top-level fields (all when `None`).
pub struct PickFields<'f> {
    /// The field names to keep.
    pub fields: Option<&'f [Arc<str>]>,
}

impl<'de> DeserializeSeed<'de> for PickFields<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PickFields<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out =
            Map::with_capacity_and_hasher(self.fields.map_or(8, <[_]>::len), Default::default());
        while let Some(key) = map.next_key_seed(FieldKey {
            fields: self.fields,
        })? {
            match key {
                Some(k) => {
                    let v = map.next_value_seed(ValueSeed)?;
                    out.insert(k, v);
                }
                None => map.next_value_seed(Skip(MAX_DEPTH))?,
            }
        }
        Ok(Value::object(out))
    }
}

/// A key that is `Some` when it is one of the wanted fields (reusing the wanted name).
struct FieldKey<'f> {
    fields: Option<&'f [Arc<str>]>,
}

impl<'de> DeserializeSeed<'de> for FieldKey<'_> {
    type Value = Option<Arc<str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldKey<'_> {
    type Value = Option<Arc<str>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.fields {
            None => Some(Arc::from(v)),
            Some(fields) => fields.iter().find(|f| &***f == v).cloned(),
        })
    }
}

/// Parses one NDJSON line into a record holding only `fields` (all when `None`): in one
/// pass when it can (see [`super::scan`]), else by the exact serde path.
pub fn parse_record_fields(
    line: &str,
    fields: Option<&[Arc<str>]>,
) -> Result<Value, serde_json::Error> {
    let mut out = Map::with_capacity_and_hasher(fields.map_or(8, <[_]>::len), Default::default());
    let scanned = super::scan::scan_object(line, MAX_DEPTH, |member| {
        let name = match fields {
            None => match member.key_text() {
                Some(key) => Arc::from(key),
                None => return false,
            },
            Some(fields) => match fields.iter().find(|f| f.as_bytes() == member.key()) {
                Some(name) => name.clone(),
                None => return true,
            },
        };
        let Some(raw) = member.raw() else {
            return false;
        };
        parse_raw::<serde_json::Error>(raw, &ALL, MAX_DEPTH, None)
            .map(|v| out.insert(name, v))
            .is_ok()
    });
    if scanned {
        return Ok(Value::object(out));
    }
    parse_record_fields_exact(line.as_bytes(), fields)
}

/// [`parse_record_fields`] by serde_json alone, the reference reading: what settles every
/// line the one-pass reader leaves, with serde_json's errors and positions (the differential
/// tests hold the two to the same results).
pub fn parse_record_fields_exact(
    line: &[u8],
    fields: Option<&[Arc<str>]>,
) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let value = PickFields { fields }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_fields_and_keeps_exact_numbers() {
        let fields: Vec<Arc<str>> = vec![Arc::from("a"), Arc::from("c")];
        let v = parse_record_fields(
            r#"{"a": 0.1, "b": [1, {"x": 2}], "c": {"d": 12345678901234567890.5}}"#,
            Some(&fields),
        )
        .unwrap();
        assert_eq!(v.to_json(), r#"{"a":0.1,"c":{"d":12345678901234567890.5}}"#);
        let all = parse_record_fields(r#"{"a": -1e2, "b": null}"#, None).unwrap();
        assert_eq!(all.to_json(), r#"{"a":-100,"b":null}"#);
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(parse_record_fields("{\"a\": 1", None).is_err());
        assert!(parse_record_fields("[1]", None).is_err());
        assert!(parse_record_fields("{\"a\": 1} x", None).is_err());
        assert!(parse_record_fields("{\"a\": 1e999}", None).is_err());
    }
}

/// Which parts of a JSON value to keep: all of it, or only some keys of an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// The whole value.
    All,
    /// Only these keys (of an object; any other kind is kept whole).
    Keys(Vec<(Arc<str>, Want)>),
}

impl Want {
    /// Adds a key path (`["address", "city"]`) to what is wanted.
    pub fn add(&mut self, path: &[Arc<str>]) {
        let Want::Keys(keys) = self else { return };
        let Some((first, rest)) = path.split_first() else {
            *self = Want::All;
            return;
        };
        match keys.iter_mut().find(|(k, _)| k == first) {
            Some((_, want)) => {
                if rest.is_empty() {
                    *want = Want::All;
                } else {
                    want.add(rest);
                }
            }
            None => {
                let mut want = if rest.is_empty() {
                    Want::All
                } else {
                    Want::Keys(Vec::new())
                };
                want.add(rest);
                keys.push((first.clone(), want));
            }
        }
    }
}

/// The index of a key among the wanted keys, if it is one.
pub(super) struct KeyLookup<'w> {
    pub(super) keys: &'w [(Arc<str>, Want)],
}

impl<'de> DeserializeSeed<'de> for KeyLookup<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyLookup<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        let (len, first) = (v.len(), v.as_bytes().first());
        let same = |k: &str| k.len() == len && k.as_bytes().first() == first && k == v;
        Ok(self.keys.iter().position(|(k, _)| same(k)))
    }
}

/// Skips a value no mapping reads, as `IgnoredAny` does, but within `.0` more levels of
/// nesting: serde_json skips a value without its recursion limit, so without this a line
/// too deep in a field no mapping reads would pass where a full parse fails. Its numbers are
/// not read at all (one outside every range is no error where nothing reads it).
pub(super) struct Skip(pub(super) u8);

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_newtype_struct(RAW_TOKEN, self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_ignored_any(IgnoredAny).map(|_| ())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(FirstKeySeed)? {
            if let FirstKey::Raw = key {
                return map.next_value_seed(SkipText(self.0));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A skipped value's raw text, checked for its depth only.
struct SkipText(u8);

impl<'de> DeserializeSeed<'de> for SkipText {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for SkipText {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("raw JSON text")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        let scalar = !v.starts_with(['{', '[']);
        if !scalar && crate::limits::json_depth_exceeds(v.as_bytes(), usize::from(self.0)) {
            Err(too_deep())
        } else {
            Ok(())
        }
    }
}
