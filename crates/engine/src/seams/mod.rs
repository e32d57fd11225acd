//! The seams of the executor: a run reads from a [`Source`], writes to a [`Sink`] and keeps
//! its state (checkpoints, dead letters, metrics, the review queue, the objects lookups
//! read) in a [`StateStore`]; workers that share a run claim its partitions and slots
//! through [`Leases`]. A new kind of input, output or state store is one new file
//! implementing one of these traits, and one line in the registry that picks it
//! (`connections::registry`).

#[cfg(feature = "postgres")]
mod store_leases;
mod store_state;

#[cfg(feature = "postgres")]
pub use store_leases::open_leases;
pub use store_state::open_state;

use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::diagnostics::Diag;
use crate::runtime::Lookups;
use crate::store::sync::{BatchCounts, Checkpoint, LetterBatch, RunMetrics};
use crate::transform::connector::Conflict;
use crate::transform::source::RecordSource;
use crate::transform::Transform;
use crate::value::Value;

/// How a source's records are read.
pub enum Reading {
    /// NDJSON bytes, cut into lines and parsed on every core. With `hold_tail`, a last line
    /// without a line break that is not complete JSON is left for a later run (a file that
    /// may still grow).
    Lines {
        /// The bytes, positioned after the resumed-from line.
        reader: BufReader<Box<dyn Read + Send>>,
        /// Leave an incomplete last line unread.
        hold_tail: bool,
    },
    /// Records one by one (CSV rows, stored objects, retried letters, API pages).
    Records(Box<dyn RecordSource>),
}

impl Reading {
    /// The records one by one, whichever way the source reads (`sluice test` explains
    /// each record in turn).
    pub fn into_records(self, settings: &ReadSettings) -> Box<dyn RecordSource> {
        match self {
            Reading::Records(records) => records,
            Reading::Lines { reader, .. } => Box::new(
                crate::transform::source::NdjsonSource::new(
                    reader,
                    0,
                    0,
                    settings.transform.input_fields.clone(),
                )
                .with_slots(settings.transform.slot_fields.clone())
                .with_limits(settings.limits),
            ),
        }
    }
}

/// What a source needs to know to read for a transform.
pub struct ReadSettings<'a> {
    /// The compiled connector: which fields to parse, the inbound schema.
    pub transform: &'a Transform,
    /// Record size and depth limits.
    pub limits: crate::limits::Limits,
    /// The inbound object's schema (CSV cells are typed by it).
    pub schema: Option<crate::value::Schema>,
    /// Records per commit: a source that must keep what it delivered until a commit (a
    /// message stream's unacknowledged messages) holds at least this many.
    pub commit_every: u64,
    /// Keep reading after the input has nothing new, until told to stop (a message stream
    /// followed by `sluice serve` or `sluice run --follow`); `None`: read to the end.
    pub follow: Option<Follow>,
}

/// When a followed input is left: when the run's own flag is set (`sluice serve` reloads or
/// drops the connector) or a signal stops the run.
#[derive(Clone, Default)]
pub struct Follow {
    /// Set to end this run.
    pub until: Arc<AtomicBool>,
    /// The run's stop signal (SIGTERM, SIGINT).
    pub stop: Arc<AtomicUsize>,
}

impl Follow {
    /// Whether the run is to stop following.
    pub fn over(&self) -> bool {
        self.until.load(Ordering::SeqCst) || self.stop.load(Ordering::SeqCst) != 0
    }
}

/// Where a run's records come from, with a resumable position.
pub trait Source {
    /// The input's key: its dead letters and its checkpoint are kept under it (a file's
    /// canonical path, `-` for stdin, `store:<object>`).
    fn key(&self) -> &str;

    /// Whether a store-bound run keeps a checkpoint of its position in this input.
    fn resumable(&self) -> bool {
        false
    }

    /// Whether workers share this input among them (a broker's consumer hands each message
    /// to one of them): each runs without the connector's run lock.
    fn shares_run(&self) -> bool {
        false
    }

    /// Its size in bytes, when known (the progress bar, `--engine auto`).
    fn size(&self) -> Option<u64> {
        None
    }

    /// Checks that `checkpoint` was taken on this input as it is now (E612 when it was
    /// truncated, replaced or rewritten).
    fn verify(&self, _checkpoint: &Checkpoint) -> Result<(), Diag> {
        Ok(())
    }

    /// Records in `checkpoint` what identifies this input at the checkpoint's position.
    fn identify(&self, _checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        Ok(())
    }

    /// Whether a resumed run reads lines that may be followed by an incomplete one (the
    /// run then says which line waits).
    fn grows(&self) -> bool {
        false
    }

    /// The records up to line `line` are committed (with the checkpoint, when the run keeps
    /// one): a source that must acknowledge what it delivered (a message stream) does so
    /// now, and not before.
    fn committed(&self, _line: u64) -> Result<(), Diag> {
        Ok(())
    }

    /// Starts reading after `resume` (from the start when `None`).
    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag>;
}

/// What the workers hand a sink for each mapped record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// NDJSON lines, written straight from the values.
    Lines,
    /// Records as values, upserted by the primary key.
    Values,
    /// Records as values with where each came from ([`Provenance`]), for a sink that may
    /// refuse single records (a remote system): a refused record becomes a dead letter.
    Remote,
    /// Nothing: a dry run.
    Nothing,
}

/// Where a mapped record came from: the input and line of its dead letter, and its raw
/// form, should the sink refuse it.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Its line in the input.
    pub line: u64,
    /// The input it first came from, when not the run's own (a retried letter).
    pub origin: Option<std::sync::Arc<str>>,
    /// The input record as read.
    pub raw: crate::transform::source::Raw,
}

/// The state committed with a batch of records: dead letters and the checkpoint.
pub struct StateCommit<'a> {
    /// The connector's name.
    pub connector: &'a str,
    /// The key of the run's input (a refused record's letter is kept under it).
    pub input: &'a str,
    /// The conflict rule (for sinks that upsert).
    pub conflict: Conflict,
    /// The record field holding the time each record changed (`[sync] updated_at`).
    pub time_field: &'a str,
    /// Letters to add and remove.
    pub letters: &'a LetterBatch,
    /// The input's key and its checkpoint, for a resumable input.
    pub checkpoint: Option<(&'a str, &'a Checkpoint)>,
    /// The zone of the run (a date-only `updated_at` is its midnight there).
    pub tz: Tz,
}

/// Where a run's mapped records go.
pub trait Sink {
    /// What the workers produce for this sink.
    fn mode(&self) -> SinkMode;

    /// The primary key the sink upserts by, when it upserts.
    fn key(&self) -> Option<&str> {
        None
    }

    /// Takes the mapped records of a chunk: its NDJSON text ([`SinkMode::Lines`]) or its
    /// values ([`SinkMode::Values`]), with where each came from ([`SinkMode::Remote`]).
    fn accept(
        &mut self,
        lines: &str,
        values: Vec<Value>,
        provenance: Vec<Provenance>,
    ) -> Result<(), Diag>;

    /// How many accepted records wait for a commit.
    fn pending(&self) -> usize;

    /// Makes every accepted record durable together with `state`, in one transaction when
    /// the sink and the state store are one database; what the writes did.
    fn commit(
        &mut self,
        store: &mut dyn StateStore,
        state: StateCommit<'_>,
    ) -> Result<BatchCounts, Diag>;
}

/// Where a run keeps its state: checkpoints, dead letters and run metrics, and the Connect
/// Objects (store-bound sinks upsert into them, lookups read them). Its errors are
/// diagnostics, as a source's and a sink's are: a state store of the embedder's own says
/// what went wrong with a code of the registry (E7xx), without taking on Sluice's store
/// types.
pub trait StateStore {
    /// The checkpoint of `connector` over `input`.
    fn checkpoint(&self, connector: &str, input: &str) -> Result<Option<Checkpoint>, Diag>;

    /// Forgets the checkpoint and the dead letters of `connector` over `input`.
    fn clear_checkpoint(&mut self, connector: &str, input: &str) -> Result<(), Diag>;

    /// Removes the dead letters of `connector` over `input` after line `after`.
    fn clear_letters_after(&mut self, connector: &str, input: &str, after: u64)
        -> Result<(), Diag>;

    /// Commits dead letters and a checkpoint together.
    fn commit_state(
        &mut self,
        connector: &str,
        letters: &LetterBatch,
        checkpoint: Option<(&str, &Checkpoint)>,
        now: DateTime<Utc>,
    ) -> Result<(), Diag>;

    /// Upserts records into `object` by `key` under the conflict rule, with the dead
    /// letters and the checkpoint, in one transaction.
    fn upsert(
        &mut self,
        object: &str,
        key: &str,
        records: &[Value],
        state: &StateCommit<'_>,
        now: DateTime<Utc>,
    ) -> Result<BatchCounts, Diag>;

    /// Every dead letter of `connector`, by input and line.
    fn dead_letters(&self, connector: &str) -> Result<Vec<String>, Diag>;

    /// Ends a run in one transaction: its last checkpoint (when it keeps one) and its record
    /// (an idle run replaces the connector's previous idle record; runs beyond `keep` are
    /// pruned).
    fn finish_run(
        &mut self,
        connector: &str,
        checkpoint: Option<(&str, &Checkpoint)>,
        metrics: &RunMetrics,
        keep: u64,
        now: DateTime<Utc>,
    ) -> Result<(), Diag>;

    /// Lookups for one worker thread (each has its own connection and cache).
    fn lookups(&self) -> Option<Box<dyn Lookups + Send>>;

    /// The baselines of a bidirectional connector's side, by key.
    fn baselines(
        &self,
        owner: &str,
        side: &str,
    ) -> Result<std::collections::HashMap<String, crate::store::origins::Baseline>, Diag>;

    /// The keys of `object` with a conflict of `connector` waiting for review.
    fn pending_review_keys(
        &self,
        connector: &str,
        object: &str,
    ) -> Result<std::collections::HashSet<String>, Diag>;
}

/// Where the workers of a shared run claim its work (a PostgreSQL store): the partitions of
/// a partitioned run and the occurrences (slots) of a schedule, each under a lease.
#[cfg(feature = "postgres")]
pub trait Leases {
    /// Makes the partitions of `input` for `connector` unless they exist (of several
    /// workers starting together, one cuts).
    fn ensure_partitions(
        &mut self,
        connector: &str,
        input: &str,
        partitions: &[crate::store::sync::Partition],
    ) -> Result<(), Diag>;

    /// Adds the next partition of `size` pages to an input whose end is not known; `false`
    /// when the end is known.
    fn extend_partitions(&mut self, connector: &str, input: &str, size: u64) -> Result<bool, Diag>;

    /// Marks the leased partition as the one where the input ended.
    fn mark_last_partition(&mut self, lease: &crate::store::sync::Lease) -> Result<(), Diag>;

    /// Forgets the partitions of `input`, with their checkpoints.
    fn forget_partitions(&mut self, connector: &str, input: &str) -> Result<(), Diag>;

    /// Takes the lowest partition not done and not leased, leased to `owner` for `ttl`.
    fn claim_partition(
        &mut self,
        connector: &str,
        input: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<crate::store::leases::Claim, Diag>;

    /// Marks the leased partition done (when the lease is still this worker's).
    fn finish_partition(&mut self, lease: &crate::store::sync::Lease) -> Result<bool, Diag>;

    /// Asks for `slot` of `connector` as `owner`, for `ttl`.
    fn claim_slot(
        &mut self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<crate::store::leases::SlotClaim, Diag>;

    /// Marks `slot` run to its end (when still `owner`'s).
    fn finish_slot(&mut self, connector: &str, slot: &str, owner: &str) -> Result<bool, Diag>;

    /// Renews `owner`'s lease on `slot`; `false` when another worker took it over.
    fn renew_slot(
        &self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, Diag>;

    /// The same leases on a connection of its own (a heartbeat's).
    fn reopen(&self) -> Result<Box<dyn Leases + Send>, Diag>;
}
