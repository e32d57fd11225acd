//! What the sinks of remote systems (a REST/OData API, a SQL table) share: each record is
//! written or refused, and the refused ones become dead letters committed with the batch's
//! checkpoint, after the records were written.

use std::sync::Arc;

use chrono::Utc;

use crate::connections::dead_letters::{letter_line, Failure};
use crate::diagnostics::{Code, Diag};
use crate::seams::{Provenance, Sink, SinkMode, StateCommit, StateStore};
use crate::store::sync::BatchCounts;
use crate::value::Value;

/// How a remote system takes a batch of records: one outcome per record, or the error that
/// stops the run (nothing of the batch is then committed).
pub trait Writer: Send {
    /// Sends `records` (all with the same fields).
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag>;
}

/// A sink of a remote system: the mapped records of a batch sent by its [`Writer`] when
/// the batch commits, before the batch's state — a run killed between the two sends the
/// same records again — and the refused ones made dead letters.
pub struct RemoteSink {
    writer: Box<dyn Writer>,
    key: Option<String>,
    pending: Vec<Value>,
    provenance: Vec<Provenance>,
}

impl RemoteSink {
    /// A sink writing through `writer`, the records keyed by `key` when it has one.
    pub fn new(writer: Box<dyn Writer>, key: Option<String>) -> RemoteSink {
        RemoteSink {
            writer,
            key,
            pending: Vec::new(),
            provenance: Vec::new(),
        }
    }
}

impl Sink for RemoteSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Remote
    }

    fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    fn accept(
        &mut self,
        _: &str,
        values: Vec<Value>,
        provenance: Vec<Provenance>,
    ) -> Result<(), Diag> {
        self.pending.extend(values);
        self.provenance.extend(provenance);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    fn commit(
        &mut self,
        store: &mut dyn StateStore,
        state: StateCommit<'_>,
    ) -> Result<BatchCounts, Diag> {
        let outcomes = match self.pending.is_empty() {
            true => Vec::new(),
            false => self.writer.write(&self.pending)?,
        };
        let counts = commit_outcomes(store, &state, &outcomes, &self.provenance)?;
        self.pending.clear();
        self.provenance.clear();
        Ok(counts)
    }
}

/// What became of one record sent to a remote system.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The system took it.
    Written,
    /// The system refused it (a dead letter): the code and why.
    Refused(Code, String),
}

/// Commits the state of a batch whose records were sent, one outcome per record (in the
/// order of `provenance`): a refused record's dead letter is added to the batch's letters,
/// and the checkpoint counts what was written and refused.
fn commit_outcomes(
    store: &mut dyn StateStore,
    state: &StateCommit<'_>,
    outcomes: &[Outcome],
    provenance: &[Provenance],
) -> Result<BatchCounts, Diag> {
    let mut counts = BatchCounts::default();
    let mut letters = state.letters.clone();
    for (outcome, from) in outcomes.iter().zip(provenance) {
        match outcome {
            Outcome::Written => counts.written += 1,
            Outcome::Refused(code, message) => {
                counts.failed += 1;
                let input: Arc<str> = from
                    .origin
                    .clone()
                    .unwrap_or_else(|| Arc::from(state.input));
                let letter = letter_line(
                    from.line,
                    &input,
                    &from.raw,
                    &Failure {
                        code: code.id,
                        message,
                        target: None,
                        condition: None,
                    },
                );
                letters.add.push((input, from.line, letter));
            }
        }
    }
    let checkpoint = state.checkpoint.map(|(input, cp)| {
        let mut cp = cp.clone();
        cp.counts.written += counts.written;
        cp.counts.failed += counts.failed;
        (input, cp)
    });
    store.commit_state(
        state.connector,
        &letters,
        checkpoint.as_ref().map(|(input, cp)| (*input, cp)),
        Utc::now(),
    )?;
    Ok(counts)
}
