//! Reading typed arguments, with the runtime type check for values of type `any`.

use std::sync::Arc;

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
) -> Result<Option<&'a Arc<str>>, EvalError> {
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
