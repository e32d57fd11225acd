//! Starting runs: the scheduler loop that starts what is due or queued (never two runs of
//! one connector at once), and each run on a thread of its own, with retries of failed
//! runs after a backoff.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::schedule::Schedule;
use super::state::{Loaded, Status, Trigger};
use super::Server;
use crate::diagnostics::{codes, Diag};
use crate::executor::progress::LiveProgress;
use crate::executor::run::{RunOptions, RunReport, DEFAULT_BATCH};
use crate::executor::sync::{sync, Sharing, Syncable, Synced};

/// How often the scheduler looks at the connectors when nothing wakes it.
const TICK: Duration = Duration::from_millis(100);

/// The longest wait before a failed run is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Starts due and queued runs until the server stops, then waits for the runs in
/// progress to end (they commit their checkpoints at the next chunk).
pub fn schedule_loop(server: &Arc<Server>) {
    let mut threads = Vec::new();
    let mut last_scan = std::time::Instant::now();
    loop {
        if server.stopping() {
            break;
        }
        if last_scan.elapsed() >= server.config.watch_every {
            server.rescan();
            last_scan = std::time::Instant::now();
        }
        let starts = due_runs(server);
        for (id, loaded, following) in starts {
            let server = Arc::clone(server);
            threads.push(std::thread::spawn(move || {
                execute(&server, id, &loaded, following)
            }));
        }
        threads.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
        let registry = server.lock();
        let _ = server.wake.wait_timeout(registry, TICK);
    }
    for thread in threads {
        let _ = thread.join();
    }
}

/// A run to start: its id, its connector, and the flag that ends it when it follows a
/// stream.
type Start = (u64, Loaded, Option<Arc<AtomicBool>>);

/// Marks the runs to start now as running: for each idle active connector its first
/// queued run, else a scheduled one when it is due.
fn due_runs(server: &Server) -> Vec<Start> {
    let now = Utc::now();
    let mut registry = server.lock();
    let mut starts = Vec::new();
    let paths: Vec<PathBuf> = registry.connectors.keys().cloned().collect();
    for path in paths {
        let Some(entry) = registry.connectors.get_mut(&path) else {
            continue;
        };
        if entry.running.is_some() || !entry.loaded.active() {
            continue;
        }
        let loaded = entry.loaded.clone();
        let queued = entry.queue.pop_front();
        let due = entry.next_run.is_some_and(|t| t <= now);
        let retry = entry.failures > 0;
        let id = match queued {
            Some(id) => id,
            None if due => {
                entry.next_run = None;
                let trigger = if retry {
                    Trigger::Retry
                } else {
                    Trigger::Schedule
                };
                let input = entry.retry_input.take();
                registry.new_run(loaded.name(), trigger, input)
            }
            None => continue,
        };
        let webhook = registry.runs.get(&id).is_some_and(|r| r.input.is_some());
        let following = (loaded.follows() && !webhook).then(Arc::default);
        if let Some(entry) = registry.connectors.get_mut(&path) {
            entry.running = Some(id);
            entry.last_started = Some(now);
            entry.following.clone_from(&following);
        }
        if let Some(run) = registry.runs.get_mut(&id) {
            run.status = Status::Running;
            run.started_at = Some(now);
            run.progress = Some(Arc::default());
        }
        starts.push((id, loaded, following));
    }
    starts
}

/// `SLUICE_FAILPOINT=serve-run-panic` makes every run panic as it starts: how the tests
/// (and an operator checking their alerting) see that a panicking run is contained.
const FAILPOINT: &str = "SLUICE_FAILPOINT";

/// Runs run `id` of a connector (its way back too, for a bidirectional one) and records
/// how it ended.
fn execute(server: &Server, id: u64, loaded: &Loaded, following: Option<Arc<AtomicBool>>) {
    let (input, letters, live) = server
        .lock()
        .runs
        .get(&id)
        .map_or((None, false, None), |r| {
            (
                r.input.clone(),
                r.trigger == Trigger::DeadLetters,
                r.progress.clone(),
            )
        });
    let started = std::time::Instant::now();
    // A panic in the run (a bug) must not leave the connector marked running for ever: it
    // is a failed run like any other, and the server goes on.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        #[allow(clippy::panic, reason = "the failpoint's whole job is to panic")]
        if std::env::var_os(FAILPOINT).is_some_and(|v| v == "serve-run-panic") {
            panic!("failpoint serve-run-panic");
        }
        let following = following.filter(|_| !letters);
        run_sync(server, loaded, (input.as_deref(), letters), following, live)
    }))
    .unwrap_or_else(|payload| {
        Err(Diag::new(
            codes::E812_RUN_PANICKED,
            format!(
                "the run stopped on an internal error: {}",
                crate::api::panic_text(payload.as_ref())
            ),
        ))
    });
    let seconds = started.elapsed().as_secs_f64();
    let now = Utc::now();
    let mut registry = server.lock();
    let status = match &result {
        Ok((forward, _)) if forward.stopped_by.is_some() => Status::Stopped,
        Ok(_) => Status::Succeeded,
        Err(diag) if diag.code == codes::E703_STORE_LOCKED => Status::Skipped,
        Err(_) => Status::Failed,
    };
    let read_something = matches!(&result, Ok((f, _)) if f.metrics.counts.read > 0);
    let scheduled = registry
        .runs
        .get(&id)
        .is_some_and(|r| matches!(r.trigger, Trigger::Schedule));
    // A realtime look that found nothing new is not a run: it is not listed, and the
    // connector's last run stays the last one that read records.
    let idle_poll = status == Status::Succeeded
        && !read_something
        && scheduled
        && matches!(loaded.schedule, Schedule::Realtime(_));
    if let Some(run) = registry.runs.get_mut(&id) {
        run.status = status;
        run.ended_at = Some(now);
        run.progress = None;
        run.seconds = seconds;
        match &result {
            Ok((forward, reverse)) => {
                let m = &forward.metrics;
                run.counts = m.counts;
                run.error_rate = m.error_rate;
                run.p50_us = m.p50_us;
                run.p95_us = m.p95_us;
                run.p99_us = m.p99_us;
                run.reverse = reverse.as_ref().map(|r| r.metrics.counts);
            }
            Err(diag) => run.error = Some(format!("{}: {}", diag.code.id, diag.message)),
        }
    }
    let retries = server.config.retries;
    let backoff = server.config.retry_backoff;
    let Some(entry) = registry
        .connectors
        .values_mut()
        .find(|e| e.running == Some(id))
    else {
        return;
    };
    entry.running = None;
    entry.following = None;
    if idle_poll {
        entry.last_checked = Some(now);
    } else {
        entry.last_run = Some(id);
    }
    if read_something {
        entry.last_reading_run = Some(id);
    }
    entry.totals.run_seconds += seconds;
    match &result {
        Ok((forward, reverse)) => {
            // One line per run that did something (a realtime look that found nothing new
            // is not logged): what `sluice run` prints at its end.
            if !idle_poll {
                let stopped = if status == Status::Stopped {
                    " (stopped; it resumes at the next run)"
                } else {
                    ""
                };
                super::log(format!("run {id}: {}{stopped}", forward.summary()));
                if let Some(r) = reverse {
                    super::log(format!("run {id}: {}", r.summary()));
                }
            }
            entry.totals.add(&forward.metrics.counts);
            if let Some(r) = reverse {
                entry.totals.add(&r.metrics.counts);
            }
            if status == Status::Stopped {
                entry.totals.runs_stopped += 1;
            } else {
                if !idle_poll {
                    entry.totals.runs_succeeded += 1;
                }
                entry.last_success = Some(now);
                // the webhook records it read are done with
                if let Some(spooled) = input.filter(|p| p.starts_with(server.config.spool_dir())) {
                    let _ = std::fs::remove_file(spooled);
                }
            }
            entry.failures = 0;
            entry.failing = None;
            entry.next_run = match &entry.loaded.schedule {
                Schedule::Realtime(poll) if !read_something => {
                    chrono::Duration::from_std(*poll).ok().map(|p| now + p)
                }
                schedule => schedule.next(entry.last_started, now),
            };
        }
        Err(_) if status == Status::Skipped => {
            // another process runs it: not a failure; records a hook brought wait for the
            // next try
            entry.totals.runs_skipped += 1;
            entry.next_run = match input {
                Some(spooled) => {
                    entry.retry_input = Some(spooled);
                    Some(now + backoff_after(backoff, 1))
                }
                None => entry.loaded.schedule.next(entry.last_started, now),
            };
        }
        Err(diag) => {
            entry.totals.runs_failed += 1;
            entry.failures += 1;
            entry.failing = Some(format!("{}: {}", diag.code.id, diag.message));
            super::log(format!(
                "{}: run {id} failed ({} in a row): {}: {}",
                entry.loaded.name(),
                entry.failures,
                diag.code.id,
                diag.message
            ));
            // Whatever the frequency, a failing connector waits longer after each failure,
            // up to the ceiling, and stays there; the records a hook brought wait in the
            // spool for the next try, however many fail.
            let not_before = now + backoff_after(backoff, entry.failures);
            entry.retry_input = input.filter(|p| p.starts_with(server.config.spool_dir()));
            entry.next_run = if entry.failures <= retries || entry.retry_input.is_some() {
                Some(not_before)
            } else {
                entry
                    .loaded
                    .schedule
                    .next(entry.last_started, now)
                    .map(|t| t.max(not_before))
            };
        }
    }
    if idle_poll {
        registry.runs.remove(&id);
    }
    drop(registry);
    server.wake.notify_all();
}

/// The wait before try `failures + 1`: `base` doubled for each failure, at most
/// [`MAX_BACKOFF`].
fn backoff_after(base: Duration, failures: u32) -> chrono::Duration {
    let wait = base
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(300))
}

/// One sync of a connector, as `sluice run` syncs it (`executor::sync`): its way in and way
/// back, or this server's share of a partitioned run when the connector names `[sync]
/// partitions` (several servers on one PostgreSQL store share its partitions). The records
/// a webhook brought (`input`, a spooled file) are one delivery, run alone.
fn run_sync(
    server: &Server,
    loaded: &Loaded,
    (input, letters): (Option<&std::path::Path>, bool),
    following: Option<Arc<AtomicBool>>,
    live: Option<Arc<LiveProgress>>,
) -> Result<(RunReport, Option<RunReport>), Diag> {
    let sharing = match input.is_some() || letters {
        true => Sharing::Alone,
        false => Sharing::of(&loaded.file.connector)?,
    };
    let input = input
        .map(|p| p.display().to_string())
        .or_else(|| loaded.file.inbound_path());
    let syncable = Syncable {
        file: &loaded.file,
        transform: &loaded.transform,
        back: loaded
            .reverse
            .as_ref()
            .map(|(file, transform)| (&**file, transform, server.options_for(file, None))),
    };
    let options = RunOptions {
        follow: following,
        retry_dead_letters: letters,
        live,
        ..server.options_for(&loaded.file, input)
    };
    if letters {
        // the letters as the store keeps them, whoever's run wrote them (this server's, or
        // a `sluice run` on the same store): the file the retry reads
        let kept = server
            .with_reader(|s| s.dead_letters(&loaded.file.connector.name).ok())
            .flatten()
            .unwrap_or_default();
        if let Some(path) = &options.dead_letter {
            crate::connections::dead_letters::write_file(path, &kept).map_err(|e| {
                sluice_engine::io_diag(&format!("cannot write {}", path.display()), e)
            })?;
        }
    }
    match sync(&syncable, &options, &sharing)? {
        Synced::Ran { forward, back } => Ok((*forward, back.map(|b| *b))),
        Synced::Partitions(shared) => Ok((
            shared.report.unwrap_or_else(|| RunReport {
                metrics: crate::store::sync::RunMetrics {
                    connector: loaded.file.connector.name.clone(),
                    noop: true,
                    ..Default::default()
                },
                ..Default::default()
            }),
            None,
        )),
        Synced::SlotHeld(_) | Synced::SlotDone => Err(Diag::new(
            codes::E610_INVALID_SETTING,
            "sluice serve does not run scheduled slots",
        )),
    }
}

impl Server {
    /// The options of a run of `file` over `input` under this server.
    fn options_for(
        &self,
        file: &crate::transform::connector_file::ConnectorFile,
        input: Option<String>,
    ) -> RunOptions {
        let name = &file.connector.name;
        RunOptions {
            input,
            output: None,
            store: self.config.store.clone(),
            dead_letter: Some(
                self.config
                    .dead_letter_dir()
                    .join(format!("{}.dead.ndjson", super::hooks::file_safe(name))),
            ),
            retry_dead_letters: false,
            from_start: false,
            batch: DEFAULT_BATCH,
            progress: false,
            now: Utc::now().fixed_offset(),
            tz: file.connector.zone_or(None),
            limits: self.config.limits,
            engine: self.config.engine,
            stop: Arc::clone(&self.stop),
            partition: None,
            keep_runs: self.config.keep_runs,
            follow: None,
            live: None,
        }
    }

    /// Whether SIGTERM or SIGINT asked the server to stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) != 0
    }
}
