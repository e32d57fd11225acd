//! `sluice run`: streams records through a compiled connector into NDJSON or the store,
//! with dead letters, checkpoints and metrics.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};

use super::connector::ConnectorFile;
use super::dead_letters::{read_dead_letters, DeadLetters, Failure};
use super::lookups::StoreLookups;
use super::source::{CsvSource, NdjsonSource, Raw, RecordSource, ValueSource};
use super::store::{Store, StoreError};
use super::sync_store::{Checkpoint, RunMetrics};
use super::transform::{Outcome, Transform};
use crate::diagnostics::{codes, Diag};
use crate::interp::Interpreter;
use crate::runtime::{Ctx, Lookups};
use crate::value::{write_json_string, Map, Value};

/// How records are committed to the store: this many per transaction.
pub const DEFAULT_BATCH: usize = 1000;
/// One record in this many has its transform latency measured.
const LATENCY_SAMPLE: u64 = 8;

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
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Counts and latencies.
    pub metrics: RunMetrics,
    /// Wall time.
    pub seconds: f64,
    /// The line the run resumed after, when it resumed from a checkpoint.
    pub resumed_after_line: Option<u64>,
    /// Where the dead letters went.
    pub dead_letter_path: PathBuf,
}

impl RunReport {
    /// The one-line summary printed on stderr.
    pub fn summary(&self) -> String {
        let m = &self.metrics;
        let rate = if self.seconds > 0.0 { m.read as f64 / self.seconds } else { 0.0 };
        let mut s = format!(
            "{}: read {}, written {}, filtered {}, failed {}",
            m.connector, m.read, m.written, m.filtered, m.failed
        );
        if m.queued > 0 {
            s.push_str(&format!(", queued for review {}", m.queued));
        }
        s.push_str(&format!(" in {:.3} s ({:.0} records/s)", self.seconds, rate));
        if m.dry_run {
            s.push_str(" [dry run: outbound side inactive, nothing written]");
        }
        if m.failed > 0 && !m.dry_run {
            s.push_str(&format!("; dead letters in {}", self.dead_letter_path.display()));
        }
        s
    }
}

enum Sink {
    Ndjson(BufWriter<Box<dyn Write>>),
    Store {
        store: Box<Store>,
        object: String,
        key: String,
        pending: Vec<Value>,
    },
    DryRun,
}

/// The default dead-letter file of a connector.
pub fn default_dead_letter_path(connector_name: &str) -> PathBuf {
    let safe: String = connector_name.chars().map(|c| if matches!(c, '/' | '\\') { '_' } else { c }).collect();
    PathBuf::from(format!("{safe}.dead.ndjson"))
}

fn store_diag(e: StoreError) -> Diag {
    e.to_diag()
}

fn io_diag(what: &str, e: std::io::Error) -> Diag {
    Diag::new(codes::E506_READ_FILE, format!("{what}: {e}"))
}

/// The records of a run.
pub type Records = Box<dyn RecordSource>;

/// Opens the input of a run (or of `sluice test`): a file (NDJSON, or CSV by extension),
/// stdin, or the inbound object in the store. `resume` positions a file input.
pub fn open_input(
    file: &ConnectorFile,
    transform: &Transform,
    input: Option<&str>,
    store_path: &Path,
    resume: Option<Checkpoint>,
) -> Result<(Records, Option<u64>), Diag> {
    let connector = &file.connector;
    let fields = transform.input_fields.clone();
    match input {
        Some("-") => Ok((Box::new(NdjsonSource::new(BufReader::new(std::io::stdin()), 0, 0, fields)), None)),
        Some(path) => {
            let mut f = File::open(path).map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
            let size = f.metadata().ok().map(|m| m.len());
            let is_csv = Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if is_csv {
                let skip = resume.map_or(0, |c| c.line);
                return Ok((Box::new(CsvSource::new(BufReader::new(f), connector.inbound_schema(), skip)), size));
            }
            let (offset, line) = resume.map_or((0, 0), |c| (c.byte_offset, c.line));
            f.seek(SeekFrom::Start(offset)).map_err(|e| io_diag(&format!("cannot seek in {path}"), e))?;
            Ok((
                Box::new(NdjsonSource::new(BufReader::with_capacity(256 * 1024, f), offset, line, fields)),
                size,
            ))
        }
        None if connector.inbound.system == "store" => {
            let object = connector.inbound.object.clone().ok_or_else(|| {
                Diag::new(codes::E603_CONNECTOR_MISSING, "a store inbound side needs `object`")
            })?;
            let store = Store::open_existing(store_path).map_err(store_diag)?;
            let records = store
                .dump(&object)
                .map_err(store_diag)?
                .into_iter()
                .enumerate()
                .map(|(i, o)| (i as u64 + 1, Ok(o.data.clone()), Raw::Value(o.data)))
                .collect();
            Ok((Box::new(ValueSource::new(records)), None))
        }
        None => Err(Diag::new(
            codes::E608_NO_INPUT,
            format!("no input: give --input FILE or - (inbound type is `{}`)", connector.inbound.system),
        )),
    }
}

/// Runs a connector over its input.
pub fn run(file: &ConnectorFile, transform: &Transform, opts: &RunOptions) -> Result<RunReport, Diag> {
    let connector = &file.connector;
    connector.resolve_credentials()?;
    let started = Instant::now();
    let started_at = Utc::now();
    let dead_path = opts.dead_letter.clone().unwrap_or_else(|| default_dead_letter_path(&connector.name));
    let dry_run = !connector.outbound.active;

    let mut sink = if dry_run {
        Sink::DryRun
    } else {
        match opts.output.as_deref() {
            Some("-") => Sink::Ndjson(BufWriter::with_capacity(256 * 1024, Box::new(std::io::stdout()))),
            Some(path) => {
                let f = File::create(path).map_err(|e| io_diag(&format!("cannot create {path}"), e))?;
                Sink::Ndjson(BufWriter::with_capacity(256 * 1024, Box::new(f)))
            }
            None => {
                let object = connector.outbound.object.clone().ok_or_else(|| {
                    Diag::new(codes::E603_CONNECTOR_MISSING, "a store-bound run needs `outbound.object`")
                })?;
                let key = connector.outbound.primary_key.clone().ok_or_else(|| {
                    Diag::new(codes::E603_CONNECTOR_MISSING, "a store-bound run needs `outbound.primary_key`")
                })?;
                Sink::Store {
                    store: Box::new(Store::open_or_create(&opts.store).map_err(store_diag)?),
                    object,
                    key,
                    pending: Vec::with_capacity(opts.batch),
                }
            }
        }
    };

    let checkpointed_input = match (&sink, opts.input.as_deref(), opts.retry_dead_letters) {
        (Sink::Store { .. }, Some(path), false) if path != "-" => Some(
            std::fs::canonicalize(path)
                .map_err(|e| io_diag(&format!("cannot open {path}"), e))?
                .display()
                .to_string(),
        ),
        _ => None,
    };
    let mut dead = DeadLetters::new(&dead_path);
    let mut resume = None;
    if let (Sink::Store { store, .. }, Some(input)) = (&sink, &checkpointed_input) {
        if opts.from_start {
            store.clear_checkpoint(&connector.name, input).map_err(store_diag)?;
        } else if let Some(cp) = store.checkpoint(&connector.name, input).map_err(store_diag)? {
            dead.truncate_to(cp.dead_letter_bytes).map_err(|e| io_diag("cannot truncate the dead letters", e))?;
            resume = Some(cp);
        }
    }

    let (records, total_bytes): (Records, Option<u64>) = if opts.retry_dead_letters {
        let letters = read_dead_letters(&dead_path).map_err(|e| io_diag(&format!("cannot read {}", dead_path.display()), e))?;
        let retry_path = dead_path.with_extension("retry.ndjson");
        let _ = std::fs::remove_file(&retry_path);
        dead = DeadLetters::new(&retry_path);
        (Box::new(ValueSource::new(letters)), None)
    } else {
        open_input(file, transform, opts.input.as_deref(), &opts.store, resume)?
    };

    let lookups = if opts.store.exists() {
        Store::open_existing(&opts.store).ok().map(StoreLookups::new)
    } else {
        None
    };

    let progress = if opts.progress {
        let bar = match total_bytes {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {per_sec} {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner(),
        };
        Some(bar)
    } else {
        None
    };

    let targets: Vec<String> = transform
        .mappings
        .iter()
        .map(|m| {
            let mut s = String::new();
            write_json_string(&m.target, &mut s);
            s.push(':');
            s
        })
        .collect();
    let mut interp = Interpreter::new();
    let mut metrics = RunMetrics {
        connector: connector.name.clone(),
        dry_run,
        ..RunMetrics::default()
    };
    let mut latencies: Vec<u32> = Vec::new();
    let mut line_buf = String::with_capacity(1024);
    let mut last = resume.unwrap_or_default();
    let write_dead = !dry_run;

    let mut records = records;
    while let Some(item) = records.next_record() {
        let rec = item.map_err(|e| io_diag("cannot read the input", e))?;
        metrics.read += 1;
        last.line = rec.line;
        if rec.end_offset > 0 {
            last.byte_offset = rec.end_offset;
        }
        let record = match rec.record {
            Ok(v) => v,
            Err(reason) => {
                metrics.failed += 1;
                if write_dead {
                    let message = format!("line {}: {reason}", rec.line);
                    let raw = rec.raw.clone().unwrap_or_else(|| records.last_raw());
                    dead.write(rec.line, &raw, &Failure { code: codes::E507_INPUT_LINE.id, message: &message, target: None, condition: None })
                        .map_err(|e| io_diag("cannot write the dead letters", e))?;
                }
                continue;
            }
        };
        let ctx = Ctx {
            record: &record,
            now: opts.now,
            tz: opts.tz,
            lookups: lookups.as_ref().map(|l| l as &dyn Lookups),
        };
        let timed = metrics.read % LATENCY_SAMPLE == 0;
        let t0 = timed.then(Instant::now);
        let outcome = transform.apply(&mut interp, &ctx);
        if let Some(t0) = t0 {
            latencies.push(u32::try_from(t0.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        match outcome {
            Outcome::Mapped(values) => match &mut sink {
                Sink::Ndjson(out) => {
                    line_buf.clear();
                    line_buf.push('{');
                    for (i, (t, v)) in targets.iter().zip(&values).enumerate() {
                        if i > 0 {
                            line_buf.push(',');
                        }
                        line_buf.push_str(t);
                        v.write_json(&mut line_buf);
                    }
                    line_buf.push_str("}\n");
                    out.write_all(line_buf.as_bytes()).map_err(|e| io_diag("cannot write the output", e))?;
                    metrics.written += 1;
                }
                Sink::Store { pending, key, .. } => {
                    let mut map = Map::with_capacity_and_hasher(values.len(), Default::default());
                    for (m, v) in transform.mappings.iter().zip(values) {
                        map.insert(m.target.clone(), v);
                    }
                    let mapped = Value::object(map);
                    if mapped.get_key(key).is_none_or(Value::is_null) {
                        metrics.failed += 1;
                        let message = format!("the mapped record has no value for the primary key `{key}`");
                        let raw = rec.raw.clone().unwrap_or_else(|| records.last_raw());
                        dead.write(rec.line, &raw, &Failure { code: codes::E607_PRIMARY_KEY.id, message: &message, target: Some(key), condition: None })
                            .map_err(|e| io_diag("cannot write the dead letters", e))?;
                    } else {
                        pending.push(mapped);
                    }
                }
                Sink::DryRun => {}
            },
            Outcome::Filtered(_) => metrics.filtered += 1,
            Outcome::Failed { target, condition, error } => {
                metrics.failed += 1;
                if write_dead {
                    let raw = rec.raw.clone().unwrap_or_else(|| records.last_raw());
                    dead.write(
                        rec.line,
                        &raw,
                        &Failure {
                            code: error.code.id,
                            message: &error.message,
                            target: target.as_deref(),
                            condition: condition.map(|c| c + 1),
                        },
                    )
                    .map_err(|e| io_diag("cannot write the dead letters", e))?;
                }
            }
        }
        if let Sink::Store { pending, .. } = &sink {
            if pending.len() >= opts.batch {
                commit(&mut sink, &mut dead, &mut metrics, connector, checkpointed_input.as_deref(), last, lookups.as_ref())?;
            }
        }
        if let Some(bar) = &progress {
            if metrics.read % 1024 == 0 {
                match total_bytes {
                    Some(_) => bar.set_position(last.byte_offset),
                    None => bar.set_position(metrics.read),
                }
            }
        }
    }
    commit(&mut sink, &mut dead, &mut metrics, connector, checkpointed_input.as_deref(), last, lookups.as_ref())?;
    if let Sink::Ndjson(out) = &mut sink {
        out.flush().map_err(|e| io_diag("cannot write the output", e))?;
    }
    dead.sync().map_err(|e| io_diag("cannot write the dead letters", e))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if opts.retry_dead_letters && !dry_run {
        let retry_path = dead.path().to_path_buf();
        if dead.count() > 0 {
            std::fs::rename(&retry_path, &dead_path).map_err(|e| io_diag("cannot replace the dead letters", e))?;
        } else {
            let _ = std::fs::remove_file(&dead_path);
        }
    }

    let seconds = started.elapsed().as_secs_f64();
    metrics.started_at = started_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    metrics.ended_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    metrics.error_rate = if metrics.read > 0 { metrics.failed as f64 / metrics.read as f64 } else { 0.0 };
    latencies.sort_unstable();
    let pct = |p: f64| -> Option<f64> {
        if latencies.is_empty() {
            return None;
        }
        let i = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies.get(i).map(|ns| f64::from(*ns) / 1000.0)
    };
    metrics.p50_us = pct(0.50);
    metrics.p95_us = pct(0.95);
    metrics.p99_us = pct(0.99);
    if !dry_run {
        let store = match sink {
            Sink::Store { store, .. } => Some(*store),
            _ => Store::open_or_create(&opts.store).ok(),
        };
        if let Some(store) = store {
            store.record_run(&metrics).map_err(store_diag)?;
        }
    }
    Ok(RunReport {
        metrics,
        seconds,
        resumed_after_line: resume.map(|c| c.line),
        dead_letter_path: dead_path,
    })
}

/// Commits the pending records with the checkpoint (store-bound runs).
fn commit(
    sink: &mut Sink,
    dead: &mut DeadLetters,
    metrics: &mut RunMetrics,
    connector: &super::connector::Connector,
    input: Option<&str>,
    position: Checkpoint,
    lookups: Option<&StoreLookups>,
) -> Result<(), Diag> {
    let Sink::Store { store, object, key, pending } = sink else {
        return Ok(());
    };
    let dead_letter_bytes = dead.sync().map_err(|e| io_diag("cannot write the dead letters", e))?;
    let checkpoint = input.map(|i| {
        (
            i,
            Checkpoint {
                dead_letter_bytes,
                ..position
            },
        )
    });
    let counts = store
        .apply_batch(&connector.name, object, key, connector.sync.conflict, pending, Utc::now(), checkpoint)
        .map_err(store_diag)?;
    metrics.written += counts.written;
    metrics.queued += counts.queued;
    pending.clear();
    if let Some(l) = lookups {
        l.clear_cache();
    }
    Ok(())
}
