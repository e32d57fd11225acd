//! What every evaluation of a formula sees: the record, the clock, the time zone, the
//! store, and the error type a runtime failure produces.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::diagnostics::{codes, Code, Diag};
use crate::syntax::Span;
use crate::value::{index_of, Value};

/// A runtime error: it aborts the formula for this record (unless caught by
/// `iferror`/`try`). Boxed, so that the `Result` every evaluation step returns stays small.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError(Box<ErrorDetail>);

/// What a runtime error says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    /// The registry code.
    pub code: Code,
    /// What went wrong.
    pub message: String,
    /// The expression that failed, once known.
    pub span: Option<Span>,
}

impl std::ops::Deref for EvalError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl EvalError {
    /// An error without a span yet (the interpreter adds the span of the failing node).
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        EvalError(Box::new(ErrorDetail {
            code,
            message: message.into(),
            span: None,
        }))
    }

    /// A runtime type mismatch (E301).
    pub fn type_mismatch(message: impl Into<String>) -> Self {
        EvalError::new(codes::E301_TYPE_MISMATCH, message)
    }

    /// An invalid argument value (E306).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        EvalError::new(codes::E306_INVALID_ARGUMENT, message)
    }

    /// Sets the span unless one is already set (the innermost span wins).
    pub fn at(mut self, span: Span) -> Self {
        self.0.span.get_or_insert(span);
        self
    }

    /// The message, taken out of the error.
    pub fn into_message(self) -> String {
        self.0.message
    }

    /// The error as a diagnostic.
    pub fn to_diag(&self) -> Diag {
        let diag = Diag::new(self.code, self.message.clone());
        match self.span {
            Some(span) => diag.label(span, "failed here"),
            None => diag,
        }
    }
}

/// The lookups a formula can make into the Connect Object store.
pub trait Lookups {
    /// The most recently updated record of `object` whose `field` equals `value`.
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, EvalError>;
    /// The least recently updated record of `object` whose text `field` contains `text`,
    /// case-insensitively, with `%` and `_` literal.
    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, EvalError>;
    /// Every record of `object` matching every pair of `filter`, most recent first.
    fn all_matching(
        &self,
        object: &str,
        filter: &crate::value::Map,
    ) -> Result<Vec<Value>, EvalError>;
}

/// The environment of one evaluation.
pub struct Ctx<'a> {
    /// The current record (an object, or null when there is none).
    pub record: &'a Value,
    /// `now()`: one instant for the whole run.
    pub now: DateTime<FixedOffset>,
    /// The default time zone (`today()`, date parsing without an offset).
    pub tz: Tz,
    /// The store, when one is attached.
    pub lookups: Option<&'a dyn Lookups>,
    /// The record's fields parsed into slots by the executor (field reads bound to slots
    /// use these instead of `record`).
    pub slots: Option<&'a [Option<Value>]>,
    /// Resource limits.
    pub limits: crate::limits::Limits,
}

impl<'a> Ctx<'a> {
    /// A context over `record`, UTC, no store. It never reads the clock: `now` is the Unix
    /// epoch until the caller sets it (a run sets it once, when it starts).
    pub fn new(record: &'a Value) -> Self {
        Ctx {
            record,
            now: DateTime::UNIX_EPOCH.fixed_offset(),
            tz: Tz::UTC,
            lookups: None,
            slots: None,
            limits: crate::limits::Limits::default(),
        }
    }
}

/// Arguments a lazy function evaluates only when it needs them.
pub trait LazyArgs {
    /// How many arguments were passed.
    fn count(&self) -> usize;
    /// Evaluates argument `i` (0-based); `null` when there is no such argument.
    fn eval(&mut self, i: usize) -> Result<Value, EvalError>;
}

/// `target[index]`: arrays by integer (negative from the end), objects by key; null when
/// absent.
pub fn index_value(target: &Value, index: &Value) -> Result<Value, EvalError> {
    match (target, index) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::Array(items), Value::Number(n)) => {
            if !n.fract().is_zero() {
                return Err(EvalError::invalid_argument(format!(
                    "an array index must be a whole number, found {n}"
                )));
            }
            let i = i64::try_from(n.trunc()).map_err(|_| {
                EvalError::new(
                    codes::E306_INVALID_ARGUMENT,
                    format!("array index {n} is out of range"),
                )
            })?;
            Ok(index_of(items, i).cloned().unwrap_or(Value::Null))
        }
        (Value::Object(map), Value::String(k)) => Ok(map.get(&**k).cloned().unwrap_or(Value::Null)),
        (t, i) => Err(EvalError::type_mismatch(format!(
            "cannot index a {} with a {}",
            t.type_name(),
            i.type_name()
        ))),
    }
}
