//! The store as a sync target: upserts with the four conflict rules, checkpoints committed
//! in the same transaction as the records they cover, run metrics, and the review queue.
//!
//! Why one long file: one transaction writes the records of a batch, their conflict-rule
//! outcomes, origins, the checkpoint and the run's metrics together, and every function here
//! takes part in it; cut apart, that transaction would be spread over files that only make
//! sense together.

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

use crate::store::db::{params, Conn, DbError, Fence, Row};
use crate::store::origins::{hash_of, Baseline, BaselineWrite, OUTBOUND};
use crate::store::{
    delete_objects, lock_keys, query_by_keys, scalar_key, stored_object_versions, write_objects,
    ObjectWrite, Store, StoreError,
};
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
    /// The lease under which a partition's checkpoint is written (not stored): each
    /// commit renews it, and fails when another worker has taken the partition over.
    pub lease: Option<Lease>,
    /// The fencing token of the run lock under which the checkpoint is written (not
    /// stored; PostgreSQL): each commit checks it is still the newest.
    pub fence: Option<Fence>,
}

impl Checkpoint {
    /// The source's own position kept in `resume`, as the source wrote it; `None` without a
    /// checkpoint or with a cursor of another shape (an older version's).
    pub fn cursor_of<T: serde::de::DeserializeOwned>(resume: Option<&Checkpoint>) -> Option<T> {
        resume.and_then(|c| serde_json::from_str(&c.cursor).ok())
    }

    /// Keeps a source's own position with the checkpoint.
    pub fn keep_cursor<T: serde::Serialize>(&mut self, cursor: &T) {
        self.cursor = serde_json::to_string(cursor).unwrap_or_default();
    }
}

/// A partition of a partitioned run: its number, byte range and first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Its number.
    pub part: i64,
    /// Its first byte's offset.
    pub start: u64,
    /// The offset just past its last byte.
    pub end: u64,
    /// The input line its first line is.
    pub first_line: u64,
}

/// A worker's lease on a partition of a partitioned run (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The connector.
    pub connector: String,
    /// The input's key (the partitions' common part).
    pub input: String,
    /// The partition.
    pub part: i64,
    /// The worker holding it (`host:pid:nonce`).
    pub owner: String,
    /// How long a commit extends it.
    pub ttl: std::time::Duration,
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
    /// Records that matched their stored one and changed nothing.
    #[serde(alias = "kept")]
    pub unchanged: u64,
    /// Records that lost a conflict: the stored record differs and the rule kept it (they
    /// are listed by `sluice review list --lost`).
    #[serde(default)]
    pub lost: u64,
    /// Records mapped but not written because the run is a dry run.
    pub not_written: u64,
}

impl Counts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.written += other.written;
        self.filtered += other.filtered;
        self.failed += other.failed;
        self.queued += other.queued;
        self.unchanged += other.unchanged;
        self.lost += other.lost;
        self.not_written += other.not_written;
    }

    /// Whether every record read is in exactly one count.
    pub fn balanced(&self) -> bool {
        self.read
            == self.written
                + self.filtered
                + self.failed
                + self.queued
                + self.unchanged
                + self.lost
                + self.not_written
    }
}

/// What one batch did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Records inserted or changed.
    pub written: u64,
    /// Records that matched their stored one and changed nothing.
    pub unchanged: u64,
    /// Records that differ from their stored one and lost to it under the conflict rule.
    pub lost: u64,
    /// Records queued for manual review.
    pub queued: u64,
    /// Records the sink refused (a remote system's 4xx): they are dead letters now.
    pub failed: u64,
}

/// The state committed with a batch besides records and the checkpoint: dead letters to
/// add and to remove (of retried records), each keyed by (input, line), and the baselines
/// of a bidirectional connector (`executor::origins`).
#[derive(Debug, Clone, Default)]
pub struct LetterBatch {
    /// (input, line, the letter's JSON line).
    pub add: Vec<(std::sync::Arc<str>, u64, String)>,
    /// (input, line) of letters whose records were retried.
    pub remove: Vec<(std::sync::Arc<str>, u64)>,
    /// Baselines to record.
    pub baselines: Vec<BaselineWrite>,
    /// The bidirectional connector whose way in this batch's upserts are: a stored record
    /// that still matches its baseline takes the incoming one whatever the conflict rule,
    /// and every record written gets its baseline.
    pub tracked_by: Option<std::sync::Arc<str>>,
}

impl LetterBatch {
    /// Nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.baselines.is_empty()
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
#[derive(Debug, Clone, serde::Serialize)]
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
    /// The stored record, as stored (exact numbers, fields in order).
    pub existing: Box<serde_json::value::RawValue>,
    /// The incoming record, as stored.
    pub incoming: Box<serde_json::value::RawValue>,
    /// When it was queued.
    pub created_at: String,
    /// pending | accepted | rejected | lost (a record the conflict rule kept out)
    pub status: String,
}

/// Which reviews to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewFilter {
    /// Conflicts waiting for a decision (manual_review).
    Pending,
    /// Records that lost a conflict (fentu_wins, most_recent).
    Lost,
    /// Every review, decided or not.
    All,
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

/// Where a batch of records is upserted: the object type, the key field, the conflict rule
/// and the record field holding the time each record changed (`[sync] updated_at`).
#[derive(Debug, Clone, Copy)]
pub struct UpsertTarget<'a> {
    /// The Connect Object type.
    pub object: &'a str,
    /// The primary key field.
    pub key: &'a str,
    /// The conflict rule.
    pub conflict: Conflict,
    /// The field whose time is each record's `updated_at` (most_recent compares it).
    pub time_field: &'a str,
}

fn incoming_time(
    record: &Value,
    time_field: &str,
    fallback: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> DateTime<Utc> {
    record
        .get_key(time_field)
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
        let row = self
            .conn()
            .query_row(
                "SELECT byte_offset, line, fingerprint, input_size, head_hash, complete, run_started, segments, counts, cursor
                 FROM checkpoints WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )
            .map_err(|e| self.fail(e))?;
        Ok(row.map(|r| Checkpoint {
            byte_offset: r.count(0),
            line: r.count(1),
            fingerprint: r.text(2),
            input_size: r.count(3),
            head_hash: r.text(4),
            complete: r.flag(5),
            run_started: r.text(6),
            segments: r.count(7),
            counts: serde_json::from_str(&r.text(8)).unwrap_or_default(),
            cursor: r.text(9),
            lease: None,
            fence: None,
        }))
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
                params![connector, input, after],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Every dead letter of `connector`, by input and line.
    pub fn dead_letters(&self, connector: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT letter FROM dead_letters WHERE connector = ?1 ORDER BY input, line",
                params![connector],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    /// Replaces the record of `connector`'s dead letter at `input`/`line` with `record` (a
    /// person fixed it; its error stays until a retry passes it), marking it edited.
    /// `false` when there is no such letter.
    pub fn edit_dead_letter(
        &mut self,
        connector: &str,
        input: &str,
        line: u64,
        record: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|tx| {
            let Some(row) = tx.query_row(
                "SELECT letter FROM dead_letters WHERE connector = ?1 AND input = ?2 AND line = ?3",
                params![connector, input, line],
            )?
            else {
                return Ok(false);
            };
            let mut letter: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&row.text(0)).unwrap_or_default();
            letter.insert("record".into(), serde_json::Value::Object(record.clone()));
            letter.remove("raw");
            letter.remove("raw_base64");
            letter.insert("edited".into(), serde_json::Value::Bool(true));
            let text = serde_json::Value::Object(letter).to_string();
            tx.execute(
                "UPDATE dead_letters SET letter = ?4 WHERE connector = ?1 AND input = ?2 AND line = ?3",
                params![connector, input, line, text.as_str()],
            )?;
            Ok(true)
        })
    }

    /// How many dead letters `connector` has (without reading them).
    pub fn dead_letter_count(&self, connector: &str) -> Result<u64, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT count(*) FROM dead_letters WHERE connector = ?1",
                params![connector],
            )
            .map_err(|e| self.fail(e))?;
        Ok(row.map_or(0, |r| r.count(0)))
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

    /// Upserts `records` into the target under its conflict rule, and records the dead
    /// letters and the checkpoint, all in one transaction: after a crash either all of it
    /// happened or none. A date-only time is midnight in `tz`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_batch(
        &mut self,
        connector: &str,
        target: UpsertTarget<'_>,
        records: &[Value],
        letters: &LetterBatch,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
        checkpoint: Option<(&str, &Checkpoint)>,
    ) -> Result<BatchCounts, StoreError> {
        self.write_transaction(|tx| {
            let tracked = letters.tracked_by.as_deref();
            let counts = upsert_all(tx, (connector, tracked), target, records, now, tz)?;
            write_letters(tx, connector, letters)?;
            if let Some((input, cp)) = checkpoint {
                let mut counts_so_far = cp.counts;
                counts_so_far.written += counts.written;
                counts_so_far.unchanged += counts.unchanged;
                counts_so_far.lost += counts.lost;
                counts_so_far.queued += counts.queued;
                save_checkpoint(tx, connector, input, cp, &counts_so_far, now)?;
            }
            Ok(counts)
        })
        .and_then(|counts| {
            self.wrote(counts.written)?;
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

    /// Ends a run in one transaction: its last checkpoint (when it keeps one) and its
    /// record. An idle run (it found nothing new) replaces the connector's previous idle
    /// record, so that polling leaves one row, not one per poll; records beyond the newest
    /// `keep` of the connector are pruned.
    pub fn finish_run(
        &mut self,
        connector: &str,
        checkpoint: Option<(&str, &Checkpoint)>,
        m: &RunMetrics,
        keep: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_transaction(|tx| {
            if let Some((input, cp)) = checkpoint {
                save_checkpoint(tx, connector, input, cp, &cp.counts, now)?;
            }
            if m.noop {
                tx.execute(
                    "DELETE FROM runs WHERE connector = ?1 AND noop <> 0 AND id > coalesce((SELECT max(id) FROM runs WHERE connector = ?1 AND noop = 0), 0)",
                    params![m.connector.as_str()],
                )?;
            }
            tx.execute(
                "INSERT INTO runs(connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop, stopped, lost)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                params![
                    m.connector.as_str(),
                    m.started_at.as_str(),
                    m.ended_at.as_str(),
                    m.counts.read,
                    m.counts.written,
                    m.counts.filtered,
                    m.counts.failed,
                    m.counts.queued,
                    m.error_rate,
                    m.p50_us,
                    m.p95_us,
                    m.p99_us,
                    m.dry_run,
                    m.counts.unchanged,
                    m.segments,
                    m.noop,
                    m.stopped,
                    m.counts.lost
                ],
            )?;
            tx.execute(
                "DELETE FROM runs WHERE connector = ?1 AND id <= (SELECT id FROM runs WHERE connector = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                params![m.connector.as_str(), keep.max(1)],
            )?;
            Ok(())
        })
    }

    /// Whether a run of `connector` stopped before the end of its input (a signal, a
    /// crash): a checkpoint of it is not complete.
    pub fn has_unfinished_run(&self, connector: &str) -> Result<bool, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT count(*) FROM checkpoints WHERE connector = ?1 AND complete = 0",
                params![connector],
            )
            .map_err(|e| self.fail(e))?;
        Ok(row.is_some_and(|r| r.int(0) > 0))
    }

    /// Every baseline of the bidirectional connector `owner` on `side`, by key.
    pub fn baselines(
        &self,
        owner: &str,
        side: &str,
    ) -> Result<HashMap<String, Baseline>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT key_value, hash, fields FROM sync_baselines WHERE connector = ?1 AND side = ?2",
                params![owner, side],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| (r.text(0), baseline_of_row(r)))
            .collect())
    }

    /// The keys of `object_type` with a conflict of `connector` waiting for review.
    pub fn pending_review_keys(
        &self,
        connector: &str,
        object_type: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT key_value FROM reviews WHERE status = 'pending' AND connector = ?1 AND object_type = ?2",
                params![connector, object_type],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    /// The latest run of each connector (or of one) that read something, and the time of
    /// its latest run that found nothing new, when that came later.
    pub fn last_runs(&self, connector: Option<&str>) -> Result<Vec<RunStatus>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop, stopped,
                        (SELECT max(ended_at) FROM runs n WHERE n.connector = r.connector AND n.noop <> 0 AND n.id > r.id), lost
                 FROM runs r WHERE id = (SELECT coalesce(max(CASE WHEN noop <> 0 THEN NULL ELSE id END), max(id)) FROM runs WHERE connector = r.connector)
                 AND (CAST(?1 AS TEXT) IS NULL OR connector = CAST(?1 AS TEXT)) ORDER BY connector",
                params![connector],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r: &Row| RunStatus {
                run: metrics_of(r),
                last_checked: r.opt_text(17),
            })
            .collect())
    }

    /// The runs of `connector` that read something, newest first, at most `limit`.
    pub fn run_history(&self, connector: &str, limit: u64) -> Result<Vec<RunMetrics>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT connector, started_at, ended_at, read, written, filtered, failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop, stopped, NULL, lost
                 FROM runs WHERE connector = ?1 AND noop = 0 ORDER BY id DESC LIMIT ?2",
                params![connector, i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(metrics_of).collect())
    }

    /// The reviews `which` asks for, oldest first.
    pub fn reviews(&self, which: ReviewFilter) -> Result<Vec<Review>, StoreError> {
        let status = match which {
            ReviewFilter::Pending => Some("pending"),
            ReviewFilter::Lost => Some("lost"),
            ReviewFilter::All => None,
        };
        let rows = self
            .conn()
            .query(
                "SELECT id, connector, object_type, key_field, key_value, existing, incoming, created_at, status
                 FROM reviews WHERE CAST(?1 AS TEXT) IS NULL OR status = CAST(?1 AS TEXT) ORDER BY id",
                params![status],
            )
            .map_err(|e| self.fail(e))?;
        let json = |r: &Row, i: usize| {
            serde_json::value::RawValue::from_string(r.text(i))
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned())
        };
        Ok(rows
            .iter()
            .map(|r| Review {
                id: r.int(0),
                connector: r.text(1),
                object_type: r.text(2),
                key_field: r.text(3),
                key_value: r.text(4),
                existing: json(r, 5),
                incoming: json(r, 6),
                created_at: r.text(7),
                status: r.text(8),
            })
            .collect())
    }
    /// Decides a pending (or lost) review: take the incoming record into the store, keep
    /// the stored one, or take the incoming one as a person edited it (its key as the
    /// incoming one's: an edit cannot move the record to another key). `false` when there
    /// is no such review; a refused edit is `Err(Refused)`.
    pub fn decide_review(
        &mut self,
        id: i64,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path().to_path_buf();
        let decided = self.write_transaction(|tx| {
            let row = tx.query_row(
                "SELECT connector, object_type, key_field, incoming FROM reviews WHERE id = ?1 AND status IN ('pending', 'lost')",
                params![id],
            )?;
            let Some(row) = row else {
                return Ok(Ok(false));
            };
            let (connector, object_type, key_field) = (row.text(0), row.text(1), row.text(2));
            let taken = match decision {
                Decision::Keep => None,
                Decision::Take => Some(row.text(3)),
                Decision::TakeEdited(edited) => Some(edited.clone()),
            };
            if let Some(text) = taken {
                let record = match crate::value::parse_record(&text) {
                    Ok(record) => record,
                    Err(e) if matches!(decision, Decision::TakeEdited(_)) => {
                        return Ok(Err(Refusal::Edit(format!(
                            "review {id}: the edited record is not a JSON object: {e}"
                        ))))
                    }
                    Err(e) => {
                        return Ok(Err(Refusal::Corrupt(format!(
                            "review {id} holds invalid JSON: {e}"
                        ))))
                    }
                };
                if matches!(decision, Decision::TakeEdited(_)) {
                    let key_of = |t: &str| {
                        serde_json::from_str::<serde_json::Value>(t)
                            .ok()
                            .and_then(|v| v.get(&key_field).cloned())
                    };
                    if key_of(&row.text(3)) != key_of(&text) {
                        return Ok(Err(Refusal::Edit(format!(
                            "review {id}: the edited record must keep its key `{key_field}` as the incoming one has it"
                        ))));
                    }
                }
                upsert_all(
                    tx,
                    (&connector, None),
                    UpsertTarget {
                        object: &object_type,
                        key: &key_field,
                        conflict: Conflict::ExternalWins,
                        time_field: crate::transform::connector::DEFAULT_TIME_FIELD,
                    },
                    &[record],
                    now,
                    chrono_tz::Tz::UTC,
                )?;
            }
            tx.execute(
                "UPDATE reviews SET status = ?2 WHERE id = ?1",
                params![id, decision.status()],
            )?;
            Ok(Ok(true))
        })?;
        decided.map_err(|refusal| match refusal {
            Refusal::Corrupt(reason) => StoreError::Corrupt { path, reason },
            Refusal::Edit(reason) => StoreError::Refused(reason),
        })
    }
}

/// What a person decides on a held-back conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Take the incoming record into the store.
    Take,
    /// Keep the stored record.
    Keep,
    /// Take the incoming record as edited (its JSON text).
    TakeEdited(String),
}

impl Decision {
    /// The review's status once decided so.
    pub fn status(&self) -> &'static str {
        match self {
            Decision::Take => "accepted",
            Decision::Keep => "rejected",
            Decision::TakeEdited(_) => "edited",
        }
    }
}

/// Why a decision was not made.
enum Refusal {
    Corrupt(String),
    Edit(String),
}

/// A run's metrics from a row of `connector, started_at, ended_at, read, written, filtered,
/// failed, queued, error_rate, p50_us, p95_us, p99_us, dry_run, kept, segments, noop,
/// stopped, _, lost`.
fn metrics_of(r: &Row) -> RunMetrics {
    RunMetrics {
        connector: r.text(0),
        started_at: r.text(1),
        ended_at: r.text(2),
        counts: Counts {
            read: r.count(3),
            written: r.count(4),
            filtered: r.count(5),
            failed: r.count(6),
            queued: r.count(7),
            unchanged: r.count(13),
            lost: r.count(18),
            not_written: 0,
        },
        error_rate: r.real(8).unwrap_or(0.0),
        p50_us: r.real(9),
        p95_us: r.real(10),
        p99_us: r.real(11),
        dry_run: r.flag(12),
        segments: r.count(14),
        noop: r.flag(15),
        stopped: r.flag(16),
    }
}

/// Records baselines (an existing one of the same key and side is replaced).
fn write_baselines(tx: &Conn, baselines: &[BaselineWrite]) -> Result<(), DbError> {
    for b in baselines {
        let fields = b
            .fields
            .as_ref()
            .map(|f| serde_json::to_string(f).unwrap_or_default());
        tx.execute(
            "INSERT INTO sync_baselines(connector, side, key_value, hash, fields) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(connector, side, key_value) DO UPDATE SET hash = excluded.hash, fields = excluded.fields",
            params![&*b.owner, b.side, b.key.as_str(), b.hash.as_str(), fields.as_deref()],
        )?;
    }
    Ok(())
}

fn write_letters(tx: &Conn, connector: &str, letters: &LetterBatch) -> Result<(), DbError> {
    write_baselines(tx, &letters.baselines)?;
    for (input, line) in &letters.remove {
        tx.execute(
            "DELETE FROM dead_letters WHERE connector = ?1 AND input = ?2 AND line = ?3",
            params![connector, &**input, *line],
        )?;
    }
    for (input, line, letter) in &letters.add {
        tx.execute(
            "INSERT INTO dead_letters(connector, input, line, letter) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(connector, input, line) DO UPDATE SET letter = excluded.letter",
            params![connector, &**input, *line, letter.as_str()],
        )?;
    }
    Ok(())
}

fn save_checkpoint(
    conn: &Conn,
    connector: &str,
    input: &str,
    cp: &Checkpoint,
    counts: &Counts,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if let Some(fence) = &cp.fence {
        // FOR SHARE: a run taking the lock over waits for this commit to end before its
        // new generation is in, so no commit of this run lands after the takeover.
        let newest = conn
            .query_row(
                "SELECT generation FROM run_fences WHERE connector = ?1 FOR SHARE",
                params![fence.connector.as_str()],
            )?
            .map(|r| r.int(0));
        if newest != Some(fence.generation) {
            return Err(DbError::FenceLost);
        }
    }
    if let Some(lease) = &cp.lease {
        let renewed = conn.execute(
            "UPDATE partitions SET lease_until = now() + make_interval(secs => ?4)
             WHERE connector = ?1 AND input = ?2 AND part = ?3 AND owner = ?5",
            params![
                lease.connector.as_str(),
                lease.input.as_str(),
                lease.part,
                lease.ttl.as_secs_f64(),
                lease.owner.as_str()
            ],
        )?;
        if renewed == 0 {
            return Err(DbError::LeaseLost);
        }
    }
    let counts = serde_json::to_string(counts).unwrap_or_default();
    let now = timestamp(now);
    conn.execute(
        "INSERT INTO checkpoints(connector, input, byte_offset, line, dead_letter_bytes, updated_at, fingerprint, input_size, head_hash, complete, run_started, segments, counts, cursor)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(connector, input) DO UPDATE SET byte_offset = ?3, line = ?4, updated_at = ?5, fingerprint = ?6,
             input_size = ?7, head_hash = ?8, complete = ?9, run_started = ?10, segments = ?11, counts = ?12, cursor = ?13",
        params![
            connector,
            input,
            cp.byte_offset,
            cp.line,
            now.as_str(),
            cp.fingerprint.as_str(),
            cp.input_size,
            cp.head_hash.as_str(),
            cp.complete,
            cp.run_started.as_str(),
            cp.segments,
            counts.as_str(),
            cp.cursor.as_str()
        ],
    )
    .map(|_| ())
}

fn upsert_all(
    tx: &Conn,
    (connector, tracked_by): (&str, Option<&str>),
    target: UpsertTarget<'_>,
    records: &[Value],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<BatchCounts, DbError> {
    let (object_type, key_field, conflict) = (target.object, target.key, target.conflict);
    let mut counts = BatchCounts::default();
    let stamp = timestamp(now);
    let keys: Vec<String> = records
        .iter()
        .filter_map(|r| r.get_key(key_field).and_then(scalar_key))
        .collect();
    lock_keys(tx, object_type, key_field, &keys)?;
    // A key stored more than once (concurrent writers of an older Sluice) is merged the
    // first time it is written again: the version the rule keeps stays, the others go.
    let mut duplicates = Vec::new();
    let stored: HashMap<String, (i64, String, String)> =
        stored_object_versions(tx, object_type, key_field, &keys)?
            .into_iter()
            .filter_map(|(key, mut versions)| {
                let keep = match conflict {
                    Conflict::MostRecent => versions
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1 .2.cmp(&b.1 .2).then(b.0.cmp(&a.0)))
                        .map_or(0, |(i, _)| i),
                    _ => 0,
                };
                let kept = (keep < versions.len()).then(|| versions.swap_remove(keep))?;
                duplicates.extend(versions.iter().map(|(id, _, _)| *id));
                Some((key, kept))
            })
            .collect();
    delete_objects(tx, &duplicates)?;
    let baselines = match tracked_by {
        Some(owner) => baselines_of(tx, owner, OUTBOUND, &keys)?,
        None => HashMap::new(),
    };
    // Decide every record in memory, in input order, against the stored record or the
    // one an earlier record of the batch made; then write what changed in a few
    // statements (a handful of round trips per batch to a database server).
    let mut entries: Vec<Entry> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for record in records {
        let Some(key) = record.get_key(key_field).and_then(scalar_key) else {
            continue;
        };
        let incoming_stamp = timestamp(incoming_time(record, target.time_field, now, tz));
        let at = match by_key.get(&key) {
            Some(at) => *at,
            None => match stored.get(&key) {
                Some((id, json, updated_at)) => {
                    entries.push(Entry {
                        id: Some(*id),
                        data: crate::value::parse_record(json).unwrap_or(Value::Null),
                        updated_at: updated_at.clone(),
                        dirty: false,
                    });
                    by_key.insert(key.clone(), entries.len() - 1);
                    entries.len() - 1
                }
                None => {
                    entries.push(Entry {
                        id: None,
                        data: record.clone(),
                        updated_at: incoming_stamp,
                        dirty: true,
                    });
                    by_key.insert(key, entries.len() - 1);
                    counts.written += 1;
                    continue;
                }
            },
        };
        let Some(entry) = entries.get_mut(at) else {
            continue;
        };
        // A stored record unchanged since the last sync of a bidirectional connector: only
        // the incoming side changed, so it applies; the rule is for changes on both sides.
        let unchanged_here = entry.id.is_some()
            && !entry.dirty
            && baselines
                .get(&key)
                .is_some_and(|b| b.hash == hash_of(&entry.data, None));
        let conflict = if unchanged_here {
            Conflict::ExternalWins
        } else {
            conflict
        };
        match conflict {
            Conflict::ExternalWins => {
                entry.replace(record.clone(), incoming_stamp);
                counts.written += 1;
            }
            Conflict::FentuWins => {
                let merged = merge_missing(&entry.data, record);
                if merged != entry.data {
                    let kept_time = entry.updated_at.clone();
                    entry.replace(merged, kept_time);
                    counts.written += 1;
                } else {
                    let outcome = (&entry.data, record);
                    kept_out(tx, (connector, target), &key, outcome, &stamp, &mut counts)?;
                }
            }
            Conflict::MostRecent => {
                if incoming_stamp > entry.updated_at {
                    entry.replace(record.clone(), incoming_stamp);
                    counts.written += 1;
                } else {
                    let outcome = (&entry.data, record);
                    kept_out(tx, (connector, target), &key, outcome, &stamp, &mut counts)?;
                }
            }
            Conflict::ManualReview => {
                if entry.data == *record {
                    counts.unchanged += 1;
                } else {
                    keep_review(
                        tx,
                        "pending",
                        (connector, target),
                        &key,
                        (&entry.data, record),
                        &stamp,
                    )?;
                    counts.queued += 1;
                }
            }
        }
    }
    if let Some(owner) = tracked_by {
        let owner: std::sync::Arc<str> = std::sync::Arc::from(owner);
        let written: Vec<BaselineWrite> = by_key
            .iter()
            .filter_map(|(key, at)| entries.get(*at).filter(|e| e.dirty).map(|e| (key, e)))
            .map(|(key, e)| BaselineWrite {
                owner: owner.clone(),
                side: OUTBOUND,
                key: key.clone(),
                hash: hash_of(&e.data, None),
                fields: None,
            })
            .collect();
        write_baselines(tx, &written)?;
    }
    let writes: Vec<ObjectWrite> = entries
        .iter()
        .filter(|e| e.dirty)
        .map(|e| ObjectWrite {
            id: e.id,
            data: &e.data,
            updated_at: &e.updated_at,
        })
        .collect();
    write_objects(tx, object_type, &writes)?;
    Ok(counts)
}

/// Whether every field of `incoming` has the same value in `stored` (nothing to change).
fn agrees_with(stored: &Value, incoming: &Value) -> bool {
    match incoming {
        Value::Object(fields) => fields
            .iter()
            .all(|(name, value)| stored.get_key(name) == Some(value)),
        other => stored == other,
    }
}

/// Counts a record its conflict rule kept out: unchanged when it agrees with the stored one,
/// else lost, and kept for `sluice review list --lost`.
fn kept_out(
    tx: &Conn,
    (connector, target): (&str, UpsertTarget<'_>),
    key: &str,
    (stored, incoming): (&Value, &Value),
    stamp: &str,
    counts: &mut BatchCounts,
) -> Result<(), DbError> {
    if agrees_with(stored, incoming) {
        counts.unchanged += 1;
        return Ok(());
    }
    keep_review(
        tx,
        "lost",
        (connector, target),
        key,
        (stored, incoming),
        stamp,
    )?;
    counts.lost += 1;
    Ok(())
}

/// Keeps a stored record and the incoming one that differs from it in the review table,
/// once per key and incoming record: `pending` for manual_review (`sluice review`), `lost`
/// for a record its conflict rule kept out (`sluice review list --lost`).
fn keep_review(
    tx: &Conn,
    status: &str,
    (connector, target): (&str, UpsertTarget<'_>),
    key: &str,
    (stored, incoming): (&Value, &Value),
    stamp: &str,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO reviews(connector, object_type, key_field, key_value, existing, incoming, created_at, status)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
         WHERE NOT EXISTS (SELECT 1 FROM reviews WHERE status = ?8 AND object_type = ?2 AND key_value = ?4 AND incoming = ?6)",
        params![
            connector,
            target.object,
            target.key,
            key,
            stored.to_json().as_str(),
            incoming.to_json().as_str(),
            stamp,
            status
        ],
    )?;
    Ok(())
}

/// The baselines of `owner`'s `side` for `keys` (the keys of a batch).
fn baselines_of(
    tx: &Conn,
    owner: &str,
    side: &str,
    keys: &[String],
) -> Result<HashMap<String, Baseline>, DbError> {
    let rows = query_by_keys(
        tx,
        "SELECT key_value, hash, fields FROM sync_baselines WHERE connector = ?1 AND side = ?2 AND key_value IN (KEYS)",
        [owner.into(), side.into()],
        keys,
    )?;
    Ok(rows
        .iter()
        .map(|row| (row.text(0), baseline_of_row(row)))
        .collect())
}

fn baseline_of_row(row: &Row) -> Baseline {
    Baseline {
        hash: row.text(1),
        fields: row
            .opt_text(2)
            .and_then(|f| serde_json::from_str::<Vec<String>>(&f).ok()),
    }
}

/// What a batch holds for one key: the stored record (or the new one), as the batch's
/// records so far have left it.
struct Entry {
    /// Its id, when it is stored already.
    id: Option<i64>,
    data: Value,
    updated_at: String,
    /// It must be written.
    dirty: bool,
}

impl Entry {
    fn replace(&mut self, data: Value, updated_at: String) {
        self.data = data;
        self.updated_at = updated_at;
        self.dirty = true;
    }
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
