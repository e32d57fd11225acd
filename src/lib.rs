//! Sluice: a formula-language compiler and runtime for data-integration mappings.
//!
//! The pipeline, one module per stage: [`syntax`] (text → tokens → tree) → [`types`]
//! (checker) → [`ir`] (typed IR, constant folding) → [`interp`] (reference interpreter);
//! [`stdlib`] is the function library, [`diagnostics`] renders every error with its code,
//! [`cli`] is the `sluice` command.

mod api;
pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod docs;
pub mod executor;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod limits;
pub mod runtime;
#[path = "../stdlib/mod.rs"]
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod value;

pub use api::{
    Context, Engine, Error, ErrorDetail, Limits, Mapping, ObjectLookups, Options, Output, Program,
};
pub use compile::{compile, CompileOptions, Formula};
