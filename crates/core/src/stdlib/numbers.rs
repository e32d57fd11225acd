//! Numbers: exact decimal arithmetic (rust_decimal), six rounding modes, locale-aware
//! formatting and parsing. Nothing goes through binary floating point.

use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};

use super::args::{arg, integer, number, spread, text};
use super::convert::parse_number_text;
use super::{ex, opt, req, Category, Function, Imp, LiteralError, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::TypeSet;
use crate::value::Value;

const NUM: TypeSet = TypeSet::NUMBER;
const NUM_OR_NULL: TypeSet = TypeSet::NUMBER.union(TypeSet::NULL);
const STR: TypeSet = TypeSet::STRING;
const NUMS: TypeSet = TypeSet::NUMBER.union(TypeSet::ARRAY);

macro_rules! num_fn {
    ($name:literal, $params:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr) => {
        num_fn!($name, $params, $doc, [$($ex),*], $imp, None)
    };
    ($name:literal, $params:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr, $check:expr) => {
        Function {
            name: $name,
            category: Category::Numbers,
            params: $params,
            variadic: false,
            returns: Returns::Fixed(NUM_OR_NULL),
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
pub(super) use num_fn;

macro_rules! aggregate_fn {
    ($name:literal, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr) => {
        Function {
            name: $name,
            category: Category::Numbers,
            params: &[req("values", NUMS), opt("more", NUM)],
            variadic: true,
            returns: Returns::Fixed(NUM_OR_NULL),
            doc: $doc,
            examples: &[$($ex),*],
            imp: Imp::Eager($imp),
            pure: true,
            check: None,
            reads: super::Reads::Arguments,
            store: false,
        }
    };
}

/// The number functions.
pub const FUNCTIONS: &[Function] = &[
    num_fn!(
        "number",
        &[req("x", NUM.union(STR))],
        "A number from a number or from text (surrounding spaces ignored, `.` as decimal separator, exponent allowed); an error (E304) for text that is not a number.",
        [
            ex("number(' 12.50 ')", "{}", "12.50"),
            ex("number('1e3')", "{}", "1000"),
            ex("number('abc')", "{}", "error E304"),
            ex("number(null)", "{}", "null"),
        ],
        number_fn
    ),
    num_fn!(
        "tonumber",
        &[req("x", TypeSet::ANY), opt("default", TypeSet::ANY)],
        "Like number() but never fails: the default (or null) when the value is not a number or numeric text.",
        [
            ex("tonumber('42')", "{}", "42"),
            ex("tonumber('n/a', 0)", "{}", "0"),
            ex("tonumber(true)", "{}", "null"),
        ],
        tonumber
    ),
    num_fn!(
        "round",
        &[req("x", NUM), opt("digits", NUM), opt("mode", STR)],
        "Rounds to `digits` decimal places (default 0; negative rounds to tens, hundreds...); the result has exactly `digits` places, so round(1234.5, 2) is 1234.50. Modes: 'half_up' (default, ties away from zero), 'half_even', 'down' (toward zero), 'up' (away from zero), 'floor', 'ceiling'.",
        [
            ex("round(2.345, 2)", "{}", "2.35"),
            ex("round(1234.5, 2)", "{}", "1234.50"),
            ex("round(2.345, 2, 'half_even')", "{}", "2.34"),
            ex("round(-2.5)", "{}", "-3"),
            ex("round(1234.5, -2)", "{}", "1200"),
            ex("round(2.9, 0, 'floor')", "{}", "2"),
            ex("round(null, 2)", "{}", "null"),
        ],
        round,
        Some(check_round_mode)
    ),
    num_fn!(
        "roundup",
        &[req("x", NUM), opt("digits", NUM)],
        "Rounds away from zero to `digits` decimal places (default 0).",
        [ex("roundup(2.341, 2)", "{}", "2.35"), ex("roundup(-2.1)", "{}", "-3")],
        roundup
    ),
    num_fn!(
        "rounddown",
        &[req("x", NUM), opt("digits", NUM)],
        "Rounds toward zero to `digits` decimal places (default 0).",
        [ex("rounddown(2.349, 2)", "{}", "2.34"), ex("rounddown(-2.9)", "{}", "-2")],
        rounddown
    ),
    num_fn!(
        "floor",
        &[req("x", NUM), opt("significance", NUM)],
        "Excel's FLOOR: x rounded down to a multiple of significance (default 1: toward negative infinity); a negative x with a negative significance rounds toward zero; E306 for a positive x with a negative significance. Decimal places: round(x, digits, 'floor').",
        [
            ex("floor(2.7)", "{}", "2"),
            ex("floor(-2.1)", "{}", "-3"),
            ex("floor(1000, 15)", "{}", "990"),
            ex("floor(3.7, 2)", "{}", "2"),
            ex("floor(-2.5, -2)", "{}", "-2"),
            ex("floor(2.567, 0.01)", "{}", "2.56"),
            ex("floor(2.5, -2)", "{}", "error E306"),
            ex("floor(null)", "{}", "null"),
        ],
        floor
    ),
    num_fn!(
        "ceiling",
        &[req("x", NUM), opt("significance", NUM)],
        "Excel's CEILING: x rounded up to a multiple of significance (default 1: toward positive infinity); a negative x with a negative significance rounds away from zero; E306 for a positive x with a negative significance. Decimal places: round(x, digits, 'ceiling').",
        [
            ex("ceiling(2.1)", "{}", "3"),
            ex("ceiling(-2.7)", "{}", "-2"),
            ex("ceiling(4.1, 1)", "{}", "5"),
            ex("ceiling(2.5, 2)", "{}", "4"),
            ex("ceiling(-2.5, -2)", "{}", "-4"),
            ex("ceiling(4.42, 0.05)", "{}", "4.45"),
            ex("ceiling(1.5, 0)", "{}", "0"),
        ],
        ceiling
    ),
    num_fn!(
        "mround",
        &[req("x", NUM), req("multiple", NUM)],
        "Excel's MROUND: x rounded to the nearest multiple of multiple, halves away from zero; 0 for a multiple of 0; E306 when x and multiple have different signs.",
        [
            ex("mround(10, 3)", "{}", "9"),
            ex("mround(-10, -3)", "{}", "-9"),
            ex("mround(1.3, 0.2)", "{}", "1.4"),
            ex("mround(7.5, 5)", "{}", "10"),
            ex("mround(5, -2)", "{}", "error E306"),
        ],
        mround
    ),
    num_fn!(
        "quotient",
        &[req("a", NUM), req("b", NUM)],
        "Excel's QUOTIENT: the whole part of a / b (truncated toward zero); E302 for b = 0.",
        [
            ex("quotient(5, 2)", "{}", "2"),
            ex("quotient(4.5, 3.1)", "{}", "1"),
            ex("quotient(-10, 3)", "{}", "-3"),
            ex("quotient(1, 0)", "{}", "error E302"),
        ],
        quotient
    ),
    num_fn!(
        "abs",
        &[req("x", NUM)],
        "The absolute value.",
        [ex("abs(-3.50)", "{}", "3.50"), ex("abs(null)", "{}", "null")],
        abs
    ),
    num_fn!(
        "mod",
        &[req("a", NUM), req("b", NUM)],
        "The remainder of a / b, with the sign of b (as spreadsheets do); an error for b = 0.",
        [
            ex("mod(10, 3)", "{}", "1"),
            ex("mod(-10, 3)", "{}", "2"),
            ex("mod(5.5, 2)", "{}", "1.5"),
            ex("mod(1, 0)", "{}", "error E302"),
        ],
        modulo
    ),
    aggregate_fn!(
        "min",
        "The smallest of the numbers (given as arguments or as one array); nulls are skipped; null when there is none.",
        [ex("min(3, 1, 2)", "{}", "1"), ex("min([4, null, 2])", "{}", "2"), ex("min([])", "{}", "null")],
        min
    ),
    aggregate_fn!(
        "max",
        "The largest of the numbers (given as arguments or as one array); nulls are skipped; null when there is none.",
        [ex("max(3, 1, 2)", "{}", "3"), ex("max(data('Lines'))", r#"{"Lines": [1.5, 7.25]}"#, "7.25")],
        max
    ),
    aggregate_fn!(
        "sum",
        "The exact sum of the numbers (given as arguments or as one array); nulls are skipped; 0 when there is none.",
        [ex("sum([0.1, 0.2])", "{}", "0.3"), ex("sum(1, null, 2)", "{}", "3"), ex("sum([])", "{}", "0")],
        sum
    ),
    aggregate_fn!(
        "avg",
        "The mean of the numbers (given as arguments or as one array); nulls are skipped; null when there is none.",
        [ex("avg([1, 2, 4])", "{}", "2.3333333333333333333333333333"), ex("avg(2, 4)", "{}", "3"), ex("avg([null])", "{}", "null")],
        avg
    ),
    Function {
        name: "formatnumber",
        category: Category::Numbers,
        params: &[req("x", NUM), req("decimals", NUM), opt("decimalSep", STR), opt("groupSep", STR)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::STRING.union(TypeSet::NULL)),
        doc: "Text of x rounded half-up to `decimals` places, with the decimal separator (default '.') and the thousands separator (default ',', '' for none).",
        examples: &[
            ex("formatnumber(1234.5, 2, ',', '.')", "{}", r#""1.234,50""#),
            ex("formatnumber(1234567.891, 2)", "{}", r#""1,234,567.89""#),
            ex("formatnumber(-0.5, 0, '.', '')", "{}", r#""-1""#),
            ex("formatnumber(null, 2)", "{}", "null"),
        ],
        imp: Imp::Eager(formatnumber),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "parsenumber",
        category: Category::Numbers,
        params: &[req("text", STR), opt("decimalSep", STR), opt("groupSep", STR)],
        variadic: false,
        returns: Returns::Fixed(NUM_OR_NULL),
        doc: "A number from text written with the given decimal separator (default '.') and thousands separator (default ','); an error (E304) when the text is not a number.",
        examples: &[
            ex("parsenumber('1.234,50', ',', '.')", "{}", "1234.50"),
            ex("parsenumber('1,234.5')", "{}", "1234.5"),
            ex("parsenumber('12abc')", "{}", "error E304"),
        ],
        imp: Imp::Eager(parsenumber),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
];

fn number_fn(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    match arg(args, 0) {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => parse_number_text(s).map(Value::Number).ok_or_else(|| {
            EvalError::new(codes::E304_NUMBER_PARSE, format!("'{s}' is not a number"))
        }),
        other => Err(super::args::wrong_kind(
            "number",
            0,
            "number or string",
            other,
        )),
    }
}

fn tonumber(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let parsed = match arg(args, 0) {
        Value::Number(n) => Some(*n),
        Value::String(s) => parse_number_text(s),
        _ => None,
    };
    Ok(parsed
        .map(Value::Number)
        .unwrap_or_else(|| arg(args, 1).clone()))
}

/// The rounding modes `round()` takes, by name; the JIT passes a mode as its index here.
pub const ROUND_MODES: [(&str, RoundingStrategy); 6] = [
    ("half_up", RoundingStrategy::MidpointAwayFromZero),
    ("half_even", RoundingStrategy::MidpointNearestEven),
    ("down", RoundingStrategy::ToZero),
    ("up", RoundingStrategy::AwayFromZero),
    ("floor", RoundingStrategy::ToNegativeInfinity),
    ("ceiling", RoundingStrategy::ToPositiveInfinity),
];

/// The rounding strategy a mode name (in any case) stands for.
pub fn rounding_mode(name: &str) -> Option<RoundingStrategy> {
    ROUND_MODES
        .iter()
        .find(|(mode, _)| mode.eq_ignore_ascii_case(name))
        .map(|(_, strategy)| *strategy)
}

/// The mode names of [`ROUND_MODES`], quoted, for an error's help.
fn mode_names() -> String {
    ROUND_MODES
        .iter()
        .map(|(mode, _)| format!("'{mode}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_round_mode(index: usize, value: &Value) -> Result<(), LiteralError> {
    match (index, value) {
        (2, Value::String(mode)) if rounding_mode(mode).is_none() => Err(LiteralError {
            code: codes::E204_INVALID_OPTION,
            message: format!("unknown rounding mode '{mode}'"),
            help: format!("modes: {}", mode_names()),
        }),
        _ => Ok(()),
    }
}

/// Rounds `x` to `digits` places (negative: to tens, hundreds, ...) with `strategy`. The
/// result has exactly `digits` decimal places (`round(1234.5, 2)` is `1234.50`: money
/// fields get the places asked for), as far as 28 significant digits allow.
pub fn round_with(
    x: Decimal,
    digits: i64,
    strategy: RoundingStrategy,
) -> Result<Decimal, EvalError> {
    if digits >= 0 {
        let dp = u32::try_from(digits.min(28)).unwrap_or(28);
        let mut rounded = x.round_dp_with_strategy(dp, strategy);
        rounded.rescale(dp);
        return Ok(rounded);
    }
    let shift = u32::try_from(digits.unsigned_abs()).unwrap_or(u32::MAX);
    if shift > 28 {
        return Ok(Decimal::ZERO);
    }
    let factor = Decimal::from(10u64)
        .checked_powu(u64::from(shift))
        .ok_or_else(overflow)?;
    let scaled = (x / factor).round_dp_with_strategy(0, strategy);
    scaled.checked_mul(factor).ok_or_else(overflow)
}

fn overflow() -> EvalError {
    EvalError::new(codes::E303_OVERFLOW, "the result does not fit in a decimal")
}

fn rounded(args: &[Value], func: &str, strategy: RoundingStrategy) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, func)? else {
        return Ok(Value::Null);
    };
    let digits = integer(args, 1, func)?.unwrap_or(0);
    round_with(x, digits, strategy).map(Value::Number)
}

fn round(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let strategy = match text(args, 2, "round")? {
        None => RoundingStrategy::MidpointAwayFromZero,
        Some(mode) => rounding_mode(mode).ok_or_else(|| {
            EvalError::invalid_argument(format!(
                "unknown rounding mode '{mode}'; modes: {}",
                mode_names()
            ))
        })?,
    };
    rounded(args, "round", strategy)
}

fn roundup(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    rounded(args, "roundup", RoundingStrategy::AwayFromZero)
}

fn rounddown(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    rounded(args, "rounddown", RoundingStrategy::ToZero)
}

fn floor(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    to_multiple(args, "floor", false)
}

fn ceiling(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    to_multiple(args, "ceiling", true)
}

/// Excel's FLOOR and CEILING: `x` to a multiple of the significance (default 1), up or
/// down; with both negative, toward zero (FLOOR) or away from it (CEILING).
fn to_multiple(args: &[Value], func: &str, up: bool) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, func)? else {
        return Ok(Value::Null);
    };
    let significance = match args.get(1) {
        None => Decimal::ONE,
        Some(_) => match number(args, 1, func)? {
            Some(s) => s,
            None => return Ok(Value::Null),
        },
    };
    if significance.is_zero() {
        return Ok(Value::Number(Decimal::ZERO));
    }
    if x.is_sign_positive() && !x.is_zero() && significance.is_sign_negative() {
        return Err(EvalError::invalid_argument(format!(
            "{func}({x}, {significance}): a positive number takes a positive significance"
        )));
    }
    // in steps of the significance: with both negative, flooring the (positive) count of
    // steps moves toward zero, as Excel's FLOOR does
    let steps = x.checked_div(significance).ok_or_else(overflow)?;
    let whole = if up { steps.ceil() } else { steps.floor() };
    let result = whole.checked_mul(significance).ok_or_else(overflow)?;
    Ok(Value::Number(result.normalize()))
}

fn mround(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(x), Some(multiple)) = (number(args, 0, "mround")?, number(args, 1, "mround")?) else {
        return Ok(Value::Null);
    };
    if multiple.is_zero() || x.is_zero() {
        return Ok(Value::Number(Decimal::ZERO));
    }
    if x.is_sign_negative() != multiple.is_sign_negative() {
        return Err(EvalError::invalid_argument(format!(
            "mround({x}, {multiple}): the number and the multiple need the same sign"
        )));
    }
    let steps = x
        .checked_div(multiple)
        .ok_or_else(overflow)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let result = steps.checked_mul(multiple).ok_or_else(overflow)?;
    Ok(Value::Number(result.normalize()))
}

fn quotient(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(a), Some(b)) = (number(args, 0, "quotient")?, number(args, 1, "quotient")?) else {
        return Ok(Value::Null);
    };
    if b.is_zero() {
        return Err(EvalError::new(
            codes::E302_DIVISION_BY_ZERO,
            format!("quotient({a}, 0): the divisor is 0, and nothing divides by zero"),
        ));
    }
    let q = a.checked_div(b).ok_or_else(overflow)?.trunc();
    Ok(Value::Number(q.normalize()))
}

fn abs(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(number(args, 0, "abs")?.map_or(Value::Null, |x| Value::Number(x.abs())))
}

fn modulo(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(a), Some(b)) = (number(args, 0, "mod")?, number(args, 1, "mod")?) else {
        return Ok(Value::Null);
    };
    modulo_of(a, b).map(Value::Number)
}

/// The remainder of a / b with the sign of b, normalised; E302 for b = 0.
pub fn modulo_of(a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    if b.is_zero() {
        return Err(EvalError::new(
            codes::E302_DIVISION_BY_ZERO,
            format!("mod({a}, 0): the divisor is 0, and nothing divides by zero"),
        ));
    }
    let r = a.checked_rem(b).ok_or_else(overflow)?;
    let r = if !r.is_zero() && (r.is_sign_negative() != b.is_sign_negative()) {
        r + b
    } else {
        r
    };
    Ok(r.normalize())
}

/// The non-null numbers of a variadic call (or of its one array argument).
fn numbers_of(args: &[Value], func: &str) -> Result<Vec<Decimal>, EvalError> {
    spread(args)
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::Number(n) => Ok(*n),
            other => Err(EvalError::type_mismatch(format!(
                "{func}() takes numbers, found {}",
                other.type_name()
            ))),
        })
        .collect()
}

fn min(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(numbers_of(args, "min")?
        .into_iter()
        .min()
        .map_or(Value::Null, Value::Number))
}

fn max(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(numbers_of(args, "max")?
        .into_iter()
        .max()
        .map_or(Value::Null, Value::Number))
}

fn total(values: &[Decimal]) -> Result<Decimal, EvalError> {
    values
        .iter()
        .try_fold(Decimal::ZERO, |acc, x| acc.checked_add(*x))
        .ok_or_else(overflow)
}

fn sum(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    total(&numbers_of(args, "sum")?).map(Value::Number)
}

fn avg(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let values = numbers_of(args, "avg")?;
    if values.is_empty() {
        return Ok(Value::Null);
    }
    let n = Decimal::from(values.len());
    let mean = total(&values)?.checked_div(n).ok_or_else(overflow)?;
    Ok(Value::Number(mean.normalize()))
}

/// `x` rounded half-up to `decimals` places with the given separators.
pub fn format_decimal(x: Decimal, decimals: u32, decimal_sep: &str, group_sep: &str) -> String {
    let rounded = x.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    let mut fixed = rounded.abs();
    fixed.rescale(decimals);
    let text = fixed.to_string();
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    let digits: Vec<char> = int_part.chars().collect();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push_str(group_sep);
        }
        grouped.push(*d);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    if frac_part.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{decimal_sep}{frac_part}")
    }
}

fn formatnumber(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, "formatnumber")? else {
        return Ok(Value::Null);
    };
    let decimals = super::args::count(args, 1, "formatnumber")?
        .unwrap_or(0)
        .min(28);
    let decimal_sep = text(args, 2, "formatnumber")?.map_or(".", |s| &**s);
    let group_sep = text(args, 3, "formatnumber")?.map_or(",", |s| &**s);
    let decimals = u32::try_from(decimals).unwrap_or(28);
    Ok(Value::string(format_decimal(
        x,
        decimals,
        decimal_sep,
        group_sep,
    )))
}

fn parsenumber(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(raw) = text(args, 0, "parsenumber")? else {
        return Ok(Value::Null);
    };
    let decimal_sep = text(args, 1, "parsenumber")?.map_or(".", |s| &**s);
    let group_sep = text(args, 2, "parsenumber")?.map_or(",", |s| &**s);
    let mut cleaned = raw.trim().to_string();
    if !group_sep.is_empty() {
        cleaned = cleaned.replace(group_sep, "");
    }
    if decimal_sep != "." {
        if cleaned.contains('.') {
            return Err(EvalError::new(
                codes::E304_NUMBER_PARSE,
                format!("'{raw}' is not a number"),
            ));
        }
        cleaned = cleaned.replace(decimal_sep, ".");
    }
    parse_number_text(&cleaned)
        .map(Value::Number)
        .ok_or_else(|| EvalError::new(codes::E304_NUMBER_PARSE, format!("'{raw}' is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounding_modes_an_error_lists_are_round_modes_names_in_order() {
        assert_eq!(
            mode_names(),
            "'half_up', 'half_even', 'down', 'up', 'floor', 'ceiling'"
        );
    }
}
