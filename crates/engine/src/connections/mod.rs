//! The connections a run reads and writes, one folder per kind: files and stdin (NDJSON,
//! CSV), the Connect Object store, REST/OData APIs (`http/`, the `http` feature). `sources`
//! and `sinks` open the one a connector's side names.

pub mod dead_letters;
#[cfg(feature = "http")]
pub mod http;
pub mod resume;
pub mod sinks;
pub mod sources;
