//! Scheduled runs claimed by exactly one worker (PostgreSQL): every worker that is to run
//! a connector's occurrence `slot` (say the 02:00 run of a nightly schedule, started by cron
//! or `sluice serve` on several machines) asks for it; one gets a lease on it, row-locked
//! with `FOR UPDATE SKIP LOCKED`, and keeps it alive with a heartbeat while it runs; the
//! others are told who has it. A worker that dies stops beating, its lease runs out, and
//! the next worker to ask takes the slot over and resumes from the run's checkpoint.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::store::db::params;
use crate::store::{Store, StoreError};

/// The signal number a lost lease stops the run with.
const SIGTERM: usize = 15;

/// What a worker learns when it asks for a slot.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotClaim {
    /// The slot is this worker's to run.
    Mine,
    /// Another worker (named) holds a live lease on it.
    Held(String),
    /// It was run to its end already.
    Done,
}

/// Asks for `slot` of `connector` as `owner`, for `ttl`.
pub fn claim(
    store: &mut Store,
    connector: &str,
    slot: &str,
    owner: &str,
    ttl: Duration,
) -> Result<SlotClaim, StoreError> {
    store.write_transaction(|tx| {
        tx.execute(
            "INSERT INTO scheduled_runs(connector, slot) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![connector, slot],
        )?;
        let mine = tx.query_row(
            "UPDATE scheduled_runs SET owner = ?3, lease_until = now() + make_interval(secs => ?4)
             WHERE (connector, slot) IN (
                 SELECT connector, slot FROM scheduled_runs
                 WHERE connector = ?1 AND slot = ?2 AND done = 0
                   AND (owner IS NULL OR lease_until < now())
                 FOR UPDATE SKIP LOCKED)
             RETURNING owner",
            params![connector, slot, owner, ttl.as_secs_f64()],
        )?;
        if mine.is_some() {
            return Ok(SlotClaim::Mine);
        }
        let row = tx.query_row(
            "SELECT done, owner FROM scheduled_runs WHERE connector = ?1 AND slot = ?2",
            params![connector, slot],
        )?;
        Ok(match row {
            Some(r) if r.flag(0) => SlotClaim::Done,
            Some(r) => SlotClaim::Held(r.opt_text(1).unwrap_or_else(|| "another worker".into())),
            None => SlotClaim::Held("another worker".into()),
        })
    })
}

/// Marks `slot` run to its end (when still this worker's).
pub fn finish(
    store: &mut Store,
    connector: &str,
    slot: &str,
    owner: &str,
) -> Result<bool, StoreError> {
    store
        .write_transaction(|tx| {
            tx.execute(
                "UPDATE scheduled_runs SET done = 1, lease_until = NULL
                 WHERE connector = ?1 AND slot = ?2 AND owner = ?3",
                params![connector, slot, owner],
            )
        })
        .map(|n| n > 0)
}

/// Renews the lease every third of `ttl` on a connection of its own until dropped; when the
/// lease was taken over (it ran out while this worker was stalled), it stops the run as
/// SIGTERM would (`stop`), so that it ends at its next commit.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts beating for `owner`'s lease on `slot`.
    pub fn start(
        store: Store,
        (connector, slot, owner): (String, String, String),
        ttl: Duration,
        stop_run: Arc<AtomicUsize>,
    ) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let every = ttl / 3;
            let mut waited = Duration::ZERO;
            while !stopping.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                waited += Duration::from_millis(20);
                if waited < every {
                    continue;
                }
                waited = Duration::ZERO;
                let renewed = store.conn().execute(
                    "UPDATE scheduled_runs SET lease_until = now() + make_interval(secs => ?4)
                     WHERE connector = ?1 AND slot = ?2 AND owner = ?3",
                    params![
                        connector.as_str(),
                        slot.as_str(),
                        owner.as_str(),
                        ttl.as_secs_f64()
                    ],
                );
                if !matches!(renewed, Ok(n) if n > 0) {
                    stop_run.store(SIGTERM, Ordering::SeqCst);
                    return;
                }
            }
        });
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
