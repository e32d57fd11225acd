//! Excel's format codes, as `text(value, pattern)` and `formatdate` read a pattern without
//! `%` (one with `%` is strftime): for numbers `0 # ?` digit placeholders, `,` grouping and
//! scaling, `.`, `%`, `E+00` scientific, up to three sections `positive;negative;zero`; for
//! dates `yyyy yy mmmm mmm mm m dddd ddd dd d hh h mm m ss s AM/PM A/P`. Literal text goes
//! in double quotes or after `\`; `$ - + ( ) : / , . space` and letters that are not codes
//! stand for themselves in a number pattern. An element Sluice does not know is an error,
//! never skipped.

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `0`, `#` or `?`.
    Digit(char),
    /// The decimal point.
    Point,
    /// `,`: grouping between digits, scaling by 1 000 after them.
    Comma,
    /// `%`: × 100, shown.
    Percent,
    /// `E+00`: scientific notation, with the sign always (`+`) or only when negative.
    Exp {
        upper: bool,
        always_sign: bool,
        digits: usize,
    },
    /// Text shown as it is.
    Lit(String),
    /// A date or time code (lowercased, `ampm`/`ap` for AM/PM and A/P, `m` resolved to
    /// `min` when it is a minute).
    Date(String),
    /// `.0`, `.00`, `.000` after seconds: fractions of a second.
    Fraction(usize),
}

/// Why a pattern cannot be used.
pub type PatternError = String;

/// Splits `pattern` into sections at `;` outside quotes and escapes.
fn sections(pattern: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = pattern.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let current = out.last_mut();
        let Some(current) = current else { break };
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '\\' if !quoted => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ';' if !quoted => out.push(String::new()),
            _ => current.push(c),
        }
    }
    out
}

/// The elements of one section, read as a number pattern.
fn number_tokens(section: &str) -> Result<Vec<Tok>, PatternError> {
    let chars: Vec<char> = section.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '0' | '#' | '?' => toks.push(Tok::Digit(c)),
            '.' if !toks.contains(&Tok::Point) => toks.push(Tok::Point),
            ',' => toks.push(Tok::Comma),
            '%' => toks.push(Tok::Percent),
            'E' | 'e' if matches!(chars.get(i), Some('+' | '-')) => {
                let always_sign = chars.get(i) == Some(&'+');
                i += 1;
                let mut digits = 0;
                while matches!(chars.get(i), Some('0' | '#')) {
                    digits += 1;
                    i += 1;
                }
                if digits == 0 {
                    return Err("`E+` needs exponent digits after it, as in `0.00E+00`".into());
                }
                toks.push(Tok::Exp {
                    upper: c == 'E',
                    always_sign,
                    digits,
                });
            }
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.get(i) {
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(&q) => {
                            text.push(q);
                            i += 1;
                        }
                        None => return Err("a quoted text in the pattern is not closed".into()),
                    }
                }
                toks.push(Tok::Lit(text));
            }
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    toks.push(Tok::Lit(next.to_string()));
                }
                None => return Err("the pattern ends with a lone `\\`".into()),
            },
            '_' => {
                // `_x`: a space as wide as x.
                i += 1;
                toks.push(Tok::Lit(" ".into()));
            }
            '*' => {
                // `*x`: fill the cell with x; a text has no cell width to fill.
                i += 1;
            }
            '[' => {
                let end = chars
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|c| *c == ']'));
                let inner: String = match end {
                    Some(end) => chars.get(i..i + end).unwrap_or_default().iter().collect(),
                    None => return Err("a `[` in the pattern is not closed".into()),
                };
                i += end.unwrap_or(0) + 1;
                if !COLORS.contains(&inner.to_ascii_lowercase().as_str()) {
                    return Err(format!(
                        "`[{inner}]` is not supported: only colors such as [Red] (ignored in text); \
                         write conditions with if()"
                    ));
                }
            }
            '@' => {
                return Err(
                    "`@` (the text section) is not supported: text is shown as it is".into(),
                )
            }
            c if c.is_alphabetic() || " $-+():/!^&'~{}<>=€£¥".contains(c) => {
                toks.push(Tok::Lit(c.to_string()))
            }
            c => {
                return Err(format!(
                    "`{c}` is not an element of a number pattern; put literal text in double quotes"
                ))
            }
        }
    }
    Ok(toks)
}

const COLORS: &[&str] = &[
    "black", "blue", "cyan", "green", "magenta", "red", "white", "yellow",
];

/// Checks a pattern without a value: a number pattern, or a date pattern, or neither.
pub fn check(pattern: &str) -> Result<(), PatternError> {
    if pattern.contains('%') && date_tokens(pattern).is_err() && number_check(pattern).is_err() {
        // strftime: checked where it is used
        return Ok(());
    }
    match (number_check(pattern), date_tokens(pattern)) {
        (Ok(_), _) | (_, Ok(_)) => Ok(()),
        (Err(number), Err(date)) => Err(format!(
            "'{pattern}' is neither a number pattern ({number}) nor a date pattern ({date})"
        )),
    }
}

/// Checks a number pattern: at most three sections, each made of known elements, and a
/// digit placeholder in at least one of them.
fn number_check(pattern: &str) -> Result<Vec<String>, PatternError> {
    let sections = sections(pattern);
    if sections.len() > 3 {
        return Err("at most three sections: positive;negative;zero".into());
    }
    let mut digits = false;
    for s in &sections {
        digits |= number_tokens(s)?.iter().any(|t| matches!(t, Tok::Digit(_)));
    }
    if !digits {
        return Err("it has no digit placeholder (0, # or ?)".into());
    }
    Ok(sections)
}

/// `x` by a number pattern.
pub fn format_number(x: Decimal, pattern: &str) -> Result<String, PatternError> {
    let sections = number_check(pattern)?;
    let (section, signed) = match (sections.as_slice(), x.is_sign_negative() && !x.is_zero()) {
        ([_, _, zero], _) if x.is_zero() => (zero, false),
        ([_, negative, ..], true) => (negative, false),
        ([only], negative) => (only, negative),
        ([positive, ..], _) => (positive, false),
        ([], _) => return Ok(String::new()),
    };
    let toks = number_tokens(section)?;
    let (body, rounded_zero) = format_section(x.abs(), &toks)?;
    let minus = if signed && !rounded_zero { "-" } else { "" };
    Ok(format!("{minus}{body}"))
}

/// One section over a non-negative value: the text, and whether the value shown is zero.
fn format_section(x: Decimal, toks: &[Tok]) -> Result<(String, bool), PatternError> {
    let exp_at = toks.iter().position(|t| matches!(t, Tok::Exp { .. }));
    let mantissa_toks = toks.get(..exp_at.unwrap_or(toks.len())).unwrap_or_default();
    let point = mantissa_toks.iter().position(|t| *t == Tok::Point);
    let int_toks = mantissa_toks
        .get(..point.unwrap_or(mantissa_toks.len()))
        .unwrap_or_default();
    let frac_toks = point
        .and_then(|p| mantissa_toks.get(p + 1..))
        .unwrap_or_default();
    if !toks.iter().any(|t| matches!(t, Tok::Digit(_))) {
        // no digits at all: the literal text
        return Ok((literal_text(toks), x.is_zero()));
    }
    // A comma between integer digits groups thousands; each comma after the last digit
    // of the number (before or after the point) divides by 1 000.
    let first_int_digit = int_toks.iter().position(|t| matches!(t, Tok::Digit(_)));
    let last_int_digit = int_toks.iter().rposition(|t| matches!(t, Tok::Digit(_)));
    let last_digit = mantissa_toks
        .iter()
        .rposition(|t| matches!(t, Tok::Digit(_)));
    let grouping = int_toks.iter().enumerate().any(|(i, t)| {
        *t == Tok::Comma
            && first_int_digit.is_some_and(|f| i > f)
            && last_int_digit.is_some_and(|l| i < l)
    });
    let scale = mantissa_toks
        .iter()
        .enumerate()
        .filter(|(i, t)| **t == Tok::Comma && last_digit.is_some_and(|l| *i > l))
        .count();
    let scale = u32::try_from(scale).unwrap_or(u32::MAX);
    let percents = toks.iter().filter(|t| **t == Tok::Percent).count();
    let mut value = x;
    for _ in 0..percents {
        value = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or("the number is too large for this pattern")?;
    }
    for _ in 0..scale {
        value /= Decimal::ONE_THOUSAND;
    }
    let frac_places = frac_toks
        .iter()
        .filter(|t| matches!(t, Tok::Digit(_)))
        .count();
    let frac_places = u32::try_from(frac_places.min(28)).unwrap_or(28);
    let mut exponent_text = String::new();
    if let Some(Tok::Exp {
        upper,
        always_sign,
        digits,
    }) = exp_at.and_then(|e| toks.get(e))
    {
        let int_places = int_toks
            .iter()
            .filter(|t| matches!(t, Tok::Digit(_)))
            .count()
            .max(1) as i64;
        let mut e = if value.is_zero() { 0 } else { magnitude(value) };
        // with several integer placeholders the exponent is a multiple of their count
        // (##0.0E+0 is engineering notation)
        if int_places > 1 {
            e = e.div_euclid(int_places) * int_places;
        }
        let mut mantissa = shift(value, -e);
        mantissa =
            mantissa.round_dp_with_strategy(frac_places, RoundingStrategy::MidpointAwayFromZero);
        if int_places == 1 && mantissa >= Decimal::TEN {
            e += 1;
            mantissa = shift(value, -e)
                .round_dp_with_strategy(frac_places, RoundingStrategy::MidpointAwayFromZero);
        }
        value = mantissa;
        let sign = match (e < 0, always_sign) {
            (true, _) => "-",
            (false, true) => "+",
            (false, false) => "",
        };
        let e_letter = if *upper { 'E' } else { 'e' };
        exponent_text = format!("{e_letter}{sign}{:0>width$}", e.abs(), width = *digits);
    }
    let rounded = value.round_dp_with_strategy(frac_places, RoundingStrategy::MidpointAwayFromZero);
    let mut fixed = rounded;
    fixed.rescale(frac_places);
    let text = fixed.to_string();
    let (int_digits, frac_digits) = text.split_once('.').unwrap_or((&text, ""));
    let int_digits = if int_digits == "0" { "" } else { int_digits };
    let mut out = fill_integer(int_toks, int_digits, grouping);
    if point.is_some() {
        out.push('.');
        out.push_str(&fill_fraction(frac_toks, frac_digits));
    }
    for t in toks.get(mantissa_toks.len()..).unwrap_or_default() {
        match t {
            Tok::Exp { .. } => out.push_str(&exponent_text),
            Tok::Lit(s) => out.push_str(s),
            Tok::Percent => out.push('%'),
            _ => {}
        }
    }
    Ok((out, rounded.is_zero()))
}

/// The literal text of a section without digits.
fn literal_text(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(s) => s.clone(),
            Tok::Percent => "%".into(),
            Tok::Point => ".".into(),
            Tok::Comma => ",".into(),
            _ => String::new(),
        })
        .collect()
}

/// The decimal exponent of a positive number (`1234` → 3, `0.05` → -2).
fn magnitude(x: Decimal) -> i64 {
    let digits = x.mantissa().unsigned_abs().to_string().len() as i64;
    digits - 1 - i64::from(x.scale())
}

/// `x` × 10^`by`.
fn shift(x: Decimal, by: i64) -> Decimal {
    let mut out = x;
    if by >= 0 {
        for _ in 0..by {
            out = out.checked_mul(Decimal::TEN).unwrap_or(out);
        }
    } else {
        for _ in 0..-by {
            out /= Decimal::TEN;
        }
    }
    out
}

/// The integer part: digits right to left into the placeholders, the rest into the
/// leftmost one, literals where they stand.
fn fill_integer(toks: &[Tok], digits: &str, grouping: bool) -> String {
    let digits: Vec<char> = digits.chars().collect();
    let first_digit = toks.iter().position(|t| matches!(t, Tok::Digit(_)));
    let mut next = digits.len();
    let mut emitted = 0usize;
    let mut out: Vec<char> = Vec::new();
    let push_digit = |out: &mut Vec<char>, d: char, emitted: &mut usize| {
        if grouping && *emitted > 0 && (*emitted).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
        *emitted += 1;
    };
    for (i, t) in toks.iter().enumerate().rev() {
        match t {
            Tok::Digit(kind) => {
                if next > 0 {
                    next -= 1;
                    push_digit(
                        &mut out,
                        digits.get(next).copied().unwrap_or('0'),
                        &mut emitted,
                    );
                } else if *kind == '0' {
                    push_digit(&mut out, '0', &mut emitted);
                } else if *kind == '?' {
                    out.push(' ');
                }
                if Some(i) == first_digit {
                    while next > 0 {
                        next -= 1;
                        push_digit(
                            &mut out,
                            digits.get(next).copied().unwrap_or('0'),
                            &mut emitted,
                        );
                    }
                }
            }
            Tok::Lit(s) => out.extend(s.chars().rev()),
            Tok::Percent => out.push('%'),
            _ => {}
        }
    }
    out.iter().rev().collect()
}

/// The fraction: digits left to right; trailing zeros dropped where the placeholder is `#`
/// and turned into spaces where it is `?`.
fn fill_fraction(toks: &[Tok], digits: &str) -> String {
    let digits: Vec<char> = digits.chars().collect();
    let kinds: Vec<char> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Digit(k) => Some(*k),
            _ => None,
        })
        .collect();
    let mut keep = digits.len();
    while keep > 0
        && digits.get(keep - 1) == Some(&'0')
        && matches!(kinds.get(keep - 1), Some('#' | '?'))
    {
        keep -= 1;
    }
    let mut out = String::new();
    let mut d = 0;
    for t in toks {
        match t {
            Tok::Digit(kind) => {
                if d < keep {
                    out.push(digits.get(d).copied().unwrap_or('0'));
                } else if *kind == '?' {
                    out.push(' ');
                }
                d += 1;
            }
            Tok::Lit(s) => out.push_str(s),
            Tok::Percent => out.push('%'),
            _ => {}
        }
    }
    out
}

/// The elements of a date pattern.
fn date_tokens(pattern: &str) -> Result<Vec<Tok>, PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    let mut any_code = false;
    while let Some(&c) = chars.get(i) {
        let lower = c.to_ascii_lowercase();
        let rest: String = chars.get(i..).unwrap_or_default().iter().collect();
        let upper_rest = rest.to_ascii_uppercase();
        if upper_rest.starts_with("AM/PM") {
            toks.push(Tok::Date("ampm".into()));
            i += 5;
            any_code = true;
            continue;
        }
        if upper_rest.starts_with("A/P") {
            toks.push(Tok::Date("ap".into()));
            i += 3;
            any_code = true;
            continue;
        }
        match lower {
            'y' | 'm' | 'd' | 'h' | 's' => {
                let run = chars
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|x| x.to_ascii_lowercase() == lower)
                    .count();
                i += run;
                any_code = true;
                toks.push(Tok::Date(std::iter::repeat_n(lower, run).collect()));
            }
            '.' if matches!(toks.last(), Some(Tok::Date(s)) if s.starts_with('s'))
                && chars.get(i + 1) == Some(&'0') =>
            {
                let zeros = chars
                    .get(i + 1..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|x| **x == '0')
                    .count();
                i += 1 + zeros;
                toks.push(Tok::Fraction(zeros.min(9)));
            }
            '"' => {
                let close = chars
                    .get(i + 1..)
                    .and_then(|rest| rest.iter().position(|x| *x == '"'))
                    .ok_or("a quoted text in the pattern is not closed")?;
                let text: String = chars
                    .get(i + 1..i + 1 + close)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                toks.push(Tok::Lit(text));
                i += close + 2;
            }
            '\\' => {
                let next = chars
                    .get(i + 1)
                    .ok_or("the pattern ends with a lone `\\`")?;
                toks.push(Tok::Lit(next.to_string()));
                i += 2;
            }
            c if " -/:.,()+_'".contains(c) || !c.is_ascii() => {
                toks.push(Tok::Lit(c.to_string()));
                i += 1;
            }
            _ => {
                return Err(format!(
                "`{c}` is not a date code (yyyy yy mmmm mmm mm m dddd ddd dd d hh h mm ss AM/PM); \
                     put literal text in double quotes: \"{c}\""
            ))
            }
        }
    }
    if !any_code {
        return Err("it has no date or time code".into());
    }
    // `m` and `mm` are minutes after an hour or before a second.
    let codes: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, Tok::Date(_)))
        .map(|(i, _)| i)
        .collect();
    for (n, at) in codes.iter().enumerate() {
        let is_minute = |toks: &[Tok]| {
            let before = n
                .checked_sub(1)
                .and_then(|p| codes.get(p))
                .and_then(|p| toks.get(*p));
            let after = codes.get(n + 1).and_then(|p| toks.get(*p));
            matches!(before, Some(Tok::Date(s)) if s.starts_with('h'))
                || matches!(after, Some(Tok::Date(s)) if s.starts_with('s'))
        };
        if matches!(toks.get(*at), Some(Tok::Date(s)) if s == "m" || s == "mm") && is_minute(&toks)
        {
            if let Some(Tok::Date(s)) = toks.get_mut(*at) {
                *s = if s.len() == 1 {
                    "min".into()
                } else {
                    "mmin".into()
                };
            }
        }
    }
    for t in &toks {
        if let Tok::Date(s) = t {
            let known = matches!(
                s.as_str(),
                "y" | "yy"
                    | "yyy"
                    | "yyyy"
                    | "m"
                    | "mm"
                    | "mmm"
                    | "mmmm"
                    | "mmmmm"
                    | "min"
                    | "mmin"
                    | "d"
                    | "dd"
                    | "ddd"
                    | "dddd"
                    | "h"
                    | "hh"
                    | "s"
                    | "ss"
                    | "ampm"
                    | "ap"
            );
            if !known {
                return Err(format!("`{s}` is not a date code"));
            }
        }
    }
    Ok(toks)
}

/// A date pattern read once (`formatdate` keeps it for later records): its elements, and
/// whether hours are shown on a twelve-hour clock.
#[derive(Debug)]
pub struct DatePattern {
    toks: Vec<Tok>,
    twelve: bool,
}

impl DatePattern {
    /// Reads a date pattern (`dd.mm.yyyy`, `h:mm AM/PM`).
    pub fn parse(pattern: &str) -> Result<DatePattern, PatternError> {
        let toks = date_tokens(pattern)?;
        let twelve = toks
            .iter()
            .any(|t| matches!(t, Tok::Date(s) if s == "ampm" || s == "ap"));
        Ok(DatePattern { toks, twelve })
    }

    /// A date-time (local wall time) by this pattern.
    pub fn format(&self, t: NaiveDateTime) -> String {
        format_date_tokens(t, &self.toks, self.twelve)
    }
}

/// A date-time by the elements of a date pattern, `twelve`-hour clock or not.
fn format_date_tokens(t: NaiveDateTime, toks: &[Tok], twelve: bool) -> String {
    let mut out = String::new();
    for tok in toks {
        match tok {
            Tok::Lit(s) => out.push_str(s),
            Tok::Fraction(n) => {
                let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
                out.push('.');
                out.push_str(nanos.get(..*n).unwrap_or(""));
            }
            Tok::Date(code) => {
                let hour = if twelve {
                    match t.hour() % 12 {
                        0 => 12,
                        h => h,
                    }
                } else {
                    t.hour()
                };
                let pm = t.hour() >= 12;
                let piece = match code.as_str() {
                    "y" | "yy" => format!("{:02}", t.year().rem_euclid(100)),
                    "yyy" | "yyyy" => format!("{:04}", t.year()),
                    "m" => t.month().to_string(),
                    "mm" => format!("{:02}", t.month()),
                    "mmm" => MONTHS
                        .get(t.month0() as usize)
                        .map_or("", |m| &m[..3])
                        .to_string(),
                    "mmmm" => MONTHS
                        .get(t.month0() as usize)
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                    "mmmmm" => MONTHS
                        .get(t.month0() as usize)
                        .map_or("", |m| &m[..1])
                        .to_string(),
                    "d" => t.day().to_string(),
                    "dd" => format!("{:02}", t.day()),
                    "ddd" => DAYS
                        .get(t.weekday().num_days_from_monday() as usize)
                        .map_or("", |d| &d[..3])
                        .to_string(),
                    "dddd" => DAYS
                        .get(t.weekday().num_days_from_monday() as usize)
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                    "h" => hour.to_string(),
                    "hh" => format!("{hour:02}"),
                    "min" => t.minute().to_string(),
                    "mmin" => format!("{:02}", t.minute()),
                    "s" => t.second().to_string(),
                    "ss" => format!("{:02}", t.second()),
                    "ampm" => (if pm { "PM" } else { "AM" }).to_string(),
                    "ap" => (if pm { "P" } else { "A" }).to_string(),
                    _ => String::new(),
                };
                out.push_str(&piece);
            }
            _ => {}
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn n(x: &str, p: &str) -> String {
        format_number(Decimal::from_str(x).unwrap(), p).unwrap()
    }

    /// The cases of Excel's documentation of number format codes and of TEXT.
    #[test]
    fn number_patterns_as_excel_shows_them() {
        for (x, p, want) in [
            ("5", "0000", "0005"),
            ("-6", "000", "-006"),
            ("0.25", "0%", "25%"),
            ("0.1234", "0.00%", "12.34%"),
            ("1234.5", "$#,##0.00", "$1,234.50"),
            ("1234.5", "#,##0.00 EUR", "1,234.50 EUR"),
            ("1234.567", "#,##0.00", "1,234.57"),
            ("1234.5", "0.00", "1234.50"),
            ("0.5", "#.##", ".5"),
            ("0", "#", ""),
            ("8.9", "#.000", "8.900"),
            ("0.631", "0.#", "0.6"),
            ("12", "#.0#", "12.0"),
            ("1234.568", "#.0#", "1234.57"),
            ("44.398", "???.???", " 44.398"),
            ("102.65", "???.???", "102.65 "),
            ("2.8", "???.???", "  2.8  "),
            ("12000", "#,###", "12,000"),
            ("12000", "#,", "12"),
            ("12200000", "0.0,,", "12.2"),
            ("1234567", "#,##0,\"K\"", "1,235K"),
            ("12345.678", "0.00E+00", "1.23E+04"),
            ("0.000123", "0.00E+00", "1.23E-04"),
            ("12345", "##0.0E+0", "12.3E+3"),
            ("5551234567", "(000) 000-0000", "(555) 123-4567"),
            ("-1234.5", "#,##0.00;(#,##0.00)", "(1,234.50)"),
            ("0", "0.00;-0.00;\"zero\"", "zero"),
            ("-5", "0;[Red]0", "5"),
            ("3", "0\" items\"", "3 items"),
            ("3", "0\\x", "3x"),
            ("-0.001", "0.00", "0.00"),
            ("1.5", "0 \\h", "2 h"),
        ] {
            assert_eq!(n(x, p), want, "text({x}, '{p}')");
        }
    }

    #[test]
    fn unknown_elements_are_errors() {
        for p in ["0.00@", "[>100]0", "0.0E+", "\"open", "0;0;0;0"] {
            assert!(format_number(Decimal::ONE, p).is_err(), "{p}");
        }
        assert!(check("yyyy-mm-ddThh").is_err());
        assert!(check("yyyy-mm-dd\"T\"hh").is_ok());
        assert!(check("%d.%m.%Y").is_ok());
        assert!(check("#,##0.00 EUR").is_ok());
    }

    #[test]
    fn date_patterns_as_excel_shows_them() {
        let t = NaiveDateTime::parse_from_str("2024-03-05 14:07:09.250", "%Y-%m-%d %H:%M:%S%.3f")
            .unwrap();
        for (p, want) in [
            ("MM-dd-yyyy", "03-05-2024"),
            ("dd.mm.yyyy", "05.03.2024"),
            ("d/m/yy", "5/3/24"),
            ("dddd, mmmm d, yyyy", "Tuesday, March 5, 2024"),
            ("ddd mmm", "Tue Mar"),
            ("mmmmm", "M"),
            ("hh:mm:ss", "14:07:09"),
            ("h:mm AM/PM", "2:07 PM"),
            ("h:mm a/p", "2:07 P"),
            ("hh:mm:ss.00", "14:07:09.25"),
            ("yyyy-mm-dd\"T\"hh:mm", "2024-03-05T14:07"),
            ("m", "3"),
            ("mm:ss", "07:09"),
        ] {
            assert_eq!(DatePattern::parse(p).unwrap().format(t), want, "{p}");
        }
    }
}
