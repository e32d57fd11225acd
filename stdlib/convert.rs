//! Conversion and types.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::args::arg;
use super::{ex, req, Category, Function, Imp, Returns};
use crate::runtime::{Ctx, EvalError};
use crate::types::TypeSet;
use crate::value::Value;

/// The conversion functions.
pub const FUNCTIONS: &[Function] = &[
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
