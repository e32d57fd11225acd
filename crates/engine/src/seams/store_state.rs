//! The store (SQLite or PostgreSQL) as a run's [`StateStore`]: checkpoints, dead letters,
//! metrics and the Connect Objects in one database, each batch committed in one transaction.

use chrono::{DateTime, Utc};

use crate::runtime::Lookups;
use crate::seams::{StateCommit, StateStore};
use crate::store::lookups::StoreLookups;
use crate::store::sync::{BatchCounts, Checkpoint, LetterBatch, RunMetrics};
use crate::store::{Store, StoreError};
use crate::value::Value;

impl StateStore for Store {
    fn checkpoint(&self, connector: &str, input: &str) -> Result<Option<Checkpoint>, StoreError> {
        Store::checkpoint(self, connector, input)
    }

    fn clear_checkpoint(&mut self, connector: &str, input: &str) -> Result<(), StoreError> {
        Store::clear_checkpoint(self, connector, input)
    }

    fn clear_letters_after(
        &mut self,
        connector: &str,
        input: &str,
        after: u64,
    ) -> Result<(), StoreError> {
        Store::clear_letters_after(self, connector, input, after)
    }

    fn commit_state(
        &mut self,
        connector: &str,
        letters: &LetterBatch,
        checkpoint: Option<(&str, &Checkpoint)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.commit_letters(connector, letters, checkpoint, now)
    }

    fn upsert(
        &mut self,
        object: &str,
        key: &str,
        records: &[Value],
        state: &StateCommit<'_>,
        now: DateTime<Utc>,
    ) -> Result<BatchCounts, StoreError> {
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
    }

    fn dead_letters(&self, connector: &str) -> Result<Vec<String>, StoreError> {
        Store::dead_letters(self, connector)
    }

    fn finish_run(
        &mut self,
        connector: &str,
        checkpoint: Option<(&str, &Checkpoint)>,
        metrics: &RunMetrics,
        keep: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Store::finish_run(self, connector, checkpoint, metrics, keep, now)
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
    ) -> Result<std::collections::HashMap<String, crate::store::origins::Baseline>, StoreError>
    {
        Store::baselines(self, owner, side)
    }

    fn pending_review_keys(
        &self,
        connector: &str,
        object: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        Store::pending_review_keys(self, connector, object)
    }
}
