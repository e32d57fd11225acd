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
//! let expected = serde_json::json!({"erp_id": "C1", "name": "Acme Gmbh"});
//! assert_eq!(out, sluice::Output::Mapped(expected.as_object().unwrap().clone()));
//! # Ok::<(), sluice::Error>(())
//! ```
//!
//! Cargo features: `jit` (native code with Cranelift), `store` (the SQLite store and the
//! sync executor), `cli` (the `sluice` command; the default, implies both). Without them the
//! crate is the language core.
//!
//! The modules below the API are the stages of the pipeline, one folder each, dependencies
//! running one way: text → syntax → values → function library → IR → checker →
//! interpreter → transform → native code → API → executor → command line. They are public
//! for the project's own tests, benchmarks and fuzz targets only, hidden from these docs,
//! and not a stable API.

mod api;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod compile;
#[doc(hidden)]
pub mod diagnostics;
#[doc(hidden)]
pub mod docs;
#[doc(hidden)]
pub mod executor;
#[doc(hidden)]
pub mod interp;
#[doc(hidden)]
pub mod ir;
#[cfg(feature = "jit")]
#[doc(hidden)]
pub mod jit;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod native;
#[doc(hidden)]
pub mod runtime;
#[path = "../stdlib/mod.rs"]
#[doc(hidden)]
pub mod stdlib;
#[doc(hidden)]
pub mod syntax;
#[doc(hidden)]
pub mod transform;
#[doc(hidden)]
pub mod types;
#[doc(hidden)]
pub mod value;

pub use api::{
    Context, Engine, Error, ErrorDetail, Limits, Mapping, ObjectLookups, Options, Output, Program,
};
#[doc(hidden)]
pub use compile::{compile, CompileOptions, Formula};
