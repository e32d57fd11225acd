//! Watermarks of incremental syncs: the highest value of a field (an update time, a change
//! number) among the records read, and where the next run starts from it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};

use crate::value::Value;

/// A watermark field's value as text: text, a number, a date or an instant; none for null
/// and anything else.
pub fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        Value::DateTime(d) => Some(d.to_rfc3339()),
        _ => None,
    }
}

/// A watermark as it orders: instants and dates by time, numbers by value, other text by
/// its characters.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Time(chrono::NaiveDateTime),
    Number(rust_decimal::Decimal),
    Text(String),
}

fn key(text: &str) -> Key {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Key::Time(at.naive_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Key::Time(date.and_time(chrono::NaiveTime::MIN));
    }
    match text.parse() {
        Ok(n) => Key::Number(n),
        Err(_) => Key::Text(text.to_string()),
    }
}

/// Whether `candidate` is later than `current` (anything is later than none).
pub fn later(candidate: &str, current: Option<&str>) -> bool {
    current.is_none_or(|c| key(candidate) > key(c))
}

/// Where a run after one that reached `high` starts: `overlap` earlier for instants, the
/// whole days of `overlap` earlier for dates (a filter `ge` a date already reads that day
/// again), the same for anything else.
pub fn minus(high: &str, overlap: Duration) -> String {
    let Ok(overlap) = chrono::Duration::from_std(overlap) else {
        return high.to_string();
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(high) {
        return (at - overlap).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    }
    if let Ok(date) = NaiveDate::parse_from_str(high, "%Y-%m-%d") {
        return (date - chrono::Duration::days(overlap.num_days()))
            .format("%Y-%m-%d")
            .to_string();
    }
    high.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_compare_by_time_not_by_text() {
        assert!(later(
            "2024-05-01T12:00:00+00:00",
            Some("2024-05-01T13:00:00+02:00")
        ));
        assert!(!later("2024-04-30", Some("2024-05-01T00:00:00Z")));
        assert!(later("10", Some("9")));
        assert!(later("b", Some("a")));
        assert!(later("x", None));
    }

    #[test]
    fn overlap_goes_back_in_time_or_whole_days() {
        assert_eq!(
            minus("2024-05-01T12:00:00Z", Duration::from_secs(300)),
            "2024-05-01T11:55:00Z"
        );
        assert_eq!(
            minus("2024-05-03", Duration::from_secs(86_400 * 2)),
            "2024-05-01"
        );
        assert_eq!(minus("2024-05-03", Duration::from_secs(300)), "2024-05-03");
        assert_eq!(minus("417", Duration::from_secs(300)), "417");
    }
}
