//! Input records: NDJSON (only the fields the transform reads are parsed), CSV (cells typed
//! by the inbound schema), or the store. Every record carries its line number and the
//! byte offset just past it, and keeps its raw form for the dead letters.

use std::io::BufRead;
use std::sync::Arc;

use crate::stdlib::convert::parse_number_text;
use crate::types::{Schema, TypeSet};
use crate::value::{parse_into_slots, parse_record_fields, Map, Value, Want};

/// The raw form of an input record, as the dead letters keep it.
#[derive(Debug, Clone)]
pub enum Raw {
    /// The line's JSON text, verbatim (it parsed as an object).
    Json(String),
    /// A line that is not a JSON object, as (lossy) text.
    Text(String),
    /// A record that came as a value (CSV row, stored object).
    Value(Value),
}

/// One input record.
#[derive(Debug)]
pub struct InputRecord {
    /// 1-based line number (CSV: the line the row starts on; store: the record's index).
    pub line: u64,
    /// Byte offset just past this record.
    pub end_offset: u64,
    /// The record, or why it could not be read.
    pub record: Result<Value, String>,
    /// Its raw form; `None` when the source can give it on demand ([`RecordSource::last_raw`]).
    pub raw: Option<Raw>,
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
}

impl<T: Iterator<Item = std::io::Result<InputRecord>>> RecordSource for T {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        self.next()
    }
    fn last_raw(&self) -> Raw {
        Raw::Text(String::new())
    }
}

/// NDJSON lines from a reader.
pub struct NdjsonSource<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
    fields: Option<Vec<Arc<str>>>,
    slot_fields: Option<Vec<(Arc<str>, Want)>>,
    slots: Vec<Option<Value>>,
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
        }
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
    pub fn with_slots(mut self, slot_fields: Option<Vec<(Arc<str>, Want)>>) -> Self {
        self.slot_fields = slot_fields;
        self
    }
}

impl<R: BufRead> NdjsonSource<R> {
    /// The next record.
    pub fn next_line(&mut self) -> Option<std::io::Result<InputRecord>> {
        loop {
            self.buf.clear();
            let n = match self.reader.read_until(b'\n', &mut self.buf) {
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
            let (record, raw) = match std::str::from_utf8(content) {
                Err(e) => (
                    Err(format!("line is not valid UTF-8 ({e})")),
                    Some(Raw::Text(String::from_utf8_lossy(content).into_owned())),
                ),
                Ok(text) => {
                    let parsed = match &self.slot_fields {
                        Some(table) => {
                            parse_into_slots(content, table, &mut self.slots).map(|()| Value::Null)
                        }
                        None => parse_record_fields(content, self.fields.as_deref()),
                    };
                    match parsed {
                        Ok(v) => (Ok(v), None),
                        Err(e) => (Err(e), Some(Raw::Text(text.to_string()))),
                    }
                }
            };
            return Some(Ok(InputRecord {
                line: self.line,
                end_offset: self.offset,
                record,
                raw,
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

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line.get(end - 1), Some(b'\n' | b'\r')) {
        end -= 1;
    }
    line.get(..end).unwrap_or(line)
}

/// CSV rows with a header line; cells typed by the schema when it declares the column as a
/// number or boolean, empty cells null, other cells text.
pub struct CsvSource<R: std::io::Read> {
    reader: csv::Reader<R>,
    headers: Vec<Arc<str>>,
    schema: Option<Schema>,
    skip_until_line: u64,
    header_error: Option<String>,
}

impl<R: std::io::Read> CsvSource<R> {
    /// Reads CSV from `reader`; rows on lines up to `skip_until_line` were processed before.
    pub fn new(reader: R, schema: Option<Schema>, skip_until_line: u64) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(reader);
        let (headers, header_error) = match reader.headers() {
            Ok(h) => (h.iter().map(Arc::from).collect(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        CsvSource {
            reader,
            headers,
            schema,
            skip_until_line,
            header_error,
        }
    }

    fn cell(&self, column: &str, text: &str) -> Result<Value, String> {
        if text.is_empty() {
            return Ok(Value::Null);
        }
        let declared = self
            .schema
            .as_ref()
            .and_then(|s| s.get(column))
            .unwrap_or(TypeSet::STRING);
        if declared == TypeSet::NUMBER {
            return parse_number_text(text)
                .map(Value::Number)
                .ok_or_else(|| format!("column {column}: '{text}' is not a number"));
        }
        if declared == TypeSet::BOOLEAN {
            return match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Value::Bool(true)),
                "false" | "0" | "no" => Ok(Value::Bool(false)),
                _ => Err(format!("column {column}: '{text}' is not a boolean")),
            };
        }
        Ok(Value::str(text))
    }
}

impl<R: std::io::Read> Iterator for CsvSource<R> {
    type Item = std::io::Result<InputRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.header_error.take() {
            return Some(Ok(InputRecord {
                line: 1,
                end_offset: 0,
                record: Err(format!("CSV header: {e}")),
                raw: Some(Raw::Text(String::new())),
            }));
        }
        loop {
            let mut row = csv::ByteRecord::new();
            let result = self.reader.read_byte_record(&mut row);
            let position = self.reader.position().clone();
            let line = row.position().map_or(position.line(), csv::Position::line);
            match result {
                Ok(false) => return None,
                Ok(true) if line <= self.skip_until_line => continue,
                Ok(true) => {
                    let mut map =
                        Map::with_capacity_and_hasher(self.headers.len(), Default::default());
                    let mut error = None;
                    for (h, cell) in self.headers.iter().zip(row.iter()) {
                        let text = String::from_utf8_lossy(cell);
                        if std::str::from_utf8(cell).is_err() {
                            error.get_or_insert_with(|| format!("column {h}: not valid UTF-8"));
                        }
                        match self.cell(h, &text) {
                            Ok(v) => {
                                map.insert(h.clone(), v);
                            }
                            Err(e) => {
                                error.get_or_insert(e);
                                map.insert(h.clone(), Value::string(text.into_owned()));
                            }
                        }
                    }
                    let value = Value::object(map);
                    return Some(Ok(InputRecord {
                        line,
                        end_offset: position.byte(),
                        record: match error {
                            Some(e) => Err(e),
                            None => Ok(value.clone()),
                        },
                        raw: Some(Raw::Value(value)),
                    }));
                }
                Err(e) => {
                    if let csv::ErrorKind::Io(_) = e.kind() {
                        return Some(Err(std::io::Error::other(e.to_string())));
                    }
                    if line <= self.skip_until_line {
                        continue;
                    }
                    let text = row
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                        .join(",");
                    return Some(Ok(InputRecord {
                        line,
                        end_offset: position.byte(),
                        record: Err(format!("CSV: {e}")),
                        raw: Some(Raw::Text(text)),
                    }));
                }
            }
        }
    }
}

/// Records already in memory (the store, retried dead letters).
pub struct ValueSource {
    records: std::vec::IntoIter<super::dead_letters::LineRecord>,
}

impl ValueSource {
    /// Records with their line numbers.
    pub fn new(records: Vec<super::dead_letters::LineRecord>) -> Self {
        ValueSource {
            records: records.into_iter(),
        }
    }
}

impl Iterator for ValueSource {
    type Item = std::io::Result<InputRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, record, raw) = self.records.next()?;
        Some(Ok(InputRecord {
            line,
            end_offset: 0,
            record,
            raw: Some(raw),
        }))
    }
}
