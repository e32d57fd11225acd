//! `sluice run`: streams records from a [`Source`] through a compiled connector into a
//! [`Sink`], keeping dead letters, checkpoints and metrics in a [`StateStore`].
//!
//! [`Source`]: crate::seams::Source
//! [`Sink`]: crate::seams::Sink
//! [`StateStore`]: crate::seams::StateStore

mod chunks;
mod collector;
mod reading;
mod worker;

pub use worker::key_problem;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;

use crate::connections::dead_letters::write_file;
use crate::connections::kind::Opening;
use crate::connections::registry::{open_sink, open_source};
use crate::connections::resume::{fingerprint, verify_connector, RunLock};
use crate::diagnostics::{codes, Diag};
use crate::native::Engine;
use crate::seams::{ReadSettings, Reading, SinkMode, StateStore};
use crate::store::origins::{EchoFilter, Way, INBOUND, OUTBOUND};
pub use crate::store::sync::Partition;
use crate::store::sync::{Checkpoint, Lease, LetterBatch, RunMetrics};
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;
use collector::Collector;
use reading::{run_parallel, run_sequential, use_jit};
use worker::Plan;

/// How records are committed to the store: this many per transaction.
pub const DEFAULT_BATCH: usize = 1000;

/// What `sluice run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--input`: a file path, `-` for stdin, or none (the inbound store object).
    pub input: Option<String>,
    /// `--output`: a file path, `-` for stdout, or none (upsert into the store).
    pub output: Option<String>,
    /// The store file.
    pub store: PathBuf,
    /// The dead-letter file (default `<connector name>.dead.ndjson`).
    pub dead_letter: Option<PathBuf>,
    /// Replay the dead letters instead of reading the input.
    pub retry_dead_letters: bool,
    /// Ignore the checkpoint.
    pub from_start: bool,
    /// Records per store transaction.
    pub batch: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// `now()` for the whole run.
    pub now: DateTime<FixedOffset>,
    /// The default time zone.
    pub tz: Tz,
    /// Resource limits.
    pub limits: crate::limits::Limits,
    /// The engine (auto: the JIT for file inputs over 1 MiB and for stdin).
    pub engine: Engine,
    /// Set to a signal number (SIGTERM, SIGINT) to stop the run gracefully: the chunk in
    /// hand is finished and committed, the run is recorded as stopped.
    pub stop: Arc<AtomicUsize>,
    /// Only this partition of the input file, under its lease (a partitioned run; the
    /// lease takes the place of the connector's run lock).
    pub partition: Option<(Partition, Lease)>,
    /// The runs of a connector the store keeps; older ones are pruned as runs are recorded.
    pub keep_runs: u64,
    /// Follow a message stream: keep reading when it has nothing new, committing what
    /// arrived as it arrives, until this is set or `stop` is (`sluice serve`'s realtime run
    /// of a stream, `sluice run --follow`); `None`: read to the end.
    pub follow: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Where the run's progress is published as it goes (`sluice serve`'s page reads it).
    pub live: Option<Arc<crate::executor::progress::LiveProgress>>,
}

/// The runs of a connector the store keeps by default (`--keep-runs`).
pub const DEFAULT_KEEP_RUNS: u64 = 10_000;

/// The origin tracking of a run of one way of a bidirectional connector: the way in skips
/// records of the inbound system that match what the way back wrote; the way back skips
/// stored records that match what the way in wrote, and those with a conflict waiting for
/// review. `None` for a one-way connector.
fn echo_filter(
    connector: &crate::transform::connector::Connector,
    state: &dyn StateStore,
) -> Result<Option<EchoFilter>, Diag> {
    if let (Some(reverse), true) = (&connector.reverse, connector.is_bidirectional()) {
        return Ok(Some(EchoFilter {
            owner: Arc::from(connector.name.as_str()),
            way: Way::In,
            key_field: reverse.primary_key.clone(),
            baselines: state.baselines(&connector.name, INBOUND)?,
            held: Default::default(),
        }));
    }
    let Some(owner) = &connector.back_of else {
        return Ok(None);
    };
    let (Some(key), Some(object), Some(external_key)) = (
        &connector.inbound.primary_key,
        &connector.inbound.object,
        &connector.outbound.primary_key,
    ) else {
        return Ok(None);
    };
    Ok(Some(EchoFilter {
        owner: Arc::from(owner.as_str()),
        way: Way::Back {
            external_key: external_key.clone(),
        },
        key_field: key.clone(),
        baselines: state.baselines(owner, OUTBOUND)?,
        held: state.pending_review_keys(owner, object)?,
    }))
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Counts and latencies.
    pub metrics: RunMetrics,
    /// Wall time.
    pub seconds: f64,
    /// The line the run resumed after, when it resumed from a checkpoint.
    pub resumed_after_line: Option<u64>,
    /// Where the dead letters went.
    pub dead_letter_path: PathBuf,
    /// The signal that stopped the run before the end of its input, if one did.
    pub stopped_by: Option<usize>,
    /// The line that was not read because it is not complete yet (no line break at the
    /// end of a file and not valid JSON): a growing file's last line.
    pub incomplete_line: Option<u64>,
    /// The line of the checkpoint the run ended with, when it keeps one.
    pub checkpoint_line: Option<u64>,
}

impl RunReport {
    /// This report and a later one of the same worker as one (a partitioned run's
    /// partitions): counts and wall time added, the error rate of the sum, the slower
    /// latencies, how the later one ended.
    pub fn merge(self, later: RunReport) -> RunReport {
        let mut counts = self.metrics.counts;
        counts.add(&later.metrics.counts);
        let slower = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        RunReport {
            metrics: RunMetrics {
                started_at: self.metrics.started_at,
                error_rate: match counts.read {
                    0 => 0.0,
                    read => counts.failed as f64 / read as f64,
                },
                p50_us: slower(self.metrics.p50_us, later.metrics.p50_us),
                p95_us: slower(self.metrics.p95_us, later.metrics.p95_us),
                p99_us: slower(self.metrics.p99_us, later.metrics.p99_us),
                segments: self.metrics.segments + later.metrics.segments,
                noop: self.metrics.noop && later.metrics.noop,
                counts,
                ..later.metrics
            },
            seconds: self.seconds + later.seconds,
            resumed_after_line: self.resumed_after_line.or(later.resumed_after_line),
            ..later
        }
    }

    /// The one-line summary printed on stderr.
    pub fn summary(&self) -> String {
        let m = &self.metrics;
        let c = &m.counts;
        let rate = if self.seconds > 0.0 {
            c.read as f64 / self.seconds
        } else {
            0.0
        };
        let mut s = format!(
            "{}: read {}, written {}, filtered {}, failed {}",
            m.connector, c.read, c.written, c.filtered, c.failed
        );
        if c.queued > 0 {
            s.push_str(&format!(", queued for review {}", c.queued));
        }
        if c.unchanged > 0 {
            s.push_str(&format!(", unchanged {}", c.unchanged));
        }
        if c.lost > 0 {
            s.push_str(&format!(
                ", lost a conflict {} (`sluice review list --lost` shows them)",
                c.lost
            ));
        }
        if m.segments > 1 {
            s.push_str(&format!(" (over {} segments)", m.segments));
        }
        s.push_str(&format!(
            " in {:.3} s ({:.0} records/s)",
            self.seconds, rate
        ));
        if m.dry_run {
            s.push_str(&format!(
                " [dry run: outbound side inactive, {} mapped, nothing written]",
                c.not_written
            ));
        }
        if c.failed > 0 && !m.dry_run {
            s.push_str(&format!(
                "; dead letters in {}",
                self.dead_letter_path.display()
            ));
        }
        s
    }
}

/// The default dead-letter file of a connector.
pub fn default_dead_letter_path(connector_name: &str) -> PathBuf {
    let safe: String = connector_name
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .collect();
    PathBuf::from(format!("{safe}.dead.ndjson"))
}

/// Runs a connector over its input.
pub fn run(
    file: &ConnectorFile,
    compiled: &Arc<Transform>,
    opts: &RunOptions,
) -> Result<RunReport, Diag> {
    let transform: &Transform = compiled;
    let connector = &file.connector;
    connector.check_credentials()?;
    let started = Instant::now();
    let started_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let dead_path = opts
        .dead_letter
        .clone()
        .unwrap_or_else(|| default_dead_letter_path(&connector.name));
    let dry_run = !connector.outbound.active;
    let retry = opts.retry_dead_letters.then_some(dead_path.as_path());
    let opening = Opening {
        connector,
        input: opts.input.as_deref(),
        output: opts.output.as_deref(),
        store: &opts.store,
        retry,
        part: opts
            .partition
            .as_ref()
            .map(|(p, _)| (p.part, (p.start, p.end))),
        stop: &opts.stop,
    };
    let mut source = open_source(&opening)?;
    // A partition's worker, and a worker of an input its source shares among workers (a
    // broker's consumer), run beside the others: no run lock.
    let lock = match dry_run || opts.partition.is_some() || source.shares_run() {
        true => None,
        false => Some(RunLock::acquire(
            &opts.store,
            &connector.name,
            std::time::Duration::from_millis(crate::store::BUSY_TIMEOUT_MS),
        )?),
    };
    let sink = open_sink(&opening)?;
    let mut state = crate::seams::open_state(&opts.store, dry_run)?;
    let letter_input = source.key().to_string();
    let checkpointed = (matches!(sink.mode(), SinkMode::Values | SinkMode::Remote)
        && source.resumable()
        && retry.is_none())
    .then(|| letter_input.clone());

    let fresh = Checkpoint {
        fingerprint: fingerprint(connector),
        run_started: started_at.clone(),
        segments: 1,
        byte_offset: opts.partition.as_ref().map_or(0, |(p, _)| p.start),
        line: opts
            .partition
            .as_ref()
            .map_or(0, |(p, _)| p.first_line.saturating_sub(1)),
        lease: opts.partition.as_ref().map(|(_, lease)| lease.clone()),
        fence: lock.as_ref().and_then(RunLock::fence),
        ..Checkpoint::default()
    };
    let mut position = fresh.clone();
    let mut resumed_from = None;
    if let (Some(state), false) = (state.as_deref_mut(), dry_run || retry.is_some()) {
        match &checkpointed {
            Some(input) => {
                let existing = if opts.from_start {
                    state.clear_checkpoint(&connector.name, input)?;
                    None
                } else {
                    state.checkpoint(&connector.name, input)?
                };
                if let Some(cp) = existing {
                    source.verify(&cp)?;
                    verify_connector(&cp, opts.input.as_deref().unwrap_or_default(), connector)?;
                    position = Checkpoint {
                        byte_offset: cp.byte_offset,
                        line: cp.line,
                        cursor: cp.cursor.clone(),
                        ..fresh.clone()
                    };
                    if !cp.complete {
                        position.run_started = cp.run_started.clone();
                        position.segments = cp.segments + 1;
                        position.counts = cp.counts;
                    }
                    resumed_from = Some(cp);
                }
                state.clear_letters_after(&connector.name, input, position.line)?;
            }
            None => state.clear_letters_after(&connector.name, &letter_input, 0)?,
        }
    }
    let resume = resumed_from.as_ref().map(|_| position.clone());

    let targets = transform.target_prefixes();
    let size = source.size();
    let key = sink.key().map(str::to_string);
    let jit = match use_jit(opts, size) {
        true => Some(
            crate::native::compile(Arc::clone(compiled))
                .map_err(|e| Diag::new(codes::E312_JIT, e.to_string()))?,
        )
        .filter(|n| opts.engine == Engine::Jit || crate::native::compiles_anything(n)),
        false => None,
    };
    let echo = match state.as_deref() {
        Some(state) if !dry_run => echo_filter(connector, state)?,
        _ => None,
    };
    let plan = Plan {
        echo: echo.as_ref(),
        transform,
        targets: &targets,
        key: key.as_deref(),
        mode: sink.mode(),
        now: opts.now,
        tz: opts.tz,
        limits: opts.limits,
        jit: jit.as_ref(),
    };
    let reading = source.open(
        resume.as_ref(),
        &ReadSettings {
            transform,
            limits: opts.limits,
            schema: connector.inbound_schema(),
            commit_every: opts.batch as u64,
            follow: opts.follow.as_ref().map(|until| crate::seams::Follow {
                until: Arc::clone(until),
                stop: Arc::clone(&opts.stop),
            }),
        },
    )?;
    let workers = match &reading {
        Reading::Lines { .. } => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8),
        Reading::Records(_) => 1,
    };
    // a store connection per worker, for the formulas' lookups: none when no formula looks up
    let looks_up = transform.reads_store();
    let lookups: Vec<_> = (0..workers)
        .map(|_| match looks_up {
            true => state.as_deref().and_then(|s| s.lookups()),
            false => None,
        })
        .collect();
    let tracked_by = echo
        .as_ref()
        .filter(|e| e.way == Way::In)
        .map(|e| e.owner.clone());
    let mut collector = Collector {
        sink,
        state: if dry_run { None } else { state },
        source: source.as_ref(),
        letters: LetterBatch {
            tracked_by,
            ..LetterBatch::default()
        },
        counts: position.counts,
        latencies: Vec::new(),
        position,
        connector,
        checkpointed,
        letter_input: Arc::from(letter_input.as_str()),
        batch: opts.batch,
        tz: opts.tz,
        live: opts.live.clone(),
    };
    let before = collector.counts;
    let grows = source.grows();
    match reading {
        Reading::Lines { reader, hold_tail } => {
            let first = resume
                .as_ref()
                .map_or((fresh.line, fresh.byte_offset), |c| (c.line, c.byte_offset));
            run_parallel(
                reader,
                (hold_tail, first),
                plan,
                lookups,
                (opts, size),
                &mut collector,
            )?
        }
        Reading::Records(records) => run_sequential(
            records,
            plan,
            lookups.into_iter().next().flatten(),
            opts,
            &mut collector,
        )?,
    }
    collector.commit()?;
    let stopped_by = match opts.stop.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    };
    let Collector {
        mut state,
        counts,
        mut latencies,
        mut position,
        checkpointed,
        ..
    } = collector;
    let incomplete_line = match source.size() {
        Some(size) if grows && stopped_by.is_none() && size > position.byte_offset => {
            Some(position.line + 1)
        }
        _ => None,
    };
    let segment_read = counts.read - before.read;
    // A run that read nothing and resumed nothing unfinished found nothing new: it is not
    // a run of its own (it replaces the last idle record and leaves the counts alone).
    let noop = segment_read == 0 && resumed_from.as_ref().is_none_or(|c| c.complete);
    latencies.sort_unstable();
    let pct = |p: f64| -> Option<f64> {
        if latencies.is_empty() {
            return None;
        }
        let i = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies.get(i).map(|ns| f64::from(*ns) / 1000.0)
    };
    let metrics = RunMetrics {
        connector: connector.name.clone(),
        started_at: position.run_started.clone(),
        ended_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        counts,
        error_rate: if counts.read > 0 {
            counts.failed as f64 / counts.read as f64
        } else {
            0.0
        },
        p50_us: pct(0.50),
        p95_us: pct(0.95),
        p99_us: pct(0.99),
        dry_run,
        segments: position.segments,
        noop,
        stopped: stopped_by.is_some(),
    };
    if !counts.balanced() {
        return Err(Diag::new(
            codes::E705_STORE_FAILED,
            format!("internal error: the counts of the run do not add up: {counts:?}"),
        ));
    }
    if let Some(state) = state.as_deref_mut() {
        // The run's record is committed with its last checkpoint: a kill between the two
        // can no longer leave a finished run without its record.
        position.complete = stopped_by.is_none();
        position.counts = counts;
        let last = checkpointed.as_deref().map(|input| (input, &position));
        state.finish_run(&connector.name, last, &metrics, opts.keep_runs, Utc::now())?;
        // The dead-letter file is written again only when the letters may have changed.
        let letters_changed = counts.failed > before.failed
            || opts.retry_dead_letters
            || opts.from_start
            || !dead_path.exists();
        if letters_changed {
            let letters = state.dead_letters(&connector.name)?;
            write_file(&dead_path, &letters)
                .map_err(|e| crate::io_diag(&format!("cannot write {}", dead_path.display()), e))?;
        }
    }
    Ok(RunReport {
        metrics,
        seconds: started.elapsed().as_secs_f64(),
        resumed_after_line: resume.map(|c| c.line),
        dead_letter_path: dead_path,
        stopped_by,
        incomplete_line,
        checkpoint_line: checkpointed.map(|_| position.line),
    })
}
