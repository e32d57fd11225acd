//! One worker: turns input records into a [`Chunk`] of results in input order — output
//! lines or values, dead letters, counts, latencies — with the interpreter or the JIT.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::diagnostics::codes;
use crate::driver::Driver;
use crate::executor::run::chunks::{Chunk, DeadEntry, RawChunk};
use crate::native::Native;
use crate::runtime::{Ctx, Lookups};
use crate::seams::{Provenance, SinkMode};
use crate::store::origins::{EchoFilter, Seen, Way};
use crate::transform::source::{raw_of_bad_line, raw_of_line, Raw, ReadError};
use crate::transform::{Transform, Verdict};
use crate::value::Value;

/// The most room a chunk's output lines are given before they are written: past it they
/// grow as they need (a followed stream's chunk of one huge line must not make the next
/// chunk of 512 ask for 512 times its size).
const MAX_OUTPUT_ROOM: usize = 16 << 20;

/// One record in this many has its transform latency measured.
const LATENCY_SAMPLE: u64 = 8;

/// What every worker of a run shares: the transform, how its output is shaped, the
/// evaluation context.
#[derive(Clone, Copy)]
pub(super) struct Plan<'t> {
    /// The compiled connector.
    pub(super) transform: &'t Transform,
    /// The output line prefixes of the targets.
    pub(super) targets: &'t [String],
    /// The primary key of an upserting sink.
    pub(super) key: Option<&'t str>,
    /// What the sink takes.
    pub(super) mode: SinkMode,
    /// `now()` of the run.
    pub(super) now: DateTime<FixedOffset>,
    /// The run's zone.
    pub(super) tz: Tz,
    /// Resource limits.
    pub(super) limits: crate::limits::Limits,
    /// The transform compiled with the JIT, shared by every worker.
    pub(super) jit: Option<&'t Native>,
    /// What one way of a bidirectional connector skips and records.
    pub(super) echo: Option<&'t EchoFilter>,
}

/// Everything one thread needs to turn records into a [`Chunk`].
pub(super) struct Worker<'t> {
    transform: &'t Transform,
    jit: Option<&'t Native>,
    targets: &'t [String],
    key: Option<&'t str>,
    mode: SinkMode,
    driver: Driver,
    lookups: Option<Box<dyn Lookups + Send>>,
    /// Bytes of output per input line in the last chunk of lines it made: the next chunk's
    /// output is given room for as many (and an eighth more) at once, not grown by
    /// doubling, which copied it over and over.
    output_per_line: usize,
    /// `now()` of the records it turns (a followed stream's moves on as records arrive).
    pub(super) now: DateTime<FixedOffset>,
    tz: Tz,
    limits: crate::limits::Limits,
    echo: Option<&'t EchoFilter>,
}

impl<'t> Worker<'t> {
    /// A worker of `plan` with its own lookups.
    pub(super) fn new(plan: Plan<'t>, lookups: Option<Box<dyn Lookups + Send>>) -> Self {
        Worker {
            transform: plan.transform,
            jit: plan.jit,
            targets: plan.targets,
            key: plan.key,
            mode: plan.mode,
            driver: Driver::new(),
            lookups,
            output_per_line: 0,
            now: plan.now,
            tz: plan.tz,
            limits: plan.limits,
            echo: plan.echo,
        }
    }

    /// Processes one input record into `chunk`. `raw` gives its raw form, on failure only.
    pub(super) fn process(
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
        let mut read_baseline = None;
        if let Some(echo) = self.echo {
            match echo.see(record) {
                Seen::Unchanged | Seen::Held => {
                    chunk.filtered += 1;
                    return;
                }
                Seen::Changed(write) => read_baseline = write,
            }
        }
        let ctx = Ctx {
            record,
            now: self.now,
            tz: self.tz,
            lookups: self.lookups.as_deref().map(|l| l as &dyn Lookups),
            slots,
            limits: self.limits,
        };
        let timed = chunk.read.is_multiple_of(LATENCY_SAMPLE);
        let t0 = timed.then(Instant::now);
        let verdict = self.driver.apply(self.transform, self.jit, &ctx);
        if let Some(t0) = t0 {
            chunk
                .latencies
                .push(u32::try_from(t0.elapsed().as_nanos()).unwrap_or(u32::MAX));
        }
        if let Some(write) = read_baseline {
            match (&verdict, self.echo.map(|e| &e.way)) {
                (_, Some(Way::In)) => chunk.baselines.push(write),
                (Verdict::Mapped, Some(Way::Back { .. })) => {
                    let mapped = self.transform.record_of(self.driver.values().to_vec());
                    if let Some(back) = self.echo.and_then(|e| e.written_back(&mapped)) {
                        chunk.baselines.push(write);
                        chunk.baselines.push(back);
                    }
                }
                _ => {}
            }
        }
        match verdict {
            Verdict::Mapped => match self.mode {
                SinkMode::Lines => {
                    Transform::write_line(self.targets, self.driver.values(), &mut chunk.ndjson);
                    chunk.written += 1;
                }
                SinkMode::Values | SinkMode::Remote => {
                    let mapped = self.transform.record_of(self.driver.take_values());
                    let problem = self
                        .key
                        .and_then(|key| Some((key, key_problem(&mapped, key)?)));
                    match problem {
                        Some((key, problem)) => chunk.dead.push(DeadEntry {
                            line,
                            origin: origin.cloned(),
                            raw: raw(),
                            code: problem.code.id,
                            message: problem.message,
                            target: Some(key.to_string()),
                            condition: None,
                        }),
                        None if self.mode == SinkMode::Remote => {
                            chunk.mapped.push(mapped);
                            chunk.provenance.push(Provenance {
                                line,
                                origin: origin.cloned(),
                                raw: raw(),
                            });
                        }
                        None => chunk.mapped.push(mapped),
                    }
                }
                SinkMode::Nothing => chunk.not_written += 1,
            },
            Verdict::Filtered(_) => chunk.filtered += 1,
            Verdict::Failed {
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
    pub(super) fn process_lines(
        &mut self,
        raw: &RawChunk,
        slots: &mut Vec<Option<Value>>,
    ) -> Chunk {
        let mut chunk = Chunk::default();
        let expected = self.output_per_line.saturating_mul(raw.lines.len());
        chunk
            .ndjson
            .reserve(expected.saturating_add(expected / 8).min(MAX_OUTPUT_ROOM));
        for (line_no, range, end_offset) in &raw.lines {
            let content = raw.bytes.get(range.clone()).unwrap_or(&[]);
            let parsed = self
                .transform
                .read_line(content, &self.limits, self.tz, slots);
            let null = Value::Null;
            let (record, slot_view) = match &parsed {
                Ok(Some(v)) => (Ok(v), None),
                Ok(None) => (Ok(&null), Some(slots.as_slice())),
                Err(e) => (Err(e.clone()), None),
            };
            let text_raw = || match &parsed {
                Err(e) if e.code != codes::E511_SCHEMA_MISMATCH => raw_of_bad_line(content),
                _ => raw_of_line(content),
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
        self.output_per_line = chunk.ndjson.len() / raw.lines.len().max(1);
        chunk
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
