//! The ISO 8601 texts records carry most (`2024-05-01`, `2024-05-01T10:30:00Z`,
//! `2024-05-01T10:30:00.250+02:00`), read byte by byte. chrono reads them to the same
//! values, but through its general parsers: `%Y-%m-%d` compiles its format on every call,
//! and RFC 3339 builds a `Parsed` first. Any other form, or a value out of range, is left to
//! chrono (`None` here), so what chrono accepts or refuses stays as it was.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// `YYYY-MM-DD`, exactly.
pub fn plain_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (number(b, 0, 4)?, number(b, 5, 2)?, number(b, 8, 2)?);
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// `YYYY-MM-DDTHH:MM:SS`, with up to nine places of a second after a `.`, then `Z` or an
/// offset `±HH:MM` below 24 hours: as chrono's RFC 3339 parser reads it. A leap second,
/// a `t` or space between date and time, more places, or an offset of another shape are
/// left to chrono.
pub fn plain_instant(text: &str) -> Option<DateTime<FixedOffset>> {
    let b = text.as_bytes();
    if b.len() < 20
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let date = plain_date(text.get(..10)?)?;
    let (hour, minute, second) = (number(b, 11, 2)?, number(b, 14, 2)?, number(b, 17, 2)?);
    if second > 59 {
        return None;
    }
    let (nanos, rest) = match b.get(19) {
        Some(b'.') => {
            let places = b
                .get(20..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if !(1..=9).contains(&places) {
                return None;
            }
            let digits = number(b, 20, places)?;
            let scale = 10u32.checked_pow(u32::try_from(9 - places).ok()?)?;
            (digits.checked_mul(scale)?, b.get(20 + places..)?)
        }
        _ => (0, b.get(19..)?),
    };
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hours, minutes) = (number(rest, 1, 2)?, number(rest, 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&local)
        .single()
}

/// The decimal number of the `len` ASCII digits at `at`.
fn number(b: &[u8], at: usize, len: usize) -> Option<u32> {
    b.get(at..at + len)?.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::{plain_date, plain_instant};
    use chrono::{DateTime, NaiveDate};

    /// Every text of the shapes read here, in range and out of it, with its near misses:
    /// what is read here is what chrono reads.
    #[test]
    fn iso_texts_read_here_are_what_chrono_reads() {
        let mut read = 0;
        for year in ["0000", "1999", "2024", "9999", "20x4"] {
            for month in ["00", "01", "02", "12", "13"] {
                for day in ["00", "01", "28", "29", "30", "31", "32"] {
                    let date = format!("{year}-{month}-{day}");
                    let chrono = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok();
                    if let Some(ours) = plain_date(&date) {
                        assert_eq!(Some(ours), chrono, "{date}");
                        read += 1;
                    }
                    for time in [
                        "00:00:00", "23:59:59", "24:00:00", "10:60:00", "10:30:60", "1:30:00",
                    ] {
                        for fraction in ["", ".5", ".123456789", ".1234567891", "."] {
                            for offset in [
                                "Z", "z", "+00:00", "-23:59", "+24:00", "+05:60", "+0200", "",
                                "+02:00x",
                            ] {
                                for separator in ['T', 't', ' '] {
                                    let text = format!("{date}{separator}{time}{fraction}{offset}");
                                    let chrono = DateTime::parse_from_rfc3339(&text).ok();
                                    if let Some(ours) = plain_instant(&text) {
                                        // the same instant, and the same offset with it
                                        let same = chrono.is_some_and(|c| {
                                            c == ours && c.offset() == ours.offset()
                                        });
                                        assert!(same, "{text}: {ours:?}, chrono {chrono:?}");
                                        read += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // the common shapes are read here, not all left to chrono
        assert!(read > 500, "{read}");
        for near_miss in [
            "2024-1-02",
            "2024-01-2",
            "+2024-01-02",
            " 2024-01-02",
            "2024/01/02",
            "",
        ] {
            assert_eq!(plain_date(near_miss), None, "{near_miss}");
        }
        assert!(plain_instant("2024-05-01T10:30:00.250+02:00").is_some());
        assert!(plain_instant("2024-05-01T10:30:00Z").is_some());
    }
}
