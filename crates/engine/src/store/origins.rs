//! Origin tracking for bidirectional connectors. For each key on each side the store keeps
//! a *baseline*: a hash of the record as it was when the two sides last agreed (what
//! Sluice wrote there, or read from there). A record read from a side that still matches
//! its baseline is not a change: it is Sluice's own write coming back (an echo) or nothing
//! new, and it is skipped. On the way in, a stored record that still matches its baseline
//! was not changed on the store's side since the last sync, so the incoming change simply
//! applies; only when both sides changed does the connector's conflict rule decide.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::store::scalar_key;
use crate::value::Value;

/// The side of the inbound system (the external one).
pub const INBOUND: &str = "inbound";
/// The side of the stored object.
pub const OUTBOUND: &str = "outbound";

/// A baseline to record.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineWrite {
    /// The bidirectional connector it belongs to.
    pub owner: Arc<str>,
    /// [`INBOUND`] or [`OUTBOUND`].
    pub side: &'static str,
    /// The record's key on that side.
    pub key: String,
    /// The hash of the record (of `fields` only, when given).
    pub hash: String,
    /// The fields the hash covers; all of the record's when `None`.
    pub fields: Option<Vec<String>>,
}

/// A recorded baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The hash.
    pub hash: String,
    /// The fields it covers; all when `None`.
    pub fields: Option<Vec<String>>,
}

/// A key as the store's upserts key it ([`scalar_key`]); `None` for a missing, null or
/// structured key.
pub fn key_text(record: &Value, field: &str) -> Option<String> {
    scalar_key(record.get_key(field)?)
}

/// The hash of `record`, or of only `fields` of it (a missing one as null, in the order
/// given): SHA-256 of its JSON, hex.
pub fn hash_of(record: &Value, fields: Option<&[String]>) -> String {
    let json = match fields {
        None => record.to_json(),
        Some(fields) => {
            let projected: Vec<String> = fields
                .iter()
                .map(|f| {
                    let value = record.get_key(f).cloned().unwrap_or(Value::Null);
                    format!(
                        "{}:{}",
                        serde_json::to_string(f).unwrap_or_default(),
                        value.to_json()
                    )
                })
                .collect();
            format!("{{{}}}", projected.join(","))
        }
    };
    crate::hex(&Sha256::digest(json.as_bytes()))
}

/// The fields of a record, in order.
pub fn fields_of(record: &Value) -> Option<Vec<String>> {
    match record {
        Value::Object(map) => Some(map.keys().map(|k| k.to_string()).collect()),
        _ => None,
    }
}

/// Which way a run of a bidirectional connector goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Way {
    /// From the inbound system into the stored object.
    In,
    /// From the stored object back to the inbound system; keyed there by this field (the
    /// `[reverse] primary_key`).
    Back {
        /// The reverse primary key.
        external_key: String,
    },
}

/// What a run of one way of a bidirectional connector skips, and what it records.
#[derive(Debug, Clone)]
pub struct EchoFilter {
    /// The bidirectional connector.
    pub owner: Arc<str>,
    /// Which way the run goes.
    pub way: Way,
    /// The field that keys the records read.
    pub key_field: String,
    /// The baselines of the side read, by key.
    pub baselines: HashMap<String, Baseline>,
    /// Keys not to send back while a conflict about them waits for review.
    pub held: HashSet<String>,
}

/// What the filter makes of a record read.
#[derive(Debug, PartialEq)]
pub enum Seen {
    /// It matches its baseline: nothing changed on that side since the sides agreed.
    Unchanged,
    /// Its key waits for a review: not sent back yet.
    Held,
    /// A change, with the baseline to record for the side it was read from.
    Changed(Option<BaselineWrite>),
}

impl EchoFilter {
    /// The side whose records the run reads.
    fn side(&self) -> &'static str {
        match self.way {
            Way::In => INBOUND,
            Way::Back { .. } => OUTBOUND,
        }
    }

    /// Looks at a record read from the run's source.
    pub fn see(&self, record: &Value) -> Seen {
        let Some(key) = key_text(record, &self.key_field) else {
            return Seen::Changed(None);
        };
        if self.held.contains(&key) {
            return Seen::Held;
        }
        let baseline = self.baselines.get(&key);
        let fields = baseline.and_then(|b| b.fields.clone());
        let hash = hash_of(record, fields.as_deref());
        if baseline.is_some_and(|b| b.hash == hash) {
            return Seen::Unchanged;
        }
        let write = match self.way {
            // The way in records what it read only where a baseline exists (the way back
            // made one): later reads compare against the newest state.
            Way::In => baseline.map(|_| BaselineWrite {
                owner: self.owner.clone(),
                side: INBOUND,
                key,
                hash,
                fields,
            }),
            Way::Back { .. } => Some(BaselineWrite {
                owner: self.owner.clone(),
                side: self.side(),
                key,
                hash,
                fields: None,
            }),
        };
        Seen::Changed(write)
    }

    /// The baseline of a record the way back writes to the inbound system (its own fields).
    pub fn written_back(&self, mapped: &Value) -> Option<BaselineWrite> {
        let Way::Back { external_key } = &self.way else {
            return None;
        };
        let fields = fields_of(mapped)?;
        Some(BaselineWrite {
            owner: self.owner.clone(),
            side: INBOUND,
            key: key_text(mapped, external_key)?,
            hash: hash_of(mapped, Some(&fields)),
            fields: Some(fields),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(json: &str) -> Value {
        crate::value::parse_record(json).unwrap()
    }

    #[test]
    fn a_record_read_back_with_extra_fields_is_still_the_echo_of_what_was_written() {
        let filter = EchoFilter {
            owner: Arc::from("c"),
            way: Way::Back {
                external_key: "CardCode".into(),
            },
            key_field: "erp_id".into(),
            baselines: HashMap::new(),
            held: HashSet::new(),
        };
        let written = filter
            .written_back(&record(r#"{"CardCode":"C1","CardName":"Acme"}"#))
            .unwrap();
        let way_in = EchoFilter {
            way: Way::In,
            key_field: "CardCode".into(),
            baselines: HashMap::from([(
                written.key.clone(),
                Baseline {
                    hash: written.hash.clone(),
                    fields: written.fields.clone(),
                },
            )]),
            ..filter
        };
        let echo = record(r#"{"CardName":"Acme","UpdateDate":"2026-01-01","CardCode":"C1"}"#);
        assert_eq!(way_in.see(&echo), Seen::Unchanged);
        let changed = record(r#"{"CardCode":"C1","CardName":"Acme AG"}"#);
        assert!(matches!(way_in.see(&changed), Seen::Changed(Some(w)) if w.side == INBOUND));
        let other = record(r#"{"CardCode":"C2","CardName":"Acme"}"#);
        assert_eq!(way_in.see(&other), Seen::Changed(None));
    }
}
