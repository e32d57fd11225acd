//! Reading values straight from JSON text with serde, without an intermediate tree.
//!
//! Numbers keep their exact digits: serde_json's `arbitrary_precision` hands them over as a
//! one-entry map with a private key, which [`ValueSeed`] turns into a decimal. [`PickFields`]
//! reads only the top-level fields a connector uses and skips the rest unparsed.

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// How deep a skipped field's value may nest: the record's own object is one level of
/// serde_json's 128, so a skipped value fails where a parsed one would (E509 on every path).
const SKIP_DEPTH: u8 = 127;

use super::{Map, Value};
use crate::syntax::parser::parse_decimal_literal;

/// The key serde_json uses to pass a number's text under `arbitrary_precision`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Deserializes one [`Value`].
#[derive(Clone, Copy)]
pub struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

/// The visits of JSON scalars, the same for every value visitor here.
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
            Ok(Value::String(Arc::from(v)))
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
    parse_decimal_literal(digits)
        .map(|d| Value::Number(if neg { -d } else { d }))
        .ok_or_else(|| {
            E::custom(format!(
                "number {text} is outside the decimal range (28 significant digits)"
            ))
        })
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            items.push(v);
        }
        Ok(Value::array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let first = match map.next_key_seed(FirstKeySeed)? {
            None => return Ok(Value::object(Map::default())),
            Some(FirstKey::Number) => return map.next_value_seed(DecimalSeed),
            Some(FirstKey::Key(k)) => k,
        };
        let mut out = Map::default();
        out.insert(first, map.next_value_seed(ValueSeed)?);
        while let Some(k) = map.next_key_seed(KeySeed)? {
            out.insert(k, map.next_value_seed(ValueSeed)?);
        }
        Ok(Value::object(out))
    }
}

/// The first key of a map: serde_json's number token, or a real key.
enum FirstKey {
    Number,
    Key(Arc<str>),
}

struct FirstKeySeed;

impl<'de> DeserializeSeed<'de> for FirstKeySeed {
    type Value = FirstKey;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstKey, D::Error> {
        d.deserialize_str(FirstKeySeed)
    }
}

impl Visitor<'_> for FirstKeySeed {
    type Value = FirstKey;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<FirstKey, E> {
        Ok(if v == NUMBER_TOKEN {
            FirstKey::Number
        } else {
            FirstKey::Key(Arc::from(v))
        })
    }
}

/// A number's text, read without copying it, as an exact decimal.
struct DecimalSeed;

impl<'de> DeserializeSeed<'de> for DecimalSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_str(DecimalSeed)
    }
}

impl Visitor<'_> for DecimalSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        decimal(v)
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
                None => {
                    map.next_value_seed(Skip(SKIP_DEPTH))?;
                }
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

/// Parses one NDJSON line into a record holding only `fields` (all when `None`).
pub fn parse_record_fields(
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
            br#"{"a": 0.1, "b": [1, {"x": 2}], "c": {"d": 12345678901234567890.5}}"#,
            Some(&fields),
        )
        .unwrap();
        assert_eq!(v.to_json(), r#"{"a":0.1,"c":{"d":12345678901234567890.5}}"#);
        let all = parse_record_fields(br#"{"a": -1e2, "b": null}"#, None).unwrap();
        assert_eq!(all.to_json(), r#"{"a":-100,"b":null}"#);
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(parse_record_fields(b"{\"a\": 1", None).is_err());
        assert!(parse_record_fields(b"[1]", None).is_err());
        assert!(parse_record_fields(b"{\"a\": 1} x", None).is_err());
        assert!(parse_record_fields(b"{\"a\": 1e999}", None).is_err());
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

/// Deserializes a value keeping only what `want` asks for.
struct WantSeed<'w>(&'w Want);

impl<'de> DeserializeSeed<'de> for WantSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.0 {
            Want::All => d.deserialize_any(ValueVisitor),
            Want::Keys(keys) => d.deserialize_any(PickVisitor(keys)),
        }
    }
}

struct PickVisitor<'w>(&'w [(Arc<str>, Want)]);

impl<'de> Visitor<'de> for PickVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!();

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        ValueVisitor.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::default();
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeyLookup {
            keys: self.0,
            check_number: first,
        })? {
            first = false;
            match key {
                Lookup::Number => return map.next_value_seed(DecimalSeed),
                Lookup::Wanted(i) => {
                    if let Some((k, want)) = self.0.get(i) {
                        let v = map.next_value_seed(WantSeed(want))?;
                        out.insert(k.clone(), v);
                    }
                }
                Lookup::Other => {
                    map.next_value_seed(Skip(SKIP_DEPTH))?;
                }
            }
        }
        Ok(Value::object(out))
    }
}

enum Lookup {
    Number,
    Wanted(usize),
    Other,
}

struct KeyLookup<'w> {
    keys: &'w [(Arc<str>, Want)],
    check_number: bool,
}

impl<'de> DeserializeSeed<'de> for KeyLookup<'_> {
    type Value = Lookup;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Lookup, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyLookup<'_> {
    type Value = Lookup;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Lookup, E> {
        if self.check_number && v == NUMBER_TOKEN {
            return Ok(Lookup::Number);
        }
        let (len, first) = (v.len(), v.as_bytes().first());
        let same = |k: &str| k.len() == len && k.as_bytes().first() == first && k == v;
        Ok(match self.keys.iter().position(|(k, _)| same(k)) {
            Some(i) => Lookup::Wanted(i),
            None => Lookup::Other,
        })
    }
}

/// Parses one NDJSON line (an object) into `slots`: slot `i` holds top-level field
/// `fields[i]` (only its wanted parts), `None` when the line lacks it.
pub fn parse_into_slots(
    line: &[u8],
    fields: &[(Arc<str>, Want)],
    slots: &mut Vec<Option<Value>>,
) -> Result<(), serde_json::Error> {
    slots.clear();
    slots.resize(fields.len(), None);
    let mut de = serde_json::Deserializer::from_slice(line);
    SlotFiller {
        fields,
        slots: &mut *slots,
    }
    .deserialize(&mut de)?;
    de.end()
}

struct SlotFiller<'a> {
    fields: &'a [(Arc<str>, Want)],
    slots: &'a mut Vec<Option<Value>>,
}

impl<'de> DeserializeSeed<'de> for SlotFiller<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SlotFiller<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyLookup {
            keys: self.fields,
            check_number: false,
        })? {
            match key {
                Lookup::Wanted(i) => {
                    let want = self.fields.get(i).map_or(&Want::All, |(_, w)| w);
                    let v = map.next_value_seed(WantSeed(want))?;
                    if let Some(slot) = self.slots.get_mut(i) {
                        *slot = Some(v);
                    }
                }
                Lookup::Number | Lookup::Other => {
                    map.next_value_seed(Skip(SKIP_DEPTH))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn fills_slots_with_wanted_parts_only() {
        let mut address = Want::Keys(Vec::new());
        address.add(&[Arc::from("city")]);
        let fields = vec![
            (Arc::from("id"), Want::All),
            (Arc::from("address"), address),
            (Arc::from("missing"), Want::All),
        ];
        let mut slots = Vec::new();
        parse_into_slots(
            br#"{"id": 1.50, "x": [1], "address": {"street": "S", "city": "Bonn", "zip": 5}}"#,
            &fields,
            &mut slots,
        )
        .unwrap();
        assert_eq!(slots[0].as_ref().unwrap().to_json(), "1.50");
        assert_eq!(slots[1].as_ref().unwrap().to_json(), r#"{"city":"Bonn"}"#);
        assert!(slots[2].is_none());
        assert!(parse_into_slots(b"{\"id\": ", &fields, &mut slots).is_err());
        assert!(parse_into_slots(b"[1]", &fields, &mut slots).is_err());
    }
}

/// Skips a value no mapping reads, as `IgnoredAny` does, but within `.0` more levels of
/// nesting: serde_json skips a value without its recursion limit, so without this a line
/// too deep in a field no mapping reads would pass where a full parse fails.
struct Skip(u8);

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.0.checked_sub(1).ok_or_else(|| serde::de::Error::custom("recursion limit exceeded"))?;
        while seq.next_element_seed(Skip(inner))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.0.checked_sub(1).ok_or_else(|| serde::de::Error::custom("recursion limit exceeded"))?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip(inner))?;
        }
        Ok(())
    }
}
