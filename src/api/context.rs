//! What an evaluation sees besides the record, and the host's lookups.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use super::Error;
use crate::diagnostics::codes;
use crate::runtime::EvalError;
use crate::value::{Map, Value};

/// What an evaluation sees besides the record: the instant of `now()`, the time zone,
/// lookups into Connect Objects. Nothing is read from the clock or the disk. (Limits are
/// the program's: [`Options::limits`](crate::Options::limits).)
///
/// ```
/// let ctx = sluice::Context::at("2024-05-01T12:00:00+02:00")?.with_zone("Europe/Berlin")?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct Context {
    /// `now()`.
    pub now: DateTime<FixedOffset>,
    /// The default time zone (`today()`, local date times).
    pub zone: Tz,
    /// Lookups (`vlookup`, `findvalue` over stored objects, ...); none: they fail (E307).
    pub lookups: Option<Arc<dyn ObjectLookups>>,
}

impl Context {
    /// A context whose `now()` is the RFC 3339 instant `now`, in UTC, without lookups.
    ///
    /// ```
    /// let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn at(now: &str) -> Result<Context, Error> {
        let now = DateTime::parse_from_rfc3339(now)
            .map_err(|e| Error::new(codes::E504_INVALID_NOW, format!("`{now}`: {e}")))?;
        Ok(Context::at_instant(now))
    }

    /// A context whose `now()` is `now`, in UTC, without lookups.
    pub fn at_instant(now: DateTime<FixedOffset>) -> Context {
        Context {
            now,
            zone: Tz::UTC,
            lookups: None,
        }
    }

    /// The same context in the IANA time zone `zone`.
    ///
    /// ```
    /// let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?.with_zone("America/New_York")?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn with_zone(mut self, zone: &str) -> Result<Context, Error> {
        self.zone = zone.parse().map_err(|_| {
            Error::new(
                codes::E505_UNKNOWN_TIMEZONE,
                format!("unknown time zone `{zone}`"),
            )
        })?;
        Ok(self)
    }

    /// The same context with lookups.
    pub fn with_lookups(mut self, lookups: Arc<dyn ObjectLookups>) -> Context {
        self.lookups = Some(lookups);
        self
    }
}

/// Connect Object lookups a host provides (for example over its own database). An `Err`
/// (or a panic, caught) fails the formula with E307, under either engine.
///
/// ```
/// use sluice::{Map, Value};
/// struct NoObjects;
/// impl sluice::ObjectLookups for NoObjects {
///     fn latest_equal(&self, _: &str, _: &str, _: &Value) -> Result<Option<Value>, String> { Ok(None) }
///     fn oldest_containing(&self, _: &str, _: &str, _: &str) -> Result<Option<Value>, String> { Ok(None) }
///     fn all_matching(&self, _: &str, _: &Map) -> Result<Vec<Value>, String> { Ok(vec![]) }
/// }
/// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?.with_lookups(std::sync::Arc::new(NoObjects));
/// # Ok::<(), sluice::Error>(())
/// ```
pub trait ObjectLookups: Send + Sync {
    /// The most recently updated object of type `object` whose `field` equals `value`.
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, String>;
    /// The least recently updated object whose text `field` contains `text`
    /// (case-insensitive).
    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, String>;
    /// Every object matching every pair of `filter`, most recent first.
    fn all_matching(&self, object: &str, filter: &Map) -> Result<Vec<Value>, String>;
}

/// A host's [`ObjectLookups`] as the runtime's lookups.
pub(super) struct LookupsAdapter<'a>(pub(super) &'a dyn ObjectLookups);

fn lookup_error(message: String) -> EvalError {
    EvalError::new(codes::E307_LOOKUP, message)
}

/// Calls the host, a panic becoming an error like any other (never an abort, never an
/// unwind through the engine).
fn guarded<T>(call: impl FnOnce() -> Result<T, String>) -> Result<T, EvalError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|panic| Err(super::panic_message(panic.as_ref())))
        .map_err(lookup_error)
}

impl crate::runtime::Lookups for LookupsAdapter<'_> {
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, EvalError> {
        guarded(|| self.0.latest_equal(object, field, value))
    }

    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, EvalError> {
        guarded(|| self.0.oldest_containing(object, field, text))
    }

    fn all_matching(&self, object: &str, filter: &Map) -> Result<Vec<Value>, EvalError> {
        guarded(|| self.0.all_matching(object, filter))
    }
}
