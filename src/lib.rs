//! Sluice: a formula-language compiler and runtime for data-integration mappings.
//!
//! Compile a formula or a whole connector once into a [`Program`], then apply it to many
//! records — JSON values, maps or raw NDJSON lines — from any number of threads, with an
//! explicit [`Context`] (the instant of `now()`, the zone, lookups, limits):
//!
//! ```
//! let program = sluice::Program::from_mappings(
//!     &["data('CardType') = 'C'"],
//!     &[
//!         ("erp_id", sluice::Mapping::Field("CardCode")),
//!         ("name", sluice::Mapping::Formula("proper(trim(data('CardName')))")),
//!     ],
//!     &Default::default(),
//! )?;
//! let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?;
//! let out = program.execute_ndjson(br#"{"CardCode": "C1", "CardType": "C", "CardName": " acme gmbh"}"#, &ctx)?;
//! assert_eq!(out.to_json().as_deref(), Some(r#"{"erp_id":"C1","name":"Acme Gmbh"}"#));
//! # Ok::<(), sluice::Error>(())
//! ```
//!
//! Cargo features: `jit` (native code with Cranelift), `store` (the SQLite store and the
//! sync executor), `postgres` (the store on PostgreSQL), `http` (REST/OData connections),
//! `serve` (`sluice serve`), `cli` (the `sluice` command; the default, implies them all).
//! Without them the crate is the language core.
//!
//! The modules below the API are the stages of the pipeline, one folder each, dependencies
//! running one way: text → syntax → values → function library → IR → checker →
//! interpreter → transform → native code → API → executor → server → command line. They are
//! crate-private; the `internals` feature makes them public (hidden from these docs) for the
//! project's own tests, benchmarks and fuzz targets, and they are not a stable API.

mod api;
/// The `sluice` command (the binary's entry point).
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;

/// Declares the internal stages: public (and hidden from the docs) with the `internals`
/// feature, which the project's tests, benchmarks and fuzz targets enable; crate-private
/// otherwise.
macro_rules! stages {
    ($($(#[$attr:meta])* $name:ident;)*) => {$(
        $(#[$attr])*
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub mod $name;
        $(#[$attr])*
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code, unused_imports)]
        pub(crate) mod $name;
    )*};
}

stages! {
    compile;
    diagnostics;
    docs;
    executor;
    interp;
    ir;
    #[cfg(feature = "jit")]
    jit;
    limits;
    native;
    runtime;
    #[cfg(feature = "serve")]
    serve;
    #[path = "../stdlib/mod.rs"]
    stdlib;
    syntax;
    transform;
    types;
    value;
}

pub use api::{
    functions, Context, Engine, Error, ErrorDetail, ErrorKind, FieldType, FunctionInfo, Functions,
    HostFunction, Limits, Mapping, ObjectLookups, Options, Output, Program, AUTO_NATIVE_AFTER,
};
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use compile::{compile, CompileOptions, Formula};
/// The fields of an object value, in order.
pub use value::Map;
/// A value: null, a boolean, an exact decimal, text, a date, a date-time, an array or an
/// object (shared, cheap to clone).
pub use value::Value;
/// The crates whose types the API uses, re-exported so a host names the same versions.
pub use {chrono, chrono_tz, indexmap, rust_decimal, serde_json};
