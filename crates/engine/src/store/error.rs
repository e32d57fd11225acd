//! What can go wrong with the store, on either database, and its registry code.

use std::path::PathBuf;

use crate::diagnostics::{codes, Code, Diag};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file does not exist.
    #[error("store {0} does not exist")]
    NotFound(PathBuf),
    /// Not an SQLite database, damaged, or not a Sluice store.
    #[error("store {path} is corrupt or not a Sluice store: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        reason: String,
    },
    /// Another process holds the lock.
    #[error("store {0} is locked by another process")]
    Locked(PathBuf),
    /// The disk is full.
    #[error("store {0}: the disk is full")]
    Full(PathBuf),
    /// Another worker took over the partition this one was writing.
    #[error("store {0}: another worker took over this partition (its lease ran out)")]
    LeaseLost(PathBuf),
    /// The run's lock was lost and another run took the connector over.
    #[error("store {0}: this run's lock on its connector was lost (its session ended) and another run may hold it now")]
    LockLost(PathBuf),
    /// A record a person edited was not taken (its reason).
    #[error("{0}")]
    Refused(String),
    /// Anything else SQLite reports.
    #[error("store {path}: {reason}")]
    Failed {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        reason: String,
    },
}

impl StoreError {
    /// The registry code.
    pub fn code(&self) -> Code {
        match self {
            StoreError::NotFound(_) => codes::E701_STORE_NOT_FOUND,
            StoreError::Corrupt { .. } => codes::E702_STORE_CORRUPT,
            StoreError::Locked(_) => codes::E703_STORE_LOCKED,
            StoreError::Full(_) => codes::E704_STORE_FULL,
            StoreError::LeaseLost(_) => codes::E707_LEASE_LOST,
            StoreError::LockLost(_) => codes::E708_RUN_LOCK_LOST,
            StoreError::Refused(_) => codes::E709_EDIT_REFUSED,
            StoreError::Failed { .. } => codes::E705_STORE_FAILED,
        }
    }

    /// The error as a diagnostic.
    pub fn to_diag(&self) -> Diag {
        Diag::new(self.code(), self.to_string())
    }
}
