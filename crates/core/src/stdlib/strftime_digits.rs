//! The strftime patterns mapping authors write most (`%Y-%m-%d`, `%d.%m.%Y %H:%M:%S`):
//! zero-padded numbers of the date and time between literals, written digit by digit.
//! chrono's formatter gives the same text, but renders the value's UTC offset as text for
//! every value whether the pattern shows it or not, and writes through `fmt::write`: about
//! 3 000 instructions a date against a few dozen here.

use chrono::format::{Item, Numeric, Pad};
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use crate::value::{Text, TextBuilder};

/// `items` written for a date and, when there is one, a time of day, exactly as chrono's
/// `format_with_items` writes them; `None` (chrono decides, and words any error) when an
/// item is not a literal or a zero-padded year (1000–9999), month, day, hour, minute or
/// second, or asks for the time of a date.
pub fn plain_numbers(items: &[Item<'_>], date: NaiveDate, time: Option<NaiveTime>) -> Option<Text> {
    // a text of up to 23 bytes (any date, or date and time, of these patterns) stays inline
    let mut out = TextBuilder::new();
    for item in items {
        match item {
            Item::Literal(text) | Item::Space(text) => out.push_str(text),
            Item::OwnedLiteral(text) | Item::OwnedSpace(text) => out.push_str(text),
            Item::Numeric(numeric, Pad::Zero) => {
                let value = match (numeric, time) {
                    (Numeric::Year, _) => {
                        let year = u32::try_from(date.year())
                            .ok()
                            .filter(|y| (1000..=9999).contains(y))?;
                        two_digits(&mut out, year / 100);
                        year % 100
                    }
                    (Numeric::Month, _) => date.month(),
                    (Numeric::Day, _) => date.day(),
                    (Numeric::Hour, Some(t)) => t.hour(),
                    (Numeric::Minute, Some(t)) => t.minute(),
                    // a leap second shows as 60, as chrono writes it
                    (Numeric::Second, Some(t)) => t.second() + t.nanosecond() / 1_000_000_000,
                    _ => return None,
                };
                two_digits(&mut out, value);
            }
            _ => return None,
        }
    }
    Some(out.finish())
}

/// `n` (below 100) as two digits.
fn two_digits(out: &mut TextBuilder, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::plain_numbers;
    use chrono::format::StrftimeItems;
    use chrono::{NaiveDate, NaiveDateTime};

    /// Every pattern gives chrono's text, or is left to chrono.
    #[test]
    fn plain_numbers_write_what_chrono_writes() {
        let patterns = [
            "%Y-%m-%d",
            "%d.%m.%Y %H:%M:%S",
            "%Y%m%dT%H%M%S",
            "%H:%M",
            "day %d of %m, %Y",
            "%%Y",
            "%Y-%m-%d %Z",
            "%b %d",
            "%-d.%-m.%Y",
            "%e",
            "%y",
        ];
        let moments = [
            "2024-05-01T07:08:09",
            "1999-12-31T23:59:59",
            "0999-01-01T00:00:00",
            "2016-12-31T23:59:60",
        ];
        for pattern in patterns {
            let items: Vec<_> = StrftimeItems::new(pattern).collect();
            for moment in moments {
                let Some(local) = NaiveDateTime::parse_from_str(moment, "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .or_else(|| {
                        NaiveDate::from_ymd_opt(2016, 12, 31)
                            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
                    })
                else {
                    continue;
                };
                if let Some(ours) = plain_numbers(&items, local.date(), Some(local.time())) {
                    let chrono = local.format_with_items(items.iter()).to_string();
                    assert_eq!(ours, chrono, "{pattern} at {moment}");
                }
                // a date alone: only patterns without a time of day are written here
                let date = local.date();
                if let Some(ours) = plain_numbers(&items, date, None) {
                    let chrono = date.format_with_items(items.iter()).to_string();
                    assert_eq!(ours, chrono, "{pattern} on {date}");
                }
            }
        }
        // the common patterns are written here, not left to chrono
        let date = NaiveDate::from_ymd_opt(2024, 5, 1);
        let written = |pattern: &str| {
            let items: Vec<_> = StrftimeItems::new(pattern).collect();
            let moment = date.and_then(|d| d.and_hms_opt(7, 8, 9))?;
            plain_numbers(&items, moment.date(), Some(moment.time()))
        };
        assert_eq!(written("%Y-%m-%d").as_deref(), Some("2024-05-01"));
        assert_eq!(
            written("%d.%m.%Y %H:%M:%S").as_deref(),
            Some("01.05.2024 07:08:09")
        );
        assert_eq!(written("%b %d"), None);
    }
}
