//! The sync executor (with the `store` feature): runs over sources and sinks, with the
//! SQLite state store, checkpoints, dead letters and metrics.

#[cfg(feature = "store")]
pub mod dead_letters;
#[cfg(feature = "store")]
pub mod lookups;
#[cfg(feature = "store")]
pub mod resume;
#[cfg(feature = "store")]
pub mod run;
#[cfg(feature = "store")]
pub mod seams;
#[cfg(feature = "store")]
pub mod sinks;
#[cfg(feature = "store")]
pub mod sources;
#[cfg(feature = "store")]
pub mod sqlite_state;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "store")]
pub mod sync_store;

/// An I/O failure on a file of a run, as a diagnostic (E506): `what` says which file and
/// what was being done.
#[cfg(feature = "store")]
pub(crate) fn io_diag(what: &str, e: std::io::Error) -> crate::diagnostics::Diag {
    crate::diagnostics::Diag::new(
        crate::diagnostics::codes::E506_READ_FILE,
        format!("{what}: {e}"),
    )
}
