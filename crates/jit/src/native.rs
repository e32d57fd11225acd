//! Native code for transforms, when Sluice is built with the `jit` feature: [`Native`] is
//! the Cranelift-compiled transform then, and a type with no values otherwise (so code
//! that may use native code compiles either way, and without the feature never does).

use std::sync::Arc;

use crate::transform::Transform;

/// Which engine evaluates formulas.
///
/// ```
/// assert_eq!(sluice_jit::native::Engine::default(), sluice_jit::native::Engine::Auto);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Engine {
    /// The reference interpreter.
    Interp,
    /// Native code generated with Cranelift.
    Jit,
    /// Native code when the work is long enough to repay compiling it (a stream, an input
    /// of 1 MiB or more, or after the first 1 000 records), else the interpreter: the one
    /// rule is `Engine::wants_native`, in the driver.
    #[default]
    Auto,
}

#[cfg(feature = "jit")]
pub use crate::jit::JitTransform as Native;

/// Without the `jit` feature there is no native code: no value of this type exists.
#[cfg(not(feature = "jit"))]
pub enum Native {}

/// Why native code could not be had.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NativeError(String);

/// Compiles `transform` to native code.
pub fn compile(transform: Arc<Transform>) -> Result<Native, NativeError> {
    #[cfg(feature = "jit")]
    return Native::compile(transform).map_err(|e| NativeError(e.to_string()));
    #[cfg(not(feature = "jit"))]
    {
        let _ = transform;
        Err(NativeError(
            "this Sluice is built without the `jit` feature; use the interpreter".to_string(),
        ))
    }
}

/// Whether the native code of a transform compiles any formula: with none, every formula
/// would go through the interpreter anyway, so `Engine::Auto` uses the interpreter.
pub fn compiles_anything(native: &Native) -> bool {
    #[cfg(feature = "jit")]
    return native.native_formulas > 0;
    #[cfg(not(feature = "jit"))]
    match *native {}
}

#[cfg(not(feature = "jit"))]
impl Native {
    /// Never called: there is no native code without the `jit` feature.
    pub fn apply(
        &self,
        _: &mut crate::interp::Interpreter,
        _: &crate::runtime::Ctx,
    ) -> crate::transform::Outcome {
        match *self {}
    }

    /// Never called: there is no native code without the `jit` feature.
    pub fn apply_into(
        &self,
        _: &mut crate::interp::Interpreter,
        _: &crate::runtime::Ctx,
        _: &mut Vec<crate::value::Value>,
    ) -> crate::transform::Verdict {
        match *self {}
    }
}
