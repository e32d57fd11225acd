//! The connections a run reads and writes, one folder per kind: files and stdin (NDJSON,
//! CSV, `file/`), the Connect Object store (`store/`), REST/OData APIs (`http/`, the `http`
//! feature), PostgreSQL tables (`table/`, the `postgres` feature), and the dead letters
//! retried. Each kind registers itself in one line of
//! `registry`, which opens the source and the sink a connector's side and the run's options
//! name.

pub mod dead_letters;
pub mod file;
#[cfg(feature = "http")]
pub mod http;
pub mod kind;
#[cfg(any(
    feature = "http",
    feature = "postgres",
    feature = "mysql",
    feature = "streams"
))]
pub mod queued;
pub mod registry;
#[cfg(any(
    feature = "http",
    feature = "postgres",
    feature = "mysql",
    feature = "streams"
))]
pub mod remote;
pub mod resume;
pub mod store;
#[cfg(feature = "streams")]
pub mod stream;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod table;
