//! Dead letters: one NDJSON line per record that could not be synced,
//! `{"line": N, "record": ..., "error": {"code", "message", "target"}, "input": "..."}`.
//! The store keeps them, keyed by (connector, input, line) and committed with the records
//! and the checkpoint they belong to; the dead-letter file is written from the store,
//! atomically, when a run ends, so a crash, a resume, a second input or a retry can never
//! duplicate, drop or cut a letter.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::connections::kind::{Kind, Opening};
use crate::diagnostics::Diag;
use crate::io_diag;
use crate::seams::{ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::transform::source::{parse_line, Raw, ReadError, ValueSource};
use crate::value::{write_json_string, Value};

/// The dead letters in the registry: with `--retry-dead-letters`, a run reads the letters
/// of its earlier runs instead of its input.
pub const KIND: Kind = Kind {
    name: "dead letters",
    types: &[],
    doc: "With `--retry-dead-letters`, the records of the connector's dead-letter file, each retried under the input and line it first came from (before any other kind is asked).",
    keys: &[],
    reads_alone: |_| false,
    source: Some(|open: &Opening| {
        open.retry
            .map(|letters| Ok(Box::new(DeadLetterSource::new(letters)) as Box<dyn Source>))
    }),
    sink: None,
};

/// What failed, for one dead letter.
pub struct Failure<'a> {
    /// The error code.
    pub code: &'a str,
    /// The message.
    pub message: &'a str,
    /// The mapping target, or None (a condition, or an unreadable record).
    pub target: Option<&'a str>,
    /// The condition index (1-based), when a condition failed.
    pub condition: Option<usize>,
}

/// One letter as its NDJSON line (without the line break).
pub fn letter_line(line_no: u64, input: &str, raw: &Raw, failure: &Failure) -> String {
    let mut line = String::with_capacity(256);
    line.push_str("{\"line\":");
    line.push_str(&line_no.to_string());
    line.push_str(",\"record\":");
    match raw {
        Raw::Json(text) => line.push_str(text),
        Raw::Value(v) => v.write_json(&mut line),
        Raw::Text(text) => {
            line.push_str("null,\"raw\":");
            write_json_string(text, &mut line);
        }
        Raw::Bytes(bytes) => {
            line.push_str("null,\"raw_base64\":");
            write_json_string(&BASE64.encode(bytes), &mut line);
        }
    }
    line.push_str(",\"error\":{\"code\":");
    write_json_string(failure.code, &mut line);
    line.push_str(",\"message\":");
    write_json_string(failure.message, &mut line);
    line.push_str(",\"target\":");
    match failure.target {
        Some(t) => write_json_string(t, &mut line),
        None => line.push_str("null"),
    }
    if let Some(c) = failure.condition {
        line.push_str(",\"condition\":");
        line.push_str(&c.to_string());
    }
    line.push_str("},\"input\":");
    write_json_string(input, &mut line);
    line.push('}');
    line
}

/// Writes the dead-letter file as a whole: into a file beside it, synced, then renamed
/// over it, so a reader never sees a partial file. No letters: the file is removed.
pub fn write_file(path: &Path, letters: &[String]) -> std::io::Result<()> {
    crate::store::leftovers::remove_leftovers(path, ".writing-");
    if letters.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".writing-{}", std::process::id()));
    let temp = path.with_file_name(name);
    let result = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        for letter in letters {
            f.write_all(letter.as_bytes())?;
            f.write_all(b"\n")?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

pub use crate::transform::source::LineRecord;

/// Reads a dead-letter file back as records to retry: the stored record of each letter, or
/// its raw line read again exactly as the input was read (same limits, same codes; a line
/// that is not UTF-8 comes back byte for byte).
pub fn read_dead_letters(
    path: &Path,
    limits: &crate::limits::Limits,
) -> std::io::Result<Vec<LineRecord>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(match crate::value::parse_record(line) {
            Ok(letter) => letter_record(&letter, limits),
            Err(e) => (
                None,
                0,
                Err(ReadError::invalid(format!(
                    "dead-letter line {} is not valid: {e}",
                    i + 1
                ))),
                Raw::Text(line.to_string()),
            ),
        });
    }
    Ok(out)
}

/// The record a dead letter holds, or its raw line read again.
fn letter_record(letter: &Value, limits: &crate::limits::Limits) -> LineRecord {
    let line_no = match letter.get_key("line") {
        Some(Value::Number(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    let input = match letter.get_key("input") {
        Some(Value::String(s)) => Some(std::sync::Arc::from(s.as_str())),
        _ => None,
    };
    let raw = match (
        letter.get_key("record"),
        letter.get_key("raw"),
        letter.get_key("raw_base64"),
    ) {
        (Some(r @ Value::Object(_)), _, _) => {
            return (input, line_no, Ok(r.clone()), Raw::Value(r.clone()))
        }
        (_, Some(Value::String(raw)), _) => Raw::Text(raw.to_string()),
        (_, _, Some(Value::String(b64))) => match BASE64.decode(b64.as_bytes()) {
            Ok(bytes) => Raw::Bytes(bytes),
            Err(e) => {
                return (
                    input,
                    line_no,
                    Err(ReadError::invalid(format!(
                        "the dead letter's raw_base64 is not valid: {e}"
                    ))),
                    Raw::Text(b64.to_string()),
                )
            }
        },
        _ => {
            return (
                input,
                line_no,
                Err(ReadError::invalid("the dead letter holds no record")),
                Raw::Text(letter.to_json()),
            )
        }
    };
    let bytes: &[u8] = match &raw {
        Raw::Text(t) => t.as_bytes(),
        Raw::Bytes(b) => b,
        Raw::Json(t) => t.as_bytes(),
        Raw::Value(_) => &[],
    };
    let record =
        parse_line(bytes, limits, None, None, &mut Vec::new()).map(|v| v.unwrap_or(Value::Null));
    (input, line_no, record, raw)
}

/// The dead letters of earlier runs, each retried under the input and line it came from.
pub struct DeadLetterSource {
    path: PathBuf,
}

impl DeadLetterSource {
    /// The letters in the file at `path`.
    pub fn new(path: &Path) -> Self {
        DeadLetterSource {
            path: path.to_path_buf(),
        }
    }
}

impl Source for DeadLetterSource {
    fn key(&self) -> &str {
        "dead letters"
    }

    fn open(&mut self, _: Option<&Checkpoint>, settings: &ReadSettings) -> Result<Reading, Diag> {
        let letters = read_dead_letters(&self.path, &settings.limits)
            .map_err(|e| io_diag(&format!("cannot read {}", self.path.display()), e))?;
        Ok(Reading::Records(Box::new(ValueSource::new(letters))))
    }
}
