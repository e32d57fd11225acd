//! The Connect Object store: records per object type, each with its `updated_at`, in an
//! embedded SQLite file or in a PostgreSQL database (`--store postgres://...`, feature
//! `postgres`). Every top-level scalar field is indexed by (type, field, value), so an
//! equality lookup is one index probe however many records are stored. All SQL takes its
//! values as parameters; none is built from data; the same SQL runs on both databases.
//!
//! The parts: this file is the front door (open, the object tables' SQL every caller
//! shares); `sync.rs` the sync side (upserts, conflict rules, checkpoints, reviews); `db.rs`
//! the [`db::Database`] trait each database implements (`sqlite.rs`, `postgres.rs`);
//! `schema.rs` the schema and its migrations, written once for both.

pub mod access;
pub mod db;
mod error;
#[cfg(feature = "postgres")]
pub mod leases;
pub mod leftovers;
pub mod lookups;
pub mod origins;
#[cfg(feature = "postgres")]
pub mod pg_tls;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod schema;
pub mod secrets;
pub mod sqlite;
pub mod sync;

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::OpenFlags;

pub use crate::store::db::BUSY_TIMEOUT_MS;
use crate::store::db::{params, Conn, DbError, Param, Row};
pub use crate::store::error::StoreError;

use crate::value::{parse_record, Map, Value};

/// Indexes top-level scalars of a stored object: followed by one `(...)` per field.
const INDEX_VALUES: &str =
    "INSERT INTO object_values(object_id, type, field, value, folded) VALUES ";

/// An open store.
pub struct Store {
    conn: Box<Conn>,
    /// The file, or the database URL without its password (for messages).
    path: PathBuf,
    /// The database URL, for a PostgreSQL store.
    url: Option<String>,
    /// Records written through this connection since PostgreSQL's statistics were last
    /// refreshed, and how many more make it refresh them again (see [`Store::wrote`]).
    analyze: (u64, u64),
}

/// Records written before the first statistics refresh of a PostgreSQL store.
const FIRST_ANALYZE: u64 = 1000;

/// Whether `--store` names a PostgreSQL database rather than a file.
pub fn is_database_url(location: &Path) -> bool {
    let text = location.to_string_lossy();
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// One stored record with its metadata.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// The record.
    pub data: Value,
    /// When it was last updated (RFC 3339, UTC).
    pub updated_at: String,
}

impl Store {
    /// Opens an existing store; `NotFound` when the file does not exist.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if is_database_url(path) {
            return Store::open_postgres(path, false);
        }
        if !path.exists() {
            return Err(StoreError::NotFound(path.to_path_buf()));
        }
        Store::open_with(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            false,
        )
    }

    /// Opens a store, creating the file and its tables when absent. Creation is atomic: the
    /// store is built in a file of its own and linked into place only when complete, so a
    /// kill while creating never leaves a half-made store, and of two processes creating
    /// the same store one makes it and the other opens it.
    pub fn open_or_create(path: &Path) -> Result<Store, StoreError> {
        if is_database_url(path) {
            return Store::open_postgres(path, true);
        }
        crate::store::leftovers::remove_leftovers(path, ".creating-");
        if !path.exists() {
            crate::store::sqlite::create_atomically(path)?;
        }
        Store::open_with(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            true,
        )
    }

    /// Opens an existing store to read from it: for writing when possible (so an older
    /// schema is migrated and concurrent writers are seen consistently), else read-only
    /// (a store in a read-only directory or on a read-only disk).
    pub fn open_for_reading(path: &Path) -> Result<Store, StoreError> {
        match Store::open_existing(path) {
            Err(StoreError::Failed { .. }) => Store::open_read_only(path),
            other => other,
        }
    }

    /// Opens an existing store for reading only (works in a read-only directory). A store
    /// of an older schema is read as it is where the query allows, else E702 says to open
    /// it for writing once.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if is_database_url(path) {
            return Store::open_postgres(path, false);
        }
        let db = crate::store::sqlite::SqliteDb::open_read_only(path)?;
        Ok(Store::on(Box::new(db), path.to_path_buf(), None))
    }

    fn open_with(path: &Path, flags: OpenFlags, create: bool) -> Result<Store, StoreError> {
        let db = crate::store::sqlite::SqliteDb::open(path, flags, create)?;
        Ok(Store::on(Box::new(db), path.to_path_buf(), None))
    }

    /// A store on an open database connection.
    fn on(conn: Box<Conn>, path: PathBuf, url: Option<String>) -> Store {
        Store {
            conn,
            path,
            url,
            analyze: (0, FIRST_ANALYZE),
        }
    }

    /// Opens the PostgreSQL store at `url`: its schema made (`create`) or brought to this
    /// version in one transaction, under a lock that makes concurrent openers wait.
    #[cfg(feature = "postgres")]
    fn open_postgres(url: &Path, create: bool) -> Result<Store, StoreError> {
        let url = url.to_string_lossy().to_string();
        let shown = PathBuf::from(crate::store::postgres::without_password(&url));
        let db = crate::store::postgres::PostgresDb::open(&url, &shown, create)?;
        Ok(Store::on(Box::new(db), shown, Some(url)))
    }

    /// Without the `postgres` feature a database URL is not a store this build can open.
    #[cfg(not(feature = "postgres"))]
    fn open_postgres(url: &Path, _: bool) -> Result<Store, StoreError> {
        Err(StoreError::Failed {
            path: url.to_path_buf(),
            reason: "this build of Sluice has no PostgreSQL support (feature `postgres`)".into(),
        })
    }

    /// The same store opened again (a connection of its own, for another thread).
    pub fn reopen(&self) -> Result<Store, StoreError> {
        match &self.url {
            Some(url) => Store::open_existing(Path::new(url)),
            None => Store::open_existing(&self.path),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the sync-side queries.
    pub(crate) fn conn(&self) -> &Conn {
        &*self.conn
    }

    /// Runs `write` in one write transaction (SQLite: `BEGIN IMMEDIATE`, a second writer
    /// waits for the busy timeout), committed when it succeeds; errors classified.
    pub(crate) fn write_transaction<T>(
        &mut self,
        write: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, StoreError> {
        self.conn
            .transaction(write)
            .map_err(|e| classify_db(e, &self.path))
    }

    /// Counts `records` written. On PostgreSQL, the planner's statistics of the object
    /// tables are refreshed (`ANALYZE`) after the first thousand records this connection
    /// writes and again each time that number doubles: with statistics from when the tables
    /// were nearly empty, the planner scans every index entry of a (type, field) instead of
    /// probing for the value, and each lookup grows with the store.
    pub(crate) fn wrote(&mut self, records: u64) -> Result<(), StoreError> {
        if !self.conn.is_postgres() {
            return Ok(());
        }
        self.analyze.0 += records;
        if self.analyze.0 >= self.analyze.1 {
            self.analyze.1 = self.analyze.0.saturating_mul(2);
            self.conn
                .batch("ANALYZE objects, object_values")
                .map_err(|e| classify_db(e, &self.path))?;
        }
        Ok(())
    }

    /// A database error on this store, classified.
    pub(crate) fn fail(&self, e: DbError) -> StoreError {
        classify_db(e, &self.path)
    }

    /// Stores records of `object_type` in one transaction: upserted by `key_field` when
    /// given, else inserted. `updated_at` comes from each record's `updated_at` field when it
    /// is an RFC 3339 instant or a date, else `load_time`.
    pub fn load(
        &mut self,
        object_type: &str,
        records: &[Value],
        key_field: Option<&str>,
        load_time: DateTime<Utc>,
    ) -> Result<LoadSummary, StoreError> {
        self.write_transaction(|tx| {
            let mut summary = LoadSummary::default();
            let keys: Vec<String> = match key_field {
                Some(k) => records
                    .iter()
                    .filter_map(|r| r.get_key(k).and_then(scalar_key))
                    .collect(),
                None => Vec::new(),
            };
            if let Some(k) = key_field {
                lock_keys(tx, object_type, k, &keys)?;
            }
            let stored = match key_field {
                Some(k) => stored_objects(tx, object_type, k, &keys)?,
                None => std::collections::HashMap::new(),
            };
            // Each record, or the last of several with one key, over the stored one.
            let mut entries: Vec<(Option<i64>, &Value, String)> = Vec::new();
            let mut by_key: std::collections::HashMap<String, usize> =
                std::collections::HashMap::new();
            for record in records {
                let updated_at = record_time(record)
                    .unwrap_or(load_time)
                    .to_rfc3339_opts(SecondsFormat::Nanos, true);
                let key = key_field.and_then(|k| scalar_key(record.get_key(k)?));
                let earlier = key.as_ref().and_then(|k| by_key.get(k).copied());
                match (earlier, key.as_ref().and_then(|k| stored.get(k))) {
                    (Some(at), _) => {
                        if let Some(entry) = entries.get_mut(at) {
                            *entry = (entry.0, record, updated_at);
                        }
                        summary.updated += 1;
                    }
                    (None, stored) => {
                        match stored {
                            Some(_) => summary.updated += 1,
                            None => summary.inserted += 1,
                        }
                        if let Some(k) = key {
                            by_key.insert(k, entries.len());
                        }
                        entries.push((stored.map(|s| s.0), record, updated_at));
                    }
                }
            }
            let writes: Vec<ObjectWrite> = entries
                .iter()
                .map(|(id, data, updated_at)| ObjectWrite {
                    id: *id,
                    data,
                    updated_at,
                })
                .collect();
            write_objects(tx, object_type, &writes)?;
            Ok(summary)
        })
        .and_then(|summary| {
            self.wrote((summary.inserted + summary.updated) as u64)?;
            Ok(summary)
        })
    }

    /// The most recently updated record of `object_type` whose `field` equals `value`.
    pub fn latest_equal(
        &self,
        object_type: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, StoreError> {
        let Some(v) = scalar_key(value) else {
            return Ok(None);
        };
        let row = self
            .conn
            .query_row(
                "SELECT o.data FROM object_values v JOIN objects o ON o.id = v.object_id
                 WHERE v.type = ?1 AND v.field = ?2 AND v.value = ?3
                 ORDER BY o.updated_at DESC, o.id DESC LIMIT 1",
                params![object_type, field, v.as_str()],
            )
            .map_err(|e| self.fail(e))?;
        row.map(|r| self.decode(&r.text(0))).transpose()
    }

    /// The least recently updated record of `object_type` whose text `field` contains
    /// `needle`, case-insensitively; `%`, `_` and `\` in the needle are literal.
    pub fn oldest_containing(
        &self,
        object_type: &str,
        field: &str,
        needle: &str,
    ) -> Result<Option<Value>, StoreError> {
        let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
        let row = self
            .conn
            .query_row(
                "SELECT o.data FROM object_values v JOIN objects o ON o.id = v.object_id
                 WHERE v.type = ?1 AND v.field = ?2 AND v.folded LIKE ?3 ESCAPE '\\'
                 ORDER BY o.updated_at ASC, o.id ASC LIMIT 1",
                params![object_type, field, pattern.as_str()],
            )
            .map_err(|e| self.fail(e))?;
        row.map(|r| self.decode(&r.text(0))).transpose()
    }

    /// Every record of `object_type` whose fields equal every pair of `filter`, most
    /// recently updated first.
    pub fn all_matching(&self, object_type: &str, filter: &Map) -> Result<Vec<Value>, StoreError> {
        let indexed = filter
            .iter()
            .find_map(|(k, v)| scalar_key(v).map(|s| (k.clone(), s)));
        let rows: Vec<String> = match indexed {
            Some((field, value)) => self
                .conn
                .query(
                    "SELECT o.data FROM object_values v JOIN objects o ON o.id = v.object_id
                     WHERE v.type = ?1 AND v.field = ?2 AND v.value = ?3
                     ORDER BY o.updated_at DESC, o.id DESC",
                    params![object_type, &*field, value.as_str()],
                )
                .map_err(|e| self.fail(e))?
                .iter()
                .map(|r| r.text(0))
                .collect(),
            None => self
                .all_rows(object_type)?
                .into_iter()
                .map(|(data, _)| data)
                .collect(),
        };
        let mut out = Vec::new();
        for row in rows {
            let record = self.decode(&row)?;
            if filter
                .iter()
                .all(|(k, v)| record.get_key(k).unwrap_or(&Value::Null) == v)
            {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Every record of `object_type` with its time, most recently updated first.
    fn all_rows(&self, object_type: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT data, updated_at FROM objects WHERE type = ?1 ORDER BY updated_at DESC, id DESC",
                params![object_type],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
    }

    /// Every record of `object_type` in the order it was first stored, with its time.
    pub fn dump(&self, object_type: &str) -> Result<Vec<StoredObject>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT data, updated_at FROM objects WHERE type = ?1 ORDER BY id ASC",
                params![object_type],
            )
            .map_err(|e| self.fail(e))?;
        rows.iter()
            .map(|r| {
                Ok(StoredObject {
                    data: self.decode(&r.text(0))?,
                    updated_at: r.text(1),
                })
            })
            .collect()
    }

    /// Object types with their record counts.
    pub fn types(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT type, count(*) FROM objects GROUP BY type ORDER BY type",
                params![],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows.iter().map(|r: &Row| (r.text(0), r.int(1))).collect())
    }

    fn decode(&self, data: &str) -> Result<Value, StoreError> {
        parse_record(data).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            reason: format!("a stored record is not valid JSON: {e}"),
        })
    }
}

/// What a load did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoadSummary {
    /// New records.
    pub inserted: usize,
    /// Records that replaced a stored one with the same key.
    pub updated: usize,
}

/// The indexed form of a scalar: strings as JSON text, numbers normalised (1.0 = 1),
/// booleans; `None` for null, arrays and objects.
pub fn scalar_key(v: &Value) -> Option<String> {
    match v {
        Value::String(_) | Value::Bool(_) | Value::Date(_) | Value::DateTime(_) => {
            Some(v.to_json())
        }
        Value::Number(n) => Some(n.normalize().to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Keys looked up per query when a batch finds its stored records.
const KEYS_PER_QUERY: usize = 100;

/// The stored object of each of `keys` (the first stored, when several share one): id,
/// JSON and time, found with one query per hundred keys (one round trip to a database
/// server, where a query per record would be a hundred).
pub(crate) fn stored_objects(
    tx: &Conn,
    object_type: &str,
    key_field: &str,
    keys: &[String],
) -> Result<std::collections::HashMap<String, (i64, String, String)>, DbError> {
    Ok(stored_object_versions(tx, object_type, key_field, keys)?
        .into_iter()
        .filter_map(|(key, versions)| Some((key, versions.into_iter().next()?)))
        .collect())
}

/// A stored object: its id, its record as JSON, when it was last updated.
pub(crate) type StoredVersion = (i64, String, String);

/// Every stored object of each key, oldest first: more than one when a key was stored
/// twice (by concurrent writers of an older Sluice).
pub(crate) fn stored_object_versions(
    tx: &Conn,
    object_type: &str,
    key_field: &str,
    keys: &[String],
) -> Result<std::collections::HashMap<String, Vec<StoredVersion>>, DbError> {
    let mut found: std::collections::HashMap<String, Vec<StoredVersion>> =
        std::collections::HashMap::new();
    let rows = query_by_keys(
        tx,
        "SELECT v.value, o.id, o.data, o.updated_at FROM object_values v JOIN objects o ON o.id = v.object_id
         WHERE v.type = ?1 AND v.field = ?2 AND v.value IN (KEYS) ORDER BY o.id",
        [Param::from(object_type), Param::from(key_field)],
        keys,
    )?;
    for row in rows {
        found
            .entry(row.text(0))
            .or_default()
            .push((row.int(1), row.text(2), row.text(3)));
    }
    Ok(found)
}

/// Removes stored objects (and their index rows) by id.
pub(crate) fn delete_objects(tx: &Conn, ids: &[i64]) -> Result<(), DbError> {
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let list = numbered_list(chunk.len());
        let args: Vec<Param> = chunk.iter().map(|id| Param::from(*id)).collect();
        tx.execute(
            &format!("DELETE FROM object_values WHERE object_id IN ({list})"),
            &args,
        )?;
        tx.execute(&format!("DELETE FROM objects WHERE id IN ({list})"), &args)?;
    }
    Ok(())
}

/// The rows of `sql` for every key of `keys`, [`KEYS_PER_QUERY`] keys a query: `sql` takes
/// `leading` as ?1 and ?2 and the keys in its `IN (KEYS)`.
pub(crate) fn query_by_keys(
    tx: &Conn,
    sql: &str,
    leading: [Param<'_>; 2],
    keys: &[String],
) -> Result<Vec<Row>, DbError> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 3)).collect();
        let mut args = leading.to_vec();
        args.extend(chunk.iter().map(|k| Param::from(k.as_str())));
        rows.extend(tx.query(&sql.replace("KEYS", &marks.join(", ")), &args)?);
    }
    Ok(rows)
}

/// On PostgreSQL, locks the keys `keys` (of field `key_field`) of `object_type` until the
/// transaction ends: each key has a row in `object_keys`, inserted or (when it is there)
/// locked by one `INSERT … ON CONFLICT DO UPDATE … WHERE false` in key order, so batches
/// sharing keys take them in one order and never deadlock, and the locks are row locks (no
/// limit on how many a batch holds). A concurrent writer of one of these keys waits, then
/// reads the committed record: two writers never both insert a new key, and a conflict
/// rule always decides against the committed record, never a stale read. SQLite
/// serializes writers already.
pub(crate) fn lock_keys(
    tx: &Conn,
    object_type: &str,
    key_field: &str,
    keys: &[String],
) -> Result<(), DbError> {
    if !tx.is_postgres() {
        return Ok(());
    }
    let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    for chunk in sorted.chunks(ROWS_PER_STATEMENT) {
        let mut args = vec![Param::from(object_type), Param::from(key_field)];
        args.extend(chunk.iter().map(|k| Param::from(*k)));
        let values = (3..3 + chunk.len())
            .map(|n| format!("(?{n})"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO object_keys(type, field, value) SELECT ?1, ?2, column1 FROM (VALUES {values}) AS v ORDER BY column1
             ON CONFLICT (type, field, value) DO UPDATE SET value = excluded.value WHERE false"
        );
        tx.execute(&sql, &args)?;
    }
    Ok(())
}

/// `?1, ?2, … ?n`: the parameters of an `IN (…)` list.
fn numbered_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` rows of numbered parameters for a multi-row statement, each column a template
/// with one `?`: `numbered_rows(2, &["?", "CAST(? AS BIGINT)"])` is
/// `(?1, CAST(?2 AS BIGINT)),(?3, CAST(?4 AS BIGINT))`.
fn numbered_rows(rows: usize, columns: &[&str]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            out.push(',');
        }
        out.push('(');
        for (c, column) in columns.iter().enumerate() {
            if c > 0 {
                out.push_str(", ");
            }
            n += 1;
            out.push_str(&column.replacen('?', &format!("?{n}"), 1));
        }
        out.push(')');
    }
    out
}

/// A record to write: over stored object `id`, or new.
pub(crate) struct ObjectWrite<'a> {
    /// The stored object it replaces, if any.
    pub id: Option<i64>,
    /// The record.
    pub data: &'a Value,
    /// Its time.
    pub updated_at: &'a str,
}

/// Rows per multi-row statement (well under both databases' parameter limits).
const ROWS_PER_STATEMENT: usize = 500;

/// Writes records of `object_type` with few statements: new ones inserted a few hundred
/// per statement (ids taken in order), stored ones updated likewise, and the index rows of
/// all of them replaced. Returns each record's id, in order.
pub(crate) fn write_objects(
    tx: &Conn,
    object_type: &str,
    writes: &[ObjectWrite],
) -> Result<Vec<i64>, DbError> {
    let mut ids: Vec<Option<i64>> = writes.iter().map(|w| w.id).collect();
    let json: Vec<String> = writes.iter().map(|w| w.data.to_json()).collect();
    let new: Vec<(usize, &str, &str)> = writes
        .iter()
        .zip(&json)
        .enumerate()
        .filter(|(_, (w, _))| w.id.is_none())
        .map(|(i, (w, text))| (i, text.as_str(), w.updated_at))
        .collect();
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        let mut args = Vec::with_capacity(chunk.len() * 4);
        for (n, (_, text, updated_at)) in chunk.iter().enumerate() {
            args.extend([
                Param::from(object_type),
                Param::from(*text),
                Param::from(*updated_at),
                Param::from(n as i64),
            ]);
        }
        let sql = format!(
            "INSERT INTO objects(type, data, updated_at) SELECT column1, column2, column3 FROM (VALUES {}) AS v ORDER BY column4 RETURNING id",
            numbered_rows(chunk.len(), &["?", "?", "?", "CAST(? AS BIGINT)"])
        );
        // Ids come from the sequence in the order the rows are inserted: sorted, they are
        // the rows' ids in the order of `chunk`.
        let mut made: Vec<i64> = tx.query(&sql, &args)?.iter().map(|r| r.int(0)).collect();
        made.sort_unstable();
        for ((i, _, _), id) in chunk.iter().zip(made) {
            if let Some(slot) = ids.get_mut(*i) {
                *slot = Some(id);
            }
        }
    }
    let stored: Vec<(i64, &str, &str)> = writes
        .iter()
        .zip(&json)
        .filter_map(|(w, text)| Some((w.id?, text.as_str(), w.updated_at)))
        .collect();
    if tx.is_postgres() {
        for chunk in stored.chunks(ROWS_PER_STATEMENT) {
            let mut args = Vec::with_capacity(chunk.len() * 3);
            for (id, text, updated_at) in chunk {
                args.extend([
                    Param::from(*id),
                    Param::from(*text),
                    Param::from(*updated_at),
                ]);
            }
            let sql = format!(
                "UPDATE objects SET data = v.column2, updated_at = v.column3 FROM (VALUES {}) AS v WHERE objects.id = v.column1",
                numbered_rows(chunk.len(), &["CAST(? AS BIGINT)", "?", "?"])
            );
            tx.execute(&sql, &args)?;
            let clear = format!(
                "DELETE FROM object_values WHERE object_id IN ({})",
                numbered_list(chunk.len())
            );
            let old: Vec<Param> = chunk.iter().map(|(id, _, _)| Param::from(*id)).collect();
            tx.execute(&clear, &old)?;
        }
    } else {
        // In-process SQLite has no round trips to save, and a statement per record keeps
        // its updates on the primary key (its UPDATE ... FROM VALUES was slower).
        for (id, text, updated_at) in &stored {
            tx.execute(
                "UPDATE objects SET data = ?2, updated_at = ?3 WHERE id = ?1",
                params![*id, *text, *updated_at],
            )?;
            tx.execute(
                "DELETE FROM object_values WHERE object_id = ?1",
                params![*id],
            )?;
        }
    }
    let mut rows: Vec<(i64, &str, String, Option<String>)> = Vec::new();
    for (write, id) in writes.iter().zip(&ids) {
        let (Value::Object(fields), Some(id)) = (write.data, id) else {
            continue;
        };
        for (field, value) in fields.iter() {
            if let Some(v) = scalar_key(value) {
                let folded = match value {
                    Value::String(s) => Some(s.to_lowercase()),
                    _ => None,
                };
                rows.push((*id, field, v, folded));
            }
        }
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(INDEX_VALUES);
        let mut args = Vec::with_capacity(chunk.len() * 5);
        for (id, field, value, folded) in chunk {
            args.extend([
                Param::from(*id),
                Param::from(object_type),
                Param::from(*field),
                Param::from(value.as_str()),
                Param::from(folded.as_deref()),
            ]);
        }
        sql.push_str(&numbered_rows(chunk.len(), &["?"; 5]));
        tx.execute(&sql, &args)?;
    }
    Ok(ids.into_iter().map(Option::unwrap_or_default).collect())
}

/// `%`, `_` and `\` escaped for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn record_time(record: &Value) -> Option<DateTime<Utc>> {
    match record.get_key("updated_at")? {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
            }),
        Value::DateTime(dt) => Some(dt.with_timezone(&Utc)),
        _ => None,
    }
}

/// Sorts a database error into the store's error kinds.
pub(crate) fn classify_db(err: DbError, path: &Path) -> StoreError {
    match err {
        DbError::Sqlite(e) => crate::store::sqlite::classify(e, path),
        DbError::LeaseLost => StoreError::LeaseLost(path.to_path_buf()),
        DbError::FenceLost => StoreError::LockLost(path.to_path_buf()),
        #[cfg(feature = "postgres")]
        other => crate::store::postgres::classify(other, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_parameters_are_numbered_row_by_row() {
        assert_eq!(
            numbered_rows(2, &["?", "CAST(? AS BIGINT)"]),
            "(?1, CAST(?2 AS BIGINT)),(?3, CAST(?4 AS BIGINT))"
        );
        assert_eq!(numbered_rows(0, &["?"]), "");
    }
}
