//! Text functions. Positions are 1-based (spreadsheet habit); lengths count characters,
//! not bytes. Regular expressions use the `regex` crate; literal patterns are compiled
//! when the formula is checked.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use super::args::{arg, array, count, integer, text, too_large};
use super::{ex, opt, req, Category, Function, Imp, LiteralError, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::TypeSet;
use crate::value::Value;

const STR: TypeSet = TypeSet::STRING;
const NUM: TypeSet = TypeSet::NUMBER;
const STR_OR_NULL: TypeSet = TypeSet::STRING.union(TypeSet::NULL);
const BOOL_OR_NULL: TypeSet = TypeSet::BOOLEAN.union(TypeSet::NULL);

macro_rules! text_fn {
    ($name:literal, $params:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr) => {
        text_fn!($name, $params, $ret, $doc, [$($ex),*], $imp, None)
    };
    ($name:literal, $params:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr, $check:expr) => {
        Function {
            name: $name,
            category: Category::Text,
            params: $params,
            variadic: false,
            returns: Returns::Fixed($ret),
            doc: $doc,
            examples: &[$($ex),*],
            imp: Imp::Eager($imp),
            pure: true,
            check: $check,
            reads: super::Reads::Arguments,
        }
    };
}

/// The text functions.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "concat",
        category: Category::Text,
        params: &[opt("values", TypeSet::ANY)],
        variadic: true,
        returns: Returns::Fixed(STR),
        doc: "Joins the text forms of all arguments; null counts as ''.",
        examples: &[
            ex("concat(data('firstName'), ' ', data('lastName'))", r#"{"firstName": "Ada", "lastName": "Lovelace"}"#, r#""Ada Lovelace""#),
            ex("concat('a', null, 1.50)", "{}", r#""a1.50""#),
            ex("concat()", "{}", r#""""#),
        ],
        imp: Imp::Eager(concat),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
    },
    text_fn!("upper", &[req("s", STR)], STR_OR_NULL, "Upper case.",
        [ex("upper('straße')", "{}", r#""STRASSE""#), ex("upper(null)", "{}", "null")], upper),
    text_fn!("lower", &[req("s", STR)], STR_OR_NULL, "Lower case.",
        [ex("lower('ÄBC')", "{}", r#""äbc""#), ex("lower(null)", "{}", "null")], lower),
    text_fn!("proper", &[req("s", STR)], STR_OR_NULL, "Each word's first letter upper case, the rest lower case.",
        [ex("proper('aDA lOVELACE-byron')", "{}", r#""Ada Lovelace-Byron""#), ex("proper(null)", "{}", "null")], proper),
    text_fn!("trim", &[req("s", STR)], STR_OR_NULL, "Removes white space at both ends and turns inner runs of spaces into one space.",
        [ex("trim('  Acme   Corp  ')", "{}", r#""Acme Corp""#), ex("trim(null)", "{}", "null")], trim),
    text_fn!("ltrim", &[req("s", STR)], STR_OR_NULL, "Removes white space at the start.",
        [ex("ltrim('  a  ')", "{}", r#""a  ""#), ex("ltrim(null)", "{}", "null")], ltrim),
    text_fn!("rtrim", &[req("s", STR)], STR_OR_NULL, "Removes white space at the end.",
        [ex("rtrim('  a  ')", "{}", r#""  a""#), ex("rtrim(null)", "{}", "null")], rtrim),
    text_fn!("len", &[req("s", STR)], NUM.union(TypeSet::NULL), "The number of characters (not bytes).",
        [ex("len('Köln')", "{}", "4"), ex("len('')", "{}", "0"), ex("len(null)", "{}", "null")], len),
    text_fn!("left", &[req("s", STR), req("n", NUM)], STR_OR_NULL, "The first n characters.",
        [ex("left('Fentu', 3)", "{}", r#""Fen""#), ex("left('ab', 5)", "{}", r#""ab""#), ex("left('ab', -1)", "{}", "error E306")], left),
    text_fn!("right", &[req("s", STR), req("n", NUM)], STR_OR_NULL, "The last n characters.",
        [ex("right('Fentu', 2)", "{}", r#""tu""#), ex("right(null, 2)", "{}", "null")], right),
    text_fn!("mid", &[req("s", STR), req("start", NUM), req("n", NUM)], STR_OR_NULL, "n characters from position start (1-based).",
        [ex("mid('Fentu FSM', 7, 3)", "{}", r#""FSM""#), ex("mid('abc', 3, 10)", "{}", r#""c""#), ex("mid('abc', 0, 1)", "{}", "error E306")], mid),
    text_fn!("find", &[req("sub", STR), req("s", STR), opt("start", NUM)], NUM.union(TypeSet::NULL),
        "The 1-based position of sub in s, searching from position start (default 1); 0 when absent.",
        [ex("find('b', 'abcb')", "{}", "2"), ex("find('b', 'abcb', 3)", "{}", "4"), ex("find('z', 'abc')", "{}", "0")], find),
    text_fn!("contains", &[req("s", STR), req("sub", STR)], BOOL_OR_NULL, "True when s contains sub (case-sensitive).",
        [ex("contains('Acme Corp', 'Corp')", "{}", "true"), ex("contains('Acme', 'corp')", "{}", "false"), ex("contains(null, 'a')", "{}", "null")], contains),
    text_fn!("startswith", &[req("s", STR), req("prefix", STR)], BOOL_OR_NULL, "True when s starts with prefix (case-sensitive).",
        [ex("startswith('C001', 'C')", "{}", "true"), ex("startswith('C001', 'S')", "{}", "false")], startswith),
    text_fn!("endswith", &[req("s", STR), req("suffix", STR)], BOOL_OR_NULL, "True when s ends with suffix (case-sensitive).",
        [ex("endswith('report.pdf', '.pdf')", "{}", "true"), ex("endswith('a', 'ab')", "{}", "false")], endswith),
    text_fn!("replace", &[req("s", STR), req("old", STR), req("new", STR)], STR_OR_NULL, "Replaces every occurrence of old by new (an empty old changes nothing).",
        [ex("replace('a-b-c', '-', '/')", "{}", r#""a/b/c""#), ex("replace('abc', '', 'x')", "{}", r#""abc""#)], replace),
    text_fn!("split", &[req("s", STR), req("sep", STR)], TypeSet::ARRAY.union(TypeSet::NULL), "Splits s at every sep into an array of strings; an empty sep splits into characters.",
        [ex("split('a,b,,c', ',')", "{}", r#"["a","b","","c"]"#), ex("split('abc', '')", "{}", r#"["a","b","c"]"#), ex("split(null, ',')", "{}", "null")], split),
    text_fn!("join", &[req("array", TypeSet::ARRAY), opt("sep", STR)], STR_OR_NULL, "Joins the text forms of the elements with sep (default ''); null elements count as ''.",
        [ex("join(['a', 1, null, 'b'], '-')", "{}", r#""a-1--b""#), ex("join(['a', 'b'])", "{}", r#""ab""#), ex("join([], ',')", "{}", r#""""#)], join),
    text_fn!("padleft", &[req("s", STR), req("n", NUM), opt("ch", STR)], STR_OR_NULL, "s padded at the start with ch (one character, default ' ') to n characters; longer text is unchanged.",
        [ex("padleft('42', 5, '0')", "{}", r#""00042""#), ex("padleft('abcdef', 3)", "{}", r#""abcdef""#), ex("padleft('1', 3, 'ab')", "{}", "error E306")], padleft),
    text_fn!("padright", &[req("s", STR), req("n", NUM), opt("ch", STR)], STR_OR_NULL, "s padded at the end with ch (one character, default ' ') to n characters; longer text is unchanged.",
        [ex("padright('ab', 4, '.')", "{}", r#""ab..""#), ex("padright(null, 4)", "{}", "null")], padright),
    text_fn!("repeat", &[req("s", STR), req("n", NUM)], STR_OR_NULL, "s repeated n times (n ≥ 0); an error (E310) beyond 16 MiB.",
        [ex("repeat('ab', 3)", "{}", r#""ababab""#), ex("repeat('x', 0)", "{}", r#""""#), ex("repeat('x', 100000000)", "{}", "error E310")], repeat),
    text_fn!("regexmatch", &[req("s", STR), req("re", STR)], BOOL_OR_NULL, "True when the regular expression matches somewhere in s.",
        [ex("regexmatch('INV-2024-001', '^INV-\\d{4}-\\d+$')", "{}", "true"), ex("regexmatch('abc', '\\d')", "{}", "false"), ex("regexmatch(null, 'a')", "{}", "null")], regexmatch, Some(check_pattern)),
    text_fn!("regexextract", &[req("s", STR), req("re", STR), opt("group", NUM)], STR_OR_NULL, "The first match of the regular expression (or its capture group `group`); null when there is none.",
        [ex("regexextract('Order 12345 shipped', '\\d+')", "{}", r#""12345""#), ex("regexextract('key=value', '(\\w+)=(\\w+)', 2)", "{}", r#""value""#), ex("regexextract('abc', '\\d')", "{}", "null")], regexextract, Some(check_pattern)),
    text_fn!("regexreplace", &[req("s", STR), req("re", STR), req("repl", STR)], STR_OR_NULL, "Replaces every match of the regular expression; `$1` or `${name}` in repl insert capture groups.",
        [ex("regexreplace('2024-05-01', '(\\d+)-(\\d+)-(\\d+)', '$3.$2.$1')", "{}", r#""01.05.2024""#), ex("regexreplace('a  b   c', ' +', ' ')", "{}", r#""a b c""#)], regexreplace, Some(check_pattern)),
    Function {
        name: "text",
        category: Category::Text,
        params: &[req("x", TypeSet::ANY), opt("format", STR)],
        variadic: false,
        returns: Returns::Fixed(STR_OR_NULL),
        doc: "Text of a value; with a format: numbers by a pattern like '0.00' or '#,##0.00', dates and datetimes by a strftime pattern like '%d.%m.%Y'.",
        examples: &[
            ex("text(1234.5, '#,##0.00')", "{}", r#""1,234.50""#),
            ex("text(3.14159, '0.00')", "{}", r#""3.14""#),
            ex("text(date(2024, 5, 1), '%d.%m.%Y')", "{}", r#""01.05.2024""#),
            ex("text(42)", "{}", r#""42""#),
            ex("text(null)", "{}", "null"),
        ],
        imp: Imp::Eager(text_fn),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
    },
];

fn concat(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let mut out = String::new();
    for a in args {
        a.write_text(&mut out);
        if out.len() > ctx.limits.max_string_bytes {
            return Err(too_large("concat", "text", ctx.limits.max_string_bytes));
        }
    }
    Ok(Value::string(out))
}

/// Applies `f` to the text of argument 0 (null stays null).
fn map_text(
    args: &[Value],
    func: &str,
    f: impl FnOnce(&str) -> String,
) -> Result<Value, EvalError> {
    Ok(text(args, 0, func)?.map_or(Value::Null, |s| Value::string(f(s))))
}

fn upper(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "upper", str::to_uppercase)
}

fn lower(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "lower", str::to_lowercase)
}

fn proper(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "proper", |s| {
        let mut out = String::with_capacity(s.len());
        let mut word_start = true;
        for c in s.chars() {
            if c.is_alphanumeric() {
                if word_start {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
                word_start = false;
            } else {
                out.push(c);
                word_start = true;
            }
        }
        out
    })
}

fn trim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "trim", |s| {
        let mut out = String::with_capacity(s.len());
        let mut last_space = false;
        for c in s.trim().chars() {
            if c == ' ' {
                if !last_space {
                    out.push(c);
                }
                last_space = true;
            } else {
                out.push(c);
                last_space = false;
            }
        }
        out
    })
}

fn ltrim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "ltrim", |s| s.trim_start().to_string())
}

fn rtrim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "rtrim", |s| s.trim_end().to_string())
}

fn len(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(text(args, 0, "len")?.map_or(Value::Null, |s| Value::Number(s.chars().count().into())))
}

fn left(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, "left")?, count(args, 1, "left")?) else {
        return Ok(Value::Null);
    };
    Ok(Value::string(s.chars().take(n).collect()))
}

fn right(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, "right")?, count(args, 1, "right")?) else {
        return Ok(Value::Null);
    };
    let total = s.chars().count();
    Ok(Value::string(
        s.chars().skip(total.saturating_sub(n)).collect(),
    ))
}

/// A 1-based position argument as a 0-based character offset (E306 below 1).
fn position(args: &[Value], i: usize, func: &str) -> Result<Option<usize>, EvalError> {
    match integer(args, i, func)? {
        None => Ok(None),
        Some(p) => usize::try_from(p - 1).map(Some).map_err(|_| {
            EvalError::invalid_argument(format!(
                "{func}() positions are 1-based and at least 1, found {p}"
            ))
        }),
    }
}

fn mid(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let s = text(args, 0, "mid")?;
    let skip = position(args, 1, "mid")?;
    let n = count(args, 2, "mid")?;
    let (Some(s), Some(skip), Some(n)) = (s, skip, n) else {
        return Ok(Value::Null);
    };
    Ok(Value::string(s.chars().skip(skip).take(n).collect()))
}

fn find(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(sub), Some(s)) = (text(args, 0, "find")?, text(args, 1, "find")?) else {
        return Ok(Value::Null);
    };
    let skip = position(args, 2, "find")?.unwrap_or(0);
    let byte_start = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(skip);
    let found = byte_start.and_then(|start| {
        let at = start + s.get(start..)?.find(&**sub)?;
        Some(s.get(..at)?.chars().count() + 1)
    });
    Ok(Value::Number(found.unwrap_or(0).into()))
}

/// Applies a predicate to the texts of arguments 0 and 1 (null when either is null).
fn text_test(
    args: &[Value],
    func: &str,
    f: impl FnOnce(&str, &str) -> bool,
) -> Result<Value, EvalError> {
    let (Some(a), Some(b)) = (text(args, 0, func)?, text(args, 1, func)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Bool(f(a, b)))
}

fn contains(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    text_test(args, "contains", |s, sub| s.contains(sub))
}

fn startswith(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    text_test(args, "startswith", |s, p| s.starts_with(p))
}

fn endswith(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    text_test(args, "endswith", |s, p| s.ends_with(p))
}

fn replace(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(old), Some(new)) = (
        text(args, 0, "replace")?,
        text(args, 1, "replace")?,
        text(args, 2, "replace")?,
    ) else {
        return Ok(Value::Null);
    };
    if old.is_empty() {
        return Ok(Value::String(s.clone()));
    }
    let occurrences = s.matches(&**old).count();
    let size = s.len() - occurrences * old.len() + occurrences.saturating_mul(new.len());
    if size > ctx.limits.max_string_bytes {
        return Err(too_large("replace", "text", ctx.limits.max_string_bytes));
    }
    Ok(Value::string(s.replace(&**old, new)))
}

fn split(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(sep)) = (text(args, 0, "split")?, text(args, 1, "split")?) else {
        return Ok(Value::Null);
    };
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(&**sep).map(Value::str).collect()
    };
    if parts.len() > ctx.limits.max_array_len {
        return Err(too_large("split", "an array", ctx.limits.max_array_len));
    }
    Ok(Value::array(parts))
}

fn join(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(items) = array(args, 0, "join")? else {
        return Ok(Value::Null);
    };
    let sep = text(args, 1, "join")?.map_or("", |s| &**s);
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        item.write_text(&mut out);
        if out.len() > ctx.limits.max_string_bytes {
            return Err(too_large("join", "text", ctx.limits.max_string_bytes));
        }
    }
    Ok(Value::string(out))
}

fn pad(args: &[Value], ctx: &Ctx, func: &str, at_start: bool) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, func)?, count(args, 1, func)?) else {
        return Ok(Value::Null);
    };
    let ch = match text(args, 2, func)? {
        None => ' ',
        Some(c) => {
            let mut chars = c.chars();
            match (chars.next(), chars.next()) {
                (Some(ch), None) => ch,
                _ => {
                    return Err(EvalError::invalid_argument(format!(
                        "{func}() pads with exactly one character, found '{c}'"
                    )))
                }
            }
        }
    };
    let have = s.chars().count();
    if have >= n {
        return Ok(Value::String(s.clone()));
    }
    if n.saturating_mul(ch.len_utf8()) > ctx.limits.max_string_bytes {
        return Err(too_large(func, "text", ctx.limits.max_string_bytes));
    }
    let padding: String = std::iter::repeat_n(ch, n - have).collect();
    Ok(Value::string(if at_start {
        padding + s
    } else {
        format!("{s}{padding}")
    }))
}

fn padleft(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    pad(args, ctx, "padleft", true)
}

fn padright(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    pad(args, ctx, "padright", false)
}

fn repeat(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, "repeat")?, count(args, 1, "repeat")?) else {
        return Ok(Value::Null);
    };
    if s.len().saturating_mul(n) > ctx.limits.max_string_bytes {
        return Err(too_large("repeat", "text", ctx.limits.max_string_bytes));
    }
    Ok(Value::string(s.repeat(n)))
}

/// How many compiled patterns each thread keeps.
const REGEX_CACHE_SIZE: usize = 256;

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<(String, usize), Arc<Regex>>> = RefCell::new(HashMap::new());
}

/// Compiles a pattern (with the size limit), served from a per-thread cache so that a
/// pattern is compiled once, not per record.
pub fn compiled_regex(pattern: &str, size_limit: usize) -> Result<Arc<Regex>, regex::Error> {
    let key = (pattern.to_string(), size_limit);
    if let Some(re) = REGEX_CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = Arc::new(RegexBuilder::new(pattern).size_limit(size_limit).build()?);
    REGEX_CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(key, re.clone());
    });
    Ok(re)
}

fn check_pattern(index: usize, value: &Value) -> Result<(), LiteralError> {
    match (index, value) {
        (1, Value::String(p)) => {
            compiled_regex(p, crate::limits::Limits::default().max_regex_bytes)
                .map(|_| ())
                .map_err(|e| LiteralError {
                    code: codes::E203_INVALID_REGEX,
                    message: format!("invalid regular expression: {}", last_line(&e.to_string())),
                    help: "patterns use Rust regex syntax; escape special characters with \\"
                        .to_string(),
                })
        }
        _ => Ok(()),
    }
}

/// The regex crate puts the reason on the last line of its message.
fn last_line(s: &str) -> String {
    s.lines()
        .last()
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

fn regex_arg(args: &[Value], ctx: &Ctx, func: &str) -> Result<Option<Arc<Regex>>, EvalError> {
    match text(args, 1, func)? {
        None => Ok(None),
        Some(p) => compiled_regex(p, ctx.limits.max_regex_bytes)
            .map(Some)
            .map_err(|e| {
                EvalError::new(
                    codes::E309_INVALID_PATTERN,
                    format!(
                        "{func}(): invalid regular expression: {}",
                        last_line(&e.to_string())
                    ),
                )
            }),
    }
}

fn regexmatch(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(re)) = (
        text(args, 0, "regexmatch")?,
        regex_arg(args, ctx, "regexmatch")?,
    ) else {
        return Ok(Value::Null);
    };
    Ok(Value::Bool(re.is_match(s)))
}

fn regexextract(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(re)) = (
        text(args, 0, "regexextract")?,
        regex_arg(args, ctx, "regexextract")?,
    ) else {
        return Ok(Value::Null);
    };
    let group = count(args, 2, "regexextract")?.unwrap_or(0);
    if group >= re.captures_len() {
        return Err(EvalError::invalid_argument(format!(
            "regexextract(): the pattern has no group {group}"
        )));
    }
    Ok(re
        .captures(s)
        .and_then(|c| c.get(group))
        .map_or(Value::Null, |m| Value::str(m.as_str())))
}

fn regexreplace(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(re)) = (
        text(args, 0, "regexreplace")?,
        regex_arg(args, ctx, "regexreplace")?,
    ) else {
        return Ok(Value::Null);
    };
    let Some(repl) = text(args, 2, "regexreplace")? else {
        return Ok(Value::Null);
    };
    let out = re.replace_all(s, &**repl).into_owned();
    if out.len() > ctx.limits.max_string_bytes {
        return Err(too_large(
            "regexreplace",
            "text",
            ctx.limits.max_string_bytes,
        ));
    }
    Ok(Value::string(out))
}

fn text_fn(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let value = arg(args, 0);
    let Some(format) = text(args, 1, "text")? else {
        return Ok(match value {
            Value::Null => Value::Null,
            s @ Value::String(_) => s.clone(),
            other => Value::string(other.to_text()),
        });
    };
    match value {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => {
            let decimals = format.split_once('.').map_or(0, |(_, frac)| {
                frac.chars().filter(|c| matches!(c, '0' | '#')).count()
            });
            let group = if format.contains(',') { "," } else { "" };
            let decimals = u32::try_from(decimals.min(28)).unwrap_or(28);
            Ok(Value::string(super::numbers::format_decimal(
                *n, decimals, ".", group,
            )))
        }
        Value::Date(_) | Value::DateTime(_) => {
            super::dates::format_value(value, format, None, ctx, "text").map(Value::string)
        }
        other => Ok(Value::string(other.to_text())),
    }
}
