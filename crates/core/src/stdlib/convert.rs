//! Conversion and types.

use std::str::FromStr;

use rust_decimal::Decimal;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::args::{arg, text};
use super::{ex, req, Category, Function, Imp, LiteralError, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::value_from_json_text;
use crate::value::TypeSet;
use crate::value::Value;

/// The conversion functions.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "value",
        category: Category::Conversion,
        params: &[req("x", TypeSet::NUMBER.union(TypeSet::STRING))],
        variadic: false,
        returns: Returns::Fixed(TypeSet::NUMBER.union(TypeSet::NULL)),
        doc: "Excel's VALUE: a number from text as a spreadsheet shows it: a currency sign ($ € £ ¥) and thousands commas are dropped, a trailing % divides by 100, (parentheses) make it negative; an error (E304) for other text.",
        examples: &[
            ex("value('$1,234.50')", "{}", "1234.50"),
            ex("value('12%')", "{}", "0.12"),
            ex("value('(1,000)')", "{}", "-1000"),
            ex("value(' -7.5 € ')", "{}", "-7.5"),
            ex("value(42)", "{}", "42"),
            ex("value('12 apples')", "{}", "error E304"),
        ],
        imp: Imp::Eager(value),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "tostring",
        category: Category::Conversion,
        params: &[req("x", TypeSet::ANY)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING.or_null_if(true)),
        doc: "The text form of a value: numbers with their digits, dates in ISO 8601, arrays and objects as JSON; null stays null.",
        examples: &[
            ex("tostring(1.50)", "{}", r#""1.50""#),
            ex("tostring(['a' => 1])", "{}", r#""{\"a\":1}""#),
            ex("tostring(null)", "{}", "null"),
        ],
        imp: Imp::Eager(tostring),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "typeof",
        category: Category::Conversion,
        params: &[req("x", TypeSet::ANY)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING),
        doc: "The kind of a value: 'null', 'boolean', 'number', 'string', 'date', 'datetime', 'array' or 'object'.",
        examples: &[
            ex("typeof(data('n'))", r#"{"n": 1}"#, r#""number""#),
            ex("typeof(data('missing'))", "{}", r#""null""#),
            ex("typeof([1, 2])", "{}", r#""array""#),
        ],
        imp: Imp::Eager(type_of),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "toboolean",
        category: Category::Conversion,
        params: &[req("x", TypeSet::BOOLEAN.union(TypeSet::NUMBER).union(TypeSet::STRING))],
        variadic: false,
        returns: Returns::Fixed(TypeSet::BOOLEAN.union(TypeSet::NULL)),
        doc: "A boolean from text ('true', '1', 'yes', 'y', 'on' / 'false', '0', 'no', 'n', 'off', '', any case), a number (0 is false) or a boolean; an error (E306) for other text.",
        examples: &[
            ex("toboolean('Yes')", "{}", "true"),
            ex("toboolean('0')", "{}", "false"),
            ex("toboolean(2)", "{}", "true"),
            ex("toboolean('maybe')", "{}", "error E306"),
            ex("toboolean(null)", "{}", "null"),
        ],
        imp: Imp::Eager(toboolean),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "parsejson",
        category: Category::Conversion,
        params: &[req("text", TypeSet::STRING)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::ANY),
        doc: "The value of JSON text (numbers read exactly); an error (E306) for invalid JSON.",
        examples: &[
            ex(r#"parsejson('{"a": [1, 2.50]}')"#, "{}", r#"{"a":[1,2.50]}"#),
            ex("parsejson('[1,')", "{}", "error E306"),
            ex("parsejson(null)", "{}", "null"),
        ],
        imp: Imp::Eager(parsejson),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "tojson",
        category: Category::Conversion,
        params: &[req("x", TypeSet::ANY)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING),
        doc: "Compact JSON text of a value (null gives 'null').",
        examples: &[
            ex("tojson(['a' => [1, true]])", "{}", r#""{\"a\":[1,true]}""#),
            ex("tojson(null)", "{}", r#""null""#),
        ],
        imp: Imp::Eager(tojson),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "uuid",
        category: Category::Conversion,
        params: &[],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING),
        doc: "A new random UUID (version 4), lowercase with hyphens.",
        examples: &[ex("len(uuid())", "{}", "36"), ex("uuid() = uuid()", "{}", "false")],
        imp: Imp::Eager(uuid),
        pure: false,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "hash",
        category: Category::Conversion,
        params: &[req("x", TypeSet::ANY), req("algorithm", TypeSet::STRING)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING.union(TypeSet::NULL)),
        doc: "The lowercase hex digest of the text form of x: 'sha256' or 'md5'.",
        examples: &[
            ex("hash('abc', 'sha256')", "{}", r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#),
            ex("hash('abc', 'md5')", "{}", r#""900150983cd24fb0d6963f7d28e17f72""#),
            ex("hash(null, 'md5')", "{}", "null"),
        ],
        imp: Imp::Eager(hash),
        pure: true,
        check: Some(check_algorithm),
        reads: super::Reads::Arguments,
        store: false,
    },
];

/// Reads number text exactly: `12`, `-3.50`, `1e3`, surrounding white space ignored.
pub fn parse_number_text(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let well_formed = !digits.is_empty()
        && digits
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !well_formed {
        return None;
    }
    let d = if digits.contains(['e', 'E']) {
        Decimal::from_scientific(digits).ok()?
    } else {
        Decimal::from_str(digits).ok()?
    };
    Some(if negative { -d } else { d })
}

fn value(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let shown = match arg(args, 0) {
        Value::Null => return Ok(Value::Null),
        Value::Number(n) => return Ok(Value::Number(*n)),
        other => other.to_text(),
    };
    spreadsheet_number(&shown)
        .map(Value::Number)
        .ok_or_else(|| {
            EvalError::new(
                codes::E304_NUMBER_PARSE,
                format!(
                    "value('{}'): not a number as a spreadsheet shows one",
                    super::args::excerpt(&shown)
                ),
            )
        })
}

/// A number as a spreadsheet shows it: `$1,234.50`, `12%`, `(1,000)`, `-7.5 €`.
fn spreadsheet_number(text: &str) -> Option<Decimal> {
    let mut t = text.trim();
    let mut negative = false;
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        t = inner.trim();
    }
    let percent = t.ends_with('%');
    let t = t.trim_end_matches('%');
    let cleaned: String = t
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ',') && !c.is_whitespace())
        .collect();
    let mut n = parse_number_text(&cleaned)?;
    if percent {
        n /= Decimal::ONE_HUNDRED;
    }
    Some(if negative { -n } else { n })
}

fn tostring(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(match arg(args, 0) {
        Value::Null => Value::Null,
        s @ Value::String(_) => s.clone(),
        other => Value::string(other.to_text()),
    })
}

fn type_of(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::str(arg(args, 0).type_name()))
}

fn toboolean(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(match arg(args, 0) {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(*b),
        Value::Number(n) => Value::Bool(!n.is_zero()),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "n" | "off" | "" => Value::Bool(false),
            _ => {
                return Err(EvalError::invalid_argument(format!(
                    "toboolean(): '{s}' is not a boolean"
                )))
            }
        },
        other => {
            return Err(super::args::wrong_kind(
                "toboolean",
                0,
                "a boolean, number or string",
                other,
            ))
        }
    })
}

fn parsejson(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(t) = text(args, 0, "parsejson")? else {
        return Ok(Value::Null);
    };
    value_from_json_text(t).map_err(|e| EvalError::invalid_argument(format!("parsejson(): {e}")))
}

fn tojson(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::string(arg(args, 0).to_json()))
}

fn uuid(_: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::string(uuid::Uuid::new_v4().to_string()))
}

const ALGORITHMS: &str = "'sha256', 'md5'";

fn check_algorithm(index: usize, value: &Value) -> Result<(), LiteralError> {
    match value {
        Value::String(a)
            if index == 1 && !matches!(a.to_ascii_lowercase().as_str(), "sha256" | "md5") =>
        {
            Err(LiteralError {
                code: codes::E204_INVALID_OPTION,
                message: format!("unknown hash algorithm '{a}'"),
                help: format!("algorithms: {ALGORITHMS}"),
            })
        }
        _ => Ok(()),
    }
}

fn hash(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let value = arg(args, 0);
    let Some(algorithm) = text(args, 1, "hash")? else {
        return Ok(Value::Null);
    };
    if value.is_null() {
        return Ok(Value::Null);
    }
    let input = value.to_text();
    let digest = match algorithm.to_ascii_lowercase().as_str() {
        "sha256" => format!("{:x}", Sha256::digest(input.as_bytes())),
        "md5" => format!("{:x}", Md5::digest(input.as_bytes())),
        other => {
            return Err(EvalError::invalid_argument(format!(
                "hash(): unknown algorithm '{other}'; algorithms: {ALGORITHMS}"
            )))
        }
    };
    Ok(Value::string(digest))
}
