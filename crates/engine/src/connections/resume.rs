//! What a checkpoint knows of what it resumes: the connector's fingerprint and the input's
//! identity (its size and a hash of the bytes just before the checkpoint's position), so a
//! changed connector or a truncated or replaced input is a clear error, never a silent seek
//! into the middle of a line.

use std::fs::File;
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};

use crate::diagnostics::{codes, Diag};
use crate::hex;
use crate::store::sync::Checkpoint;
use crate::transform::connector::Connector;

/// How many bytes before the position the checkpoint hashes.
const HEAD_BYTES: u64 = 64 * 1024;

/// The fingerprint of a connector: SHA-256 of its canonical JSON form.
pub fn fingerprint(connector: &Connector) -> String {
    hex(&Sha256::digest(
        serde_json::to_string(connector)
            .unwrap_or_default()
            .as_bytes(),
    ))
}

/// SHA-256 of the (up to 64 KiB of) bytes of `file` just before `offset`.
pub fn head_hash(file: &File, offset: u64) -> std::io::Result<String> {
    let start = offset.saturating_sub(HEAD_BYTES);
    let mut buf = vec![0u8; usize::try_from(offset - start).unwrap_or(0)];
    file.read_exact_at(&mut buf, start)?;
    Ok(hex(&Sha256::digest(&buf)))
}

/// Checks that `checkpoint` was taken on `file` as it is now: the input is at least as
/// long as the position and its bytes before the position are the ones the checkpoint saw.
pub fn verify_input(checkpoint: &Checkpoint, input: &str, file: &File) -> Result<(), Diag> {
    let way_out = "run with --from-start to read the input again from its start (its dead letters are replaced)";
    let size = file
        .metadata()
        .map_err(|e| crate::io_diag(&format!("cannot read {input}"), e))?
        .len();
    if size < checkpoint.byte_offset {
        return Err(Diag::new(
            codes::E612_INPUT_CHANGED,
            format!(
                "{input} is {size} bytes, shorter than the checkpoint's position ({} bytes, line {}): it was truncated or replaced",
                checkpoint.byte_offset, checkpoint.line
            ),
        )
        .help(way_out));
    }
    if !checkpoint.head_hash.is_empty() {
        let now = head_hash(file, checkpoint.byte_offset)
            .map_err(|e| crate::io_diag(&format!("cannot read {input}"), e))?;
        if now != checkpoint.head_hash {
            return Err(Diag::new(
                codes::E612_INPUT_CHANGED,
                format!(
                    "{input} is not the input the checkpoint was taken on: its bytes before the checkpoint's position (line {}) differ; it was replaced or rewritten",
                    checkpoint.line
                ),
            )
            .help(way_out));
        }
    }
    Ok(())
}

/// Checks that an interrupted run resumes with the connector it started with.
pub fn verify_connector(
    checkpoint: &Checkpoint,
    input: &str,
    connector: &Connector,
) -> Result<(), Diag> {
    if !checkpoint.complete
        && !checkpoint.fingerprint.is_empty()
        && checkpoint.fingerprint != fingerprint(connector)
    {
        return Err(Diag::new(
            codes::E611_CONNECTOR_CHANGED,
            format!(
                "the connector changed since its run over {input} was interrupted at line {}: one run would mix two versions",
                checkpoint.line
            ),
        )
        .help("run the connector as it was to finish that run, or run with --from-start to read the whole input with the new version"));
    }
    Ok(())
}

/// The lock a writing run holds on its connector in a store, so that two runs of one
/// connector never interleave: for an SQLite store a file beside it per connector, locked
/// while the run lasts (the operating system releases it when the process ends, however it
/// ends); for PostgreSQL a session advisory lock on a connection of its own (the server
/// releases it when the connection ends, however the process ends).
pub struct RunLock {
    _held: Held,
    fence: Option<crate::store::db::Fence>,
}

/// What holds a run lock.
enum Held {
    File {
        _file: File,
    },
    #[cfg(feature = "postgres")]
    Session {
        _client: Box<postgres::Client>,
    },
}

impl RunLock {
    /// The lock's fencing token, which every commit of the run checks (PostgreSQL; an
    /// SQLite run's file lock cannot be lost while its process lives).
    pub fn fence(&self) -> Option<crate::store::db::Fence> {
        self.fence.clone()
    }

    /// Takes the lock of `connector` in the store at `store`, waiting up to `wait` for a
    /// run holding it; E703 when it is still held then.
    pub fn acquire(
        store: &std::path::Path,
        connector: &str,
        wait: std::time::Duration,
    ) -> Result<RunLock, Diag> {
        #[cfg(feature = "postgres")]
        if crate::store::is_database_url(store) {
            // the lock's fencing token lives in the store: make (or migrate) it first
            crate::store::Store::open_or_create(store).map_err(|e| e.to_diag())?;
            return crate::store::postgres::run_lock(store, connector, wait).map(
                |(client, fence)| RunLock {
                    _held: Held::Session {
                        _client: Box::new(client),
                    },
                    fence: Some(fence),
                },
            );
        }
        let digest = hex(&Sha256::digest(connector.as_bytes()));
        let mut name = store.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}.lock", digest.get(..16).unwrap_or(&digest)));
        let path = store.with_file_name(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                Diag::new(
                    codes::E705_STORE_FAILED,
                    format!("cannot open the run lock {}: {e}", path.display()),
                )
            })?;
        let started = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(RunLock {
                        _held: Held::File { _file: file },
                        fence: None,
                    })
                }
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Diag::new(
                        codes::E703_STORE_LOCKED,
                        format!(
                            "another run of connector `{connector}` is writing to {} (its lock {} is held)",
                            store.display(),
                            path.display()
                        ),
                    )
                    .help("wait for it to finish; a run that was killed releases its lock at once"))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Diag::new(
                        codes::E705_STORE_FAILED,
                        format!("cannot lock {}: {e}", path.display()),
                    ))
                }
            }
        }
    }
}
