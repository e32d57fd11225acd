//! Date patterns, compiled once per thread and applied: `formatdate` and `text(date, ...)`
//! write a date by one (strftime, or Excel-style without `%`); `parsedate` reads by one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use chrono::format::{Item, StrftimeItems};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

use super::strftime_digits::plain_numbers;
use crate::runtime::{Ctx, EvalError};
use crate::value::Value;

/// A date pattern compiled: its strftime items (`None` when it is not a valid strftime
/// pattern), and, for a pattern without `%`, its reading as an Excel-style pattern, which
/// `formatdate` and `text` use instead.
pub struct DatePattern {
    /// Its strftime items.
    pub strftime: Option<Vec<Item<'static>>>,
    excel: Option<Result<super::excel_format::DatePattern, super::excel_format::PatternError>>,
}

/// How many compiled date patterns each thread keeps.
const DATE_PATTERN_CACHE_SIZE: usize = 64;

thread_local! {
    static DATE_PATTERNS: RefCell<HashMap<String, Rc<DatePattern>>> = RefCell::new(HashMap::new());
    static LAST_DATE_PATTERN: RefCell<Option<(Box<str>, Rc<DatePattern>)>> = const { RefCell::new(None) };
}

/// `format` compiled, from a per-thread cache: a pattern (in practice the literal of a
/// formula) is read once, not per record. The pattern used last is compared first: a
/// transform formats most records with one pattern, and a comparison costs less than
/// hashing the pattern.
pub fn date_pattern(format: &str) -> Rc<DatePattern> {
    let last = LAST_DATE_PATTERN.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(text, _)| &**text == format)
            .map(|(_, p)| Rc::clone(p))
    });
    if let Some(p) = last {
        return p;
    }
    let p = cached_date_pattern(format);
    LAST_DATE_PATTERN.with(|c| *c.borrow_mut() = Some((format.into(), Rc::clone(&p))));
    p
}

/// `format` compiled, from the per-thread map of patterns.
fn cached_date_pattern(format: &str) -> Rc<DatePattern> {
    if let Some(p) = DATE_PATTERNS.with(|c| c.borrow().get(format).cloned()) {
        return p;
    }
    let compiled = Rc::new(DatePattern {
        strftime: StrftimeItems::new(format).parse_to_owned().ok(),
        excel: (!format.contains('%')).then(|| super::excel_format::DatePattern::parse(format)),
    });
    DATE_PATTERNS.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= DATE_PATTERN_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(format.to_string(), Rc::clone(&compiled));
    });
    compiled
}

/// Formats a date or datetime value by a strftime pattern, a datetime in `tz` when given.
pub fn format_value(
    value: &Value,
    format: &str,
    tz: Option<Tz>,
    ctx: &Ctx,
    func: &str,
) -> Result<Value, EvalError> {
    let pattern = date_pattern(format);
    let moment = local_moment(value, tz);
    let items = match &pattern.excel {
        Some(pattern) => {
            let Some((date, time)) = moment else {
                return Ok(Value::string(value.to_text()));
            };
            let local = date.and_time(time.unwrap_or(NaiveTime::MIN));
            return match pattern {
                Ok(pattern) => Ok(Value::string(pattern.format(local))),
                Err(why) => Err(EvalError::invalid_argument(format!("{func}: {why}"))),
            };
        }
        None => pattern.strftime.as_deref(),
    };
    let Some(items) = items else {
        return Err(EvalError::invalid_argument(format!(
            "'{}' is not a valid strftime format",
            super::args::excerpt(format)
        )));
    };
    let Some((date, time)) = moment else {
        return Ok(Value::string(value.to_text()));
    };
    let limit = ctx.limits.max_string_bytes;
    if let Some(text) = plain_numbers(items, date, time) {
        if text.len() > limit {
            return Err(super::args::too_large(func, "text", limit));
        }
        return Ok(Value::String(text));
    }
    let mut out = Bounded {
        text: String::new(),
        limit,
        over: false,
    };
    let written = match (value, tz) {
        (Value::Date(d), _) => write!(out, "{}", d.format_with_items(items.iter())),
        (Value::DateTime(dt), Some(tz)) => write!(
            out,
            "{}",
            dt.with_timezone(&tz).format_with_items(items.iter())
        ),
        (Value::DateTime(dt), None) => write!(out, "{}", dt.format_with_items(items.iter())),
        (other, _) => return Ok(Value::string(other.to_text())),
    };
    if out.over {
        return Err(super::args::too_large(func, "text", limit));
    }
    written.map_err(|_| {
        EvalError::invalid_argument(format!(
            "'{}' asks for a part a {} does not have",
            super::args::excerpt(format),
            value.type_name()
        ))
    })?;
    Ok(Value::string(out.text))
}

/// A date's day, or a datetime's local day and time of day (in `tz` when given); `None`
/// for a value that is neither.
fn local_moment(value: &Value, tz: Option<Tz>) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let local = match (value, tz) {
        (Value::Date(d), _) => return Some((*d, None)),
        (Value::DateTime(dt), Some(tz)) => dt.with_timezone(&tz).naive_local(),
        (Value::DateTime(dt), None) => dt.naive_local(),
        _ => return None,
    };
    Some((local.date(), Some(local.time())))
}

/// Text written up to a limit: a write past it fails (and stops the formatting) instead of
/// growing the text.
struct Bounded {
    text: String,
    limit: usize,
    over: bool,
}

impl std::fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.text.len() + s.len() > self.limit {
            self.over = true;
            return Err(std::fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}
