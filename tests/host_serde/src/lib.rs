//! A host crate that embeds Sluice and deserializes its own types with `serde_json`. Cargo
//! unifies features across a build, so a feature Sluice switched on for `serde_json`
//! (`arbitrary_precision`, `preserve_order`) would change how this crate's types read: an
//! untagged enum with an `f64` and a flattened map of `f64` stop deserializing, and map keys
//! come out in insertion order instead of sorted. The tests here fail if that happens.

use std::collections::HashMap;

/// A measurement as a host might model it.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum Reading {
    /// A bare number.
    Plain(f64),
    /// A labelled number.
    Labelled {
        /// The label.
        label: String,
        /// The value.
        value: f64,
    },
}

/// A record with extra numeric fields.
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Sensor {
    /// Its name.
    pub name: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: HashMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_enums_and_flattened_maps_of_floats_deserialize() {
        let plain: Reading = serde_json::from_str("1.5").unwrap();
        assert_eq!(plain, Reading::Plain(1.5));
        let labelled: Reading = serde_json::from_str(r#"{"label": "t", "value": 2.25}"#).unwrap();
        assert_eq!(
            labelled,
            Reading::Labelled {
                label: "t".into(),
                value: 2.25
            }
        );
        let sensor: Sensor = serde_json::from_str(r#"{"name": "s", "t": 20.5, "h": 0.4}"#).unwrap();
        assert_eq!(sensor.extra.get("t"), Some(&20.5));
    }

    #[test]
    fn maps_keep_serde_jsons_default_key_order_and_number_form() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
        assert_eq!(v.to_string(), r#"{"a":2,"b":1}"#);
        let n: serde_json::Value = serde_json::from_str("1.10").unwrap();
        assert_eq!(n.to_string(), "1.1");
    }

    #[test]
    fn sluice_keeps_its_own_numbers_exact_and_fields_in_order_meanwhile() {
        let v = sluice::Value::parse_json(r#"{"b": 1.10, "a": 12345678901234567890.123}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"b":1.10,"a":12345678901234567890.123}"#);
    }
}
