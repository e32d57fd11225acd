//! `sluice run`: streams records through a compiled connector into NDJSON or the store,
//! with dead letters, checkpoints and metrics.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};

use super::connector::ConnectorFile;
use super::dead_letters::{read_dead_letters, DeadLetters, Failure};
use super::lookups::StoreLookups;
use super::source::{
    parse_line, raw_of_bad_line, raw_of_line, CsvSource, NdjsonSource, Raw, ReadError,
    RecordSource, ValueSource,
};
use super::store::{Store, StoreError};
use super::sync_store::{Checkpoint, RunMetrics};
use super::transform::{Outcome, Transform};
use crate::diagnostics::{codes, Diag};
use crate::interp::Interpreter;
use crate::jit::{Engine, JitTransform};
use crate::runtime::{Ctx, Lookups};
use crate::value::{Map, Value};

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
    /// Resource limits.
    pub limits: crate::limits::Limits,
    /// The engine (auto: the JIT for file inputs over 1 MiB and for stdin).
    pub engine: Engine,
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
        let rate = if self.seconds > 0.0 {
            m.read as f64 / self.seconds
        } else {
            0.0
        };
        let mut s = format!(
            "{}: read {}, written {}, filtered {}, failed {}",
            m.connector, m.read, m.written, m.filtered, m.failed
        );
        if m.queued > 0 {
            s.push_str(&format!(", queued for review {}", m.queued));
        }
        s.push_str(&format!(
            " in {:.3} s ({:.0} records/s)",
            self.seconds, rate
        ));
        if m.dry_run {
            s.push_str(" [dry run: outbound side inactive, nothing written]");
        }
        if m.failed > 0 && !m.dry_run {
            s.push_str(&format!(
                "; dead letters in {}",
                self.dead_letter_path.display()
            ));
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
    let safe: String = connector_name
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .collect();
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
    limits: &crate::limits::Limits,
) -> Result<(Records, Option<u64>), Diag> {
    let connector = &file.connector;
    let fields = transform.input_fields.clone();
    match input {
        Some("-") => {
            let source = NdjsonSource::new(BufReader::new(std::io::stdin()), 0, 0, fields)
                .with_slots(transform.slot_fields.clone())
                .with_limits(*limits);
            Ok((Box::new(source), None))
        }
        Some(path) => {
            let mut f = File::open(path).map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
            let size = f.metadata().ok().map(|m| m.len());
            let is_csv = Path::new(path)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if is_csv {
                let skip = resume.map_or(0, |c| c.line);
                return Ok((
                    Box::new(
                        CsvSource::new(BufReader::new(f), connector.inbound_schema(), skip)
                            .with_limits(*limits),
                    ),
                    size,
                ));
            }
            let (offset, line) = resume.map_or((0, 0), |c| (c.byte_offset, c.line));
            f.seek(SeekFrom::Start(offset))
                .map_err(|e| io_diag(&format!("cannot seek in {path}"), e))?;
            let source = NdjsonSource::new(
                BufReader::with_capacity(256 * 1024, f),
                offset,
                line,
                fields,
            )
            .with_slots(transform.slot_fields.clone())
            .with_limits(*limits);
            Ok((Box::new(source), size))
        }
        None if connector.inbound.system == "store" => {
            let object = connector.inbound.object.clone().ok_or_else(|| {
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store inbound side needs `object`",
                )
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
            format!(
                "no input: give --input FILE or - (inbound type is `{}`)",
                connector.inbound.system
            ),
        )),
    }
}

/// Why a mapped record cannot be upserted under its primary key `key`, if it cannot: the
/// key is missing or null, or it is an array or an object (a key must be one scalar).
pub fn key_problem(mapped: &Value, key: &str) -> Option<ReadError> {
    let message = match mapped.get_key(key) {
        None | Some(Value::Null) => {
            format!("the mapped record has no value for the primary key `{key}`")
        }
        Some(v @ (Value::Array(_) | Value::Object(_))) => format!(
            "the primary key `{key}` is {}; a key must be text, a number, a boolean or a date",
            crate::value::with_article(v.type_name())
        ),
        Some(_) => return None,
    };
    Some(ReadError::new(codes::E607_PRIMARY_KEY, message))
}

/// How mapped records leave a worker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SinkMode {
    Ndjson,
    Store,
    DryRun,
}

/// A dead letter waiting to be written in input order.
struct DeadEntry {
    line: u64,
    raw: Raw,
    code: &'static str,
    message: String,
    target: Option<String>,
    condition: Option<usize>,
}

/// What processing a stretch of consecutive records produced, in input order.
#[derive(Default)]
struct Chunk {
    ndjson: String,
    mapped: Vec<Value>,
    dead: Vec<DeadEntry>,
    read: u64,
    written: u64,
    filtered: u64,
    latencies: Vec<u32>,
    end: Option<(u64, u64)>,
}

/// Everything one thread needs to turn records into a [`Chunk`].
struct Worker<'t> {
    transform: &'t Transform,
    jit: Option<JitTransform<'t>>,
    targets: &'t [String],
    key: Option<&'t str>,
    mode: SinkMode,
    interp: Interpreter,
    lookups: Option<StoreLookups>,
    now: DateTime<FixedOffset>,
    tz: Tz,
    limits: crate::limits::Limits,
}

impl<'t> Worker<'t> {
    fn new(
        transform: &'t Transform,
        targets: &'t [String],
        key: Option<&'t str>,
        mode: SinkMode,
        opts: &RunOptions,
        jit: bool,
    ) -> Self {
        let lookups = if opts.store.exists() {
            Store::open_existing(&opts.store)
                .ok()
                .map(StoreLookups::new)
        } else {
            None
        };
        Worker {
            transform,
            jit: if jit {
                JitTransform::compile(transform).ok()
            } else {
                None
            },
            targets,
            key,
            mode,
            interp: Interpreter::new(),
            lookups,
            now: opts.now,
            tz: opts.tz,
            limits: opts.limits,
        }
    }

    /// Processes one input record into `chunk`. `raw` gives its raw form, on failure only.
    fn process(
        &mut self,
        chunk: &mut Chunk,
        line: u64,
        end_offset: u64,
        record: Result<&Value, ReadError>,
        slots: Option<&[Option<Value>]>,
        raw: impl FnOnce() -> Raw,
    ) {
        chunk.read += 1;
        chunk.end = Some((line, end_offset));
        let record = match record {
            Ok(r) => r,
            Err(reason) => {
                chunk.dead.push(DeadEntry {
                    line,
                    raw: raw(),
                    code: reason.code.id,
                    message: format!("line {line}: {}", reason.message),
                    target: None,
                    condition: None,
                });
                return;
            }
        };
        let ctx = Ctx {
            record,
            now: self.now,
            tz: self.tz,
            lookups: self.lookups.as_ref().map(|l| l as &dyn Lookups),
            slots,
            limits: self.limits,
        };
        let timed = chunk.read.is_multiple_of(LATENCY_SAMPLE);
        let t0 = timed.then(Instant::now);
        let outcome = match &self.jit {
            Some(jit) => jit.apply(&mut self.interp, &ctx),
            None => self.transform.apply(&mut self.interp, &ctx),
        };
        if let Some(t0) = t0 {
            chunk
                .latencies
                .push(u32::try_from(t0.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        match outcome {
            Outcome::Mapped(values) => match self.mode {
                SinkMode::Ndjson => {
                    Transform::write_line(self.targets, &values, &mut chunk.ndjson);
                    chunk.written += 1;
                }
                SinkMode::Store => {
                    let mut map = Map::with_capacity_and_hasher(values.len(), Default::default());
                    for (m, v) in self.transform.mappings.iter().zip(values) {
                        map.insert(m.target.clone(), v);
                    }
                    let mapped = Value::object(map);
                    let key = self.key.unwrap_or_default();
                    match key_problem(&mapped, key) {
                        Some(problem) => chunk.dead.push(DeadEntry {
                            line,
                            raw: raw(),
                            code: problem.code.id,
                            message: problem.message,
                            target: Some(key.to_string()),
                            condition: None,
                        }),
                        None => chunk.mapped.push(mapped),
                    }
                }
                SinkMode::DryRun => {}
            },
            Outcome::Filtered(_) => chunk.filtered += 1,
            Outcome::Failed {
                target,
                condition,
                error,
            } => chunk.dead.push(DeadEntry {
                line,
                raw: raw(),
                code: error.code.id,
                message: error.into_message(),
                target: target.map(|t| t.to_string()),
                condition: condition.map(|c| c + 1),
            }),
        }
    }

    /// Parses and processes the NDJSON lines of a raw chunk.
    fn process_lines(&mut self, raw: &RawChunk, slots: &mut Vec<Option<Value>>) -> Chunk {
        let mut chunk = Chunk::default();
        for (line_no, range, end_offset) in &raw.lines {
            let content = raw.bytes.get(range.clone()).unwrap_or(&[]);
            let parsed = parse_line(
                content,
                &self.limits,
                self.transform.input_fields.as_deref(),
                self.transform.slot_fields.as_deref(),
                slots,
            )
            .and_then(|record| match record {
                Some(mut v) => self
                    .transform
                    .conform_record(&mut v, self.tz)
                    .map(|()| Some(v)),
                None => self.transform.conform_slots(slots, self.tz).map(|()| None),
            });
            let null = Value::Null;
            let (record, slot_view) = match &parsed {
                Ok(Some(v)) => (Ok(v), None),
                Ok(None) => (Ok(&null), Some(slots.as_slice())),
                Err(e) => (Err(e.clone()), None),
            };
            let text_raw = || match &parsed {
                Ok(_) => raw_of_line(content),
                Err(_) => raw_of_bad_line(content),
            };
            self.process(
                &mut chunk,
                *line_no,
                *end_offset,
                record,
                slot_view,
                text_raw,
            );
        }
        chunk
    }
}

/// Consecutive NDJSON lines as read, before parsing.
struct RawChunk {
    seq: u64,
    bytes: Vec<u8>,
    lines: Vec<(u64, std::ops::Range<usize>, u64)>,
}

/// Lines per chunk handed to a worker.
const CHUNK_LINES: usize = 512;

/// The collector's side of a run: sinks, dead letters, counts, the checkpoint.
struct Collector<'r> {
    sink: Sink,
    dead: DeadLetters,
    metrics: RunMetrics,
    latencies: Vec<u32>,
    position: Checkpoint,
    connector: &'r super::connector::Connector,
    input: Option<String>,
    batch: usize,
    write_dead: bool,
}

impl Collector<'_> {
    /// Applies a chunk: output, dead letters, store batches.
    fn apply(&mut self, chunk: Chunk) -> Result<(), Diag> {
        self.metrics.read += chunk.read;
        self.metrics.filtered += chunk.filtered;
        self.latencies.extend(chunk.latencies);
        if let Some((line, offset)) = chunk.end {
            self.position.line = line;
            if offset > 0 {
                self.position.byte_offset = offset;
            }
        }
        self.metrics.failed += chunk.dead.len() as u64;
        if self.write_dead {
            for d in &chunk.dead {
                self.dead
                    .write(
                        d.line,
                        &d.raw,
                        &Failure {
                            code: d.code,
                            message: &d.message,
                            target: d.target.as_deref(),
                            condition: d.condition,
                        },
                    )
                    .map_err(|e| io_diag("cannot write the dead letters", e))?;
            }
        }
        match &mut self.sink {
            Sink::Ndjson(out) => {
                out.write_all(chunk.ndjson.as_bytes())
                    .map_err(|e| io_diag("cannot write the output", e))?;
                self.metrics.written += chunk.written;
            }
            Sink::Store { pending, .. } => {
                pending.extend(chunk.mapped);
                if pending.len() >= self.batch {
                    self.commit()?;
                }
            }
            Sink::DryRun => {}
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), Diag> {
        commit(
            &mut self.sink,
            &mut self.dead,
            &mut self.metrics,
            self.connector,
            self.input.as_deref(),
            self.position,
        )
    }
}

/// Runs a connector over its input.
pub fn run(
    file: &ConnectorFile,
    transform: &Transform,
    opts: &RunOptions,
) -> Result<RunReport, Diag> {
    let connector = &file.connector;
    connector.resolve_credentials()?;
    let started = Instant::now();
    let started_at = Utc::now();
    let dead_path = opts
        .dead_letter
        .clone()
        .unwrap_or_else(|| default_dead_letter_path(&connector.name));
    let dry_run = !connector.outbound.active;

    let sink = if dry_run {
        Sink::DryRun
    } else {
        match opts.output.as_deref() {
            Some("-") => Sink::Ndjson(BufWriter::with_capacity(
                256 * 1024,
                Box::new(std::io::stdout()),
            )),
            Some(path) => {
                let f =
                    File::create(path).map_err(|e| io_diag(&format!("cannot create {path}"), e))?;
                Sink::Ndjson(BufWriter::with_capacity(256 * 1024, Box::new(f)))
            }
            None => {
                let object = connector.outbound.object.clone().ok_or_else(|| {
                    Diag::new(
                        codes::E603_CONNECTOR_MISSING,
                        "a store-bound run needs `outbound.object`",
                    )
                })?;
                let key = connector.outbound.primary_key.clone().ok_or_else(|| {
                    Diag::new(
                        codes::E603_CONNECTOR_MISSING,
                        "a store-bound run needs `outbound.primary_key`",
                    )
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
    let (mode, key) = match &sink {
        Sink::Ndjson(_) => (SinkMode::Ndjson, None),
        Sink::Store { key, .. } => (SinkMode::Store, Some(key.clone())),
        Sink::DryRun => (SinkMode::DryRun, None),
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
            store
                .clear_checkpoint(&connector.name, input)
                .map_err(store_diag)?;
        } else if let Some(cp) = store
            .checkpoint(&connector.name, input)
            .map_err(store_diag)?
        {
            dead.truncate_to(cp.dead_letter_bytes)
                .map_err(|e| io_diag("cannot truncate the dead letters", e))?;
            resume = Some(cp);
        }
    }
    if opts.retry_dead_letters {
        let retry_path = dead_path.with_extension("retry.ndjson");
        let _ = std::fs::remove_file(&retry_path);
        dead = DeadLetters::new(&retry_path);
    }

    let targets = transform.target_prefixes();
    let mut collector = Collector {
        sink,
        dead,
        metrics: RunMetrics {
            connector: connector.name.clone(),
            dry_run,
            ..RunMetrics::default()
        },
        latencies: Vec::new(),
        position: resume.unwrap_or_default(),
        connector,
        input: checkpointed_input,
        batch: opts.batch,
        write_dead: !dry_run,
    };

    let ndjson_input = match opts.input.as_deref() {
        Some("-") => true,
        Some(path) => !Path::new(path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
        None => false,
    };
    if ndjson_input && !opts.retry_dead_letters {
        run_parallel(
            opts,
            transform,
            &targets,
            key.as_deref(),
            mode,
            resume,
            &mut collector,
        )?;
    } else {
        let records: Records = if opts.retry_dead_letters {
            let letters = read_dead_letters(&dead_path, &opts.limits)
                .map_err(|e| io_diag(&format!("cannot read {}", dead_path.display()), e))?;
            Box::new(ValueSource::new(letters))
        } else {
            open_input(
                file,
                transform,
                opts.input.as_deref(),
                &opts.store,
                resume,
                &opts.limits,
            )?
            .0
        };
        run_sequential(
            records,
            opts,
            transform,
            &targets,
            key.as_deref(),
            mode,
            &mut collector,
        )?;
    }

    collector.commit()?;
    let Collector {
        mut sink,
        mut dead,
        mut metrics,
        mut latencies,
        ..
    } = collector;
    if let Sink::Ndjson(out) = &mut sink {
        out.flush()
            .map_err(|e| io_diag("cannot write the output", e))?;
    }
    dead.sync()
        .map_err(|e| io_diag("cannot write the dead letters", e))?;
    if opts.retry_dead_letters && !dry_run {
        let retry_path = dead.path().to_path_buf();
        if dead.count() > 0 {
            std::fs::rename(&retry_path, &dead_path)
                .map_err(|e| io_diag("cannot replace the dead letters", e))?;
        } else {
            let _ = std::fs::remove_file(&dead_path);
        }
    }

    let seconds = started.elapsed().as_secs_f64();
    metrics.started_at = started_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    metrics.ended_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    metrics.error_rate = if metrics.read > 0 {
        metrics.failed as f64 / metrics.read as f64
    } else {
        0.0
    };
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

/// Input size from which `--engine auto` compiles the transform.
const AUTO_JIT_BYTES: u64 = 1024 * 1024;

/// Whether the run's workers use the JIT: always with `jit`, never with `interp`, and with
/// `auto` for stdin and for inputs over 1 MiB.
fn use_jit(opts: &RunOptions, input_bytes: Option<u64>) -> bool {
    match opts.engine {
        Engine::Jit => true,
        Engine::Interp => false,
        Engine::Auto => {
            opts.input.as_deref() == Some("-") || input_bytes.is_some_and(|n| n >= AUTO_JIT_BYTES)
        }
    }
}

fn progress_bar(opts: &RunOptions, total: Option<u64>) -> Option<ProgressBar> {
    if !opts.progress {
        return None;
    }
    Some(match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {wide_bar} {binary_bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    })
}

/// CSV, store and retried records: one worker on this thread.
fn run_sequential(
    mut records: Records,
    opts: &RunOptions,
    transform: &Transform,
    targets: &[String],
    key: Option<&str>,
    mode: SinkMode,
    collector: &mut Collector,
) -> Result<(), Diag> {
    let input_bytes = opts
        .input
        .as_deref()
        .filter(|i| *i != "-")
        .and_then(|i| std::fs::metadata(i).ok())
        .map(|m| m.len());
    let mut worker = Worker::new(
        transform,
        targets,
        key,
        mode,
        opts,
        use_jit(opts, input_bytes),
    );
    let progress = progress_bar(opts, None);
    let mut chunk = Chunk::default();
    while let Some(item) = records.next_record() {
        let mut rec = item.map_err(|e| io_diag("cannot read the input", e))?;
        let raw = rec.raw.clone();
        let slots = records.slots();
        if let Ok(v) = &mut rec.record {
            if let Err(e) = transform.conform_record(v, opts.tz) {
                rec.record = Err(e);
            }
        }
        let record = rec.record.as_ref().map_err(ReadError::clone);
        worker.process(&mut chunk, rec.line, rec.end_offset, record, slots, || {
            raw.unwrap_or_else(|| records.last_raw())
        });
        if chunk.read as usize >= CHUNK_LINES {
            collector.apply(std::mem::take(&mut chunk))?;
            if let Some(bar) = &progress {
                bar.set_position(collector.metrics.read);
            }
        }
    }
    collector.apply(chunk)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(())
}

/// NDJSON input: a reader thread cuts the input into chunks of lines, workers (one per
/// core) parse and transform them, and this thread applies the results in input order.
#[allow(clippy::too_many_arguments)]
fn run_parallel(
    opts: &RunOptions,
    transform: &Transform,
    targets: &[String],
    key: Option<&str>,
    mode: SinkMode,
    resume: Option<Checkpoint>,
    collector: &mut Collector,
) -> Result<(), Diag> {
    let input = opts.input.as_deref().unwrap_or("-");
    let (reader, total): (Box<dyn BufRead + Send>, Option<u64>) = if input == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let mut f = File::open(input).map_err(|e| io_diag(&format!("cannot open {input}"), e))?;
        let size = f.metadata().ok().map(|m| m.len());
        if let Some(cp) = resume {
            f.seek(SeekFrom::Start(cp.byte_offset))
                .map_err(|e| io_diag(&format!("cannot seek in {input}"), e))?;
        }
        (Box::new(BufReader::with_capacity(256 * 1024, f)), size)
    };
    let (first_line, first_offset) = resume.map_or((0, 0), |c| (c.line, c.byte_offset));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let progress = progress_bar(opts, total);

    std::thread::scope(|scope| -> Result<(), Diag> {
        let (raw_tx, raw_rx) = sync_channel::<std::io::Result<RawChunk>>(workers * 2);
        let raw_rx = Arc::new(Mutex::new(raw_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, std::io::Result<Chunk>)>(workers * 2);
        scope.spawn(move || read_chunks(reader, first_line, first_offset, &raw_tx));
        for _ in 0..workers {
            let raw_rx = Arc::clone(&raw_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut worker =
                    Worker::new(transform, targets, key, mode, opts, use_jit(opts, total));
                let mut slots = Vec::new();
                loop {
                    let next = match raw_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let message = match next {
                        Ok(Ok(raw)) => (raw.seq, Ok(worker.process_lines(&raw, &mut slots))),
                        Ok(Err(e)) => (u64::MAX, Err(e)),
                        Err(_) => return,
                    };
                    if done_tx.send(message).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut waiting: BTreeMap<u64, Chunk> = BTreeMap::new();
        let mut next_seq = 0;
        for (seq, result) in done_rx.iter() {
            let chunk = result.map_err(|e| io_diag("cannot read the input", e))?;
            waiting.insert(seq, chunk);
            while let Some(chunk) = waiting.remove(&next_seq) {
                collector.apply(chunk)?;
                next_seq += 1;
            }
            if let Some(bar) = &progress {
                bar.set_position(collector.position.byte_offset);
            }
        }
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        Ok(())
    })
}

/// The reader thread: cuts the input into chunks of whole lines.
fn read_chunks(
    mut reader: Box<dyn BufRead + Send>,
    mut line: u64,
    mut offset: u64,
    tx: &SyncSender<std::io::Result<RawChunk>>,
) {
    let mut seq = 0;
    loop {
        let mut chunk = RawChunk {
            seq,
            bytes: Vec::with_capacity(CHUNK_LINES * 600),
            lines: Vec::with_capacity(CHUNK_LINES),
        };
        while chunk.lines.len() < CHUNK_LINES {
            let start = chunk.bytes.len();
            match reader.read_until(b'\n', &mut chunk.bytes) {
                Ok(0) => break,
                Ok(n) => {
                    line += 1;
                    offset += n as u64;
                    let mut end = chunk.bytes.len();
                    while end > start && matches!(chunk.bytes.get(end - 1), Some(b'\n' | b'\r')) {
                        end -= 1;
                    }
                    let blank = chunk
                        .bytes
                        .get(start..end)
                        .is_none_or(|l| l.iter().all(u8::is_ascii_whitespace));
                    if !blank {
                        chunk.lines.push((line, start..end, offset));
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
            if chunk.bytes.len() == start {
                break;
            }
        }
        let done = chunk.lines.is_empty() && chunk.bytes.is_empty();
        if done || tx.send(Ok(chunk)).is_err() {
            return;
        }
        seq += 1;
    }
}

/// Commits the pending records with the checkpoint (store-bound runs).
fn commit(
    sink: &mut Sink,
    dead: &mut DeadLetters,
    metrics: &mut RunMetrics,
    connector: &super::connector::Connector,
    input: Option<&str>,
    position: Checkpoint,
) -> Result<(), Diag> {
    let Sink::Store {
        store,
        object,
        key,
        pending,
    } = sink
    else {
        return Ok(());
    };
    let dead_letter_bytes = dead
        .sync()
        .map_err(|e| io_diag("cannot write the dead letters", e))?;
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
        .apply_batch(
            &connector.name,
            object,
            key,
            connector.sync.conflict,
            pending,
            Utc::now(),
            checkpoint,
        )
        .map_err(store_diag)?;
    metrics.written += counts.written;
    metrics.queued += counts.queued;
    pending.clear();
    Ok(())
}
