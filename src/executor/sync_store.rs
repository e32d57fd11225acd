//! The store as a sync target: upserts with the four conflict rules, checkpoints committed
//! in the same transaction as the records they cover, run metrics, and the review queue.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::connector::Conflict;
use super::store::{scalar_key, Store, StoreError};
use crate::value::{Map, Value};

/// Where a run stands in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Byte offset of the first unread input byte.
    pub byte_offset: u64,
    /// Number of input lines consumed.
    pub line: u64,
    /// Size of the dead-letter file that goes with this position.
    pub dead_letter_bytes: u64,
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
}

/// Metrics of one run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunMetrics {
    /// Connector name.
    pub connector: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub ended_at: String,
    /// Records read.
    pub read: u64,
    /// Records written.
    pub written: u64,
    /// Records filtered out by a condition.
    pub filtered: u64,
    /// Records sent to the dead letters.
    pub failed: u64,
    /// Records queued for review.
    pub queued: u64,
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

fn incoming_time(record: &Value, fallback: DateTime<Utc>) -> DateTime<Utc> {
    match record.get_key("updated_at") {
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(fallback),
        Some(Value::DateTime(d)) => d.with_timezone(&Utc),
        _ => fallback,
    }
}

impl Store {
    /// The checkpoint of `connector` over `input`.
    pub fn checkpoint(
        &self,
        connector: &str,
        input: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let row: Option<(i64, i64, i64)> = self
            .conn()
            .query_row(
                "SELECT byte_offset, line, dead_letter_bytes FROM checkpoints WHERE connector = ?1 AND input = ?2",
                params![connector, input],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(row.map(|(o, l, d)| Checkpoint {
            byte_offset: u64::try_from(o).unwrap_or(0),
            line: u64::try_from(l).unwrap_or(0),
            dead_letter_bytes: u64::try_from(d).unwrap_or(0),
        }))
    }

    /// Forgets the checkpoint of `connector` over `input`.
    pub fn clear_checkpoint(&self, connector: &str, input: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM checkpoints WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Upserts `records` into `object_type` by `key_field` under `conflict`, and records the
    /// checkpoint, all in one transaction: after a crash either both happened or neither.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_batch(
        &mut self,
        connector: &str,
        object_type: &str,
        key_field: &str,
        conflict: Conflict,
        records: &[Value],
        now: DateTime<Utc>,
        checkpoint: Option<(&str, Checkpoint)>,
    ) -> Result<BatchCounts, StoreError> {
        let path = self.path().to_path_buf();
        let tx = self
            .conn_mut()
            .transaction()
            .map_err(|e| super::store::classify(e, &path))?;
        let counts = upsert_all(
            &tx,
            connector,
            object_type,
            key_field,
            conflict,
            records,
            now,
        )
        .map_err(|e| super::store::classify(e, &path))?;
        if let Some((input, cp)) = checkpoint {
            tx.execute(
                "INSERT INTO checkpoints(connector, input, byte_offset, line, dead_letter_bytes, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(connector, input) DO UPDATE SET byte_offset = ?3, line = ?4, dead_letter_bytes = ?5, updated_at = ?6",
                params![
                    connector,
                    input,
                    i64::try_from(cp.byte_offset).unwrap_or(i64::MAX),
                    i64::try_from(cp.line).unwrap_or(i64::MAX),
                    i64::try_from(cp.dead_letter_bytes).unwrap_or(i64::MAX),
                    timestamp(now)
                ],
            )
            .map_err(|e| super::store::classify(e, &path))?;
        }
        tx.commit().map_err(|e| super::store::classify(e, &path))?;
        Ok(counts)
    }

    /// Records the metrics of a finished run.
    pub fn record_run(&self, m: &RunMetrics) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO runs(connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    m.connector,
                    m.started_at,
                    m.ended_at,
                    i64::try_from(m.read).unwrap_or(i64::MAX),
                    i64::try_from(m.written).unwrap_or(i64::MAX),
                    i64::try_from(m.filtered).unwrap_or(i64::MAX),
                    i64::try_from(m.failed).unwrap_or(i64::MAX),
                    i64::try_from(m.queued).unwrap_or(i64::MAX),
                    m.error_rate,
                    m.p50_us,
                    m.p95_us,
                    m.p99_us,
                    m.dry_run
                ],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// The latest run of each connector (or of one).
    pub fn last_runs(&self, connector: Option<&str>) -> Result<Vec<RunMetrics>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run
                 FROM runs r WHERE id = (SELECT max(id) FROM runs WHERE connector = r.connector)
                 AND (?1 IS NULL OR connector = ?1) ORDER BY connector",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![connector], |r| {
                let count = |i: usize| -> rusqlite::Result<u64> {
                    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
                };
                Ok(RunMetrics {
                    connector: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    read: count(3)?,
                    written: count(4)?,
                    filtered: count(5)?,
                    failed: count(6)?,
                    queued: count(7)?,
                    error_rate: r.get(8)?,
                    p50_us: r.get(9)?,
                    p95_us: r.get(10)?,
                    p99_us: r.get(11)?,
                    dry_run: r.get(12)?,
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
        let fail = |e| super::store::classify(e, &path);
        let tx = self.conn_mut().transaction().map_err(fail)?;
        let row: Option<(String, String, String, String)> = tx
            .query_row(
                "SELECT connector, object_type, key_field, incoming FROM reviews WHERE id = ?1 AND status = 'pending'",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(fail)?;
        let Some((connector, object_type, key_field, incoming)) = row else {
            return Ok(false);
        };
        if accept {
            let record =
                crate::value::parse_record(&incoming).map_err(|e| StoreError::Corrupt {
                    path: path.clone(),
                    reason: format!("review {id} holds invalid JSON: {e}"),
                })?;
            upsert_all(
                &tx,
                &connector,
                &object_type,
                &key_field,
                Conflict::ExternalWins,
                &[record],
                now,
            )
            .map_err(fail)?;
        }
        let status = if accept { "accepted" } else { "rejected" };
        tx.execute(
            "UPDATE reviews SET status = ?2 WHERE id = ?1",
            params![id, status],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(true)
    }
}

fn upsert_all(
    tx: &Transaction,
    connector: &str,
    object_type: &str,
    key_field: &str,
    conflict: Conflict,
    records: &[Value],
    now: DateTime<Utc>,
) -> rusqlite::Result<BatchCounts> {
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
    let mut index = tx.prepare_cached(
        "INSERT INTO object_values(object_id, type, field, value, folded) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
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
        let incoming_stamp = timestamp(incoming_time(record, now));
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
            if let Value::Object(fields) = data {
                for (field, value) in fields.iter() {
                    if let Some(v) = scalar_key(value) {
                        let folded = match value {
                            Value::String(s) => Some(s.to_lowercase()),
                            _ => None,
                        };
                        index.execute(params![id, object_type, &**field, v, folded])?;
                    }
                }
            }
            Ok(())
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
