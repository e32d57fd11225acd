//! The file kind: NDJSON or CSV (by the `.csv` extension) from `--input FILE`, NDJSON from
//! stdin (`-`), and NDJSON written to `--output FILE|-` or appended to the outbound side's
//! `path`. A file is resumable: a checkpoint keeps its size and a hash of the bytes before
//! the position.

mod csv;

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::Utc;

use crate::connections::kind::{Kind, Opening};
use crate::connections::resume::{head_hash, verify_input};
use crate::diagnostics::Diag;
use crate::seams::{
    Provenance, ReadSettings, Reading, Sink, SinkMode, Source, StateCommit, StateStore,
};
use crate::store::sync::{BatchCounts, Checkpoint};
use crate::value::Value;

use crate::io_diag;

pub use csv::CsvSource;

/// The file kind in the registry.
pub const KIND: Kind = Kind {
    name: "file",
    types: &["ndjson", "csv"],
    doc: "NDJSON or CSV (by the `.csv` extension) read from `--input FILE`, NDJSON from stdin with `--input -`; mapped records written as NDJSON to `--output FILE|-`, or appended to the outbound side's `path`. Whatever the side's `type`, `--input` and `--output` name a file. Resumable: a checkpoint keeps the file's size and a hash of the bytes before its position, and a file that was truncated or rewritten is refused (E612).",
    keys: &["path"],
    reads_alone: |_| false,
    source: Some(source),
    sink: Some(sink),
};

/// `--input`: a partition's byte range of a file, stdin, or a file.
fn source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let input = open.input?;
    Some(match (open.part, input) {
        (Some((part, range)), path) => {
            FileSource::open_range(path, part, range).map(|s| Box::new(s) as Box<dyn Source>)
        }
        (None, "-") => Ok(Box::new(StdinSource)),
        (None, path) => FileSource::open(path).map(|s| Box::new(s) as Box<dyn Source>),
    })
}

/// `--output`, else the outbound side's `path` (appended to).
fn sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    if let Some(path) = open.output {
        return Some(NdjsonSink::open(path).map(|s| Box::new(s) as Box<dyn Sink>));
    }
    let path = open.connector.outbound.path.as_deref()?;
    Some(NdjsonSink::append(path).map(|s| Box::new(s) as Box<dyn Sink>))
}

/// A file: NDJSON read in parallel from a byte offset, or CSV (by the `.csv` extension)
/// from a line. Resumable; its identity is its size and the bytes before the position.
pub struct FileSource {
    path: String,
    key: String,
    file: File,
    csv: bool,
    /// A partition's byte range: its start, and the offset just past its end.
    range: Option<(u64, u64)>,
}

impl FileSource {
    /// Opens `path`.
    pub fn open(path: &str) -> Result<FileSource, Diag> {
        let file = File::open(path).map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
        let key = std::fs::canonicalize(path)
            .map_err(|e| io_diag(&format!("cannot open {path}"), e))?
            .display()
            .to_string();
        Ok(FileSource {
            path: path.to_string(),
            key,
            file,
            csv: Path::new(path)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
            range: None,
        })
    }

    /// Only the byte range of partition `part` (NDJSON): its lines, under the key
    /// `<input>#part<part>`.
    pub fn open_range(path: &str, part: i64, range: (u64, u64)) -> Result<FileSource, Diag> {
        let mut source = FileSource::open(path)?;
        source.key = format!("{}#part{part}", source.key);
        source.range = Some(range);
        Ok(source)
    }
}

impl Source for FileSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        true
    }

    fn size(&self) -> Option<u64> {
        self.file.metadata().ok().map(|m| m.len())
    }

    fn verify(&self, checkpoint: &Checkpoint) -> Result<(), Diag> {
        verify_input(checkpoint, &self.path, &self.file)
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        checkpoint.input_size = self.size().unwrap_or(0);
        checkpoint.head_hash = head_hash(&self.file, checkpoint.byte_offset)
            .map_err(|e| io_diag("cannot read the input", e))?;
        Ok(())
    }

    fn grows(&self) -> bool {
        !self.csv && self.range.is_none()
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let mut file = self
            .file
            .try_clone()
            .map_err(|e| io_diag(&format!("cannot open {}", self.path), e))?;
        if self.csv {
            let skip = resume.map_or(0, |c| c.line);
            return Ok(Reading::Records(Box::new(
                CsvSource::new(BufReader::new(file), settings.schema.clone(), skip)
                    .with_limits(settings.limits),
            )));
        }
        let offset = resume.map_or(self.range.map_or(0, |r| r.0), |c| c.byte_offset);
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| io_diag(&format!("cannot seek in {}", self.path), e))?;
        let reader: Box<dyn Read + Send> = match self.range {
            Some((_, end)) => Box::new(file.take(end.saturating_sub(offset))),
            None => Box::new(file),
        };
        Ok(Reading::Lines {
            reader: BufReader::with_capacity(256 * 1024, reader),
            hold_tail: self.range.is_none(),
        })
    }
}

/// Standard input: NDJSON, read once (not resumable).
pub struct StdinSource;

impl Source for StdinSource {
    fn key(&self) -> &str {
        "-"
    }

    fn open(&mut self, _: Option<&Checkpoint>, _: &ReadSettings) -> Result<Reading, Diag> {
        Ok(Reading::Lines {
            reader: BufReader::new(Box::new(std::io::stdin()) as Box<dyn Read + Send>),
            hold_tail: false,
        })
    }
}

/// Mapped records as NDJSON lines; a commit flushes them before the state is committed, so
/// a checkpoint never covers a line that is not written.
pub struct NdjsonSink {
    out: BufWriter<Box<dyn Write>>,
}

/// The output buffer of an NDJSON sink: small batches of lines gather in it; a run's
/// chunk of lines (512 of them, typically larger than this) is written straight through,
/// not copied into the buffer first.
const OUTPUT_BUFFER: usize = 64 * 1024;

impl NdjsonSink {
    /// Writes to `path`, or to stdout for `-`.
    pub fn open(path: &str) -> Result<NdjsonSink, Diag> {
        let out: Box<dyn Write> = match path {
            "-" => Box::new(std::io::stdout()),
            path => Box::new(
                File::create(path).map_err(|e| io_diag(&format!("cannot create {path}"), e))?,
            ),
        };
        Ok(NdjsonSink {
            out: BufWriter::with_capacity(OUTPUT_BUFFER, out),
        })
    }
}

impl NdjsonSink {
    /// Appends to the file at `path` (the way back of a bidirectional connector to a
    /// file it reads).
    pub fn append(path: &str) -> Result<NdjsonSink, Diag> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
        Ok(NdjsonSink {
            out: BufWriter::with_capacity(OUTPUT_BUFFER, Box::new(file)),
        })
    }
}

impl Sink for NdjsonSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Lines
    }

    fn accept(&mut self, lines: &str, _: Vec<Value>, _: Vec<Provenance>) -> Result<(), Diag> {
        self.out
            .write_all(lines.as_bytes())
            .map_err(|e| io_diag("cannot write the output", e))
    }

    fn pending(&self) -> usize {
        0
    }

    fn commit(
        &mut self,
        store: &mut dyn StateStore,
        state: StateCommit<'_>,
    ) -> Result<BatchCounts, Diag> {
        self.out
            .flush()
            .map_err(|e| io_diag("cannot write the output", e))?;
        store.commit_state(state.connector, state.letters, state.checkpoint, Utc::now())?;
        Ok(BatchCounts::default())
    }
}
