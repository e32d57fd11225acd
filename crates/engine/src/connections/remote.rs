//! What the sinks of remote systems (a REST/OData API, a SQL table) share: each record is
//! written or refused, and the refused ones become dead letters committed with the batch's
//! checkpoint, after the records were written.

use std::sync::Arc;

use chrono::Utc;

use crate::connections::dead_letters::{letter_line, Failure};
use crate::diagnostics::{Code, Diag};
use crate::seams::{Provenance, StateCommit, StateStore};
use crate::store::sync::BatchCounts;

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
pub fn commit_outcomes(
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
