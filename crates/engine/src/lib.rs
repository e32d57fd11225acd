//! Sluice's sync engine: runs over sources and sinks, the state store (SQLite, and
//! PostgreSQL with the `postgres` feature), checkpoints, dead letters, partitions and slots,
//! REST/OData connections (the `http` feature).
#![forbid(unsafe_code)]

pub(crate) use sluice_core::{diagnostics, limits, runtime, stdlib, transform, value};
pub(crate) use sluice_jit::{driver, native};

pub mod connections;
pub mod executor;
pub mod seams;
pub mod store;

/// `text` with every character other than an ASCII letter, a digit, `-` and `_` as `_`: a
/// name fit for a file, a broker's client id or a directory.
pub fn safe_name(text: &str) -> String {
    text.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '_',
            },
        )
        .collect()
}

/// A test failpoint: aborts the process, as a kill -9 would, when `SLUICE_FAILPOINT` names
/// `name` (`oauth-refresh-unsaved` between a token refresh and its save,
/// `stream-committed-unacked` between a stream's commit and its acknowledgements).
pub fn failpoint(name: &str) {
    if std::env::var_os("SLUICE_FAILPOINT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}

/// This worker's name among the workers sharing a run (leases, a shared consumer's dead
/// letters): host, process and a random part.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Bytes as lowercase hex (digests in the store, file names, signatures).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A diagnostic carried through an `io::Error` (a record source can only fail with one):
/// [`io_diag`] gives it back as it was.
#[derive(Debug)]
pub struct DiagError(pub crate::diagnostics::Diag);

impl std::fmt::Display for DiagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code.id, self.0.message)
    }
}

impl std::error::Error for DiagError {}

/// An I/O failure on a file of a run, as a diagnostic (E506): `what` says which file and
/// what was being done. An error that carries its own diagnostic ([`DiagError`]) is that.
pub fn io_diag(what: &str, e: std::io::Error) -> crate::diagnostics::Diag {
    if let Some(DiagError(diag)) = e.get_ref().and_then(|inner| inner.downcast_ref()) {
        return diag.clone();
    }
    crate::diagnostics::Diag::new(
        crate::diagnostics::codes::E506_READ_FILE,
        format!("{what}: {e}"),
    )
}
