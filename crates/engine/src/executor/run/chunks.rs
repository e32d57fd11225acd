//! What the stages of a run hand each other: the reader's [`RawChunk`] of lines, and a
//! worker's [`Chunk`] of results (with its [`DeadEntry`]s) for the collector.

use std::sync::Arc;

use crate::seams::Provenance;
use crate::transform::source::Raw;
use crate::value::Value;

/// Consecutive NDJSON lines as read, before parsing.
pub(super) struct RawChunk {
    /// Its place in the input, counted in chunks.
    pub(super) seq: u64,
    /// The bytes of the lines.
    pub(super) bytes: Vec<u8>,
    /// Each line: its number, its bytes, the offset just past it.
    pub(super) lines: Vec<(u64, std::ops::Range<usize>, u64)>,
}

/// A dead letter waiting to be written in input order.
pub(super) struct DeadEntry {
    pub(super) line: u64,
    pub(super) origin: Option<Arc<str>>,
    pub(super) raw: Raw,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) target: Option<String>,
    pub(super) condition: Option<usize>,
}

/// What processing a stretch of consecutive records produced, in input order.
#[derive(Default)]
pub(super) struct Chunk {
    /// Output lines (`SinkMode::Lines`).
    pub(super) ndjson: String,
    /// Output values (`SinkMode::Values`, `SinkMode::Remote`).
    pub(super) mapped: Vec<Value>,
    /// Where each output value came from (`SinkMode::Remote`).
    pub(super) provenance: Vec<Provenance>,
    /// Dead letters.
    pub(super) dead: Vec<DeadEntry>,
    /// Records read.
    pub(super) read: u64,
    /// Lines written.
    pub(super) written: u64,
    /// Records filtered out.
    pub(super) filtered: u64,
    /// Sampled transform latencies, ns.
    pub(super) latencies: Vec<u32>,
    /// Line and byte offset just past the last record.
    pub(super) end: Option<(u64, u64)>,
    /// (input, line) of retried letters.
    pub(super) retried: Vec<(Arc<str>, u64)>,
    /// Records mapped in a dry run.
    pub(super) not_written: u64,
    /// Baselines of a bidirectional connector to record with the batch.
    pub(super) baselines: Vec<crate::store::origins::BaselineWrite>,
}
