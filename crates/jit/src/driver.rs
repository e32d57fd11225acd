//! The one driver of compiled formulas and transforms: a [`Driver`] is what one thread keeps
//! from record to record (the interpreter with its stack, the buffer of mapped values), and
//! it evaluates a transform with native code when it has some, else with the interpreter.
//! The executor's workers, the embedding API, `sluice eval` (through the API), `sluice
//! test` and the REPL all evaluate through it, and [`Engine::wants_native`] is the one rule
//! that decides when `--engine auto` compiles native code.

use crate::interp::Interpreter;
use crate::ir::Node;
use crate::native::{Engine, Native};
use crate::runtime::{Ctx, EvalError};
use crate::transform::{Outcome, Transform, Verdict};
use crate::value::Value;

/// One thread's evaluator: keep it, and evaluate every record of the thread with it.
#[derive(Default)]
pub struct Driver {
    interp: Interpreter,
    values: Vec<Value>,
}

impl Driver {
    /// A driver with empty buffers.
    pub fn new() -> Driver {
        Driver::default()
    }

    /// The value of one formula for the record of `ctx`.
    pub fn eval(&mut self, formula: &Node, ctx: &Ctx) -> Result<Value, EvalError> {
        self.interp.eval(formula, ctx)
    }

    /// Applies `transform` (its `native` code when given) to the record of `ctx`; when
    /// mapped, [`Driver::values`] holds one value per mapping until the next call.
    pub fn apply(&mut self, transform: &Transform, native: Option<&Native>, ctx: &Ctx) -> Verdict {
        match native {
            Some(native) => native.apply_into(&mut self.interp, ctx, &mut self.values),
            None => transform.apply_into(&mut self.interp, ctx, &mut self.values),
        }
    }

    /// [`Driver::apply`] as an [`Outcome`] that owns the mapped values.
    pub fn outcome(
        &mut self,
        transform: &Transform,
        native: Option<&Native>,
        ctx: &Ctx,
    ) -> Outcome {
        let verdict = self.apply(transform, native, ctx);
        verdict.with_values(std::mem::take(&mut self.values))
    }

    /// The values of the last record mapped.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values of the last record mapped, taken (the buffer grows again on the next).
    pub fn take_values(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.values)
    }
}

/// The size of an input from which `--engine auto` compiles native code before the first
/// record: about 1 MiB of NDJSON is a few thousand records.
pub const AUTO_NATIVE_BYTES: u64 = 1024 * 1024;

/// How many records `--engine auto` evaluates with the interpreter before it compiles
/// native code when it did not know ahead how many there would be (about 5 ms of
/// Cranelift, worth it only for a stream).
pub const AUTO_NATIVE_AFTER: u64 = 1000;

/// What is known of the records a program evaluates, for [`Engine::wants_native`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Workload {
    /// Records evaluated so far.
    pub evaluated: u64,
    /// The input's size in bytes, when known ahead.
    pub bytes_ahead: Option<u64>,
    /// The input is a stream of unknown length (stdin, a message stream).
    pub stream: bool,
}

impl Engine {
    /// Whether this engine uses native code for `workload`: always for `Jit`, never for
    /// `Interp`, and for `Auto` when the `jit` feature is built and the work is long
    /// enough to repay the compilation — a stream, an input of at least
    /// [`AUTO_NATIVE_BYTES`], or once [`AUTO_NATIVE_AFTER`] records were evaluated.
    pub fn wants_native(self, workload: Workload) -> bool {
        match self {
            Engine::Jit => true,
            Engine::Interp => false,
            Engine::Auto => {
                cfg!(feature = "jit")
                    && (workload.stream
                        || workload.bytes_ahead.is_some_and(|n| n >= AUTO_NATIVE_BYTES)
                        || workload.evaluated >= AUTO_NATIVE_AFTER)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_means_native_for_long_work_only() {
        let short = Workload {
            evaluated: 10,
            bytes_ahead: Some(4096),
            stream: false,
        };
        assert!(!Engine::Interp.wants_native(Workload {
            stream: true,
            ..short
        }));
        assert!(Engine::Jit.wants_native(short));
        assert!(!Engine::Auto.wants_native(short));
        for long in [
            Workload {
                stream: true,
                ..short
            },
            Workload {
                bytes_ahead: Some(AUTO_NATIVE_BYTES),
                ..short
            },
            Workload {
                evaluated: AUTO_NATIVE_AFTER,
                ..short
            },
        ] {
            assert_eq!(Engine::Auto.wants_native(long), cfg!(feature = "jit"));
        }
    }
}
