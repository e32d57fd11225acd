//! `sluice run`: streams records through a compiled connector into NDJSON or the store,
//! with dead letters, checkpoints and metrics.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};

use super::connector::ConnectorFile;
use super::dead_letters::{letter_line, read_dead_letters, write_file, Failure};
use super::lookups::StoreLookups;
use super::resume::{fingerprint, head_hash, verify, RunLock};
use super::source::{
    parse_line, raw_of_bad_line, raw_of_line, CsvSource, NdjsonSource, Raw, ReadError,
    RecordSource, ValueSource,
};
use super::store::{Store, StoreError};
use super::sync_store::{Checkpoint, Counts, LetterBatch, RunMetrics};
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
    /// Set to a signal number (SIGTERM, SIGINT) to stop the run gracefully: the chunk in
    /// hand is finished and committed, the run is recorded as stopped.
    pub stop: Arc<AtomicUsize>,
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
    /// The signal that stopped the run before the end of its input, if one did.
    pub stopped_by: Option<usize>,
    /// The line that was not read because it is not complete yet (no line break at the
    /// end of a file and not valid JSON): a growing file's last line.
    pub incomplete_line: Option<u64>,
    /// The line of the checkpoint the run ended with, when it keeps one.
    pub checkpoint_line: Option<u64>,
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
        if m.kept > 0 {
            s.push_str(&format!(", kept by the conflict rule {}", m.kept));
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
                m.read - m.filtered - m.failed
            ));
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
                .map(|(i, o)| (None, i as u64 + 1, Ok(o.data.clone()), Raw::Value(o.data)))
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
    origin: Option<Arc<str>>,
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
    retried: Vec<(Arc<str>, u64)>,
    not_written: u64,
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
    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        chunk: &mut Chunk,
        (line, end_offset): (u64, u64),
        origin: Option<&Arc<str>>,
        record: Result<&Value, ReadError>,
        slots: Option<&[Option<Value>]>,
        raw: impl FnOnce() -> Raw,
    ) {
        chunk.read += 1;
        chunk.end = Some((line, end_offset));
        if let Some(origin) = origin {
            chunk.retried.push((origin.clone(), line));
        }
        let record = match record {
            Ok(r) => r,
            Err(reason) => {
                chunk.dead.push(DeadEntry {
                    line,
                    origin: origin.cloned(),
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
                            origin: origin.cloned(),
                            raw: raw(),
                            code: problem.code.id,
                            message: problem.message,
                            target: Some(key.to_string()),
                            condition: None,
                        }),
                        None => chunk.mapped.push(mapped),
                    }
                }
                SinkMode::DryRun => chunk.not_written += 1,
            },
            Outcome::Filtered(_) => chunk.filtered += 1,
            Outcome::Failed {
                target,
                condition,
                error,
            } => chunk.dead.push(DeadEntry {
                line,
                origin: origin.cloned(),
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
                (*line_no, *end_offset),
                None,
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
/// How often threads waiting for work look at the stop signal.
const POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// The collector's side of a run: the sink, the store (dead letters, checkpoints,
/// metrics), counts and the position.
struct Collector<'r> {
    sink: Sink,
    store: Option<Store>,
    letters: LetterBatch,
    counts: Counts,
    latencies: Vec<u32>,
    position: Checkpoint,
    connector: &'r super::connector::Connector,
    /// The checkpoint key (a store-bound run over a file).
    checkpointed: Option<String>,
    /// The input file, for the hash of the bytes before each checkpoint.
    input_file: Option<File>,
    /// The key of this run's own dead letters: the input's canonical path, `-`, or
    /// `store:<object>`.
    letter_input: Arc<str>,
    batch: usize,
    tz: Tz,
}

impl Collector<'_> {
    /// Applies a chunk: output, dead letters, store batches.
    fn apply(&mut self, chunk: Chunk) -> Result<(), Diag> {
        self.counts.read += chunk.read;
        self.counts.filtered += chunk.filtered;
        self.counts.failed += chunk.dead.len() as u64;
        self.counts.not_written += chunk.not_written;
        self.latencies.extend(chunk.latencies);
        if let Some((line, offset)) = chunk.end {
            self.position.line = line;
            if offset > 0 {
                self.position.byte_offset = offset;
            }
        }
        if self.store.is_some() {
            self.letters.remove.extend(chunk.retried);
            for d in &chunk.dead {
                let input = d
                    .origin
                    .clone()
                    .unwrap_or_else(|| self.letter_input.clone());
                let letter = letter_line(
                    d.line,
                    &input,
                    &d.raw,
                    &Failure {
                        code: d.code,
                        message: &d.message,
                        target: d.target.as_deref(),
                        condition: d.condition,
                    },
                );
                self.letters.add.push((input, d.line, letter));
            }
        }
        match &mut self.sink {
            Sink::Ndjson(out) => {
                out.write_all(chunk.ndjson.as_bytes())
                    .map_err(|e| io_diag("cannot write the output", e))?;
                self.counts.written += chunk.written;
                if self.letters.add.len() >= self.batch {
                    self.commit()?;
                }
            }
            Sink::Store { pending, .. } => {
                pending.extend(chunk.mapped);
                if pending.len() >= self.batch || self.letters.add.len() >= self.batch {
                    self.commit()?;
                }
            }
            Sink::DryRun => {}
        }
        Ok(())
    }

    /// Commits what is pending: records, dead letters and the checkpoint in one store
    /// transaction; for NDJSON output the output is flushed first, then the letters.
    fn commit(&mut self) -> Result<(), Diag> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        match &mut self.sink {
            Sink::Store {
                object,
                key,
                pending,
            } => {
                let checkpoint = match (&self.checkpointed, &self.input_file) {
                    (Some(input), Some(file)) => {
                        self.position.input_size = file.metadata().map_or(0, |m| m.len());
                        self.position.head_hash = head_hash(file, self.position.byte_offset)
                            .map_err(|e| io_diag("cannot read the input", e))?;
                        self.position.counts = self.counts;
                        Some((input.as_str(), &self.position))
                    }
                    _ => None,
                };
                let batch = store
                    .apply_batch(
                        &self.connector.name,
                        (object, key, self.connector.sync.conflict),
                        pending,
                        &self.letters,
                        Utc::now(),
                        self.tz,
                        checkpoint,
                    )
                    .map_err(store_diag)?;
                self.counts.written += batch.written;
                self.counts.queued += batch.queued;
                self.counts.kept += batch.kept;
                pending.clear();
            }
            Sink::Ndjson(out) => {
                out.flush()
                    .map_err(|e| io_diag("cannot write the output", e))?;
                store
                    .commit_letters(&self.connector.name, &self.letters)
                    .map_err(store_diag)?;
            }
            Sink::DryRun => {}
        }
        self.letters = LetterBatch::default();
        Ok(())
    }
}

/// Where the run's records go, opened; and the store that keeps its dead letters,
/// checkpoints and metrics (none for a dry run).
fn open_sink(
    connector: &super::connector::Connector,
    opts: &RunOptions,
) -> Result<(Sink, Option<Store>), Diag> {
    if !connector.outbound.active {
        return Ok((Sink::DryRun, None));
    }
    let sink = match opts.output.as_deref() {
        Some("-") => Sink::Ndjson(BufWriter::with_capacity(
            256 * 1024,
            Box::new(std::io::stdout()),
        )),
        Some(path) => {
            let f = File::create(path).map_err(|e| io_diag(&format!("cannot create {path}"), e))?;
            Sink::Ndjson(BufWriter::with_capacity(256 * 1024, Box::new(f)))
        }
        None => Sink::Store {
            object: connector.outbound.object.clone().ok_or_else(|| {
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store-bound run needs `outbound.object`",
                )
            })?,
            key: connector.outbound.primary_key.clone().ok_or_else(|| {
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store-bound run needs `outbound.primary_key`",
                )
            })?,
            pending: Vec::with_capacity(opts.batch),
        },
    };
    let store = Store::open_or_create(&opts.store).map_err(store_diag)?;
    Ok((sink, Some(store)))
}

/// The key of a run's own dead letters and, for a store-bound run over a file, of its
/// checkpoint: the input's canonical path (`-` for stdin, `store:<object>` for the store).
fn input_key(connector: &super::connector::Connector, input: Option<&str>) -> Result<String, Diag> {
    match input {
        Some("-") => Ok("-".to_string()),
        Some(path) => Ok(std::fs::canonicalize(path)
            .map_err(|e| io_diag(&format!("cannot open {path}"), e))?
            .display()
            .to_string()),
        None => Ok(format!(
            "store:{}",
            connector.inbound.object.as_deref().unwrap_or_default()
        )),
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
    let started_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let dead_path = opts
        .dead_letter
        .clone()
        .unwrap_or_else(|| default_dead_letter_path(&connector.name));
    let dry_run = !connector.outbound.active;
    let _lock = match dry_run {
        true => None,
        false => Some(RunLock::acquire(
            &opts.store,
            &connector.name,
            std::time::Duration::from_millis(crate::executor::store::BUSY_TIMEOUT_MS),
        )?),
    };
    let (sink, mut store) = open_sink(connector, opts)?;
    let (mode, key) = match &sink {
        Sink::Ndjson(_) => (SinkMode::Ndjson, None),
        Sink::Store { key, .. } => (SinkMode::Store, Some(key.clone())),
        Sink::DryRun => (SinkMode::DryRun, None),
    };
    let letter_input = input_key(connector, opts.input.as_deref())?;
    let checkpointed = match (&sink, opts.input.as_deref(), opts.retry_dead_letters) {
        (Sink::Store { .. }, Some(path), false) if path != "-" => Some(letter_input.clone()),
        _ => None,
    };
    let input_file = match &checkpointed {
        Some(_) => Some(
            File::open(opts.input.as_deref().unwrap_or_default())
                .map_err(|e| io_diag("cannot open the input", e))?,
        ),
        None => None,
    };

    let fresh = Checkpoint {
        fingerprint: fingerprint(connector),
        run_started: started_at.clone(),
        segments: 1,
        ..Checkpoint::default()
    };
    let mut position = fresh.clone();
    let mut resumed_from = None;
    if let (Some(store), false) = (store.as_mut(), opts.retry_dead_letters) {
        match (&checkpointed, &input_file) {
            (Some(input), Some(f)) => {
                let existing = if opts.from_start {
                    store
                        .clear_checkpoint(&connector.name, input)
                        .map_err(store_diag)?;
                    None
                } else {
                    store
                        .checkpoint(&connector.name, input)
                        .map_err(store_diag)?
                };
                if let Some(cp) = existing {
                    verify(&cp, opts.input.as_deref().unwrap_or_default(), f, connector)?;
                    position = Checkpoint {
                        byte_offset: cp.byte_offset,
                        line: cp.line,
                        ..fresh.clone()
                    };
                    if !cp.complete {
                        position.run_started = cp.run_started.clone();
                        position.segments = cp.segments + 1;
                        position.counts = cp.counts;
                    }
                    resumed_from = Some(cp);
                }
                store
                    .clear_letters_after(&connector.name, input, position.line)
                    .map_err(store_diag)?;
            }
            _ => store
                .clear_letters_after(&connector.name, &letter_input, 0)
                .map_err(store_diag)?,
        }
    }
    let resume = resumed_from.as_ref().map(|_| position.clone());

    let targets = transform.target_prefixes();
    let mut collector = Collector {
        sink,
        store,
        letters: LetterBatch::default(),
        counts: position.counts,
        latencies: Vec::new(),
        position,
        connector,
        checkpointed,
        input_file,
        letter_input: Arc::from(letter_input.as_str()),
        batch: opts.batch,
        tz: opts.tz,
    };
    let before = collector.counts;

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
            resume.clone(),
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
                resume.clone(),
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
    let stopped_by = match opts.stop.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    };

    let Collector {
        mut sink,
        store,
        counts,
        mut latencies,
        mut position,
        checkpointed,
        input_file,
        ..
    } = collector;
    if let Sink::Ndjson(out) = &mut sink {
        out.flush()
            .map_err(|e| io_diag("cannot write the output", e))?;
    }
    let incomplete_line = match (&input_file, opts.input.as_deref()) {
        (_, Some(path)) if path != "-" && ndjson_input && stopped_by.is_none() => {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            (size > position.byte_offset).then_some(position.line + 1)
        }
        _ => None,
    };
    let segment_read = counts.read - before.read;
    let noop = segment_read == 0 && resumed_from.as_ref().is_some_and(|c| c.complete);
    if let (Some(store), Some(input)) = (&store, &checkpointed) {
        position.complete = stopped_by.is_none();
        position.counts = counts;
        store
            .save_checkpoint(&connector.name, input, &position, Utc::now())
            .map_err(store_diag)?;
    }
    if let Some(store) = &store {
        let letters = store.dead_letters(&connector.name).map_err(store_diag)?;
        write_file(&dead_path, &letters)
            .map_err(|e| io_diag(&format!("cannot write {}", dead_path.display()), e))?;
    }

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
        read: counts.read,
        written: counts.written,
        filtered: counts.filtered,
        failed: counts.failed,
        queued: counts.queued,
        kept: counts.kept,
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
    if let Some(store) = &store {
        store.record_run(&metrics).map_err(store_diag)?;
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
        worker.process(
            &mut chunk,
            (rec.line, rec.end_offset),
            rec.origin.as_ref(),
            record,
            slots,
            || raw.unwrap_or_else(|| records.last_raw()),
        );
        if chunk.read as usize >= CHUNK_LINES {
            collector.apply(std::mem::take(&mut chunk))?;
            if let Some(bar) = &progress {
                bar.set_position(collector.counts.read);
            }
            if opts.stop.load(Ordering::SeqCst) != 0 {
                break;
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
    let (reader, total): (BufReader<Box<dyn Read + Send>>, Option<u64>) = if input == "-" {
        (BufReader::new(Box::new(std::io::stdin())), None)
    } else {
        let mut f = File::open(input).map_err(|e| io_diag(&format!("cannot open {input}"), e))?;
        let size = f.metadata().ok().map(|m| m.len());
        if let Some(cp) = &resume {
            f.seek(SeekFrom::Start(cp.byte_offset))
                .map_err(|e| io_diag(&format!("cannot seek in {input}"), e))?;
        }
        (BufReader::with_capacity(256 * 1024, Box::new(f)), size)
    };
    let (first_line, first_offset) = resume.map_or((0, 0), |c| (c.line, c.byte_offset));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let progress = progress_bar(opts, total);

    let stopped = || opts.stop.load(Ordering::SeqCst) != 0;
    let (raw_tx, raw_rx) = sync_channel::<std::io::Result<RawChunk>>(workers * 2);
    let hold_tail = input != "-";
    // Not scoped: on a stop, a reader blocked on a pipe is left behind, not waited for.
    std::thread::spawn(move || read_chunks(reader, (first_line, first_offset), hold_tail, &raw_tx));
    std::thread::scope(|scope| -> Result<(), Diag> {
        let raw_rx = Arc::new(Mutex::new(raw_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, std::io::Result<Chunk>)>(workers * 2);
        for _ in 0..workers {
            let raw_rx = Arc::clone(&raw_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut worker =
                    Worker::new(transform, targets, key, mode, opts, use_jit(opts, total));
                let mut slots = Vec::new();
                loop {
                    let next = match raw_rx.lock() {
                        Ok(rx) => rx.recv_timeout(POLL),
                        Err(_) => return,
                    };
                    let message = match next {
                        Ok(Ok(raw)) => (raw.seq, Ok(worker.process_lines(&raw, &mut slots))),
                        Ok(Err(e)) => (u64::MAX, Err(e)),
                        Err(RecvTimeoutError::Timeout) if !stopped() => continue,
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
        loop {
            let (seq, result) = match done_rx.recv_timeout(POLL) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) if !stopped() => continue,
                Err(_) => break,
            };
            let chunk = result.map_err(|e| io_diag("cannot read the input", e))?;
            waiting.insert(seq, chunk);
            while let Some(chunk) = waiting.remove(&next_seq) {
                collector.apply(chunk)?;
                next_seq += 1;
            }
            if let Some(bar) = &progress {
                bar.set_position(collector.position.byte_offset);
            }
            if stopped() {
                break;
            }
        }
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        Ok(())
    })
}

/// The reader thread: cuts the input into chunks of whole lines, starting after `line` at
/// byte `offset`. With `hold_tail` (a file), a last line without a line break that is not
/// complete JSON is left unread: a writer may still be appending to it.
fn read_chunks(
    mut reader: BufReader<Box<dyn Read + Send>>,
    (mut line, mut offset): (u64, u64),
    hold_tail: bool,
    tx: &SyncSender<std::io::Result<RawChunk>>,
) {
    let mut seq = 0;
    let mut at_end = false;
    loop {
        let mut chunk = RawChunk {
            seq,
            bytes: Vec::with_capacity(CHUNK_LINES * 600),
            lines: Vec::with_capacity(CHUNK_LINES),
        };
        while chunk.lines.len() < CHUNK_LINES {
            if !chunk.lines.is_empty() && reader.buffer().is_empty() {
                // Nothing more is read yet: hand over what there is rather than hold
                // lines while waiting on a pipe.
                break;
            }
            let start = chunk.bytes.len();
            match reader.read_until(b'\n', &mut chunk.bytes) {
                Ok(0) => break,
                Ok(n) if hold_tail && chunk.bytes.last() != Some(&b'\n') => {
                    let tail = chunk.bytes.get(start..).unwrap_or(&[]);
                    let complete = serde_json::from_slice::<serde::de::IgnoredAny>(tail).is_ok();
                    let blank = tail.iter().all(u8::is_ascii_whitespace);
                    if complete && !blank {
                        line += 1;
                        offset += n as u64;
                        chunk.lines.push((line, start..chunk.bytes.len(), offset));
                    } else {
                        chunk.bytes.truncate(start);
                    }
                    at_end = true;
                    break;
                }
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
        if done || tx.send(Ok(chunk)).is_err() || at_end {
            return;
        }
        seq += 1;
    }
}
