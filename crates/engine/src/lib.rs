//! Sluice's sync engine: runs over sources and sinks, the state store (SQLite, and
//! PostgreSQL with the `postgres` feature), checkpoints, dead letters, partitions and slots,
//! REST/OData connections (the `http` feature).
#![forbid(unsafe_code)]

pub(crate) use sluice_core::{diagnostics, interp, limits, runtime, stdlib, transform, value};
pub(crate) use sluice_jit::native;

pub mod executor;
