//! Reading a run's input: NDJSON bytes cut into chunks of lines by a reader thread and
//! processed on every core, results applied in input order; or records one by one.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};

use crate::diagnostics::Diag;
use crate::executor::run::chunks::{Chunk, RawChunk};
use crate::executor::run::collector::Collector;
use crate::executor::run::worker::{Plan, Worker};
use crate::executor::run::RunOptions;
use crate::runtime::Lookups;
use crate::transform::source::{read_line, ReadError, RecordSource};

use crate::io_diag;

/// Lines per chunk handed to a worker.
const CHUNK_LINES: usize = 512;
/// How often threads waiting for work look at the stop signal.
const POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Whether the run's workers use native code: the engine's one rule
/// ([`crate::native::Engine::wants_native`]) for stdin (a stream) or an input of `input_bytes`.
pub(super) fn use_jit(opts: &RunOptions, input_bytes: Option<u64>) -> bool {
    opts.engine.wants_native(crate::driver::Workload {
        evaluated: 0,
        bytes_ahead: input_bytes,
        stream: opts.input.as_deref() == Some("-"),
    })
}

/// A progress bar on the terminal (with the `progress` feature; an embedded run shows none).
#[cfg(feature = "progress")]
fn progress_bar(opts: &RunOptions, total: Option<u64>) -> Option<indicatif::ProgressBar> {
    use indicatif::{ProgressBar, ProgressStyle};
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

/// Without the `cli` feature there is no terminal to show progress on.
#[cfg(not(feature = "progress"))]
fn progress_bar(_: &RunOptions, _: Option<u64>) -> Option<NoProgress> {
    None
}

/// The progress bar of a build without a terminal: never made.
#[cfg(not(feature = "progress"))]
enum NoProgress {}

#[cfg(not(feature = "progress"))]
impl NoProgress {
    fn set_position(&self, _: u64) {
        match *self {}
    }
    fn finish_and_clear(self) {
        match self {}
    }
}

/// Records one by one (CSV, the store, retried letters): one worker on this thread.
pub(super) fn run_sequential(
    mut records: Box<dyn RecordSource>,
    plan: Plan,
    lookups: Option<Box<dyn Lookups + Send>>,
    opts: &RunOptions,
    collector: &mut Collector,
) -> Result<(), Diag> {
    let mut worker = Worker::new(plan, lookups);
    let progress = progress_bar(opts, None);
    let mut chunk = Chunk::default();
    let per_chunk = CHUNK_LINES.min(opts.batch.max(1));
    while let Some(item) = records.next_record() {
        let mut rec = match item {
            Ok(rec) => rec,
            Err(e) => {
                // What was read before the failure is committed: the next run goes on
                // from there (a remote source that went down catches up).
                collector.apply(chunk)?;
                collector.commit()?;
                return Err(io_diag("cannot read the input", e));
            }
        };
        let raw = rec.raw.clone();
        let slots = records.slots();
        if let Ok(v) = &mut rec.record {
            if let Err(e) = plan.transform.conform_record(v, opts.tz) {
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
        let caught_up = records.caught_up();
        if chunk.read as usize >= per_chunk || caught_up {
            collector.apply(std::mem::take(&mut chunk))?;
            if caught_up {
                // what arrived is stored now, not when a batch fills
                collector.commit()?;
                if opts.follow.is_some() {
                    worker.now = chrono::Utc::now().fixed_offset();
                }
            }
            if let Some(bar) = &progress {
                bar.set_position(collector.read());
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

/// NDJSON bytes: a reader thread cuts them into chunks of lines starting after line `first`
/// at its byte offset, workers (one per lookups connection given) parse and transform them,
/// and this thread applies the results in input order.
pub(super) fn run_parallel(
    reader: BufReader<Box<dyn Read + Send>>,
    (hold_tail, first): (bool, (u64, u64)),
    plan: Plan,
    lookups: Vec<Option<Box<dyn Lookups + Send>>>,
    (opts, total): (&RunOptions, Option<u64>),
    collector: &mut Collector,
) -> Result<(), Diag> {
    let workers = lookups.len().max(1);
    let progress = progress_bar(opts, total);
    if let (Some(live), Some(total)) = (&opts.live, total) {
        live.sized(total);
    }
    let stopped = || opts.stop.load(Ordering::SeqCst) != 0;
    let (raw_tx, raw_rx) = sync_channel::<std::io::Result<RawChunk>>(workers * 2);
    // Not scoped: on a stop, a reader blocked on a pipe is left behind, not waited for.
    std::thread::spawn(move || read_chunks(reader, first, hold_tail, &raw_tx));
    std::thread::scope(|scope| -> Result<(), Diag> {
        let raw_rx = Arc::new(Mutex::new(raw_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, std::io::Result<Chunk>)>(workers * 2);
        for lookups in lookups {
            let raw_rx = Arc::clone(&raw_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut worker = Worker::new(plan, lookups);
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
                bar.set_position(collector.byte_offset());
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
            match read_line(&mut reader, &mut chunk.bytes) {
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
