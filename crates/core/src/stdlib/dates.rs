//! Dates and times (chrono + chrono-tz).
//!
//! A date has no time; a datetime is an instant with its UTC offset. Date parameters also
//! take ISO 8601 text, since records carry dates as strings. `now()` is one instant per run
//! (settable with `--now`). Local times that do not exist (a DST gap) move forward by the
//! length of the gap; local times that occur twice (a DST overlap) take the earlier instant.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use rust_decimal::prelude::*;
use rust_decimal::Decimal;

use super::args::{arg, integer, number, text};
use super::date_patterns::{date_pattern, format_value};
use super::{ex, opt, req, Category, Function, Imp, LiteralError, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::TypeSet;
use crate::value::Value;

const STR: TypeSet = TypeSet::STRING;
const NUM: TypeSet = TypeSet::NUMBER;
const WHEN: TypeSet = TypeSet::DATE
    .union(TypeSet::DATETIME)
    .union(TypeSet::STRING);
const NUM_OR_NULL: TypeSet = TypeSet::NUMBER.union(TypeSet::NULL);
const DATE_OR_NULL: TypeSet = TypeSet::DATE.union(TypeSet::NULL);
const DATETIME_OR_NULL: TypeSet = TypeSet::DATETIME.union(TypeSet::NULL);
const EITHER_OR_NULL: TypeSet = TypeSet::DATE.union(TypeSet::DATETIME).union(TypeSet::NULL);

macro_rules! date_fn {
    ($name:literal, $params:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr, $check:expr) => {
        date_fn!($name, $params, $ret, $doc, [$($ex),*], $imp, $check, true)
    };
    ($name:literal, $params:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr, $check:expr, $pure:expr) => {
        Function {
            name: $name,
            category: Category::Dates,
            params: $params,
            variadic: false,
            returns: Returns::Fixed($ret),
            doc: $doc,
            examples: &[$($ex),*],
            imp: Imp::Eager($imp),
            pure: $pure,
            check: $check,
            reads: super::Reads::Arguments,
            store: false,
        }
    };
}
pub(super) use date_fn;

macro_rules! part_fn {
    ($name:literal, $doc:literal, $example:literal, $result:literal, $part:expr) => {
        date_fn!(
            $name,
            &[req("d", WHEN)],
            NUM_OR_NULL,
            $doc,
            [
                ex($example, "{}", $result),
                ex(concat!($name, "(null)"), "{}", "null")
            ],
            |args: &[Value], ctx: &Ctx| part(args, ctx, $name, $part),
            None
        )
    };
}

/// The date functions.
pub const FUNCTIONS: &[Function] = &[
    date_fn!("now", &[], TypeSet::DATETIME, "The current instant: one value for the whole run, settable with --now.",
        [ex("now()", "{}", r#""2024-05-01T12:00:00Z""#), ex("year(now())", "{}", "2024")], now, None, false),
    date_fn!("today", &[opt("tz", STR)], TypeSet::DATE, "Today's date in the time zone (default: --tz, else UTC).",
        [ex("today()", "{}", r#""2024-05-01""#), ex("today('Pacific/Kiritimati')", "{}", r#""2024-05-02""#)], today, Some(check_tz::<0>), false),
    date_fn!("date", &[req("y", NUM), req("m", NUM), req("d", NUM)], DATE_OR_NULL, "The date y-m-d; an error (E305) when it does not exist.",
        [ex("date(2024, 2, 29)", "{}", r#""2024-02-29""#), ex("date(2023, 2, 29)", "{}", "error E305"), ex("date(null, 1, 1)", "{}", "null")], date, None),
    date_fn!("datetime", &[req("y", NUM), req("m", NUM), req("d", NUM), req("h", NUM), req("mi", NUM), req("s", NUM), opt("tz", STR)], DATETIME_OR_NULL,
        "The instant at that local time in the time zone (default: --tz, else UTC). In a DST gap the time moves forward by the gap; in an overlap the earlier instant is taken.",
        [
            ex("datetime(2024, 5, 1, 8, 30, 0, 'Europe/Berlin')", "{}", r#""2024-05-01T08:30:00+02:00""#),
            ex("datetime(2024, 3, 31, 2, 30, 0, 'Europe/Berlin')", "{}", r#""2024-03-31T03:30:00+02:00""#),
            ex("datetime(2024, 10, 27, 2, 30, 0, 'Europe/Berlin')", "{}", r#""2024-10-27T02:30:00+02:00""#),
            ex("datetime(2024, 13, 1, 0, 0, 0)", "{}", "error E305"),
        ], datetime, Some(check_tz::<6>)),
    Function {
        name: "parsedate",
        category: Category::Dates,
        params: &[req("text", STR), opt("formats", STR.union(TypeSet::ARRAY)), opt("tz", STR)],
        variadic: false,
        returns: Returns::Fixed(EITHER_OR_NULL),
        doc: "A date or datetime from text: with one strftime format or an array of them tried in order; by default ISO 8601. Without an offset in the text, the time is local to tz (default: --tz, else UTC). An error (E305) when nothing matches.",
        examples: &[
            ex("parsedate('2024-05-01')", "{}", r#""2024-05-01""#),
            ex("parsedate('2024-05-01T10:00:00+02:00')", "{}", r#""2024-05-01T10:00:00+02:00""#),
            ex("parsedate('01.05.2024', ['%Y-%m-%d', '%d.%m.%Y'])", "{}", r#""2024-05-01""#),
            ex("parsedate('01.05.2024 14:30', '%d.%m.%Y %H:%M', 'Europe/Berlin')", "{}", r#""2024-05-01T14:30:00+02:00""#),
            ex("parsedate('tomorrow')", "{}", "error E305"),
        ],
        imp: Imp::Eager(parsedate),
        pure: true,
        check: Some(check_tz::<2>),
        reads: super::Reads::Arguments,
        store: false,
    },
    date_fn!("formatdate", &[req("d", WHEN), req("format", STR), opt("tz", STR)], STR.union(TypeSet::NULL),
        "Text of a date or datetime by a strftime format; a datetime is shown in the time zone tz, or without tz in its own offset.",
        [
            ex("formatdate(parsedate('2024-05-01T10:00:00Z'), '%d.%m.%Y %H:%M', 'Europe/Berlin')", "{}", r#""01.05.2024 12:00""#),
            ex("formatdate('2024-05-01', '%A %e %B %Y')", "{}", r#""Wednesday  1 May 2024""#),
            ex("formatdate(null, '%Y')", "{}", "null"),
        ], formatdate, Some(check_tz::<2>)),
    date_fn!("dateadd", &[req("d", WHEN), req("n", NUM), req("unit", STR)], EITHER_OR_NULL,
        "d plus n units ('year', 'month', 'week', 'day', 'hour', 'minute', 'second'); month and year steps clamp to the month's last day.",
        [
            ex("dateadd('2024-01-31', 1, 'month')", "{}", r#""2024-02-29""#),
            ex("dateadd(date(2023, 1, 31), 1, 'month')", "{}", r#""2023-02-28""#),
            ex("dateadd('2024-05-01T10:00:00Z', -90, 'minute')", "{}", r#""2024-05-01T08:30:00Z""#),
            ex("dateadd('2024-05-01', 2, 'hour')", "{}", "error E306"),
        ], dateadd, Some(check_unit::<2>)),
    date_fn!("datediff", &[req("a", WHEN), req("b", WHEN), req("unit", STR)], NUM_OR_NULL,
        "b − a in whole units (truncated toward zero).",
        [
            ex("datediff('2024-01-31', '2024-03-01', 'day')", "{}", "30"),
            ex("datediff('2024-01-31', '2024-02-29', 'month')", "{}", "0"),
            ex("datediff('2024-05-01T10:00:00Z', '2024-05-01T08:00:00Z', 'hour')", "{}", "-2"),
            ex("datediff('2020-02-29', '2024-02-28', 'year')", "{}", "3"),
        ], datediff, Some(check_unit::<2>)),
    part_fn!("year", "The year.", "year('2024-05-01')", "2024", |d: &NaiveDateTime| d.year().into()),
    part_fn!("month", "The month, 1–12.", "month('2024-05-01')", "5", |d: &NaiveDateTime| d.month().into()),
    part_fn!("day", "The day of the month, 1–31.", "day('2024-05-01')", "1", |d: &NaiveDateTime| d.day().into()),
    part_fn!("hour", "The hour, 0–23, in the value's own offset (0 for a date).", "hour('2024-05-01T14:30:00+02:00')", "14", |d: &NaiveDateTime| d.hour().into()),
    part_fn!("minute", "The minute, 0–59.", "minute('2024-05-01T14:30:00Z')", "30", |d: &NaiveDateTime| d.minute().into()),
    part_fn!("second", "The second, 0–59.", "second('2024-05-01T14:30:15Z')", "15", |d: &NaiveDateTime| d.second().into()),
    date_fn!("startof", &[req("d", WHEN), req("unit", STR)], EITHER_OR_NULL,
        "The start of the unit containing d: 'year', 'month', 'week' (Monday), 'day', 'hour', 'minute', 'second'.",
        [
            ex("startof('2024-05-16', 'month')", "{}", r#""2024-05-01""#),
            ex("startof('2024-05-16', 'week')", "{}", r#""2024-05-13""#),
            ex("startof('2024-05-16T14:35:10+02:00', 'hour')", "{}", r#""2024-05-16T14:00:00+02:00""#),
        ], startof, Some(check_unit::<1>)),
    date_fn!("totimezone", &[req("dt", WHEN), req("tz", STR)], DATETIME_OR_NULL,
        "The same instant shown in another time zone (IANA name).",
        [
            ex("totimezone('2024-05-01T10:00:00Z', 'America/New_York')", "{}", r#""2024-05-01T06:00:00-04:00""#),
            ex("totimezone(null, 'UTC')", "{}", "null"),
        ], totimezone, Some(check_tz::<1>)),
    date_fn!("tounixtime", &[req("dt", WHEN)], NUM_OR_NULL, "Seconds since 1970-01-01T00:00:00Z (a date counts from its midnight UTC).",
        [ex("tounixtime('2024-05-01T00:00:00Z')", "{}", "1714521600"), ex("tounixtime('1970-01-01T00:00:01.5Z')", "{}", "1.5")], tounixtime, None),
    date_fn!("fromunixtime", &[req("seconds", NUM)], DATETIME_OR_NULL, "The UTC instant that many seconds after 1970-01-01T00:00:00Z.",
        [ex("fromunixtime(1714521600)", "{}", r#""2024-05-01T00:00:00Z""#), ex("fromunixtime(null)", "{}", "null")], fromunixtime, None),
];

/// A date or an instant, read from a value.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// A calendar date.
    Date(NaiveDate),
    /// An instant with its offset.
    DateTime(DateTime<FixedOffset>),
}

impl When {
    /// Its local date and time (a date at midnight).
    pub fn local(self) -> NaiveDateTime {
        match self {
            When::Date(d) => d.and_time(NaiveTime::MIN),
            When::DateTime(dt) => dt.naive_local(),
        }
    }

    fn instant(self) -> DateTime<FixedOffset> {
        match self {
            When::Date(d) => d.and_time(NaiveTime::MIN).and_utc().fixed_offset(),
            When::DateTime(dt) => dt,
        }
    }

    fn into_value(self) -> Value {
        match self {
            When::Date(d) => Value::Date(d),
            When::DateTime(dt) => Value::DateTime(dt),
        }
    }
}

fn date_error(message: String) -> EvalError {
    EvalError::new(codes::E305_DATE, message)
}

/// Reads a date argument: a date, a datetime, or ISO 8601 text; `None` for null.
pub fn when(args: &[Value], i: usize, func: &str, tz: Tz) -> Result<Option<When>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::Date(d) => Ok(Some(When::Date(*d))),
        Value::DateTime(dt) => Ok(Some(When::DateTime(*dt))),
        Value::String(s) => parse_iso(s, tz).map(Some).ok_or_else(|| {
            date_error(format!(
                "{func}(): '{s}' is not an ISO 8601 date or datetime"
            ))
        }),
        other => Err(EvalError::new(
            codes::E308_NOT_A_DATE,
            format!(
                "{func}() argument {} must be a date, found {}",
                i + 1,
                other.type_name()
            ),
        )),
    }
}

/// ISO 8601: `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00+02:00`, or a local
/// `2024-05-01T10:00:00` / `2024-05-01 10:00:00` in `tz`.
pub fn parse_iso(text: &str, tz: Tz) -> Option<When> {
    let t = text.trim();
    if let Some(dt) = super::iso_digits::plain_instant(t) {
        return Some(When::DateTime(dt));
    }
    if let Some(d) = super::iso_digits::plain_date(t) {
        return Some(When::Date(d));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(When::DateTime(dt));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(When::Date(d));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .map(|n| When::DateTime(localize(n, tz)))
}

/// The instant of local time `naive` in `tz`: a time in a DST gap moves forward by the
/// length of the gap; a time in an overlap takes the earlier instant.
pub fn localize(naive: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&naive).earliest() {
        Some(dt) => dt.fixed_offset(),
        None => {
            let before = tz
                .offset_from_utc_datetime(&(naive - Duration::days(1)))
                .fix();
            let utc = naive - Duration::seconds(i64::from(before.local_minus_utc()));
            tz.from_utc_datetime(&utc).fixed_offset()
        }
    }
}

/// Parses a time zone name (IANA, or UTC).
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

fn tz_arg(args: &[Value], i: usize, func: &str, default: Tz) -> Result<Tz, EvalError> {
    match text(args, i, func)? {
        None => Ok(default),
        Some(name) => parse_tz(name).ok_or_else(|| {
            EvalError::invalid_argument(format!("{func}(): unknown time zone '{name}'"))
        }),
    }
}

fn check_tz<const I: usize>(index: usize, value: &Value) -> Result<(), LiteralError> {
    match value {
        Value::String(name) if index == I && parse_tz(name).is_none() => Err(LiteralError {
            code: codes::E204_INVALID_OPTION,
            message: format!("unknown time zone '{name}'"),
            help: "use an IANA name such as 'Europe/Berlin' or 'America/New_York', or 'UTC'"
                .to_string(),
        }),
        _ => Ok(()),
    }
}

/// The units of dateadd, datediff and startof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

const UNITS: &str = "'year', 'month', 'week', 'day', 'hour', 'minute', 'second'";

/// A unit by its name in any case, singular or plural (compared in place: this runs for
/// every record of a `dateadd` or `datediff`).
fn parse_unit(name: &str) -> Option<Unit> {
    const UNIT_NAMES: [(&str, Unit); 7] = [
        ("day", Unit::Day),
        ("month", Unit::Month),
        ("year", Unit::Year),
        ("week", Unit::Week),
        ("hour", Unit::Hour),
        ("minute", Unit::Minute),
        ("second", Unit::Second),
    ];
    let singular = name.trim_end_matches(['s', 'S']);
    UNIT_NAMES
        .iter()
        .find(|(unit, _)| unit.eq_ignore_ascii_case(singular))
        .map(|(_, unit)| *unit)
}

fn check_unit<const I: usize>(index: usize, value: &Value) -> Result<(), LiteralError> {
    match value {
        Value::String(name) if index == I && parse_unit(name).is_none() => Err(LiteralError {
            code: codes::E204_INVALID_OPTION,
            message: format!("unknown date unit '{name}'"),
            help: format!("units: {UNITS}"),
        }),
        _ => Ok(()),
    }
}

fn unit_arg(args: &[Value], i: usize, func: &str) -> Result<Option<Unit>, EvalError> {
    match text(args, i, func)? {
        None => Ok(None),
        Some(name) => parse_unit(name).map(Some).ok_or_else(|| {
            EvalError::invalid_argument(format!("{func}(): unknown unit '{name}'; units: {UNITS}"))
        }),
    }
}

fn now(_: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::DateTime(ctx.now))
}

fn today(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let tz = tz_arg(args, 0, "today", ctx.tz)?;
    Ok(Value::Date(ctx.now.with_timezone(&tz).date_naive()))
}

fn date_parts(args: &[Value], func: &str, count: usize) -> Result<Option<Vec<u32>>, EvalError> {
    let mut parts = Vec::with_capacity(count);
    for i in 0..count {
        let Some(n) = integer(args, i, func)? else {
            return Ok(None);
        };
        parts.push(
            u32::try_from(n).map_err(|_| {
                date_error(format!("{func}(): part {} is out of range: {n}", i + 1))
            })?,
        );
    }
    Ok(Some(parts))
}

fn make_date(y: u32, m: u32, d: u32, func: &str) -> Result<NaiveDate, EvalError> {
    i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| date_error(format!("{func}(): {y}-{m}-{d} is not a date")))
}

fn date(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(p) = date_parts(args, "date", 3)? else {
        return Ok(Value::Null);
    };
    let (y, m, d) = (
        p.first().copied().unwrap_or(0),
        p.get(1).copied().unwrap_or(0),
        p.get(2).copied().unwrap_or(0),
    );
    make_date(y, m, d, "date").map(Value::Date)
}

fn datetime(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(p) = date_parts(args, "datetime", 6)? else {
        return Ok(Value::Null);
    };
    let part = |i: usize| p.get(i).copied().unwrap_or(0);
    let day = make_date(part(0), part(1), part(2), "datetime")?;
    let time = NaiveTime::from_hms_opt(part(3), part(4), part(5)).ok_or_else(|| {
        date_error(format!(
            "datetime(): {}:{}:{} is not a time of day",
            part(3),
            part(4),
            part(5)
        ))
    })?;
    let tz = tz_arg(args, 6, "datetime", ctx.tz)?;
    Ok(Value::DateTime(localize(day.and_time(time), tz)))
}

/// `text` read by strftime pattern `format` as `DateTime::parse_from_str` reads it, else
/// as `NaiveDateTime::parse_from_str` (in `tz`), else as `NaiveDate::parse_from_str`:
/// the three parse the text the same way and differ only in what they make of the parts,
/// so it is parsed once, by the pattern compiled once.
fn parse_with_format(text: &str, format: &str, tz: Tz) -> Option<When> {
    let pattern = date_pattern(format);
    let mut parsed = chrono::format::Parsed::new();
    chrono::format::parse(&mut parsed, text, pattern.strftime.as_deref()?.iter()).ok()?;
    if let Ok(dt) = parsed.to_datetime() {
        return Some(When::DateTime(dt));
    }
    if let Ok(n) = parsed.to_naive_datetime_with_offset(0) {
        return Some(When::DateTime(localize(n, tz)));
    }
    parsed.to_naive_date().ok().map(When::Date)
}

fn parsedate(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(raw) = text(args, 0, "parsedate")? else {
        return Ok(Value::Null);
    };
    let tz = tz_arg(args, 2, "parsedate", ctx.tz)?;
    let s = raw.trim();
    let parsed = match arg(args, 1) {
        Value::Null => parse_iso(s, tz),
        Value::String(f) => parse_with_format(s, f, tz),
        Value::Array(formats) => formats.iter().find_map(|f| match f {
            Value::String(f) => parse_with_format(s, f, tz),
            _ => None,
        }),
        other => {
            return Err(super::args::wrong_kind(
                "parsedate",
                1,
                "a format or an array of formats",
                other,
            ))
        }
    };
    parsed.map(When::into_value).ok_or_else(|| {
        date_error(format!(
            "parsedate(): '{raw}' does not match the expected format"
        ))
    })
}

fn formatdate(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(d) = when(args, 0, "formatdate", ctx.tz)? else {
        return Ok(Value::Null);
    };
    let Some(format) = text(args, 1, "formatdate")? else {
        return Ok(Value::Null);
    };
    let tz = match text(args, 2, "formatdate")? {
        None => None,
        Some(_) => Some(tz_arg(args, 2, "formatdate", ctx.tz)?),
    };
    format_value(&d.into_value(), format, tz, ctx, "formatdate")
}

fn add_months(n: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let m = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        n.checked_add_months(m)
    } else {
        n.checked_sub_months(m)
    }
}

fn out_of_range(func: &str) -> EvalError {
    date_error(format!(
        "{func}(): the result is outside the supported date range"
    ))
}

fn dateadd(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let d = when(args, 0, "dateadd", ctx.tz)?;
    let n = integer(args, 1, "dateadd")?;
    let unit = unit_arg(args, 2, "dateadd")?;
    let (Some(d), Some(n), Some(unit)) = (d, n, unit) else {
        return Ok(Value::Null);
    };
    let local = d.local();
    let shifted = match unit {
        Unit::Year => n.checked_mul(12).and_then(|m| add_months(local, m)),
        Unit::Month => add_months(local, n),
        Unit::Week => n
            .checked_mul(7)
            .and_then(Duration::try_days)
            .and_then(|dur| local.checked_add_signed(dur)),
        Unit::Day => Duration::try_days(n).and_then(|dur| local.checked_add_signed(dur)),
        Unit::Hour | Unit::Minute | Unit::Second => {
            let When::DateTime(dt) = d else {
                return Err(EvalError::invalid_argument(
                    "dateadd(): a date has no time; add hours, minutes or seconds to a datetime",
                ));
            };
            let dur = match unit {
                Unit::Hour => Duration::try_hours(n),
                Unit::Minute => Duration::try_minutes(n),
                _ => Duration::try_seconds(n),
            };
            return dur
                .and_then(|dur| dt.checked_add_signed(dur))
                .map(Value::DateTime)
                .ok_or_else(|| out_of_range("dateadd"));
        }
    }
    .ok_or_else(|| out_of_range("dateadd"))?;
    Ok(match d {
        When::Date(_) => Value::Date(shifted.date()),
        When::DateTime(dt) => Value::DateTime(
            dt.offset()
                .from_local_datetime(&shifted)
                .single()
                .ok_or_else(|| out_of_range("dateadd"))?,
        ),
    })
}

/// Whole months from `a` to `b`, truncated toward zero.
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let mut months =
        i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    let rest = |n: NaiveDateTime| (n.day(), n.time());
    if months > 0 && rest(b) < rest(a) {
        months -= 1;
    } else if months < 0 && rest(b) > rest(a) {
        months += 1;
    }
    months
}

fn datediff(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let a = when(args, 0, "datediff", ctx.tz)?;
    let b = when(args, 1, "datediff", ctx.tz)?;
    let unit = unit_arg(args, 2, "datediff")?;
    let (Some(a), Some(b), Some(unit)) = (a, b, unit) else {
        return Ok(Value::Null);
    };
    let seconds = (b.instant() - a.instant()).num_seconds();
    let n = match unit {
        Unit::Year => months_between(a.local(), b.local()) / 12,
        Unit::Month => months_between(a.local(), b.local()),
        Unit::Week => seconds / (7 * 86_400),
        Unit::Day => seconds / 86_400,
        Unit::Hour => seconds / 3_600,
        Unit::Minute => seconds / 60,
        Unit::Second => seconds,
    };
    Ok(Value::Number(n.into()))
}

fn part(
    args: &[Value],
    ctx: &Ctx,
    func: &str,
    f: fn(&NaiveDateTime) -> i64,
) -> Result<Value, EvalError> {
    Ok(when(args, 0, func, ctx.tz)?.map_or(Value::Null, |d| Value::Number(f(&d.local()).into())))
}

fn startof(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(d), Some(unit)) = (
        when(args, 0, "startof", ctx.tz)?,
        unit_arg(args, 1, "startof")?,
    ) else {
        return Ok(Value::Null);
    };
    let local = d.local();
    let day = local.date();
    let start = match unit {
        Unit::Year => day.with_ordinal(1).map(|d| d.and_time(NaiveTime::MIN)),
        Unit::Month => day.with_day(1).map(|d| d.and_time(NaiveTime::MIN)),
        Unit::Week => Some(
            (day - Duration::days(i64::from(day.weekday().num_days_from_monday())))
                .and_time(NaiveTime::MIN),
        ),
        Unit::Day => Some(day.and_time(NaiveTime::MIN)),
        Unit::Hour => local
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0)),
        Unit::Minute => local.with_second(0).and_then(|t| t.with_nanosecond(0)),
        Unit::Second => local.with_nanosecond(0),
    }
    .ok_or_else(|| out_of_range("startof"))?;
    Ok(match d {
        When::Date(_) => Value::Date(start.date()),
        When::DateTime(dt) => Value::DateTime(
            dt.offset()
                .from_local_datetime(&start)
                .single()
                .ok_or_else(|| out_of_range("startof"))?,
        ),
    })
}

fn totimezone(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(d) = when(args, 0, "totimezone", ctx.tz)? else {
        return Ok(Value::Null);
    };
    if text(args, 1, "totimezone")?.is_none() {
        return Ok(Value::Null);
    }
    let tz = tz_arg(args, 1, "totimezone", ctx.tz)?;
    Ok(Value::DateTime(
        d.instant().with_timezone(&tz).fixed_offset(),
    ))
}

fn tounixtime(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(d) = when(args, 0, "tounixtime", ctx.tz)? else {
        return Ok(Value::Null);
    };
    let instant = d.instant();
    let seconds = Decimal::from(instant.timestamp());
    let nanos = Decimal::new(i64::from(instant.timestamp_subsec_nanos()), 9);
    Ok(Value::Number((seconds + nanos).normalize()))
}

fn fromunixtime(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(secs) = number(args, 0, "fromunixtime")? else {
        return Ok(Value::Null);
    };
    let whole = secs
        .trunc()
        .to_i64()
        .ok_or_else(|| out_of_range("fromunixtime"))?;
    let nanos = ((secs - secs.trunc()) * Decimal::from(1_000_000_000))
        .trunc()
        .to_i64()
        .unwrap_or(0);
    let (whole, nanos) = if nanos < 0 {
        (whole - 1, nanos + 1_000_000_000)
    } else {
        (whole, nanos)
    };
    DateTime::<Utc>::from_timestamp(whole, u32::try_from(nanos).unwrap_or(0))
        .map(|dt| Value::DateTime(dt.fixed_offset()))
        .ok_or_else(|| out_of_range("fromunixtime"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What `parsedate` made of a text and a format before patterns were compiled once:
    /// chrono's three parsers, each reading the format again.
    fn three_parsers(text: &str, format: &str, tz: Tz) -> Option<When> {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(When::DateTime(dt));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(text, format) {
            return Some(When::DateTime(localize(n, tz)));
        }
        NaiveDate::parse_from_str(text, format).ok().map(When::Date)
    }

    #[test]
    fn a_compiled_parse_pattern_reads_as_chronos_own_parsers() {
        let formats = [
            "%Y-%m-%d",
            "%d.%m.%Y",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S%.f%:z",
            "%d/%m/%Y %H:%M",
            "%Y%m%d",
            "%Q",
            "yyyy-mm-dd",
            "%Y-%m-%d literal",
        ];
        let texts = [
            "2024-05-01",
            "01.05.2024",
            "2024-05-01 10:30:00",
            "2024-05-01T10:30:00+0200",
            "2024-05-01T10:30:00.250+02:00",
            "01/05/2024 10:30",
            "20240501",
            "2024-02-30",
            "yyyy-mm-dd",
            "2024-05-01 literal",
            "",
        ];
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        for format in formats {
            for text in texts {
                // twice: the second reading is served by the compiled pattern
                for _ in 0..2 {
                    let got = parse_with_format(text, format, tz).map(When::into_value);
                    let want = three_parsers(text, format, tz).map(When::into_value);
                    assert_eq!(got, want, "{text:?} by {format:?}");
                }
            }
        }
    }

    /// Units in any case, singular or plural (trailing `s` of either case taken off), as
    /// when the name was lowercased first.
    #[test]
    fn units_are_named_in_any_case_singular_or_plural() {
        for (name, unit) in [
            ("day", Some(Unit::Day)),
            ("Days", Some(Unit::Day)),
            ("DAYS", Some(Unit::Day)),
            ("dayss", Some(Unit::Day)),
            ("Minutes", Some(Unit::Minute)),
            ("SECOND", Some(Unit::Second)),
            ("month", Some(Unit::Month)),
            ("weeks", Some(Unit::Week)),
            ("hOuRs", Some(Unit::Hour)),
            ("years", Some(Unit::Year)),
            ("fortnight", None),
            ("s", None),
            ("", None),
            ("da", None),
        ] {
            assert_eq!(parse_unit(name), unit, "{name}");
        }
    }
}
