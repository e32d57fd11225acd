//! The operators: exact decimal arithmetic (overflow and division by zero are errors),
//! plain equality, ordering, string concatenation, three-valued logic.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::diagnostics::codes;
use crate::runtime::EvalError;
use crate::syntax::BinaryOp;
pub use crate::value::order::{compare_values, ordering};
use crate::value::Value;

/// A boolean test: `Some(b)` for booleans, `None` for null, E301 otherwise.
pub fn truth(value: &Value, what: &str) -> Result<Option<bool>, EvalError> {
    crate::stdlib::args_truth(value, what)
}

/// `-x`
pub fn negate(v: Value) -> Result<Value, EvalError> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => Ok(Value::Number(-n)),
        other => Err(EvalError::type_mismatch(format!(
            "cannot negate a {}",
            other.type_name()
        ))),
    }
}

/// `not x` (null stays null).
pub fn not(v: Value) -> Result<Value, EvalError> {
    Ok(match truth(&v, "the operand of `not`")? {
        Some(b) => Value::Bool(!b),
        None => Value::Null,
    })
}

/// An eager binary operator (everything but `and`, `or`, `??`).
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    match op {
        BinaryOp::Eq => Ok(Value::Bool(a == b)),
        BinaryOp::NotEq => Ok(Value::Bool(a != b)),
        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
            if a.is_null() || b.is_null() {
                return Ok(Value::Null);
            }
            let ord = ordering(a, b).ok_or_else(|| {
                EvalError::type_mismatch(format!(
                    "cannot compare a {} with a {} using `{}`",
                    a.type_name(),
                    b.type_name(),
                    op.symbol()
                ))
            })?;
            Ok(Value::Bool(match op {
                BinaryOp::Lt => ord == Ordering::Less,
                BinaryOp::LtEq => ord != Ordering::Greater,
                BinaryOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        BinaryOp::Concat => {
            let mut out = String::new();
            a.write_text(&mut out);
            b.write_text(&mut out);
            Ok(Value::string(out))
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => arithmetic(op, a, b),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => Err(EvalError::type_mismatch(
            format!("`{}` is evaluated lazily", op.symbol()),
        )),
    }
}

fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    let (x, y) = match (a, b) {
        (Value::Null, _) | (_, Value::Null) => return Ok(Value::Null),
        (Value::Number(x), Value::Number(y)) => (*x, *y),
        _ => {
            let hint =
                if op == BinaryOp::Add && matches!((a, b), (Value::String(_), Value::String(_))) {
                    " (join text with `&` or concat())"
                } else {
                    ""
                };
            return Err(EvalError::type_mismatch(format!(
                "cannot apply `{}` to a {} and a {}{hint}",
                op.symbol(),
                a.type_name(),
                b.type_name()
            )));
        }
    };
    decimal_op(op, x, y).map(Value::Number)
}

/// Exact decimal arithmetic with errors for overflow and division by zero.
pub fn decimal_op(op: BinaryOp, x: Decimal, y: Decimal) -> Result<Decimal, EvalError> {
    let result = match op {
        BinaryOp::Add => x.checked_add(y),
        BinaryOp::Sub => x.checked_sub(y),
        BinaryOp::Mul => x.checked_mul(y),
        _ => {
            if y.is_zero() {
                return Err(EvalError::new(
                    codes::E302_DIVISION_BY_ZERO,
                    format!("division by zero: {x} / 0"),
                ));
            }
            x.checked_div(y).map(|q| q.normalize())
        }
    };
    result.ok_or_else(|| {
        EvalError::new(
            codes::E303_OVERFLOW,
            format!("{x} {} {y} does not fit in a decimal", op.symbol()),
        )
    })
}
