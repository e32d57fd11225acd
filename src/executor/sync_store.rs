//! The store as a sync target: upserts with the four conflict rules, checkpoints committed
//! in the same transaction as the records they cover, run metrics, and the review queue.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::store::{scalar_key, Store, StoreError};
use crate::transform::connector::Conflict;
use crate::value::{Map, Value};

/// Where a run stands in its input, what it was reading, and what its logical run has
/// done so far. Committed in the same transaction as the records and dead letters it covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Byte offset of the first unread input byte.
    pub byte_offset: u64,
    /// Number of input lines consumed.
    pub line: u64,
    /// The fingerprint of the connector that wrote it.
    pub fingerprint: String,
    /// The size of the input when it was written.
    pub input_size: u64,
    /// SHA-256 of the input bytes just before `byte_offset` (up to 64 KiB).
    pub head_hash: String,
    /// The logical run ended here; a later run starts a new one from this position.
    pub complete: bool,
    /// When the logical run started (RFC 3339).
    pub run_started: String,
    /// How many processes (segments) the logical run took so far.
    pub segments: u64,
    /// The counts of the logical run so far.
    pub counts: Counts,
    /// A source's own position beyond line and offset, opaque to the store (an API
    /// source: the page, the records read of it, the watermark).
    pub cursor: String,
}

/// Where every record read went: each is in exactly one of the other counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Records read.
    pub read: u64,
    /// Records written (store: inserted or changed; NDJSON: lines written).
    pub written: u64,
    /// Records filtered out by a condition.
    pub filtered: u64,
    /// Records sent to the dead letters.
    pub failed: u64,
    /// Records queued for manual review.
    pub queued: u64,
    /// Records kept out by the conflict rule (the stored record won, or nothing changed).
    pub kept: u64,
    /// Records mapped but not written because the run is a dry run.
    pub not_written: u64,
}

impl Counts {
    /// Whether every record read is in exactly one count.
    pub fn balanced(&self) -> bool {
        self.read
            == self.written
                + self.filtered
                + self.failed
                + self.queued
                + self.kept
                + self.not_written
    }
}

/// What one batch did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Records inserted or changed.
    pub written: u64,
    /// Records that matched a stored one and changed nothing (fentu_wins, most_recent).
    pub kept: u64,
    /// Records queued for manual review.
    pub queued: u64,
    /// Records the sink refused (a remote system's 4xx): they are dead letters now.
    pub failed: u64,
}

/// Dead letters to commit with a batch: letters to add, and letters (of retried records)
/// to remove, each keyed by (input, line).
#[derive(Debug, Clone, Default)]
pub struct LetterBatch {
    /// (input, line, the letter's JSON line).
    pub add: Vec<(std::sync::Arc<str>, u64, String)>,
    /// (input, line) of letters whose records were retried.
    pub remove: Vec<(std::sync::Arc<str>, u64)>,
}

impl LetterBatch {
    /// Nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// Metrics of one (logical) run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunMetrics {
    /// Connector name.
    pub connector: String,
    /// Start (RFC 3339) of the logical run's first segment.
    pub started_at: String,
    /// End (RFC 3339).
    pub ended_at: String,
    /// Where the records read went.
    #[serde(flatten)]
    pub counts: Counts,
    /// failed / read.
    pub error_rate: f64,
    /// Median transform latency per record, µs.
    pub p50_us: Option<f64>,
    /// 95th percentile, µs.
    pub p95_us: Option<f64>,
    /// 99th percentile, µs.
    pub p99_us: Option<f64>,
    /// Nothing was written (inactive outbound side).
    pub dry_run: bool,
    /// Processes the logical run took (more than 1 after a crash or a stop and a resume).
    pub segments: u64,
    /// The run found nothing new to read.
    pub noop: bool,
    /// The run was stopped by a signal before the end of its input.
    pub stopped: bool,
}

/// What `sluice status` shows of a connector: its last run that read something, and when
/// a later run last found nothing new.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunStatus {
    /// The last run that read records (or the last run, when none did).
    #[serde(flatten)]
    pub run: RunMetrics,
    /// When a later run last checked and found nothing new.
    pub last_checked: Option<String>,
}

/// A queued conflict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Review {
    /// Its id.
    pub id: i64,
    /// The connector that queued it.
    pub connector: String,
    /// The object type.
    pub object_type: String,
    /// The primary key field.
    pub key_field: String,
    /// The primary key value (indexed form).
    pub key_value: String,
    /// The stored record.
    pub existing: serde_json::Value,
    /// The incoming record.
    pub incoming: serde_json::Value,
    /// When it was queued.
    pub created_at: String,
    /// pending | accepted | rejected
    pub status: String,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The instant of an `updated_at` value: an RFC 3339 instant as it is, a date alone as that
/// day's midnight in `tz`; `None` for anything else.
pub fn instant_of(value: &Value, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let midnight = |d: chrono::NaiveDate| {
        crate::stdlib::dates::localize(d.and_time(chrono::NaiveTime::MIN), tz).with_timezone(&Utc)
    };
    match value {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .map(midnight)
            }),
        Value::DateTime(d) => Some(d.with_timezone(&Utc)),
        Value::Date(d) => Some(midnight(*d)),
        _ => None,
    }
}

fn incoming_time(record: &Value, fallback: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
    record
        .get_key("updated_at")
        .and_then(|v| instant_of(v, tz))
        .unwrap_or(fallback)
}

impl Store {
    /// The checkpoint of `connector` over `input`.
    pub fn checkpoint(
        &self,
        connector: &str,
        input: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.conn()
            .query_row(
                "SELECT byte_offset, line, fingerprint, input_size, head_hash, complete, run_started, segments, counts, cursor
                 FROM checkpoints WHERE connector = ?1 AND input = ?2",
                params![connector, input],
                |r| {
                    let count = |i: usize| -> rusqlite::Result<u64> {
                        Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
                    };
                    Ok(Checkpoint {
                        byte_offset: count(0)?,
                        line: count(1)?,
                        fingerprint: r.get(2)?,
                        input_size: count(3)?,
                        head_hash: r.get(4)?,
                        complete: r.get(5)?,
                        run_started: r.get(6)?,
                        segments: count(7)?,
                        counts: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                        cursor: r.get(9)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Forgets the checkpoint of `connector` over `input`, and the dead letters of that
    /// input, in one transaction (`--from-start`: the input is read again from its start).
    pub fn clear_checkpoint(&mut self, connector: &str, input: &str) -> Result<(), StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "DELETE FROM checkpoints WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )?;
            tx.execute(
                "DELETE FROM dead_letters WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )?;
            Ok(())
        })
    }

    /// Removes the dead letters of `connector` over `input` after line `after` (what a
    /// run that reads the input again from there will write anew).
    pub fn clear_letters_after(
        &self,
        connector: &str,
        input: &str,
        after: u64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM dead_letters WHERE connector = ?1 AND input = ?2 AND line > ?3",
                params![connector, input, i64::try_from(after).unwrap_or(i64::MAX)],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Every dead letter of `connector`, by input and line.
    pub fn dead_letters(&self, connector: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT letter FROM dead_letters WHERE connector = ?1 ORDER BY input, line",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![connector], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Commits dead letters and a checkpoint together (runs that write no records to the
    /// store).
    pub fn commit_letters(
        &mut self,
        connector: &str,
        letters: &LetterBatch,
        checkpoint: Option<(&str, &Checkpoint)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if letters.is_empty() && checkpoint.is_none() {
            return Ok(());
        }
        self.write_transaction(|tx| {
            write_letters(tx, connector, letters)?;
            if let Some((input, cp)) = checkpoint {
                save_checkpoint(tx, connector, input, cp, &cp.counts, now)?;
            }
            Ok(())
        })
    }

    /// Upserts `records` into `object_type` by `key_field` under `conflict`, and records the
    /// dead letters and the checkpoint, all in one transaction: after a crash either all of
    /// it happened or none. A date-only `updated_at` is midnight in `tz`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_batch(
        &mut self,
        connector: &str,
        target: (&str, &str, Conflict),
        records: &[Value],
        letters: &LetterBatch,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
        checkpoint: Option<(&str, &Checkpoint)>,
    ) -> Result<BatchCounts, StoreError> {
        self.write_transaction(|tx| {
            let counts = upsert_all(tx, connector, target, records, now, tz)?;
            write_letters(tx, connector, letters)?;
            if let Some((input, cp)) = checkpoint {
                let mut counts_so_far = cp.counts;
                counts_so_far.written += counts.written;
                counts_so_far.kept += counts.kept;
                counts_so_far.queued += counts.queued;
                save_checkpoint(tx, connector, input, cp, &counts_so_far, now)?;
            }
            Ok(counts)
        })
    }

    /// Records a checkpoint alone (the end of a logical run marks it complete).
    pub fn save_checkpoint(
        &self,
        connector: &str,
        input: &str,
        cp: &Checkpoint,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        save_checkpoint(self.conn(), connector, input, cp, &cp.counts, now)
            .map_err(|e| self.fail(e))
    }

    /// Records the metrics of a finished (or stopped) run.
    pub fn record_run(&self, m: &RunMetrics) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO runs(connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop, stopped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    m.connector,
                    m.started_at,
                    m.ended_at,
                    i64::try_from(m.counts.read).unwrap_or(i64::MAX),
                    i64::try_from(m.counts.written).unwrap_or(i64::MAX),
                    i64::try_from(m.counts.filtered).unwrap_or(i64::MAX),
                    i64::try_from(m.counts.failed).unwrap_or(i64::MAX),
                    i64::try_from(m.counts.queued).unwrap_or(i64::MAX),
                    m.error_rate,
                    m.p50_us,
                    m.p95_us,
                    m.p99_us,
                    m.dry_run,
                    i64::try_from(m.counts.kept).unwrap_or(i64::MAX),
                    i64::try_from(m.segments).unwrap_or(i64::MAX),
                    m.noop,
                    m.stopped
                ],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// The latest run of each connector (or of one) that read something, and the time of
    /// its latest run that found nothing new, when that came later.
    pub fn last_runs(&self, connector: Option<&str>) -> Result<Vec<RunStatus>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop, stopped,
                        (SELECT max(ended_at) FROM runs n WHERE n.connector = r.connector AND n.noop AND n.id > r.id)
                 FROM runs r WHERE id = (SELECT coalesce(max(CASE WHEN noop THEN NULL ELSE id END), max(id)) FROM runs WHERE connector = r.connector)
                 AND (?1 IS NULL OR connector = ?1) ORDER BY connector",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![connector], |r| {
                let count = |i: usize| -> rusqlite::Result<u64> {
                    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
                };
                Ok(RunStatus {
                    run: RunMetrics {
                        connector: r.get(0)?,
                        started_at: r.get(1)?,
                        ended_at: r.get(2)?,
                        counts: Counts {
                            read: count(3)?,
                            written: count(4)?,
                            filtered: count(5)?,
                            failed: count(6)?,
                            queued: count(7)?,
                            kept: count(13)?,
                            not_written: 0,
                        },
                        error_rate: r.get(8)?,
                        p50_us: r.get(9)?,
                        p95_us: r.get(10)?,
                        p99_us: r.get(11)?,
                        dry_run: r.get(12)?,
                        segments: count(14)?,
                        noop: r.get(15)?,
                        stopped: r.get(16)?,
                    },
                    last_checked: r.get(17)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Reviews, pending ones only unless `all`.
    pub fn reviews(&self, all: bool) -> Result<Vec<Review>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT id, connector, object_type, key_field, key_value, existing, incoming, created_at, status
                 FROM reviews WHERE ?1 OR status = 'pending' ORDER BY id",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![all], |r| {
                let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
                    Ok(serde_json::from_str(&r.get::<_, String>(i)?)
                        .unwrap_or(serde_json::Value::Null))
                };
                Ok(Review {
                    id: r.get(0)?,
                    connector: r.get(1)?,
                    object_type: r.get(2)?,
                    key_field: r.get(3)?,
                    key_value: r.get(4)?,
                    existing: json(5)?,
                    incoming: json(6)?,
                    created_at: r.get(7)?,
                    status: r.get(8)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Accepts (applies the incoming record) or rejects a pending review. `Ok(false)` when
    /// there is no pending review with that id.
    pub fn decide_review(
        &mut self,
        id: i64,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path().to_path_buf();
        let decided = self.write_transaction(|tx| {
            let row: Option<(String, String, String, String)> = tx
                .query_row(
                    "SELECT connector, object_type, key_field, incoming FROM reviews WHERE id = ?1 AND status = 'pending'",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((connector, object_type, key_field, incoming)) = row else {
                return Ok(Ok(false));
            };
            if accept {
                let record = match crate::value::parse_record(&incoming) {
                    Ok(record) => record,
                    Err(e) => return Ok(Err(format!("review {id} holds invalid JSON: {e}"))),
                };
                upsert_all(
                    tx,
                    &connector,
                    (&object_type, &key_field, Conflict::ExternalWins),
                    &[record],
                    now,
                    chrono_tz::Tz::UTC,
                )?;
            }
            let status = if accept { "accepted" } else { "rejected" };
            tx.execute(
                "UPDATE reviews SET status = ?2 WHERE id = ?1",
                params![id, status],
            )?;
            Ok(Ok(true))
        })?;
        decided.map_err(|reason| StoreError::Corrupt { path, reason })
    }
}

fn write_letters(tx: &Transaction, connector: &str, letters: &LetterBatch) -> rusqlite::Result<()> {
    let mut remove = tx.prepare_cached(
        "DELETE FROM dead_letters WHERE connector = ?1 AND input = ?2 AND line = ?3",
    )?;
    for (input, line) in &letters.remove {
        remove.execute(params![
            connector,
            &**input,
            i64::try_from(*line).unwrap_or(i64::MAX)
        ])?;
    }
    let mut add = tx.prepare_cached(
        "INSERT OR REPLACE INTO dead_letters(connector, input, line, letter) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (input, line, letter) in &letters.add {
        add.execute(params![
            connector,
            &**input,
            i64::try_from(*line).unwrap_or(i64::MAX),
            letter
        ])?;
    }
    Ok(())
}

fn save_checkpoint(
    conn: &rusqlite::Connection,
    connector: &str,
    input: &str,
    cp: &Checkpoint,
    counts: &Counts,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    conn.execute(
        "INSERT INTO checkpoints(connector, input, byte_offset, line, dead_letter_bytes, updated_at, fingerprint, input_size, head_hash, complete, run_started, segments, counts, cursor)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(connector, input) DO UPDATE SET byte_offset = ?3, line = ?4, updated_at = ?5, fingerprint = ?6,
             input_size = ?7, head_hash = ?8, complete = ?9, run_started = ?10, segments = ?11, counts = ?12, cursor = ?13",
        params![
            connector,
            input,
            big(cp.byte_offset),
            big(cp.line),
            timestamp(now),
            cp.fingerprint,
            big(cp.input_size),
            cp.head_hash,
            cp.complete,
            cp.run_started,
            big(cp.segments),
            serde_json::to_string(counts).unwrap_or_default(),
            cp.cursor
        ],
    )
    .map(|_| ())
}

fn upsert_all(
    tx: &Transaction,
    connector: &str,
    target: (&str, &str, Conflict),
    records: &[Value],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> rusqlite::Result<BatchCounts> {
    let (object_type, key_field, conflict) = target;
    let mut counts = BatchCounts::default();
    let mut find = tx.prepare_cached(
        "SELECT o.id, o.data, o.updated_at FROM object_values v JOIN objects o ON o.id = v.object_id
         WHERE v.type = ?1 AND v.field = ?2 AND v.value = ?3 ORDER BY o.id LIMIT 1",
    )?;
    let mut insert =
        tx.prepare_cached("INSERT INTO objects(type, data, updated_at) VALUES (?1, ?2, ?3)")?;
    let mut update =
        tx.prepare_cached("UPDATE objects SET data = ?2, updated_at = ?3 WHERE id = ?1")?;
    let mut clear = tx.prepare_cached("DELETE FROM object_values WHERE object_id = ?1")?;
    let mut index = tx.prepare_cached(super::store::INDEX_VALUE)?;
    let mut queue = tx.prepare_cached(
        "INSERT INTO reviews(connector, object_type, key_field, key_value, existing, incoming, created_at, status)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending'
         WHERE NOT EXISTS (SELECT 1 FROM reviews WHERE status = 'pending' AND object_type = ?2 AND key_value = ?4 AND incoming = ?6)",
    )?;
    let stamp = timestamp(now);
    for record in records {
        let Some(key) = record.get_key(key_field).and_then(scalar_key) else {
            continue;
        };
        let existing: Option<(i64, String, String)> = find
            .query_row(params![object_type, key_field, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let incoming_stamp = timestamp(incoming_time(record, now, tz));
        let mut write = |id: Option<i64>, data: &Value, stamp: &str| -> rusqlite::Result<()> {
            let id = match id {
                Some(id) => {
                    update.execute(params![id, data.to_json(), stamp])?;
                    clear.execute(params![id])?;
                    id
                }
                None => {
                    insert.execute(params![object_type, data.to_json(), stamp])?;
                    tx.last_insert_rowid()
                }
            };
            super::store::index_fields(&mut index, id, object_type, data)
        };
        let Some((id, stored_json, stored_at)) = existing else {
            write(None, record, &incoming_stamp)?;
            counts.written += 1;
            continue;
        };
        let stored = crate::value::parse_record(&stored_json).unwrap_or(Value::Null);
        match conflict {
            Conflict::ExternalWins => {
                write(Some(id), record, &incoming_stamp)?;
                counts.written += 1;
            }
            Conflict::FentuWins => {
                let merged = merge_missing(&stored, record);
                if merged == stored {
                    counts.kept += 1;
                } else {
                    write(Some(id), &merged, &stored_at)?;
                    counts.written += 1;
                }
            }
            Conflict::MostRecent => {
                if incoming_stamp > stored_at {
                    write(Some(id), record, &incoming_stamp)?;
                    counts.written += 1;
                } else {
                    counts.kept += 1;
                }
            }
            Conflict::ManualReview => {
                if stored == *record {
                    counts.kept += 1;
                } else {
                    queue.execute(params![
                        connector,
                        object_type,
                        key_field,
                        key,
                        stored_json,
                        record.to_json(),
                        stamp
                    ])?;
                    counts.queued += 1;
                }
            }
        }
    }
    Ok(counts)
}

/// `stored` with the fields of `incoming` it lacks added (stored values win).
fn merge_missing(stored: &Value, incoming: &Value) -> Value {
    match (stored, incoming) {
        (Value::Object(s), Value::Object(i)) => {
            let mut out: Map = (**s).clone();
            for (k, v) in i.iter() {
                if !out.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::object(out)
        }
        _ => stored.clone(),
    }
}
