//! Input records: NDJSON (only the fields the transform reads are parsed), or records
//! given as values (CSV rows, stored objects; the engine's sources make them). Every record carries its line number and the
//! byte offset just past it, and keeps its raw form for the dead letters.

use std::io::BufRead;
use std::sync::Arc;

use crate::value::{parse_into_slots, parse_record_fields, SlotTable, Value};

/// `BufRead::read_until(b'\n', out)`, the line break found with the memchr crate's
/// vectorized search (the standard library's scalar one cost ~1.2 instructions per byte of
/// input, a quarter of what parsing a record costs). Every NDJSON reader cuts its lines
/// with it: the run's reader thread and [`NdjsonSource`].
pub fn read_line(reader: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (found, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i + 1),
            None => (false, available.len()),
        };
        out.extend_from_slice(available.get(..used).unwrap_or(available));
        reader.consume(used);
        read += used;
        if found || used == 0 {
            return Ok(read);
        }
    }
}

/// The raw form of an input record, as the dead letters keep it.
#[derive(Debug, Clone)]
pub enum Raw {
    /// The line's JSON text, verbatim (it parsed as an object).
    Json(String),
    /// A line that is not a JSON object, as text.
    Text(String),
    /// A line that is not UTF-8, byte for byte.
    Bytes(Vec<u8>),
    /// A record that came as a value (CSV row, stored object).
    Value(Value),
}

/// Why an input record could not be read: its code and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    /// The registry code (E507 unreadable, E508 too large, E509 too deep, E511 schema).
    pub code: crate::diagnostics::Code,
    /// What is wrong, without the line number (the dead letter keeps it).
    pub message: String,
}

impl ReadError {
    /// A read error.
    pub fn new(code: crate::diagnostics::Code, message: impl Into<String>) -> Self {
        ReadError {
            code,
            message: message.into(),
        }
    }

    /// An unreadable record (E507).
    pub fn invalid(message: impl Into<String>) -> Self {
        ReadError::new(crate::diagnostics::codes::E507_INPUT_LINE, message)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.id, self.message)
    }
}

/// One input record.
#[derive(Debug)]
pub struct InputRecord {
    /// 1-based line number (CSV: the line the row starts on; store: the record's index).
    pub line: u64,
    /// Byte offset just past this record.
    pub end_offset: u64,
    /// The record, or why it could not be read.
    pub record: Result<Value, ReadError>,
    /// Its raw form; `None` when the source can give it on demand ([`RecordSource::last_raw`]).
    pub raw: Option<Raw>,
    /// The input it first came from, when that is not the run's own (a retried letter).
    pub origin: Option<Arc<str>>,
}

/// A stream of input records.
pub trait RecordSource {
    /// The next record, or an I/O error, or `None` at the end.
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>>;
    /// The raw form of the record last returned (for its dead letter).
    fn last_raw(&self) -> Raw;
    /// The slots of the record last returned, when the source parses into slots (its
    /// `record` is then null).
    fn slots(&self) -> Option<&[Option<Value>]> {
        None
    }
    /// Whether every record delivered so far has been handed out and the next one waits on
    /// the source (a message stream with nothing new yet): the run commits what it holds
    /// before it asks, so that what arrived is stored without waiting for a full batch.
    fn caught_up(&self) -> bool {
        false
    }
}

impl<T: Iterator<Item = std::io::Result<InputRecord>>> RecordSource for T {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        self.next()
    }
    fn last_raw(&self) -> Raw {
        Raw::Text(String::new())
    }
}

/// Reads one NDJSON line (without its line break) under the record limits: into `slots`
/// when a slot table is given (`Ok(None)`), else as a record of `fields` (all when `None`).
/// Every way it can fail has its code: E508 too large, E509 too deep, E507 otherwise.
pub fn parse_line(
    content: &[u8],
    limits: &crate::limits::Limits,
    fields: Option<&[Arc<str>]>,
    slot_fields: Option<&SlotTable>,
    slots: &mut Vec<Option<Value>>,
) -> Result<Option<Value>, ReadError> {
    use crate::diagnostics::codes;
    if content.len() > limits.max_record_bytes {
        return Err(ReadError::new(
            codes::E508_RECORD_TOO_LARGE,
            format!(
                "the record is {} bytes, over the limit of {}",
                content.len(),
                limits.max_record_bytes
            ),
        ));
    }
    let too_deep = || {
        ReadError::new(
            codes::E509_JSON_TOO_DEEP,
            format!(
                "the record nests deeper than the limit of {}",
                limits.max_json_depth
            ),
        )
    };
    if limits.max_json_depth < 128
        && crate::limits::json_depth_exceeds(content, limits.max_json_depth)
    {
        return Err(too_deep());
    }
    let content = match std::str::from_utf8(content) {
        Ok(text) => text,
        Err(e) => return Err(ReadError::invalid(format!("line is not valid UTF-8 ({e})"))),
    };
    let parsed = match slot_fields {
        Some(table) => parse_into_slots(content, table, slots).map(|()| None),
        None => parse_record_fields(content, fields).map(Some),
    };
    parsed.map_err(|e| {
        // serde_json stops at 128 levels: a line that fails and nests deeper than that
        // failed for its depth (checked only on failure, so it costs nothing otherwise).
        if crate::limits::json_depth_exceeds(content.as_bytes(), 128) {
            too_deep()
        } else {
            ReadError::invalid(e.to_string())
        }
    })
}

/// NDJSON lines from a reader.
pub struct NdjsonSource<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
    fields: Option<Vec<Arc<str>>>,
    slot_fields: Option<SlotTable>,
    slots: Vec<Option<Value>>,
    limits: crate::limits::Limits,
}

impl<R: BufRead> NdjsonSource<R> {
    /// Reads from `reader`, which is positioned at byte `offset`, line `line`; only
    /// `fields` are parsed (all when `None`).
    pub fn new(reader: R, offset: u64, line: u64, fields: Option<Vec<Arc<str>>>) -> Self {
        NdjsonSource {
            reader,
            buf: Vec::with_capacity(4096),
            line,
            offset,
            fields,
            slot_fields: None,
            slots: Vec::new(),
            limits: crate::limits::Limits::default(),
        }
    }

    /// Reads lines under `limits` (record size and depth).
    pub fn with_limits(mut self, limits: crate::limits::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Takes the slots of the record last returned (leaving an empty vector).
    pub fn take_slots(&mut self) -> Vec<Option<Value>> {
        std::mem::take(&mut self.slots)
    }

    /// The bytes of the line last returned, without its line break.
    pub fn current_line(&self) -> &[u8] {
        trim_line(&self.buf)
    }

    /// Parses each line into slots (see [`crate::value::parse_into_slots`]) instead of a
    /// record object.
    pub fn with_slots(mut self, slot_fields: Option<SlotTable>) -> Self {
        self.slot_fields = slot_fields;
        self
    }
}

impl<R: BufRead> NdjsonSource<R> {
    /// The next record.
    pub fn next_line(&mut self) -> Option<std::io::Result<InputRecord>> {
        loop {
            self.buf.clear();
            let n = match read_line(&mut self.reader, &mut self.buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            self.line += 1;
            self.offset += n as u64;
            let content = trim_line(&self.buf);
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (record, raw) = match parse_line(
                content,
                &self.limits,
                self.fields.as_deref(),
                self.slot_fields.as_ref(),
                &mut self.slots,
            ) {
                Ok(v) => (Ok(v.unwrap_or(Value::Null)), None),
                Err(e) => (Err(e), Some(raw_of_bad_line(content))),
            };
            return Some(Ok(InputRecord {
                line: self.line,
                end_offset: self.offset,
                record,
                raw,
                origin: None,
            }));
        }
    }
}

impl<R: BufRead> RecordSource for NdjsonSource<R> {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        self.next_line()
    }

    fn slots(&self) -> Option<&[Option<Value>]> {
        self.slot_fields.as_ref().map(|_| self.slots.as_slice())
    }

    fn last_raw(&self) -> Raw {
        raw_of_line(trim_line(&self.buf))
    }
}

/// The raw form of an NDJSON line that parsed: its JSON text.
pub fn raw_of_line(content: &[u8]) -> Raw {
    match std::str::from_utf8(content) {
        Ok(text) => Raw::Json(text.to_string()),
        Err(_) => Raw::Text(String::from_utf8_lossy(content).into_owned()),
    }
}

/// The raw form of an NDJSON line that did not parse: its text, or its bytes when it is
/// not UTF-8 (kept byte for byte, so a retry sees the same line).
pub fn raw_of_bad_line(content: &[u8]) -> Raw {
    match std::str::from_utf8(content) {
        Ok(text) => Raw::Text(text.to_string()),
        Err(_) => Raw::Bytes(content.to_vec()),
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line.get(end - 1), Some(b'\n' | b'\r')) {
        end -= 1;
    }
    line.get(..end).unwrap_or(line)
}

/// A record given with where it came from: the input and line it came from (a retried
/// dead letter names its input), the record (or why it cannot be read), and its raw form.
pub type LineRecord = (Option<Arc<str>>, u64, Result<Value, ReadError>, Raw);

/// Records already in memory (the store, retried dead letters).
pub struct ValueSource {
    records: std::vec::IntoIter<LineRecord>,
}

impl ValueSource {
    /// Records with their line numbers.
    pub fn new(records: Vec<LineRecord>) -> Self {
        ValueSource {
            records: records.into_iter(),
        }
    }
}

impl Iterator for ValueSource {
    type Item = std::io::Result<InputRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        let (origin, line, record, raw) = self.records.next()?;
        Some(Ok(InputRecord {
            line,
            end_offset: 0,
            record,
            raw: Some(raw),
            origin,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::BufReader;

    #[test]
    fn read_line_cuts_as_read_until_across_buffer_refills() {
        let input =
            b"{\"a\": 1}\r\n\n{\"b\": \"a line longer than the buffer\"}\nlast without break";
        for capacity in [1, 2, 3, 7, 64] {
            let mut ours = BufReader::with_capacity(capacity, &input[..]);
            let mut std = BufReader::with_capacity(capacity, &input[..]);
            loop {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let n = read_line(&mut ours, &mut a).unwrap();
                assert_eq!(n, std.read_until(b'\n', &mut b).unwrap(), "{capacity}");
                assert_eq!(a, b, "{capacity}");
                if n == 0 {
                    break;
                }
            }
        }
    }
}
