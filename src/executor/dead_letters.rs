//! The dead-letter file: one NDJSON line per record that could not be synced,
//! `{"line": N, "record": ..., "error": {"code", "message", "target"}}`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::source::Raw;
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
pub type LineRecord = (u64, Result<Value, String>, Raw);

/// Reads a dead-letter file back as records to retry: the stored record of each letter,
/// or its raw line when that now parses as a record.
pub fn read_dead_letters(path: &Path) -> std::io::Result<Vec<LineRecord>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let letter = crate::value::parse_record(line);
        let (line_no, record) = match &letter {
            Ok(l) => {
                let n = match l.get_key("line") {
                    Some(Value::Number(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                };
                let record = match (l.get_key("record"), l.get_key("raw")) {
                    (Some(r @ Value::Object(_)), _) => Ok(r.clone()),
                    (_, Some(Value::String(raw))) => {
                        crate::value::parse_record(raw).map_err(|e| e.to_string())
                    }
                    _ => Err("the dead letter holds no record".to_string()),
                };
                (n, record)
            }
            Err(e) => (
                0,
                Err(format!("dead-letter line {} is not valid: {e}", i + 1)),
            ),
        };
        let raw = match &record {
            Ok(v) => Raw::Value(v.clone()),
            Err(_) => Raw::Text(match letter.ok().and_then(|l| l.get_key("raw").cloned()) {
                Some(Value::String(s)) => s.to_string(),
                _ => line.to_string(),
            }),
        };
        out.push((line_no, record, raw));
    }
    Ok(out)
}
