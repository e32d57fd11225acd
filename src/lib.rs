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
//! The layers are crates, so the compiler keeps dependencies running one way: `sluice-core`
//! (text → syntax → values → function library → IR → checker → interpreter → transform),
//! `sluice-jit` (native code), `sluice-engine` (the sync engine: executor, stores,
//! connections), and this crate (the embedding API, `sluice serve`, the command line).
//! The lower crates' modules are re-exported here under their old names; the `internals`
//! feature makes them public (hidden from these docs) for the project's own tests,
//! benchmarks and fuzz targets, and they are not a stable API.

mod api;
/// The `sluice` command (the binary's entry point).
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;

/// `sluice lsp` (the command line starts it).
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod lsp;

/// `sluice serve` (the command line starts it).
#[cfg(feature = "serve")]
#[doc(hidden)]
pub mod serve;

/// The generated reference documents (`docs/*.md`), for the project's own tests.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod docs;

/// Re-exports the lower crates' modules under the names this crate's code uses: public
/// (and hidden) with the `internals` feature, crate-private otherwise.
macro_rules! layers {
    ($($(#[$attr:meta])* $path:path as $name:ident;)*) => {$(
        $(#[$attr])*
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub use $path as $name;
        $(#[$attr])*
        #[cfg(not(feature = "internals"))]
        #[allow(unused_imports)]
        pub(crate) use $path as $name;
    )*};
}

layers! {
    sluice_core::analysis as analysis;
    sluice_core::compile as compile;
    sluice_core::diagnostics as diagnostics;
    sluice_core::interp as interp;
    sluice_core::ir as ir;
    sluice_core::limits as limits;
    sluice_core::runtime as runtime;
    sluice_core::stdlib as stdlib;
    sluice_core::syntax as syntax;
    sluice_core::transform as transform;
    sluice_core::types as types;
    sluice_core::value as value;
    sluice_jit::native as native;
    sluice_jit::driver as driver;
    #[cfg(feature = "jit")]
    sluice_jit::jit as jit;
    #[cfg(feature = "store")]
    sluice_engine::executor as executor;
    #[cfg(feature = "store")]
    sluice_engine::store as store;
    #[cfg(feature = "store")]
    sluice_engine::connections as connections;
    #[cfg(feature = "store")]
    sluice_engine::seams as seams;
}

pub use api::{
    functions, Context, Engine, Error, ErrorDetail, ErrorKind, FieldType, FunctionInfo, Functions,
    HostFunction, Limits, Mapping, ObjectLookups, Options, Output, Program, Written,
    AUTO_NATIVE_AFTER,
};
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use compile::{compile, CompileOptions, Formula};
/// Why JSON did not become a value (it converts into [`Error`]).
pub use value::JsonError;
/// The fields of an object value, in order.
pub use value::Map;
/// A value: null, a boolean, an exact decimal, text, a date, a date-time, an array or an
/// object (shared, cheap to clone).
pub use value::Value;
/// The crates whose types the API uses, re-exported so a host names the same versions.
pub use {chrono, chrono_tz, indexmap, rust_decimal, serde_json};
