//! Sluice: a formula-language compiler and runtime for data-integration mappings.
//!
//! The pipeline, one module per stage: [`syntax`] (text → tokens → tree) → [`types`]
//! (checker) → [`ir`] (typed IR, constant folding) → [`interp`] (reference interpreter);
//! [`stdlib`] is the function library, [`diagnostics`] renders every error with its code,
//! the `cli` module is the `sluice` command.
//!
//! Embedders use the API at the crate root: [`Program`], [`Context`], [`Output`], [`Error`].
//! Cargo features: `jit` (native code), `store` (the SQLite store and the sync executor),
//! `cli` (the command; implies both); without them the crate is the language core.

mod api;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod docs;
pub mod executor;
pub mod interp;
pub mod ir;
#[cfg(feature = "jit")]
pub mod jit;
pub mod limits;
pub mod native;
pub mod runtime;
#[path = "../stdlib/mod.rs"]
pub mod stdlib;
pub mod syntax;
pub mod transform;
pub mod types;
pub mod value;

pub use api::{
    Context, Engine, Error, ErrorDetail, Limits, Mapping, ObjectLookups, Options, Output, Program,
};
pub use compile::{compile, CompileOptions, Formula};
