//! Text functions. Positions are 1-based (spreadsheet habit); lengths count characters,
//! not bytes. Regular expressions use the `regex` crate; literal patterns are compiled
//! when the formula is checked.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use super::args::{arg, array, count, text, too_large};
use super::{ex, opt, req, Category, Function, Imp, LiteralError, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::{Text, TextBuilder, TypeSet, Value};
use smol_str::StrExt;

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
            store: false,
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
        store: false,
    },
    Function {
        name: "concatenate",
        category: Category::Text,
        params: &[opt("values", TypeSet::ANY)],
        variadic: true,
        returns: Returns::Fixed(STR),
        doc: "Excel's CONCATENATE: the same as concat().",
        examples: &[
            ex("concatenate('Stream ', 'population')", "{}", r#""Stream population""#),
            ex("concatenate(data('a'), 2)", r#"{"a": null}"#, r#""2""#),
        ],
        imp: Imp::Eager(concat),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    text_fn!("upper", &[req("s", STR)], STR_OR_NULL, "Upper case.",
        [ex("upper('straße')", "{}", r#""STRASSE""#), ex("upper(null)", "{}", "null")], upper),
    text_fn!("lower", &[req("s", STR)], STR_OR_NULL, "Lower case.",
        [ex("lower('ÄBC')", "{}", r#""äbc""#), ex("lower(null)", "{}", "null")], lower),
    text_fn!("proper", &[req("s", STR)], STR_OR_NULL, "Each letter that follows a non-letter (a space, a digit, a hyphen, an apostrophe) upper case, every other letter lower case, as Excel's PROPER.",
        [ex("proper('aDA lOVELACE-byron')", "{}", r#""Ada Lovelace-Byron""#), ex("proper('76BudGet')", "{}", r#""76Budget""#), ex("proper('o''neil')", "{}", r#""O'Neil""#), ex("proper(null)", "{}", "null")], proper),
    text_fn!("trim", &[req("s", STR)], STR_OR_NULL, "Removes white space at both ends and turns inner runs of spaces into one space (Excel's TRIM; tabs and line breaks inside stay: squish() turns them into spaces too).",
        [ex("trim('  Acme   Corp  ')", "{}", r#""Acme Corp""#), ex("trim('a\t b')", "{}", r#""a\t b""#), ex("trim(null)", "{}", "null")], trim),
    text_fn!("squish", &[req("s", STR)], STR_OR_NULL, "Removes white space at both ends and turns every inner run of white space (spaces, tabs, line breaks) into one space, as JSONata's $trim.",
        [ex("squish('  a\t\n  b  ')", "{}", r#""a b""#), ex("squish(null)", "{}", "null")], squish),
    text_fn!("clean", &[req("s", STR)], STR_OR_NULL, "Removes control characters (line breaks, tabs, the codes below 32 and 127), as Excel's CLEAN.",
        [ex("clean('a\nb\tc')", "{}", r#""abc""#), ex("clean(null)", "{}", "null")], clean),
    text_fn!("ltrim", &[req("s", STR)], STR_OR_NULL, "Removes white space at the start.",
        [ex("ltrim('  a  ')", "{}", r#""a  ""#), ex("ltrim(null)", "{}", "null")], ltrim),
    text_fn!("rtrim", &[req("s", STR)], STR_OR_NULL, "Removes white space at the end.",
        [ex("rtrim('  a  ')", "{}", r#""  a""#), ex("rtrim(null)", "{}", "null")], rtrim),
    text_fn!("len", &[req("s", STR)], NUM.union(TypeSet::NULL), "The number of characters (not bytes).",
        [ex("len('Köln')", "{}", "4"), ex("len('')", "{}", "0"), ex("len(null)", "{}", "null")], len),
    text_fn!("left", &[req("s", STR), req("n", NUM)], STR_OR_NULL, "The first n characters (a fractional n is truncated, as in Excel).",
        [ex("left('Fentu', 3)", "{}", r#""Fen""#), ex("left('ab', 5)", "{}", r#""ab""#), ex("left('HelloWorld', 5.8)", "{}", r#""Hello""#), ex("left('ab', -1)", "{}", "error E306")], left),
    text_fn!("right", &[req("s", STR), req("n", NUM)], STR_OR_NULL, "The last n characters (a fractional n is truncated).",
        [ex("right('Fentu', 2)", "{}", r#""tu""#), ex("right('Fentu', 2.9)", "{}", r#""tu""#), ex("right(null, 2)", "{}", "null")], right),
    text_fn!("mid", &[req("s", STR), req("start", NUM), req("n", NUM)], STR_OR_NULL, "n characters from position start (1-based; fractional start and n are truncated).",
        [ex("mid('Fentu FSM', 7, 3)", "{}", r#""FSM""#), ex("mid('abc', 3, 10)", "{}", r#""c""#), ex("mid('abcdef', 3.1, 1.9)", "{}", r#""c""#), ex("mid('abc', 0, 1)", "{}", "error E306")], mid),
    text_fn!("find", &[req("sub", STR), req("s", STR), opt("start", NUM)], NUM.union(TypeSet::NULL),
        "The 1-based position of sub in s, searching from position start (default 1); 0 when absent.",
        [ex("find('b', 'abcb')", "{}", "2"), ex("find('b', 'abcb', 3)", "{}", "4"), ex("find('z', 'abc')", "{}", "0")], find),
    text_fn!("contains", &[req("s", STR), req("sub", STR)], BOOL_OR_NULL, "True when s contains sub (case-sensitive).",
        [ex("contains('Acme Corp', 'Corp')", "{}", "true"), ex("contains('Acme', 'corp')", "{}", "false"), ex("contains(null, 'a')", "{}", "null")], contains),
    text_fn!("startswith", &[req("s", STR), req("prefix", STR)], BOOL_OR_NULL, "True when s starts with prefix (case-sensitive).",
        [ex("startswith('C001', 'C')", "{}", "true"), ex("startswith('C001', 'S')", "{}", "false")], startswith),
    text_fn!("endswith", &[req("s", STR), req("suffix", STR)], BOOL_OR_NULL, "True when s ends with suffix (case-sensitive).",
        [ex("endswith('report.pdf', '.pdf')", "{}", "true"), ex("endswith('a', 'ab')", "{}", "false")], endswith),
    text_fn!("replace", &[req("s", STR), req("old", STR), req("new", STR)], STR_OR_NULL, "Replaces every occurrence of old by new (an empty old changes nothing). Excel's position-based REPLACE(text, start, count, new) is replaceat().",
        [ex("replace('a-b-c', '-', '/')", "{}", r#""a/b/c""#), ex("replace('abc', '', 'x')", "{}", r#""abc""#)], replace),
    text_fn!("substitute", &[req("s", STR), req("old", STR), req("new", STR), opt("instance", NUM)], STR_OR_NULL, "Excel's SUBSTITUTE: replaces every occurrence of old by new, or only the instance-th (1-based) when instance is given.",
        [ex("substitute('a-b-c', '-', '/')", "{}", r#""a/b/c""#), ex("substitute('Quarter 1, 2011', '1', '2', 3)", "{}", r#""Quarter 1, 2012""#), ex("substitute('abc', 'x', 'y', 1)", "{}", r#""abc""#), ex("substitute('abc', 'b', 'y', 0)", "{}", "error E306")], substitute),
    text_fn!("replaceat", &[req("s", STR), req("start", NUM), req("count", NUM), req("new", STR)], STR_OR_NULL, "Excel's REPLACE: the count characters from position start (1-based) replaced by new.",
        [ex("replaceat('abcdefghijk', 6, 5, '*')", "{}", r#""abcde*k""#), ex("replaceat('2009', 3, 2, '10')", "{}", r#""2010""#), ex("replaceat('abc', 5, 1, 'x')", "{}", r#""abcx""#), ex("replaceat('abc', 0, 1, 'x')", "{}", "error E306")], replaceat),
    text_fn!("search", &[req("sub", STR), req("s", STR), opt("start", NUM)], NUM.union(TypeSet::NULL),
        "Excel's SEARCH: the 1-based position of sub in s ignoring case, from position start (default 1), where ? in sub stands for any one character, * for any run of them and ~ escapes them; 0 when absent (Excel: #VALUE!).",
        [ex("search('e', 'Statements', 6)", "{}", "7"), ex("search('MARGIN', 'Profit Margin')", "{}", "8"), ex("search('m?r', 'Profit Margin')", "{}", "8"), ex("search('p*t', 'a print')", "{}", "3"), ex("search('~?', 'why?')", "{}", "4"), ex("search('z', 'abc')", "{}", "0")], search),
    Function {
        name: "textjoin",
        category: Category::Text,
        params: &[req("sep", STR), req("ignore_empty", TypeSet::BOOLEAN), opt("values", TypeSet::ANY)],
        variadic: true,
        returns: Returns::Fixed(STR),
        doc: "Excel's TEXTJOIN: the text forms of the values (arrays spread) joined with sep; with ignore_empty true, nulls and '' are left out.",
        examples: &[
            ex("textjoin(', ', true, 'a', '', null, ['b', 'c'])", "{}", r#""a, b, c""#),
            ex("textjoin('-', false, 'a', '', 'b')", "{}", r#""a--b""#),
            ex("textjoin(',', true)", "{}", r#""""#),
        ],
        imp: Imp::Eager(textjoin),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
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
        doc: "Text of a value; with a format, Excel's TEXT: numbers by a number format ('0000', '#,##0.00', '0.0%', '0.00E+00', '$#,##0.00;($#,##0.00);\"zero\"'), dates and datetimes by date codes ('dd.mm.yyyy', 'dddd, mmmm d', 'h:mm AM/PM') or, when the pattern has a %, by strftime ('%d.%m.%Y'). An element it does not know is an error (E204 for a literal pattern).",
        examples: &[
            ex("text(1234.5, '#,##0.00')", "{}", r#""1,234.50""#),
            ex("text(3.14159, '0.00')", "{}", r#""3.14""#),
            ex("text(5, '0000')", "{}", r#""0005""#),
            ex("text(-6, '000')", "{}", r#""-006""#),
            ex("text(0.25, '0%')", "{}", r#""25%""#),
            ex("text(0.1234, '0.00%')", "{}", r#""12.34%""#),
            ex("text(1234.5, '$#,##0.00')", "{}", r#""$1,234.50""#),
            ex("text(1234.5, '#,##0.00 EUR')", "{}", r#""1,234.50 EUR""#),
            ex("text(12345.678, '0.00E+00')", "{}", r#""1.23E+04""#),
            ex("text(-1234.5, '#,##0.00;(#,##0.00)')", "{}", r#""(1,234.50)""#),
            ex("text(0, '0.00;-0.00;\"none\"')", "{}", r#""none""#),
            ex("text(12200000, '0.0,,\" M\"')", "{}", r#""12.2 M""#),
            ex("text(date(2024, 3, 5), 'MM-dd-yyyy')", "{}", r#""03-05-2024""#),
            ex("text(date(2024, 3, 5), 'dddd, mmmm d, yyyy')", "{}", r#""Tuesday, March 5, 2024""#),
            ex("text(datetime(2024, 3, 5, 14, 7, 0), 'h:mm AM/PM')", "{}", r#""2:07 PM""#),
            ex("text(date(2024, 5, 1), '%d.%m.%Y')", "{}", r#""01.05.2024""#),
            ex("text(42)", "{}", r#""42""#),
            ex("text(null)", "{}", "null"),
            ex("text(5, data('f'))", r#"{"f": "0.0@"}"#, "error E306"),
        ],
        imp: Imp::Eager(text_fn),
        pure: true,
        check: Some(check_text_pattern),
        reads: super::Reads::Arguments,
        store: false,
    },
];

/// A literal pattern of `text` must be one it can apply (E204).
fn check_text_pattern(index: usize, value: &Value) -> Result<(), LiteralError> {
    match (index, value) {
        (1, Value::String(pattern)) => super::excel_format::check(pattern).map_err(|why| LiteralError {
            code: codes::E204_INVALID_OPTION,
            message: why,
            help: "number patterns: 0 # ? . , % E+00 and \"literal text\"; date patterns: yyyy mm dd hh mm ss AM/PM (or strftime with %)".to_string(),
        }),
        _ => Ok(()),
    }
}

fn concat(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let mut out = TextBuilder::new();
    for a in args {
        a.write_text(&mut out);
        if out.len() > ctx.limits.max_string_bytes {
            return Err(too_large("concat", "text", ctx.limits.max_string_bytes));
        }
    }
    Ok(Value::String(out.finish()))
}

/// Applies `f` to the text of argument 0 (null stays null).
fn map_text(args: &[Value], func: &str, f: impl FnOnce(&str) -> Text) -> Result<Value, EvalError> {
    Ok(text(args, 0, func)?.map_or(Value::Null, |s| Value::String(f(s))))
}

fn upper(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "upper", |s| match s.is_ascii() {
        true => s.to_ascii_uppercase_smolstr(),
        false => s.to_uppercase().into(),
    })
}

fn lower(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    // str::to_lowercase, not a char-by-char mapping: a final sigma lowers to 'ς'
    map_text(args, "lower", |s| match s.is_ascii() {
        true => s.to_ascii_lowercase_smolstr(),
        false => s.to_lowercase().into(),
    })
}

fn proper(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "proper", |s| {
        let mut out = String::with_capacity(s.len());
        let mut after_letter = false;
        for c in s.chars() {
            if c.is_alphabetic() {
                if after_letter {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
                after_letter = true;
            } else {
                out.push(c);
                after_letter = false;
            }
        }
        out.into()
    })
}

fn squish(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "squish", |s| {
        s.split_whitespace().collect::<Vec<_>>().join(" ").into()
    })
}

fn clean(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "clean", |s| {
        s.chars().filter(|c| !c.is_control()).collect()
    })
}

fn trim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "trim", |s| {
        let mut out = TextBuilder::new();
        // runs of spaces inside become one: the text between them is pushed whole
        for (i, word) in s.trim().split(' ').filter(|w| !w.is_empty()).enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        out.finish()
    })
}

fn ltrim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "ltrim", |s| Text::new(s.trim_start()))
}

fn rtrim(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    map_text(args, "rtrim", |s| Text::new(s.trim_end()))
}

fn len(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(text(args, 0, "len")?.map_or(Value::Null, |s| Value::Number(s.chars().count().into())))
}

/// Argument `i` as a count, a fractional one truncated (Excel's habit for counts and
/// positions); E306 below 0.
fn truncated_count(args: &[Value], i: usize, func: &str) -> Result<Option<usize>, EvalError> {
    let Some(n) = super::args::number(args, i, func)? else {
        return Ok(None);
    };
    let whole = n.trunc();
    if whole.is_sign_negative() && !whole.is_zero() {
        return Err(EvalError::invalid_argument(format!(
            "{func}() argument {} must not be negative, found {n}",
            i + 1
        )));
    }
    Ok(Some(usize::try_from(whole).unwrap_or(usize::MAX)))
}

fn left(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, "left")?, truncated_count(args, 1, "left")?) else {
        return Ok(Value::Null);
    };
    Ok(Value::string(s.chars().take(n).collect()))
}

fn right(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(s), Some(n)) = (text(args, 0, "right")?, truncated_count(args, 1, "right")?) else {
        return Ok(Value::Null);
    };
    let total = s.chars().count();
    Ok(Value::string(
        s.chars().skip(total.saturating_sub(n)).collect(),
    ))
}

/// A 1-based position argument (a fractional one truncated) as a 0-based character offset
/// (E306 below 1).
fn position(args: &[Value], i: usize, func: &str) -> Result<Option<usize>, EvalError> {
    match truncated_count(args, i, func) {
        Ok(None) => Ok(None),
        Ok(Some(p)) if p >= 1 => Ok(Some(p - 1)),
        _ => Err(EvalError::invalid_argument(format!(
            "{func}() positions are 1-based and at least 1, found {}",
            arg(args, i).to_text()
        ))),
    }
}

fn mid(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let s = text(args, 0, "mid")?;
    let skip = position(args, 1, "mid")?;
    let n = truncated_count(args, 2, "mid")?;
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

fn substitute(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(instance) = args.get(3) else {
        return replace(args, ctx);
    };
    let (Some(s), Some(old), Some(new)) = (
        text(args, 0, "substitute")?,
        text(args, 1, "substitute")?,
        text(args, 2, "substitute")?,
    ) else {
        return Ok(Value::Null);
    };
    if instance.is_null() {
        return Ok(Value::Null);
    }
    let nth = position(args, 3, "substitute")?.unwrap_or(0);
    if old.is_empty() {
        return Ok(Value::String(s.clone()));
    }
    let Some((at, _)) = s.match_indices(&**old).nth(nth) else {
        return Ok(Value::String(s.clone()));
    };
    let mut out = String::with_capacity(s.len() + new.len());
    out.push_str(s.get(..at).unwrap_or(""));
    out.push_str(new);
    out.push_str(s.get(at + old.len()..).unwrap_or(""));
    if out.len() > ctx.limits.max_string_bytes {
        return Err(too_large("substitute", "text", ctx.limits.max_string_bytes));
    }
    Ok(Value::string(out))
}

fn replaceat(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let s = text(args, 0, "replaceat")?;
    let start = position(args, 1, "replaceat")?;
    let n = truncated_count(args, 2, "replaceat")?;
    let new = text(args, 3, "replaceat")?;
    let (Some(s), Some(start), Some(n), Some(new)) = (s, start, n, new) else {
        return Ok(Value::Null);
    };
    let mut out: String = s.chars().take(start).collect();
    out.push_str(new);
    out.extend(s.chars().skip(start.saturating_add(n)));
    if out.len() > ctx.limits.max_string_bytes {
        return Err(too_large("replaceat", "text", ctx.limits.max_string_bytes));
    }
    Ok(Value::string(out))
}

/// The regular expression of a SEARCH pattern: `?` any one character, `*` any run, `~`
/// escaping the next one; the rest literal, case ignored.
fn search_regex(pattern: &str) -> String {
    let mut out = String::from("(?is)");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '?' => out.push('.'),
            '*' => out.push_str(".*?"),
            '~' => match chars.next() {
                Some(next) => out.push_str(&regex::escape(&next.to_string())),
                None => out.push('~'),
            },
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out
}

fn search(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let (Some(sub), Some(s)) = (text(args, 0, "search")?, text(args, 1, "search")?) else {
        return Ok(Value::Null);
    };
    let skip = position(args, 2, "search")?.unwrap_or(0);
    let re = compiled_regex(&search_regex(sub), ctx.limits.max_regex_bytes).map_err(|e| {
        EvalError::invalid_argument(format!("search('{sub}'): {}", last_line(&e.to_string())))
    })?;
    let byte_start = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(skip);
    let found = byte_start.and_then(|start| {
        let at = re.find_at(s, start)?.start();
        Some(s.get(..at)?.chars().count() + 1)
    });
    Ok(Value::Number(found.unwrap_or(0).into()))
}

fn textjoin(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let sep = text(args, 0, "textjoin")?.map_or("", |s| &**s);
    let ignore_empty = super::args::boolean(args, 1, "textjoin")?.unwrap_or(false);
    let mut out = String::new();
    let mut first = true;
    let values = args
        .get(2..)
        .unwrap_or_default()
        .iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        });
    for value in values {
        let empty = value.is_null() || matches!(value, Value::String(s) if s.is_empty());
        if ignore_empty && empty {
            continue;
        }
        if !first {
            out.push_str(sep);
        }
        first = false;
        value.write_text(&mut out);
        if out.len() > ctx.limits.max_string_bytes {
            return Err(too_large("textjoin", "text", ctx.limits.max_string_bytes));
        }
    }
    Ok(Value::string(out))
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
        Value::Number(n) => super::excel_format::format_number(*n, format)
            .map(Value::string)
            .map_err(|why| EvalError::invalid_argument(format!("text: {why}"))),
        Value::Date(_) | Value::DateTime(_) => {
            super::date_patterns::format_value(value, format, None, ctx, "text")
        }
        other => Ok(Value::string(other.to_text())),
    }
}
