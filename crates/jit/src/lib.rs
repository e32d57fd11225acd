//! Native code for Sluice transforms, with Cranelift (the `jit` feature): the one crate of
//! Sluice where `unsafe` lives (generated code is called through function pointers).
//! `native` is the engine-facing face of it, with or without the feature, and `driver` the
//! one evaluator of compiled transforms that every front end uses.

pub(crate) use sluice_core::{interp, ir, runtime, transform, value};
#[cfg(feature = "jit")]
pub(crate) use sluice_core::{stdlib, syntax};

pub mod driver;
#[cfg(feature = "jit")]
pub mod jit;
pub mod native;
