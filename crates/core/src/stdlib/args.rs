//! Reading typed arguments, with the runtime type check for values of type `any`.

use crate::runtime::EvalError;
use crate::value::Value;

/// Argument `i`, or null when it was not passed.
pub fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

/// Argument `i` as text; `None` for null; E301 for any other kind.
pub fn text<'a>(
    args: &'a [Value],
    i: usize,
    func: &str,
) -> Result<Option<&'a crate::value::Text>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(wrong_kind(func, i, "string", other)),
    }
}

/// The E301 error for argument `i` of `func` having the wrong kind.
pub fn wrong_kind(func: &str, i: usize, expected: &str, found: &Value) -> EvalError {
    EvalError::type_mismatch(format!(
        "{func}() argument {} must be {expected}, found {}",
        i + 1,
        found.type_name()
    ))
}

/// A boolean test: true, false, or null (which counts as false); E301 for other kinds.
pub fn truth(value: &Value, what: &str) -> Result<Option<bool>, EvalError> {
    match value {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(EvalError::type_mismatch(format!(
            "{what} must be boolean, found {}",
            other.type_name()
        ))),
    }
}

/// Argument `i` as a number; `None` for null; E301 for any other kind.
pub fn number(
    args: &[Value],
    i: usize,
    func: &str,
) -> Result<Option<rust_decimal::Decimal>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(*n)),
        other => Err(wrong_kind(func, i, "number", other)),
    }
}

/// Argument `i` as a whole number; `None` for null; E301 for another kind, E306 for a
/// fraction or a value out of range.
pub fn integer(args: &[Value], i: usize, func: &str) -> Result<Option<i64>, EvalError> {
    let Some(n) = number(args, i, func)? else {
        return Ok(None);
    };
    // a whole number written without places (the common case) is its mantissa
    if n.scale() == 0 {
        if let Ok(whole) = i64::try_from(n.mantissa()) {
            return Ok(Some(whole));
        }
    }
    if !n.fract().is_zero() {
        return Err(EvalError::invalid_argument(format!(
            "{func}() argument {} must be a whole number, found {n}",
            i + 1
        )));
    }
    i64::try_from(n).map(Some).map_err(|_| {
        EvalError::invalid_argument(format!("{func}() argument {} is out of range: {n}", i + 1))
    })
}

/// Argument `i` as a count (a whole number ≥ 0).
pub fn count(args: &[Value], i: usize, func: &str) -> Result<Option<usize>, EvalError> {
    match integer(args, i, func)? {
        None => Ok(None),
        Some(n) => usize::try_from(n).map(Some).map_err(|_| {
            EvalError::invalid_argument(format!(
                "{func}() argument {} must not be negative, found {n}",
                i + 1
            ))
        }),
    }
}

/// Argument `i` as a boolean; `None` for null; E301 for any other kind.
pub fn boolean(args: &[Value], i: usize, func: &str) -> Result<Option<bool>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(wrong_kind(func, i, "boolean", other)),
    }
}

/// Argument `i` as an array; `None` for null; E301 for any other kind.
pub fn array<'a>(
    args: &'a [Value],
    i: usize,
    func: &str,
) -> Result<Option<&'a [Value]>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::Array(items) => Ok(Some(items.as_slice())),
        other => Err(wrong_kind(func, i, "array", other)),
    }
}

/// The values of a variadic numeric function: a single array argument stands for its
/// elements, otherwise every argument counts.
pub fn spread(args: &[Value]) -> &[Value] {
    match args {
        [Value::Array(items)] => items.as_slice(),
        _ => args,
    }
}

/// A text argument as a message quotes it: whole when short, else its first 60 characters
/// and how long it is (a 16 MB pattern is not echoed).
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!(
            "{}… ({} bytes)",
            text.get(..at).unwrap_or_default(),
            text.len()
        ),
        None => text.to_string(),
    }
}

/// The E310 error for a result beyond the size limit.
pub fn too_large(func: &str, what: &str, limit: usize) -> EvalError {
    EvalError::new(
        crate::diagnostics::codes::E310_TOO_LARGE,
        format!("{func}() would produce {what} beyond the limit of {limit}"),
    )
}
