//! What `sluice serve` knows: the connectors it serves (each as last loaded), their runs,
//! and the totals `/metrics` reports. One lock guards it all; every holder keeps it briefly.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::schedule::Schedule;
use crate::executor::progress::LiveProgress;
use crate::store::sync::Counts;
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;

/// A connector file as compiled: both ways of a bidirectional one, and its schedule.
#[derive(Clone)]
pub struct Loaded {
    /// The connector.
    pub file: Arc<ConnectorFile>,
    /// Its compiled transform.
    pub transform: Arc<Transform>,
    /// The way back of a bidirectional connector.
    pub reverse: Option<(Arc<ConnectorFile>, Arc<Transform>)>,
    /// When it runs.
    pub schedule: Schedule,
}

impl Loaded {
    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.file.connector.name
    }

    /// Whether a run needs no records brought to it: its inbound side has a file, a
    /// connection or the store to read.
    pub fn reads_without_input(&self) -> bool {
        self.file.inbound_path().is_some()
            || crate::connections::registry::reads_alone(&self.file.connector.inbound)
    }

    /// Whether its scheduled runs follow a message stream instead of polling: a one-way
    /// realtime connector whose inbound side is a stream. Such a run stays up, storing each
    /// message as it arrives, until the server stops or the connector is reloaded.
    pub fn follows(&self) -> bool {
        matches!(self.schedule, Schedule::Realtime(_))
            && self.reverse.is_none()
            && self.file.inbound_path().is_none()
            && self.file.connector.inbound.stream.is_some()
    }

    /// How its schedule reads in the log and in `GET /connectors`.
    pub fn describe_schedule(&self) -> String {
        match self.follows() {
            true => "realtime (follows its stream)".into(),
            false => self.schedule.describe(),
        }
    }

    /// Whether it runs at all: its inbound side is active.
    pub fn active(&self) -> bool {
        self.file.connector.inbound.active
    }
}

/// A file's identity for the reload check: its modification time and length.
pub type Stamp = (Option<SystemTime>, u64);

/// The stamp of the file at `path` (`None` when it is gone).
pub fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

/// One served connector.
pub struct Entry {
    /// Its file.
    pub path: PathBuf,
    /// The connector set it belongs to: the name of the directory of its file.
    pub set: String,
    /// The file's stamp when it was last read.
    pub stamp: Stamp,
    /// The version that runs.
    pub loaded: Loaded,
    /// Why the file as it is now does not load (the previous version keeps running).
    pub reload_error: Option<String>,
    /// The run in progress.
    pub running: Option<u64>,
    /// Set to end the run in progress when it follows a stream (on a reload or removal).
    pub following: Option<Arc<AtomicBool>>,
    /// Runs waiting for the one in progress (manual triggers, webhooks).
    pub queue: VecDeque<u64>,
    /// When the schedule runs it next.
    pub next_run: Option<DateTime<Utc>>,
    /// When its last run started (from the store at start-up).
    pub last_started: Option<DateTime<Utc>>,
    /// Its last finished run.
    pub last_run: Option<u64>,
    /// Its last finished run that read records (its latencies are the ones to show).
    pub last_reading_run: Option<u64>,
    /// When its last successful run ended.
    pub last_success: Option<DateTime<Utc>>,
    /// Failed runs in a row (reset by a success).
    pub failures: u32,
    /// The webhook records a failed run was over, for its retry.
    pub retry_input: Option<PathBuf>,
    /// Why its runs keep failing (the last failure), while they do.
    pub failing: Option<String>,
    /// When a realtime connector last looked at its source and found nothing new (such a
    /// look is not a run: it leaves `last_run` as it was).
    pub last_checked: Option<DateTime<Utc>>,
    /// Everything its runs did since the server started.
    pub totals: Totals,
}

/// Counters of one connector since the server started.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Records read, written, filtered and failed (both ways of a bidirectional one).
    #[serde(flatten)]
    pub counts: Counts,
    /// Runs that completed.
    pub runs_succeeded: u64,
    /// Runs that failed.
    pub runs_failed: u64,
    /// Runs stopped by a signal before their end.
    pub runs_stopped: u64,
    /// Runs not made because another process was running the connector.
    pub runs_skipped: u64,
    /// Seconds spent in runs.
    pub run_seconds: f64,
}

impl Totals {
    /// Adds a run's counts.
    pub fn add(&mut self, c: &Counts) {
        self.counts.add(c);
    }
}

/// Why a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Its schedule was due (or owed from before a restart).
    Schedule,
    /// `POST /connectors/<name>/run`.
    Manual,
    /// `POST /hooks/<name>`.
    Webhook,
    /// A failed run, tried again after a backoff.
    Retry,
    /// `POST /connectors/<name>/retry`: the connector's dead letters tried again.
    DeadLetters,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the connector's run in progress.
    Queued,
    /// Running.
    Running,
    /// Read its input to the end.
    Succeeded,
    /// Ended with an error (retried with backoff).
    Failed,
    /// Stopped by SIGTERM; the next start resumes it from its checkpoint.
    Stopped,
    /// Not run: another process (a `sluice run`, another server) was running the connector.
    Skipped,
}

/// One run of a connector (both ways, for a bidirectional one).
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Its id (`GET /runs/<id>`), unique while the server runs.
    pub id: u64,
    /// The connector's name.
    pub connector: String,
    /// Why it ran.
    pub trigger: Trigger,
    /// Where it is.
    pub status: Status,
    /// When it was asked for.
    pub queued_at: DateTime<Utc>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// The records a webhook brought (a spool file), when it runs over them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<PathBuf>,
    /// What it did (the way in).
    #[serde(flatten)]
    pub counts: Counts,
    /// What the way back of a bidirectional connector did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse: Option<Counts>,
    /// failed / read.
    pub error_rate: f64,
    /// Transform latency percentiles, µs.
    pub p50_us: Option<f64>,
    /// 95th percentile, µs.
    pub p95_us: Option<f64>,
    /// 99th percentile, µs.
    pub p99_us: Option<f64>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where it stands while it runs: the run publishes its counts, input position and
    /// last commit here as it goes.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "progress_now"
    )]
    pub progress: Option<Arc<LiveProgress>>,
}

/// A running run's progress as it is now.
fn progress_now<S: serde::Serializer>(
    live: &Option<Arc<LiveProgress>>,
    to: S,
) -> Result<S::Ok, S::Error> {
    live.as_ref().map(|live| live.now()).serialize(to)
}

/// How many finished runs the server remembers (`GET /runs/<id>`).
pub const RUNS_KEPT: usize = 10_000;

/// The served connectors and their runs.
#[derive(Default)]
pub struct Registry {
    /// The connectors, by file.
    pub connectors: BTreeMap<PathBuf, Entry>,
    /// Files that do not load and have no earlier version: file → its stamp and problems.
    pub broken: BTreeMap<PathBuf, (Stamp, String)>,
    /// Runs by id.
    pub runs: BTreeMap<u64, RunInfo>,
    next_id: u64,
}

impl Registry {
    /// The entry of the connector named `name`.
    pub fn named(&self, name: &str) -> Option<&Entry> {
        self.connectors.values().find(|e| e.loaded.name() == name)
    }

    /// Whether `GET /runs` lists `run`: every run but a realtime connector's scheduled look
    /// that is still going and has read nothing yet. Such a look may end idle, and an idle
    /// look is not a run (the runner drops it when it ends); it is listed once it reads.
    pub fn listed(&self, run: &RunInfo) -> bool {
        let looking = matches!(run.status, Status::Queued | Status::Running)
            && run.trigger == Trigger::Schedule
            && run.progress.as_ref().is_none_or(|p| p.now().read == 0)
            && self
                .named(&run.connector)
                .is_some_and(|e| matches!(e.loaded.schedule, Schedule::Realtime(_)));
        !looking
    }

    /// The entry of the connector named `name`, to change it.
    pub fn by_name(&mut self, name: &str) -> Option<&mut Entry> {
        self.connectors
            .values_mut()
            .find(|e| e.loaded.name() == name)
    }

    /// A new queued run of `connector`.
    pub fn new_run(&mut self, connector: &str, trigger: Trigger, input: Option<PathBuf>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.runs.insert(
            id,
            RunInfo {
                id,
                connector: connector.to_string(),
                trigger,
                status: Status::Queued,
                queued_at: Utc::now(),
                started_at: None,
                ended_at: None,
                input,
                counts: Counts::default(),
                reverse: None,
                error_rate: 0.0,
                p50_us: None,
                p95_us: None,
                p99_us: None,
                seconds: 0.0,
                error: None,
                progress: None,
            },
        );
        // The oldest finished runs are forgotten; a queued or running one never is (its
        // input, a webhook's records, would be lost with it).
        let excess = self.runs.len().saturating_sub(RUNS_KEPT);
        let forget: Vec<u64> = self
            .runs
            .values()
            .filter(|r| !matches!(r.status, Status::Queued | Status::Running))
            .take(excess)
            .map(|r| r.id)
            .collect();
        for old in forget {
            self.runs.remove(&old);
        }
        id
    }

    /// Whether any run is in progress.
    pub fn any_running(&self) -> bool {
        self.connectors.values().any(|e| e.running.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_run_is_never_forgotten_to_make_room() {
        let mut registry = Registry::default();
        let waiting = registry.new_run(
            "hooked",
            Trigger::Webhook,
            Some(PathBuf::from("spool.ndjson")),
        );
        for _ in 0..RUNS_KEPT + 50 {
            let id = registry.new_run("busy", Trigger::Schedule, None);
            if let Some(run) = registry.runs.get_mut(&id) {
                run.status = Status::Succeeded;
            }
        }
        assert!(
            registry.runs.contains_key(&waiting),
            "the queued run was evicted"
        );
        assert!(registry.runs.len() <= RUNS_KEPT + 1);
    }
}
