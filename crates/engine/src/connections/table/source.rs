//! Rows of a SQL table as records, in batches (each database's [`Batches`]), resumable: the checkpoint's cursor
//! is the watermark and key of the last row processed, so a killed run goes on after it and
//! the next run of an incremental table reads only the rows after it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{quoted_name, Batches, Position};
use crate::connections::queued::{self, Queued};
use crate::diagnostics::{codes, Diag};
use crate::seams::{ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::transform::source::{InputRecord, Raw};
use crate::transform::table::Table;

/// Where a table read stands: the checkpoint's `cursor`, as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// The last row processed: its watermark (incremental reads) and its key, as text.
    pub after: Option<Position>,
    /// The read reached the end of the table (a full read starts over next time).
    pub ended: bool,
}

/// The positions of the rows read and not yet behind a checkpoint.
#[derive(Default)]
struct ReadLog {
    /// The cursor before the first row kept.
    base: Cursor,
    /// Each row's line and position.
    rows: VecDeque<(u64, Position)>,
    /// The line of the last row, once the end of the table was reached.
    ended_at: Option<u64>,
}

impl ReadLog {
    /// The cursor after line `line`; rows up to it are dropped.
    fn cursor_at(&mut self, line: u64) -> Cursor {
        while let Some((at, _)) = self.rows.front() {
            if *at > line {
                break;
            }
            if let Some((_, position)) = self.rows.pop_front() {
                self.base.after = Some(position);
            }
        }
        Cursor {
            after: self.base.after.clone(),
            ended: self.ended_at == Some(line),
        }
    }
}

/// A table read as an inbound side.
pub struct TableSource {
    table: Table,
    key: String,
    log: Arc<Mutex<ReadLog>>,
}

impl TableSource {
    /// The source of `table` (connected when opened).
    pub fn open(table: &Table) -> Result<TableSource, Diag> {
        let name = quoted_name(table, "inbound", super::quote)?;
        Ok(TableSource {
            key: format!("table:{name}"),
            table: table.clone(),
            log: Arc::default(),
        })
    }
}

impl Source for TableSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        true
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        let cursor = match self.log.lock() {
            Ok(mut log) => log.cursor_at(checkpoint.line),
            Err(_) => {
                return Err(Diag::new(
                    codes::E705_STORE_FAILED,
                    "table read log poisoned",
                ))
            }
        };
        checkpoint.keep_cursor(&cursor);
        Ok(())
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let saved: Cursor = Checkpoint::cursor_of(resume).unwrap_or_default();
        // An incremental read goes on after the last row; a full one starts over once it
        // reached the end.
        let start = match (&self.table.watermark, saved.ended) {
            (None, true) => Cursor::default(),
            _ => Cursor {
                ended: false,
                ..saved
            },
        };
        if let Ok(mut log) = self.log.lock() {
            *log = ReadLog {
                base: start.clone(),
                ..ReadLog::default()
            };
        }
        let batches = super::open_batches(&self.table)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(PREFETCH);
        let (after, batch) = (start.after.clone(), self.table.batch());
        // Detached: a run that stops early leaves it blocked on its send.
        std::thread::spawn(move || prefetch(batches, after, batch, &sender));
        let mut fields = settings.transform.input_fields.clone();
        if let Some(fields) = &mut fields {
            fields.push(Arc::from(self.table.key.as_str()));
            if let Some(watermark) = &self.table.watermark {
                fields.push(Arc::from(watermark.as_str()));
            }
        }
        Ok(Reading::Records(Box::new(TableReader {
            batches: receiver,
            log: Arc::clone(&self.log),
            queued: Queued::new(resume.map_or(0, |c| c.line), settings.limits, fields),
            done: false,
        })))
    }
}

/// Batches fetched ahead of the rows being processed.
const PREFETCH: usize = 2;

/// One batch as fetched: its rows, and whether it is the table's last.
type Fetched = Result<(Vec<(String, Position)>, bool), Diag>;

/// Fetches the batches one after another on a thread of its own, so that the database
/// reads the next batch while the rows of this one are processed.
fn prefetch(
    mut batches: Box<dyn Batches>,
    mut after: Option<Position>,
    batch: u64,
    sender: &std::sync::mpsc::SyncSender<Fetched>,
) {
    loop {
        let fetched = batches.after(after.as_ref());
        let (last, failed) = match &fetched {
            Ok(rows) => {
                after = rows.last().map(|(_, p)| p.clone()).or(after);
                ((rows.len() as u64) < batch, false)
            }
            Err(_) => (true, true),
        };
        let sent = match fetched {
            Ok(rows) => sender.send(Ok((rows, last))),
            Err(diag) => sender.send(Err(diag)),
        };
        if sent.is_err() || last || failed {
            return;
        }
    }
}

/// Hands out the rows of the table batch by batch, parsed, keeping the read log.
struct TableReader {
    batches: std::sync::mpsc::Receiver<Fetched>,
    log: Arc<Mutex<ReadLog>>,
    queued: Queued,
    done: bool,
}

impl TableReader {
    /// Reads the next batch into the queue; `false` at the end of the table.
    fn fetch(&mut self) -> Result<bool, Diag> {
        if self.done {
            return Ok(false);
        }
        let Ok(fetched) = self.batches.recv() else {
            return Ok(false);
        };
        let (rows, last) = fetched?;
        let mut positions = Vec::with_capacity(rows.len());
        for (text, position) in rows.iter() {
            self.queued.push(text.as_bytes());
            positions.push((self.queued.line, position.clone()));
        }
        self.done = last;
        if let Ok(mut log) = self.log.lock() {
            log.rows.extend(positions);
            if self.done {
                log.ended_at = Some(self.queued.line);
            }
        }
        Ok(!rows.is_empty())
    }
}

impl crate::transform::source::RecordSource for TableReader {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        queued::next(self, |r| &mut r.queued, TableReader::fetch)
    }

    fn last_raw(&self) -> Raw {
        self.queued.last_raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_the_last_row_behind_the_checkpoint() {
        let mut log = ReadLog::default();
        log.rows.extend([
            (1, (Some("a".to_string()), "1".to_string())),
            (2, (Some("a".to_string()), "2".to_string())),
            (3, (Some("b".to_string()), "3".to_string())),
        ]);
        log.ended_at = Some(3);
        let at_two = log.cursor_at(2);
        assert_eq!(at_two.after, Some((Some("a".to_string()), "2".to_string())));
        assert!(!at_two.ended);
        assert_eq!(
            log.cursor_at(2),
            at_two,
            "asking again gives the same cursor"
        );
        assert!(log.cursor_at(3).ended);
    }
}
