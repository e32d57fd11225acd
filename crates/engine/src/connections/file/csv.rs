//! CSV rows as records (a file source of the sync engine).

use std::sync::Arc;

use crate::stdlib::convert::parse_number_text;
use crate::transform::source::{InputRecord, Raw, ReadError};
use crate::value::{Map, Schema, TypeSet, Value};

/// CSV rows with a header line; cells typed by the schema when it declares the column as a
/// number or boolean, empty cells null, other cells text.
pub struct CsvSource<R: std::io::Read> {
    reader: csv::Reader<R>,
    headers: Vec<Arc<str>>,
    schema: Option<Schema>,
    skip_until_line: u64,
    header_error: Option<String>,
    max_record_bytes: usize,
}

impl<R: std::io::Read> CsvSource<R> {
    /// Reads CSV from `reader`; rows on lines up to `skip_until_line` were processed before.
    pub fn new(reader: R, schema: Option<Schema>, skip_until_line: u64) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(reader);
        let (headers, header_error) = match reader.headers() {
            Ok(h) => {
                let headers: Vec<Arc<str>> = h.iter().map(Arc::from).collect();
                let duplicate = headers
                    .iter()
                    .enumerate()
                    .find(|(i, name)| headers.iter().take(*i).any(|n| n == *name));
                match duplicate {
                    Some((i, name)) => (
                        Vec::new(),
                        Some(format!(
                            "column {} repeats the name `{name}` of an earlier column; \
                             every column needs its own name",
                            i + 1
                        )),
                    ),
                    None => (headers, None),
                }
            }
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        CsvSource {
            reader,
            headers,
            schema,
            skip_until_line,
            header_error,
            max_record_bytes: crate::limits::Limits::default().max_record_bytes,
        }
    }

    /// Reads rows under `limits` (record size).
    pub fn with_limits(mut self, limits: crate::limits::Limits) -> Self {
        self.max_record_bytes = limits.max_record_bytes;
        self
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
            self.headers.clear();
            return Some(Err(std::io::Error::other(format!("CSV header: {e}"))));
        }
        if self.headers.is_empty() {
            return None;
        }
        loop {
            let mut row = csv::ByteRecord::new();
            let start = self.reader.position().byte();
            let result = self.reader.read_byte_record(&mut row);
            let position = self.reader.position().clone();
            let line = row.position().map_or(position.line(), csv::Position::line);
            let bytes = position.byte().saturating_sub(start);
            match result {
                Ok(false) => return None,
                Ok(true) if line <= self.skip_until_line => continue,
                Ok(true) if bytes > self.max_record_bytes as u64 => {
                    return Some(Ok(InputRecord {
                        line,
                        end_offset: position.byte(),
                        record: Err(ReadError::new(
                            crate::diagnostics::codes::E508_RECORD_TOO_LARGE,
                            format!(
                                "the record is {bytes} bytes, over the limit of {}",
                                self.max_record_bytes
                            ),
                        )),
                        raw: Some(Raw::Text(
                            row.iter()
                                .map(|c| String::from_utf8_lossy(c).into_owned())
                                .collect::<Vec<_>>()
                                .join(","),
                        )),
                        origin: None,
                    }));
                }
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
                            Some(e) => Err(ReadError::invalid(e)),
                            None => Ok(value.clone()),
                        },
                        raw: Some(Raw::Value(value)),
                        origin: None,
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
                        record: Err(ReadError::invalid(format!("CSV: {e}"))),
                        raw: Some(Raw::Text(text)),
                        origin: None,
                    }));
                }
            }
        }
    }
}
