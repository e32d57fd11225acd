//! Scheduled runs claimed by exactly one worker (PostgreSQL): every worker that is to run
//! a connector's occurrence `slot` (say the 02:00 run of a nightly schedule, started by cron
//! or `sluice serve` on several machines) asks for it; one gets a lease on it, row-locked
//! in the store (`store::leases`), and keeps it alive with a heartbeat while it runs; the
//! others are told who has it. A worker that dies stops beating, its lease runs out, and
//! the next worker to ask takes the slot over and resumes from the run's checkpoint.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::seams::Leases;
pub use crate::store::leases::SlotClaim;

/// The signal number a lost lease stops the run with.
const SIGTERM: usize = 15;

/// Renews the lease every third of `ttl` on a connection of its own until dropped; when the
/// lease was taken over (it ran out while this worker was stalled), it stops the run as
/// SIGTERM would (`stop`), so that it ends at its next commit.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts beating for `owner`'s lease on `slot`, on a connection of its own.
    pub fn start(
        store: Box<dyn Leases + Send>,
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
                let renewed = store.renew_slot(&connector, &slot, &owner, ttl);
                if !matches!(renewed, Ok(true)) {
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
