//! Input values against the declared schema of the inbound object: a value of its declared
//! type passes; ISO 8601 text in a `date` or `datetime` field is read as that type; any
//! other mismatch is an error (E511) that sends the record to the dead letters, so that a
//! typed formula never silently reads null.

use chrono_tz::Tz;

use super::source::ReadError;
use crate::diagnostics::codes;
use crate::stdlib::dates::{localize, parse_iso, When};
use crate::value::TypeSet;
use crate::value::Value;

/// Makes `value` of field `field` conform to `declared`, converting ISO 8601 text to a
/// date or datetime where the field is declared so.
pub fn conform(field: &str, declared: TypeSet, value: &mut Value, tz: Tz) -> Result<(), ReadError> {
    if value.is_null() || declared.contains(value.kind()) {
        return Ok(());
    }
    let wants_date = declared.contains(TypeSet::DATE);
    let wants_datetime = declared.contains(TypeSet::DATETIME);
    if let Value::String(text) = &*value {
        let parsed = match parse_iso(text, tz) {
            Some(When::Date(d)) if wants_date => Some(Value::Date(d)),
            Some(When::Date(d)) if wants_datetime => Some(Value::DateTime(localize(
                d.and_time(chrono::NaiveTime::MIN),
                tz,
            ))),
            Some(When::DateTime(dt)) if wants_datetime => Some(Value::DateTime(dt)),
            _ => None,
        };
        if let Some(v) = parsed {
            *value = v;
            return Ok(());
        }
    }
    let mut shown = value.to_json();
    if shown.len() > 40 {
        let cut = (0..=40)
            .rev()
            .find(|i| shown.is_char_boundary(*i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    Err(ReadError::new(
        codes::E511_SCHEMA_MISMATCH,
        format!(
            "field `{field}` is declared {declared}, found {} {shown}",
            value.type_name()
        ),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_in_a_number_field_is_an_error_not_null() {
        let mut v = Value::str("101");
        let e = conform("ItemsGroupCode", TypeSet::NUMBER, &mut v, Tz::UTC).unwrap_err();
        assert_eq!(e.code, codes::E511_SCHEMA_MISMATCH);
        assert!(
            e.message.contains("declared number, found string \"101\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn iso_text_in_date_fields_is_read_as_dates() {
        let mut d = Value::str("2024-05-01");
        conform("d", TypeSet::DATE, &mut d, Tz::UTC).unwrap();
        assert_eq!(d.type_name(), "date");
        let mut dt = Value::str("2024-05-01");
        conform("t", TypeSet::DATETIME, &mut dt, Tz::Europe__Berlin).unwrap();
        assert_eq!(dt.to_json(), "\"2024-05-01T00:00:00+02:00\"");
        let mut bad = Value::str("2024-05-01T10:00:00Z");
        assert!(conform("d", TypeSet::DATE, &mut bad, Tz::UTC).is_err());
    }

    #[test]
    fn null_and_matching_values_pass() {
        let mut n = Value::Null;
        conform("x", TypeSet::NUMBER, &mut n, Tz::UTC).unwrap();
        let mut s = Value::str("a");
        conform("x", TypeSet::STRING, &mut s, Tz::UTC).unwrap();
        assert_eq!(s, Value::str("a"));
    }
}
