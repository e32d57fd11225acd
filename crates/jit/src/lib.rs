//! Native code for Sluice transforms, with Cranelift (the `jit` feature): the one crate of
//! Sluice where `unsafe` lives (generated code is called through function pointers).
//! `native` is the engine-facing face of it, with or without the feature.

pub(crate) use sluice_core::{interp, runtime, transform, value};
#[cfg(feature = "jit")]
pub(crate) use sluice_core::{ir, stdlib, syntax};

#[cfg(feature = "jit")]
pub mod jit;
pub mod native;
