//! Powers, roots, exponentials and logarithms on exact decimals, correctly rounded to 28
//! significant digits: computed with dashu's arbitrary-precision decimal floats at 40
//! digits, then rounded once (rust_decimal's own `ln`/`exp` are off by up to ten units in
//! the last digit). A result with an exact decimal answer of at most 28 significant digits
//! is that answer (`power(4, 0.5)` is `2`, `log(1000)` is `3`): the shortest rounding of the
//! computed value that checks out exactly.

use dashu_float::ops::SquareRoot;
use dashu_float::DBig;
use rust_decimal::prelude::*;
use rust_decimal::Decimal;

use super::args::number;
use super::numbers::num_fn;
use super::{ex, opt, req, Category, Function, Imp, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError};
use crate::value::{TypeSet, Value};

const NUM: TypeSet = TypeSet::NUMBER;
const NUM_OR_NULL: TypeSet = TypeSet::NUMBER.union(TypeSet::NULL);

/// The functions of this file.
pub const FUNCTIONS: &[Function] = &[
    num_fn!(
        "power",
        &[req("base", NUM), req("exponent", NUM)],
        "base raised to exponent: exact for whole exponents and whenever the exact result has at most 28 significant digits, otherwise rounded to 28 significant digits; an error (E303) on overflow, E306 for a negative base with a fractional exponent.",
        [
            ex("power(2, 10)", "{}", "1024"),
            ex("power(1.1, 2)", "{}", "1.21"),
            ex("power(4, 0.5)", "{}", "2"),
            ex("power(9, 0.5)", "{}", "3"),
            ex("power(8, -1)", "{}", "0.125"),
            ex("power(32, 0.2)", "{}", "2"),
            ex("power(2, 0.5)", "{}", "1.414213562373095048801688724"),
            ex("power(10, 40)", "{}", "error E303"),
            ex("power(79228162514264337593543950335, 12345678901234567890123.5)", "{}", "error E303"),
            ex("power(2, -1000.5)", "{}", "0"),
            ex("power(-8, 0.5)", "{}", "error E306"),
        ],
        power
    ),
    num_fn!(
        "sqrt",
        &[req("x", NUM)],
        "The square root: exact when it has at most 28 significant digits, otherwise rounded to 28; an error (E306) for a negative number.",
        [
            ex("sqrt(16)", "{}", "4"),
            ex("sqrt(2.25)", "{}", "1.5"),
            ex("sqrt(2)", "{}", "1.414213562373095048801688724"),
            ex("sqrt(-1)", "{}", "error E306"),
            ex("sqrt(null)", "{}", "null"),
        ],
        sqrt
    ),
    num_fn!(
        "exp",
        &[req("x", NUM)],
        "e raised to x, to 28 significant digits (exp(0) is 1); an error (E303) when it does not fit.",
        [
            ex("exp(0)", "{}", "1"),
            ex("exp(1)", "{}", "2.718281828459045235360287471"),
            ex("exp(100)", "{}", "error E303"),
        ],
        exp
    ),
    num_fn!(
        "ln",
        &[req("x", NUM)],
        "The natural logarithm, to 28 significant digits (ln(1) is 0); an error (E306) for x ≤ 0.",
        [
            ex("ln(1)", "{}", "0"),
            ex("ln(10)", "{}", "2.302585092994045684017991455"),
            ex("ln(0)", "{}", "error E306"),
        ],
        ln
    ),
    num_fn!(
        "log",
        &[req("x", NUM), opt("base", NUM)],
        "The logarithm of x to base (default 10, as in Excel), to 28 significant digits, exact when it is a whole or simple fraction (log(1000) is 3, log(8, 4) is 1.5); an error (E306) for x ≤ 0 or a base ≤ 0 or 1.",
        [
            ex("log(1000)", "{}", "3"),
            ex("log(8, 2)", "{}", "3"),
            ex("log(8, 4)", "{}", "1.5"),
            ex("log(0.01)", "{}", "-2"),
            ex("log(2)", "{}", "0.3010299956639811952137388947"),
            ex("log(-1)", "{}", "error E306"),
            ex("log(5, 1)", "{}", "error E306"),
        ],
        log
    ),
];

fn overflow(what: String) -> EvalError {
    EvalError::new(
        codes::E303_OVERFLOW,
        format!("{what}: the result does not fit in a decimal"),
    )
}

/// The digits computations carry before the one rounding to 28.
const WORKING_DIGITS: usize = 40;

fn big(x: Decimal) -> DBig {
    DBig::from_str(&x.to_string())
        .unwrap_or(DBig::ZERO)
        .with_precision(WORKING_DIGITS)
        .value()
}

/// A computed value rounded to 28 significant digits, as a decimal (`None` when it does
/// not fit in one).
fn small(x: &DBig) -> Option<Decimal> {
    let rounded = x.clone().with_precision(28).value();
    let text = rounded.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// `x` rounded to `digits` significant digits; `x` itself when that rounding is beyond a
/// decimal's range (the largest decimal has 29 digits and rounds up past it).
fn significant(x: Decimal, digits: u32) -> Decimal {
    if x.is_zero() {
        return x;
    }
    let length = u32::try_from(x.mantissa().unsigned_abs().to_string().len()).unwrap_or(29);
    if length <= digits {
        return x;
    }
    let drop = length - digits;
    match x.scale().checked_sub(drop) {
        Some(dp) => x.round_dp(dp),
        // the digits to drop are left of the point: round in units of 10^(drop - scale)
        None => {
            let unit = Decimal::TEN.checked_powu(u64::from(drop - x.scale()));
            unit.and_then(|unit| x.checked_div(unit)?.round().checked_mul(unit))
                .unwrap_or(x)
        }
    }
}

/// The computed value rounded to 28 significant digits, or the shortest rounding of it
/// for which `exact` holds.
fn settle(computed: Decimal, exact: impl Fn(Decimal) -> bool) -> Decimal {
    (1..=27)
        .map(|digits| significant(computed, digits))
        .find(|c| exact(*c))
        .unwrap_or_else(|| significant(computed, 28))
        .normalize()
}

/// `n / d` for a decimal with at most a few places: (numerator, denominator) in lowest
/// terms, when both are small.
fn fraction(x: Decimal) -> Option<(i64, i64)> {
    let scale = x.scale();
    if scale > 6 {
        return None;
    }
    let mut n = i64::try_from(x.mantissa()).ok()?;
    let mut d = 10i64.checked_pow(scale)?;
    let g = gcd(n.unsigned_abs(), d.unsigned_abs());
    let g = i64::try_from(g).ok()?.max(1);
    n /= g;
    d /= g;
    Some((n, d))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Whether `c^q == base^p` exactly (so `c` is `base^(p/q)`).
fn is_root(c: Decimal, base: Decimal, (p, q): (i64, i64)) -> bool {
    let Ok(q) = u64::try_from(q) else {
        return false;
    };
    let pa = p.unsigned_abs();
    if q > 64 || pa > 64 {
        return false;
    }
    let (Some(lhs), Some(rhs)) = (c.checked_powu(q), base.checked_powu(pa)) else {
        return false;
    };
    if p >= 0 {
        lhs == rhs
    } else {
        lhs.checked_mul(rhs) == Some(Decimal::ONE)
    }
}

fn power(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(base), Some(exponent)) = (number(args, 0, "power")?, number(args, 1, "power")?)
    else {
        return Ok(Value::Null);
    };
    let shown = || format!("power({base}, {exponent})");
    if exponent.fract().is_zero() {
        let e = exponent.to_i64().ok_or_else(|| overflow(shown()))?;
        if e < 0 && base.is_zero() {
            return Err(EvalError::new(
                codes::E302_DIVISION_BY_ZERO,
                format!("{}: 0 raised to a negative power divides by zero", shown()),
            ));
        }
        let magnitude = base
            .checked_powi(e.checked_abs().ok_or_else(|| overflow(shown()))?)
            .ok_or_else(|| overflow(shown()))?;
        let result = if e >= 0 {
            Some(magnitude)
        } else {
            Decimal::ONE.checked_div(magnitude)
        };
        return result
            .map(|r| Value::Number(significant(r, 28).normalize()))
            .ok_or_else(|| overflow(shown()));
    }
    if base.is_sign_negative() {
        return Err(EvalError::invalid_argument(format!(
            "{}: a negative base needs a whole exponent",
            shown()
        )));
    }
    if base.is_zero() {
        return Ok(Value::Number(Decimal::ZERO));
    }
    // The result's size before computing it: beyond a decimal's range it is an overflow,
    // below its 28 places it is 0 (and dashu's exp is not asked for e^(10^22), which it
    // refuses with a panic).
    let natural_log = base.to_f64().map(f64::ln).unwrap_or(0.0) * exponent.to_f64().unwrap_or(0.0);
    if natural_log > 67.0 {
        return Err(overflow(shown()));
    }
    if natural_log < -67.0 {
        return Ok(Value::Number(Decimal::ZERO));
    }
    let computed = if exponent == Decimal::new(5, 1) {
        small(&big(base).sqrt())
    } else {
        small(&big(base).powf(&big(exponent)))
    }
    .ok_or_else(|| overflow(shown()))?;
    let ratio = fraction(exponent);
    Ok(Value::Number(settle(computed, |c| {
        ratio.is_some_and(|r| is_root(c, base, r))
    })))
}

fn sqrt(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, "sqrt")? else {
        return Ok(Value::Null);
    };
    if x.is_sign_negative() && !x.is_zero() {
        return Err(EvalError::invalid_argument(format!(
            "sqrt({x}): a negative number has no square root"
        )));
    }
    let root = small(&big(x).sqrt()).ok_or_else(|| overflow(format!("sqrt({x})")))?;
    Ok(Value::Number(settle(root, |c| c.checked_mul(c) == Some(x))))
}

fn exp(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, "exp")? else {
        return Ok(Value::Null);
    };
    if x.is_zero() {
        return Ok(Value::Number(Decimal::ONE));
    }
    if x > Decimal::from(66) {
        return Err(overflow(format!("exp({x})")));
    }
    if x < Decimal::from(-70) {
        // below 10^-28: zero at a decimal's 28 places
        return Ok(Value::Number(Decimal::ZERO));
    }
    small(&big(x).exp())
        .map(|r| Value::Number(r.normalize()))
        .ok_or_else(|| overflow(format!("exp({x})")))
}

fn ln(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, "ln")? else {
        return Ok(Value::Null);
    };
    positive(x, "ln")?;
    if x == Decimal::ONE {
        return Ok(Value::Number(Decimal::ZERO));
    }
    small(&big(x).ln())
        .map(|r| Value::Number(r.normalize()))
        .ok_or_else(|| overflow(format!("ln({x})")))
}

fn positive(x: Decimal, func: &str) -> Result<(), EvalError> {
    if x <= Decimal::ZERO {
        return Err(EvalError::invalid_argument(format!(
            "{func}({x}): the logarithm of a number ≤ 0 does not exist"
        )));
    }
    Ok(())
}

fn log(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(x) = number(args, 0, "log")? else {
        return Ok(Value::Null);
    };
    let base = match args.get(1) {
        None => Decimal::TEN,
        Some(_) => match number(args, 1, "log")? {
            Some(b) => b,
            None => return Ok(Value::Null),
        },
    };
    positive(x, "log")?;
    if base <= Decimal::ZERO || base == Decimal::ONE {
        return Err(EvalError::invalid_argument(format!(
            "log({x}, {base}): the base must be positive and not 1"
        )));
    }
    let computed = small(&(big(x).ln() / big(base).ln()))
        .ok_or_else(|| overflow(format!("log({x}, {base})")))?;
    // exact when x is base^(p/q) for a simple fraction p/q
    Ok(Value::Number(settle(computed, |c| {
        fraction(c).is_some_and(|(p, q)| q <= 12 && is_root(x, base, (p, q)))
    })))
}
