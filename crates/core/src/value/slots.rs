//! Reading a line into a transform's slots: the top-level fields it reads, each into its
//! own slot, by the one-pass scanner when it can and by serde_json when it must.

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::de::{parse_raw, KeyLookup, Skip, WantSeed, MAX_DEPTH};
use super::stops::Stops;
use super::{Value, Want};

/// Parses one NDJSON line (an object) into `slots`: slot `i` holds top-level field
/// `table.fields()[i]` (only its wanted parts), `None` when the line lacks it. In one pass
/// when it can (see [`super::scan`]), else by the exact serde path. An object a slot held
/// for the previous line, when nothing else holds it, is cleared and filled again for this
/// one (a worker that keeps `slots` from record to record allocates nothing for it).
pub fn parse_into_slots(
    line: &str,
    table: &SlotTable,
    slots: &mut Vec<Option<Value>>,
) -> Result<(), serde_json::Error> {
    let fields = &table.fields;
    // the first 64 slots keep the previous line's values until this line fills them (so
    // their objects can be reused); `found` says which it filled, the rest are emptied after
    slots.truncate(64);
    slots.resize(fields.len(), None);
    let mut found: u64 = 0;
    let read_member = |member: super::scan::Member<'_>| {
        let Some(i) = table.slot_of(member.key()) else {
            return true;
        };
        let (Some((_, want)), Some(slot)) = (fields.get(i), slots.get_mut(i)) else {
            return true;
        };
        let Some(raw) = member.raw() else {
            return false;
        };
        found |= 1u64.checked_shl(i as u32).unwrap_or(0);
        parse_raw::<serde_json::Error>(raw, want, MAX_DEPTH, slot.take())
            .map(|v| *slot = Some(v))
            .is_ok()
    };
    let scanned = LINE_STOPS.with(|stops| match stops.try_borrow_mut() {
        Ok(mut stops) => {
            stops.fill(line.as_bytes());
            super::scan::scan_object_with(line, MAX_DEPTH, Some(&stops), read_member)
        }
        Err(_) => super::scan::scan_object(line, MAX_DEPTH, read_member),
    });
    if scanned {
        for (i, slot) in slots.iter_mut().take(64).enumerate() {
            if found >> i & 1 == 0 {
                *slot = None;
            }
        }
        return Ok(());
    }
    slots.clear();
    slots.resize(fields.len(), None);
    parse_into_slots_exact(line.as_bytes(), fields, slots)
}

thread_local! {
    /// The string stops of the line a thread is reading ([`Stops`]): a buffer kept from
    /// line to line.
    static LINE_STOPS: std::cell::RefCell<Stops> = std::cell::RefCell::new(Stops::default());
}

/// The top-level fields a transform reads, each with what is wanted of it, and an index
/// from a key to its slot, built once per transform.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotTable {
    fields: Vec<(Arc<str>, Want)>,
    /// For each key bucket (see [`bucket`]): 0 when no field's key falls in it, `SHARED`
    /// when several do, else the one field's slot + 1.
    buckets: [u8; 64],
}

/// A bucket several fields' keys fall in: they are compared one by one.
const SHARED: u8 = u8::MAX;

impl SlotTable {
    /// The table of `fields`: slot `i` holds `fields[i]`.
    pub fn new(fields: Vec<(Arc<str>, Want)>) -> Self {
        let mut buckets = [0u8; 64];
        for (i, (key, _)) in fields.iter().enumerate() {
            if let Some(b) = buckets.get_mut(bucket(key.as_bytes())) {
                *b = match (*b, u8::try_from(i + 1)) {
                    (0, Ok(slot)) if slot != SHARED => slot,
                    _ => SHARED,
                };
            }
        }
        SlotTable { fields, buckets }
    }

    /// The fields, in slot order.
    pub fn fields(&self) -> &[(Arc<str>, Want)] {
        &self.fields
    }

    /// The slot of top-level key `key`, if a field is read from it: most unwanted keys of
    /// a record are passed over by their bucket alone, without a comparison.
    fn slot_of(&self, key: &[u8]) -> Option<usize> {
        match self.buckets.get(bucket(key)).copied().unwrap_or(SHARED) {
            0 => None,
            SHARED => self.fields.iter().position(|(k, _)| k.as_bytes() == key),
            slot => {
                let i = usize::from(slot - 1);
                let (k, _) = self.fields.get(i)?;
                (k.as_bytes() == key).then_some(i)
            }
        }
    }
}

/// A key's bucket among 64, from its length and its first and last bytes.
fn bucket(bytes: &[u8]) -> usize {
    let (first, last) = (bytes.first().copied(), bytes.last().copied());
    let mix = bytes.len()
        ^ usize::from(first.unwrap_or(0)).wrapping_mul(5)
        ^ usize::from(last.unwrap_or(0)).wrapping_mul(3);
    mix % 64
}

/// [`parse_into_slots`] by serde_json alone, the reference reading: what settles every
/// line the one-pass reader leaves, with serde_json's errors and positions (the differential
/// tests hold the two to the same results). `slots` must hold one `None` per field.
pub fn parse_into_slots_exact(
    line: &[u8],
    fields: &[(Arc<str>, Want)],
    slots: &mut [Option<Value>],
) -> Result<(), serde_json::Error> {
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
    slots: &'a mut [Option<Value>],
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
        while let Some(key) = map.next_key_seed(KeyLookup { keys: self.fields })? {
            match key.and_then(|i| Some((self.fields.get(i)?, self.slots.get_mut(i)?))) {
                Some(((_, want), slot)) => {
                    *slot = Some(map.next_value_seed(WantSeed {
                        want,
                        depth: MAX_DEPTH,
                    })?);
                }
                None => map.next_value_seed(Skip(MAX_DEPTH))?,
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
        let fields = SlotTable::new(vec![
            (Arc::from("id"), Want::All),
            (Arc::from("address"), address),
            (Arc::from("missing"), Want::All),
        ]);
        let mut slots = Vec::new();
        parse_into_slots(
            r#"{"id": 1.50, "x": [1], "address": {"street": "S", "city": "Bonn", "zip": 5}}"#,
            &fields,
            &mut slots,
        )
        .unwrap();
        assert_eq!(slots[0].as_ref().unwrap().to_json(), "1.50");
        assert_eq!(slots[1].as_ref().unwrap().to_json(), r#"{"city":"Bonn"}"#);
        assert!(slots[2].is_none());
        assert!(parse_into_slots("{\"id\": ", &fields, &mut slots).is_err());
        assert!(parse_into_slots("[1]", &fields, &mut slots).is_err());
    }

    #[test]
    fn a_kept_slot_vector_shows_nothing_of_the_previous_line() {
        let mut address = Want::Keys(Vec::new());
        address.add(&[Arc::from("city")]);
        address.add(&[Arc::from("zip")]);
        let table = SlotTable::new(vec![
            (Arc::from("id"), Want::All),
            (Arc::from("address"), address),
        ]);
        let shown = |slots: &[Option<Value>]| -> Vec<String> {
            let show = |v: &Option<Value>| v.as_ref().map_or("-".into(), Value::to_json);
            slots.iter().map(show).collect()
        };
        let mut slots = Vec::new();
        let first = r#"{"id": 1, "address": {"city": "Bonn", "zip": "53111"}}"#;
        parse_into_slots(first, &table, &mut slots).unwrap();
        assert_eq!(shown(&slots), ["1", r#"{"city":"Bonn","zip":"53111"}"#]);
        // the address object is lent to the next line: cleared, not merged
        parse_into_slots(r#"{"address": {"zip": "1"}}"#, &table, &mut slots).unwrap();
        assert_eq!(shown(&slots), ["-", r#"{"zip":"1"}"#]);
        // an object someone still holds is left to them, not cleared under them
        let held = slots[1].clone();
        parse_into_slots(r#"{"address": {"city": "Köln"}}"#, &table, &mut slots).unwrap();
        assert_eq!(shown(&slots), ["-", r#"{"city":"Köln"}"#]);
        assert_eq!(held.unwrap().to_json(), r#"{"zip":"1"}"#);
        // a kind other than an object takes the slot whole; a line without the field empties it
        parse_into_slots(r#"{"address": 5, "id": 2}"#, &table, &mut slots).unwrap();
        assert_eq!(shown(&slots), ["2", "5"]);
        parse_into_slots(r#"{}"#, &table, &mut slots).unwrap();
        assert_eq!(shown(&slots), ["-", "-"]);
    }
}
