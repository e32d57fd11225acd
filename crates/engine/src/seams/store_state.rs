//! The store (SQLite or PostgreSQL) as a run's [`StateStore`]: checkpoints, dead letters,
//! metrics and the Connect Objects in one database, each batch committed in one transaction.

use chrono::{DateTime, Utc};

use crate::diagnostics::Diag;
use crate::runtime::Lookups;
use crate::seams::{StateCommit, StateStore};
use crate::store::lookups::StoreLookups;
use crate::store::sync::{BatchCounts, Checkpoint, LetterBatch, RunMetrics};
use crate::store::Store;

/// The state store of a run at `location` (an SQLite file, created when absent, or a
/// PostgreSQL database). A dry run writes nothing: it only opens an existing store, for
/// lookups, and has none when there is none.
pub fn open_state(
    location: &std::path::Path,
    dry_run: bool,
) -> Result<Option<Box<dyn StateStore>>, Diag> {
    if dry_run {
        return Ok(Store::open_existing(location)
            .ok()
            .map(|s| Box::new(s) as Box<dyn StateStore>));
    }
    Ok(Some(Box::new(
        Store::open_or_create(location).map_err(|e| e.to_diag())?,
    )))
}
use crate::value::Value;

impl StateStore for Store {
    fn checkpoint(&self, connector: &str, input: &str) -> Result<Option<Checkpoint>, Diag> {
        Store::checkpoint(self, connector, input).map_err(|e| e.to_diag())
    }

    fn clear_checkpoint(&mut self, connector: &str, input: &str) -> Result<(), Diag> {
        Store::clear_checkpoint(self, connector, input).map_err(|e| e.to_diag())
    }

    fn clear_letters_after(
        &mut self,
        connector: &str,
        input: &str,
        after: u64,
    ) -> Result<(), Diag> {
        Store::clear_letters_after(self, connector, input, after).map_err(|e| e.to_diag())
    }

    fn commit_state(
        &mut self,
        connector: &str,
        letters: &LetterBatch,
        checkpoint: Option<(&str, &Checkpoint)>,
        now: DateTime<Utc>,
    ) -> Result<(), Diag> {
        self.commit_letters(connector, letters, checkpoint, now)
            .map_err(|e| e.to_diag())
    }

    fn upsert(
        &mut self,
        object: &str,
        key: &str,
        records: &[Value],
        state: &StateCommit<'_>,
        now: DateTime<Utc>,
    ) -> Result<BatchCounts, Diag> {
        self.apply_batch(
            state.connector,
            crate::store::sync::UpsertTarget {
                object,
                key,
                conflict: state.conflict,
                time_field: state.time_field,
            },
            records,
            state.letters,
            now,
            state.tz,
            state.checkpoint,
        )
        .map_err(|e| e.to_diag())
    }

    fn dead_letters(&self, connector: &str) -> Result<Vec<String>, Diag> {
        Store::dead_letters(self, connector).map_err(|e| e.to_diag())
    }

    fn finish_run(
        &mut self,
        connector: &str,
        checkpoint: Option<(&str, &Checkpoint)>,
        metrics: &RunMetrics,
        keep: u64,
        now: DateTime<Utc>,
    ) -> Result<(), Diag> {
        Store::finish_run(self, connector, checkpoint, metrics, keep, now).map_err(|e| e.to_diag())
    }

    fn lookups(&self) -> Option<Box<dyn Lookups + Send>> {
        self.reopen()
            .ok()
            .map(|s| Box::new(StoreLookups::new(s)) as Box<dyn Lookups + Send>)
    }

    fn baselines(
        &self,
        owner: &str,
        side: &str,
    ) -> Result<std::collections::HashMap<String, crate::store::origins::Baseline>, Diag> {
        Store::baselines(self, owner, side).map_err(|e| e.to_diag())
    }

    fn pending_review_keys(
        &self,
        connector: &str,
        object: &str,
    ) -> Result<std::collections::HashSet<String>, Diag> {
        Store::pending_review_keys(self, connector, object).map_err(|e| e.to_diag())
    }
}
