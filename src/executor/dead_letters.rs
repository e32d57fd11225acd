//! The dead-letter file: one NDJSON line per record that could not be synced,
//! `{"line": N, "record": ..., "error": {"code", "message", "target"}}`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::source::{parse_line, Raw, ReadError};
use crate::value::{write_json_string, Value};

/// Appends dead letters to a file, created on the first letter.
pub struct DeadLetters {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    bytes: u64,
    count: u64,
    line: String,
}

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

impl DeadLetters {
    /// Dead letters at `path`; its current size is the starting point.
    pub fn new(path: &Path) -> Self {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        DeadLetters {
            path: path.to_path_buf(),
            file: None,
            bytes,
            count: 0,
            line: String::new(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Letters written by this run.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Cuts the file back to `size` bytes (letters written after the last checkpoint).
    pub fn truncate_to(&mut self, size: u64) -> std::io::Result<()> {
        if let Ok(meta) = std::fs::metadata(&self.path) {
            if meta.len() > size {
                OpenOptions::new()
                    .write(true)
                    .open(&self.path)?
                    .set_len(size)?;
            }
        }
        self.bytes = size;
        Ok(())
    }

    /// Writes one letter.
    pub fn write(&mut self, line_no: u64, raw: &Raw, failure: &Failure) -> std::io::Result<()> {
        let line = &mut self.line;
        line.clear();
        line.push_str("{\"line\":");
        line.push_str(&line_no.to_string());
        line.push_str(",\"record\":");
        match raw {
            Raw::Json(text) => line.push_str(text),
            Raw::Value(v) => v.write_json(line),
            Raw::Text(text) => {
                line.push_str("null,\"raw\":");
                write_json_string(text, line);
            }
            Raw::Bytes(bytes) => {
                line.push_str("null,\"raw_base64\":");
                write_json_string(&BASE64.encode(bytes), line);
            }
        }
        line.push_str(",\"error\":{\"code\":");
        write_json_string(failure.code, line);
        line.push_str(",\"message\":");
        write_json_string(failure.message, line);
        line.push_str(",\"target\":");
        match failure.target {
            Some(t) => write_json_string(t, line),
            None => line.push_str("null"),
        }
        if let Some(c) = failure.condition {
            line.push_str(",\"condition\":");
            line.push_str(&c.to_string());
        }
        line.push_str("}}\n");
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.file = Some(BufWriter::new(f));
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(line.as_bytes())?;
        }
        self.bytes += line.len() as u64;
        self.count += 1;
        Ok(())
    }

    /// Flushes and syncs to disk; returns the file size that goes into a checkpoint.
    pub fn sync(&mut self) -> std::io::Result<u64> {
        if let Some(f) = self.file.as_mut() {
            f.flush()?;
            f.get_ref().sync_data()?;
        }
        Ok(self.bytes)
    }
}

/// A record with its line number, or why it cannot be read, and its raw form.
pub type LineRecord = (u64, Result<Value, ReadError>, Raw);

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
    let raw = match (
        letter.get_key("record"),
        letter.get_key("raw"),
        letter.get_key("raw_base64"),
    ) {
        (Some(r @ Value::Object(_)), _, _) => {
            return (line_no, Ok(r.clone()), Raw::Value(r.clone()))
        }
        (_, Some(Value::String(raw)), _) => Raw::Text(raw.to_string()),
        (_, _, Some(Value::String(b64))) => match BASE64.decode(b64.as_bytes()) {
            Ok(bytes) => Raw::Bytes(bytes),
            Err(e) => {
                return (
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
    (line_no, record, raw)
}
