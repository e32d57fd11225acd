//! Excel's calendar functions: month ends and month steps, DATEDIF's units, weekday
//! numbering schemes, week numbers and the day of the year. Arguments are dates,
//! datetimes (their local date) or ISO 8601 text, as for the other date functions.

use chrono::{Datelike, Months, NaiveDate, Weekday};

use super::args::{number, text};
use super::dates::{date_fn, when};
use super::{ex, opt, req, Category, Function, Imp, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::{TypeSet, Value};

const NUM: TypeSet = TypeSet::NUMBER;
const STR: TypeSet = TypeSet::STRING;
const WHEN: TypeSet = TypeSet::DATE
    .union(TypeSet::DATETIME)
    .union(TypeSet::STRING);
const NUM_OR_NULL: TypeSet = TypeSet::NUMBER.union(TypeSet::NULL);
const DATE_OR_NULL: TypeSet = TypeSet::DATE.union(TypeSet::NULL);

/// The functions of this file.
pub const FUNCTIONS: &[Function] = &[
    date_fn!("weekday", &[req("d", WHEN), opt("type", NUM)], NUM_OR_NULL,
        "The weekday as a number: by default ISO (Monday = 1 ... Sunday = 7, Excel's type 2); Excel's types 1 and 17 (Sunday = 1), 2 and 11 (Monday = 1), 3 (Monday = 0), 12–16 (Tuesday ... Saturday = 1). Excel's own default is type 1.",
        [
            ex("weekday('2024-05-05')", "{}", "7"),
            ex("weekday('2024-05-05', 1)", "{}", "1"),
            ex("weekday('2024-05-06', 3)", "{}", "0"),
            ex("weekday('2024-05-08', 13)", "{}", "1"),
            ex("weekday('2024-05-05', 4)", "{}", "error E306"),
            ex("weekday(null)", "{}", "null"),
        ], weekday, None),
    date_fn!("weeknum", &[req("d", WHEN), opt("type", NUM)], NUM_OR_NULL,
        "Excel's WEEKNUM: the week of the year, the week holding January 1 being week 1; weeks start on Sunday (type 1, the default, and 17), Monday (2, 11), Tuesday (12) ... Saturday (16); type 21 is the ISO week (isoweeknum).",
        [
            ex("weeknum('2012-03-09')", "{}", "10"),
            ex("weeknum('2012-03-09', 2)", "{}", "11"),
            ex("weeknum('2021-01-01', 21)", "{}", "53"),
            ex("weeknum('2024-01-01', 5)", "{}", "error E306"),
        ], weeknum, None),
    date_fn!("isoweeknum", &[req("d", WHEN)], NUM_OR_NULL,
        "The ISO 8601 week number (weeks start on Monday; week 1 holds the year's first Thursday).",
        [ex("isoweeknum('2012-03-09')", "{}", "10"), ex("isoweeknum('2021-01-01')", "{}", "53"), ex("isoweeknum(null)", "{}", "null")], isoweeknum, None),
    date_fn!("dayofyear", &[req("d", WHEN)], NUM_OR_NULL,
        "The day of the year, 1–366.",
        [ex("dayofyear('2024-12-31')", "{}", "366"), ex("dayofyear('2023-02-01')", "{}", "32")], dayofyear, None),
    date_fn!("eomonth", &[req("d", WHEN), req("months", NUM)], DATE_OR_NULL,
        "Excel's EOMONTH: the last day of the month `months` after d's (negative: before; a fraction is truncated).",
        [
            ex("eomonth('2011-01-01', 1)", "{}", r#""2011-02-28""#),
            ex("eomonth('2011-01-01', -3)", "{}", r#""2010-10-31""#),
            ex("eomonth('2024-01-15', 1.9)", "{}", r#""2024-02-29""#),
        ], eomonth, None),
    date_fn!("edate", &[req("d", WHEN), req("months", NUM)], DATE_OR_NULL,
        "Excel's EDATE: the same day `months` months after d (before, when negative), the month's last day when it has no such day.",
        [
            ex("edate('2011-01-15', 1)", "{}", r#""2011-02-15""#),
            ex("edate('2011-01-31', 1)", "{}", r#""2011-02-28""#),
            ex("edate('2011-01-15', -1)", "{}", r#""2010-12-15""#),
        ], edate, None),
    date_fn!("datedif", &[req("start", WHEN), req("end", WHEN), req("unit", STR)], NUM_OR_NULL,
        "Excel's DATEDIF: whole years 'Y', months 'M' or days 'D' from start to end; 'YM' months and 'MD' days left over after whole years and months, 'YD' days as if in the same year. E306 when start is after end, as in Excel.",
        [
            ex("datedif('2001-01-01', '2003-01-01', 'Y')", "{}", "2"),
            ex("datedif('2001-06-01', '2002-08-15', 'D')", "{}", "440"),
            ex("datedif('2001-06-01', '2002-08-15', 'YD')", "{}", "75"),
            ex("datedif('2001-06-01', '2002-08-15', 'YM')", "{}", "2"),
            ex("datedif('2001-06-20', '2002-08-15', 'MD')", "{}", "26"),
            ex("datedif('2003-01-01', '2001-01-01', 'Y')", "{}", "error E306"),
        ], datedif, None),
];

/// Argument `i` as a local date; `None` for null.
fn date_arg(
    args: &[Value],
    i: usize,
    func: &str,
    ctx: &Ctx,
) -> Result<Option<NaiveDate>, EvalError> {
    Ok(when(args, i, func, ctx.tz)?.map(|w| w.local().date()))
}

/// Argument `i` as a whole number, a fraction truncated (as Excel does); `None` for null.
fn truncated(args: &[Value], i: usize, func: &str) -> Result<Option<i64>, EvalError> {
    match number(args, i, func)? {
        None => Ok(None),
        Some(n) => i64::try_from(n.trunc()).map(Some).map_err(|_| {
            EvalError::invalid_argument(format!("{func}() argument {} is out of range: {n}", i + 1))
        }),
    }
}

/// The numbering type of a weekday or week number: `default` when left out, `None` when
/// null.
fn kind_arg(args: &[Value], i: usize, func: &str, default: i64) -> Result<Option<i64>, EvalError> {
    match args.get(i) {
        None => Ok(Some(default)),
        Some(_) => truncated(args, i, func),
    }
}

fn out_of_range(func: &str) -> EvalError {
    EvalError::new(
        codes::E305_DATE,
        format!("{func}(): the result is outside the supported date range"),
    )
}

/// The day that starts the week for an Excel weekday/weeknum type, and the number it gets.
fn week_start(kind: i64, func: &str) -> Result<(Weekday, i64), EvalError> {
    Ok(match kind {
        1 | 17 => (Weekday::Sun, 1),
        2 | 11 => (Weekday::Mon, 1),
        3 => (Weekday::Mon, 0),
        12 => (Weekday::Tue, 1),
        13 => (Weekday::Wed, 1),
        14 => (Weekday::Thu, 1),
        15 => (Weekday::Fri, 1),
        16 => (Weekday::Sat, 1),
        other => {
            return Err(EvalError::invalid_argument(format!(
                "{func}(): type {other} is not one of 1, 2, 3, 11-17"
            )))
        }
    })
}

fn weekday(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(d) = date_arg(args, 0, "weekday", ctx)? else {
        return Ok(Value::Null);
    };
    let Some(kind) = kind_arg(args, 1, "weekday", 2)? else {
        return Ok(Value::Null);
    };
    let (start, first) = week_start(kind, "weekday")?;
    let since_start = (i64::from(d.weekday().num_days_from_monday())
        - i64::from(start.num_days_from_monday()))
    .rem_euclid(7);
    Ok(Value::Number((since_start + first).into()))
}

fn weeknum(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(d) = date_arg(args, 0, "weeknum", ctx)? else {
        return Ok(Value::Null);
    };
    let Some(kind) = kind_arg(args, 1, "weeknum", 1)? else {
        return Ok(Value::Null);
    };
    if kind == 21 {
        return Ok(Value::Number(d.iso_week().week().into()));
    }
    if kind == 3 {
        return Err(EvalError::invalid_argument(
            "weeknum(): type 3 is not one of 1, 2, 11-17, 21".to_string(),
        ));
    }
    let (start, _) = week_start(kind, "weeknum")?;
    let jan1 = NaiveDate::from_ymd_opt(d.year(), 1, 1).ok_or_else(|| out_of_range("weeknum"))?;
    let offset = (i64::from(jan1.weekday().num_days_from_monday())
        - i64::from(start.num_days_from_monday()))
    .rem_euclid(7);
    let week = (i64::from(d.ordinal0()) + offset) / 7 + 1;
    Ok(Value::Number(week.into()))
}

fn isoweeknum(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    Ok(date_arg(args, 0, "isoweeknum", ctx)?
        .map_or(Value::Null, |d| Value::Number(d.iso_week().week().into())))
}

fn dayofyear(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    Ok(date_arg(args, 0, "dayofyear", ctx)?
        .map_or(Value::Null, |d| Value::Number(d.ordinal().into())))
}

/// `d` moved by `months` months, clamped to the month's last day.
fn months_later(d: NaiveDate, months: i64, func: &str) -> Result<NaiveDate, EvalError> {
    let step = Months::new(u32::try_from(months.unsigned_abs()).map_err(|_| out_of_range(func))?);
    if months >= 0 {
        d.checked_add_months(step)
    } else {
        d.checked_sub_months(step)
    }
    .ok_or_else(|| out_of_range(func))
}

fn eomonth(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(d), Some(n)) = (
        date_arg(args, 0, "eomonth", ctx)?,
        truncated(args, 1, "eomonth")?,
    ) else {
        return Ok(Value::Null);
    };
    let first = d.with_day(1).ok_or_else(|| out_of_range("eomonth"))?;
    let next = months_later(first, n.saturating_add(1), "eomonth")?;
    next.pred_opt()
        .map(Value::Date)
        .ok_or_else(|| out_of_range("eomonth"))
}

fn edate(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(d), Some(n)) = (
        date_arg(args, 0, "edate", ctx)?,
        truncated(args, 1, "edate")?,
    ) else {
        return Ok(Value::Null);
    };
    months_later(d, n, "edate").map(Value::Date)
}

/// Whole months from `a` to `b` (`a` ≤ `b`).
fn whole_months(a: NaiveDate, b: NaiveDate) -> i64 {
    let months = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    if b.day() < a.day() {
        months - 1
    } else {
        months
    }
}

fn datedif(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let start = date_arg(args, 0, "datedif", ctx)?;
    let end = date_arg(args, 1, "datedif", ctx)?;
    let unit = text(args, 2, "datedif")?;
    let (Some(a), Some(b), Some(unit)) = (start, end, unit) else {
        return Ok(Value::Null);
    };
    if a > b {
        return Err(EvalError::invalid_argument(format!(
            "datedif({a}, {b}): the start is after the end"
        )));
    }
    let months = whole_months(a, b);
    let n = match unit.to_ascii_uppercase().as_str() {
        "Y" => months / 12,
        "M" => months,
        "D" => (b - a).num_days(),
        "YM" => months % 12,
        "MD" => {
            let anchor = months_later(a, months, "datedif")?;
            (b - anchor).num_days()
        }
        "YD" => {
            let mut same_year = a.with_year(b.year());
            if same_year.is_none_or(|s| s > b) {
                same_year = a.with_year(b.year() - 1);
            }
            let from = same_year.ok_or_else(|| out_of_range("datedif"))?;
            (b - from).num_days()
        }
        other => {
            return Err(EvalError::invalid_argument(format!(
                "datedif(): unit '{other}' is not one of 'Y', 'M', 'D', 'MD', 'YM', 'YD'"
            )))
        }
    };
    Ok(Value::Number(n.into()))
}
