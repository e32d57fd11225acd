//! The collector's side of a run: it applies the workers' chunks in input order to the
//! sink, gathers dead letters, counts and the position, and commits them to the state store
//! in batches.

use std::sync::Arc;

use chrono_tz::Tz;

use crate::connections::dead_letters::{letter_line, Failure};
use crate::diagnostics::Diag;
use crate::executor::progress::LiveProgress;
use crate::executor::run::chunks::Chunk;
use crate::seams::{Sink, Source, StateCommit, StateStore};
use crate::store::sync::{Checkpoint, Counts, LetterBatch};
use crate::transform::connector::Connector;

/// Where a run's results go, with what it has counted and where it stands.
pub(super) struct Collector<'r> {
    /// The sink.
    pub(super) sink: Box<dyn Sink>,
    /// The state store (none in a dry run).
    pub(super) state: Option<Box<dyn StateStore>>,
    /// The source, which identifies the input at each checkpoint.
    pub(super) source: &'r dyn Source,
    /// Letters not committed yet.
    pub(super) letters: LetterBatch,
    /// The counts of the logical run so far.
    pub(super) counts: Counts,
    /// Sampled latencies, ns.
    pub(super) latencies: Vec<u32>,
    /// Where the run stands.
    pub(super) position: Checkpoint,
    /// The connector.
    pub(super) connector: &'r Connector,
    /// The checkpoint's key, when the run keeps one.
    pub(super) checkpointed: Option<String>,
    /// The key of the run's own dead letters.
    pub(super) letter_input: Arc<str>,
    /// Records per commit.
    pub(super) batch: usize,
    /// The run's zone.
    pub(super) tz: Tz,
    /// Where the run's progress is published.
    pub(super) live: Option<Arc<LiveProgress>>,
}

impl Collector<'_> {
    /// Records read so far.
    pub(super) fn read(&self) -> u64 {
        self.counts.read
    }

    /// The byte offset reached.
    pub(super) fn byte_offset(&self) -> u64 {
        self.position.byte_offset
    }

    /// Applies a chunk: output, dead letters, counts, position; commits when a batch is full.
    pub(super) fn apply(&mut self, chunk: Chunk) -> Result<(), Diag> {
        self.counts.read += chunk.read;
        self.counts.filtered += chunk.filtered;
        self.counts.failed += chunk.dead.len() as u64;
        self.counts.not_written += chunk.not_written;
        self.counts.written += chunk.written;
        self.latencies.extend(chunk.latencies);
        if let Some((line, offset)) = chunk.end {
            self.position.line = line;
            if offset > 0 {
                self.position.byte_offset = offset;
            }
        }
        if self.state.is_some() {
            self.letters.baselines.extend(chunk.baselines);
            self.letters.remove.extend(chunk.retried);
            for d in &chunk.dead {
                let input = d
                    .origin
                    .clone()
                    .unwrap_or_else(|| self.letter_input.clone());
                let letter = letter_line(
                    d.line,
                    &input,
                    &d.raw,
                    &Failure {
                        code: d.code,
                        message: &d.message,
                        target: d.target.as_deref(),
                        condition: d.condition,
                    },
                );
                self.letters.add.push((input, d.line, letter));
            }
        }
        self.sink
            .accept(&chunk.ndjson, chunk.mapped, chunk.provenance)?;
        if self.sink.pending() >= self.batch || self.letters.add.len() >= self.batch {
            self.commit()?;
        }
        self.publish();
        Ok(())
    }

    /// Commits what is pending: the sink's records with the dead letters and the checkpoint.
    pub(super) fn commit(&mut self) -> Result<(), Diag> {
        let Some(state) = self.state.as_deref_mut() else {
            return Ok(());
        };
        if self.checkpointed.is_some() {
            self.source.identify(&mut self.position)?;
            self.position.counts = self.counts;
        }
        let batch = self.sink.commit(
            state,
            StateCommit {
                connector: &self.connector.name,
                input: &self.letter_input,
                conflict: self.connector.sync.conflict,
                time_field: self.connector.sync.time_field(),
                letters: &self.letters,
                checkpoint: self
                    .checkpointed
                    .as_deref()
                    .map(|input| (input, &self.position)),
                tz: self.tz,
            },
        )?;
        self.source.committed(self.position.line)?;
        self.counts.written += batch.written;
        self.counts.failed += batch.failed;
        self.counts.queued += batch.queued;
        self.counts.unchanged += batch.unchanged;
        self.counts.lost += batch.lost;
        self.letters = LetterBatch {
            tracked_by: self.letters.tracked_by.take(),
            ..LetterBatch::default()
        };
        if let Some(live) = &self.live {
            live.committed();
        }
        self.publish();
        Ok(())
    }

    /// Publishes the counts so far to whoever watches the run.
    fn publish(&self) {
        if let Some(live) = &self.live {
            live.counted(&self.counts, self.position.byte_offset);
        }
    }
}
