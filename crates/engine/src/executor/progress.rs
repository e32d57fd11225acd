//! A run's progress as it goes, for whoever watches it from another thread (`sluice
//! serve`'s page): the counts so far, how far into its input it is, and when it last
//! committed. The run publishes after each chunk and commit; a reader takes a snapshot.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::sync::Counts;

/// Where a run stands, updated as it goes.
#[derive(Debug, Default)]
pub struct LiveProgress {
    read: AtomicU64,
    written: AtomicU64,
    filtered: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    total_bytes: AtomicU64,
    committed_at_ms: AtomicI64,
}

/// A snapshot of a run's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// Records read so far.
    pub read: u64,
    /// Records written so far (to the sink, or committed to the store).
    pub written: u64,
    /// Records a condition filtered.
    pub filtered: u64,
    /// Records that became dead letters.
    pub failed: u64,
    /// Bytes of the input read, for a file.
    pub bytes: u64,
    /// The input's size, when it is a file of known size.
    pub total_bytes: Option<u64>,
    /// When the run last committed.
    pub last_commit_at: Option<DateTime<Utc>>,
}

impl LiveProgress {
    /// Publishes the counts so far and the input's byte position.
    pub(crate) fn counted(&self, counts: &Counts, bytes: u64) {
        self.read.store(counts.read, Ordering::Relaxed);
        self.written.store(counts.written, Ordering::Relaxed);
        self.filtered.store(counts.filtered, Ordering::Relaxed);
        self.failed.store(counts.failed, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
    }

    /// Notes a commit now.
    pub(crate) fn committed(&self) {
        self.committed_at_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Notes the input's size.
    pub(crate) fn sized(&self, total: u64) {
        self.total_bytes.store(total, Ordering::Relaxed);
    }

    /// Where the run stands now.
    pub fn now(&self) -> Progress {
        let total = self.total_bytes.load(Ordering::Relaxed);
        let committed = self.committed_at_ms.load(Ordering::Relaxed);
        Progress {
            read: self.read.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            filtered: self.filtered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            total_bytes: (total > 0).then_some(total),
            last_commit_at: (committed > 0)
                .then(|| DateTime::from_timestamp_millis(committed))
                .flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_shows_what_was_published() {
        let live = LiveProgress::default();
        assert_eq!(live.now().read, 0);
        assert_eq!(live.now().last_commit_at, None);
        let counts = Counts {
            read: 10,
            written: 7,
            filtered: 2,
            failed: 1,
            ..Counts::default()
        };
        live.counted(&counts, 4096);
        live.sized(8192);
        live.committed();
        let now = live.now();
        assert_eq!(
            (now.read, now.written, now.filtered, now.failed),
            (10, 7, 2, 1)
        );
        assert_eq!((now.bytes, now.total_bytes), (4096, Some(8192)));
        assert!(now.last_commit_at.is_some());
    }
}
