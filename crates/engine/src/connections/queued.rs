//! Records that arrive in pages or batches (an API's pages, a table's rows): each text is
//! parsed as an NDJSON line would be (the same limits, codes and raw form for the dead
//! letters), queued, and handed out one by one with its line.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::diagnostics::Diag;
use crate::transform::source::{
    parse_line, raw_of_bad_line, raw_of_line, InputRecord, Raw, ReadError,
};
use crate::value::Value;
use crate::DiagError;

/// Parsed records waiting to be handed out.
pub struct Queued {
    items: VecDeque<(Result<Value, ReadError>, Raw)>,
    /// The line of the last record queued.
    pub line: u64,
    last_raw: Raw,
    limits: crate::limits::Limits,
    fields: Option<Vec<Arc<str>>>,
}

impl Queued {
    /// An empty queue whose next record is line `after + 1`, parsing only `fields` (all when
    /// none) under `limits`.
    pub fn new(after: u64, limits: crate::limits::Limits, fields: Option<Vec<Arc<str>>>) -> Queued {
        Queued {
            items: VecDeque::new(),
            line: after,
            last_raw: Raw::Text(String::new()),
            limits,
            fields,
        }
    }

    /// Parses `text` and queues it as the next line; the record, when it parsed.
    pub fn push(&mut self, text: &[u8]) -> Option<&Value> {
        let mut slots = Vec::new();
        let parsed = parse_line(text, &self.limits, self.fields.as_deref(), None, &mut slots)
            .map(Option::unwrap_or_default);
        let raw = match &parsed {
            Ok(_) => raw_of_line(text),
            Err(_) => raw_of_bad_line(text),
        };
        self.items.push_back((parsed, raw));
        self.line += 1;
        self.items
            .back()
            .and_then(|(parsed, _)| parsed.as_ref().ok())
    }

    /// The next record queued, with its line.
    fn pop(&mut self) -> Option<InputRecord> {
        let (record, raw) = self.items.pop_front()?;
        let line = self.line - self.items.len() as u64;
        self.last_raw = raw.clone();
        Some(InputRecord {
            line,
            end_offset: 0,
            record,
            raw: Some(raw),
            origin: None,
        })
    }

    /// Whether every record queued has been handed out.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The raw form of the last record handed out.
    pub fn last_raw(&self) -> Raw {
        self.last_raw.clone()
    }
}

/// The next record of `reader`: the next queued one, or, when none is, what `fetch` queues
/// next (`false` from it: the end; an error: the read's failure).
pub fn next<R>(
    reader: &mut R,
    queue: fn(&mut R) -> &mut Queued,
    fetch: fn(&mut R) -> Result<bool, Diag>,
) -> Option<std::io::Result<InputRecord>> {
    loop {
        if let Some(record) = queue(reader).pop() {
            return Some(Ok(record));
        }
        match fetch(reader) {
            Ok(true) => continue,
            Ok(false) => return None,
            Err(diag) => return Some(Err(std::io::Error::other(DiagError(diag)))),
        }
    }
}
