//! The store in an embedded SQLite file: opening it (atomically created, marked as a Sluice
//! store by its `application_id`, its schema version in `user_version`), its migrations
//! run under the write lock, and SQLite's errors sorted into the store's.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::store::db::{Cell, Database, DbError, Dialect, Param, Row, BUSY_TIMEOUT_MS};
use crate::store::error::StoreError;
use crate::store::schema::{self, VERSION};

/// Identifies a Sluice store.
const APPLICATION_ID: i64 = 0x534c_5543; // "SLUC"

/// A store's SQLite connection.
pub struct SqliteDb(Connection);

impl SqliteDb {
    /// Opens the store file at `path` with `flags`, its schema made (`create`, when the
    /// file is empty) or brought to this version, in WAL mode.
    pub fn open(path: &Path, flags: OpenFlags, create: bool) -> Result<SqliteDb, StoreError> {
        let fail = |e: rusqlite::Error| classify(e, path);
        let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(fail)?;
        prepare_schema(&mut conn, path, create)?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(fail)?;
        Ok(SqliteDb(conn))
    }

    /// Opens an existing store file for reading only (immutable: it works in a read-only
    /// directory); E702 when its schema is not this version's.
    pub fn open_read_only(path: &Path) -> Result<SqliteDb, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.to_path_buf()));
        }
        let fail = |e: rusqlite::Error| classify(e, path);
        let uri = format!(
            "file:{}?immutable=1",
            path.display()
                .to_string()
                .replace('?', "%3f")
                .replace('#', "%23")
        );
        let conn = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        let version = identify(&conn, path)?;
        if version != VERSION {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "the store has schema version {version} and this Sluice reads {VERSION}; \
                     open it once for writing (e.g. `sluice objects list` where the directory \
                     is writable) to migrate it"
                ),
            });
        }
        Ok(SqliteDb(conn))
    }
}

impl Database for SqliteDb {
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Cell::Null,
                    rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                    rusqlite::types::ValueRef::Real(v) => Cell::Real(v),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match *self {
            Param::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(v)),
            Param::Real(Some(v)) => ToSqlOutput::Owned(Value::Real(v)),
            Param::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Int(None) | Param::Real(None) | Param::Text(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

/// Builds a new store in a file of its own and links it to `path` when it is
/// complete; when another process linked one first, that one is kept.
pub(crate) fn create_atomically(path: &Path) -> Result<(), StoreError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".creating-{}-{nanos}", std::process::id()));
    let temp = path.with_file_name(name);
    let fail = |e: rusqlite::Error| classify(e, path);
    let io = |e: std::io::Error| StoreError::Failed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let result = Connection::open(&temp)
        .map_err(fail)
        .and_then(|conn| {
            initialise(&conn)
                .map_err(fail)
                .and_then(|()| conn.close().map_err(|(_, e)| fail(e)))
        })
        .and_then(|()| match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io(e)),
        });
    let _ = std::fs::remove_file(&temp);
    result
}

/// The schema, marked as a Sluice store, written into an empty database (a
/// database another process initialised meanwhile is left as it is).
fn initialise(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = conn
        .query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| {
            r.get::<_, bool>(0)
        })
        .and_then(|empty| match empty {
            true => conn.execute_batch(&format!(
                "{} PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={};",
                schema::steps_after(0, Dialect::Sqlite),
                schema::VERSION
            )),
            false => Ok(()),
        });
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The schema version of a Sluice store in SQLite; E702 for any other file.
fn identify(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let fail = |e| classify(e, path);
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(fail)?;
    if app_id != APPLICATION_ID {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: "the file is an SQLite database but not a Sluice store".to_string(),
        });
    }
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)
}

/// Checks the SQLite store is a Sluice store and brings its schema to this version, in one
/// write transaction (concurrent openers wait for it, then find it done).
fn prepare_schema(conn: &mut Connection, path: &Path, create: bool) -> Result<(), StoreError> {
    let fail = |e| classify(e, path);
    let empty: bool = conn
        .query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| r.get(0))
        .map_err(fail)?;
    if empty && create {
        initialise(conn).map_err(fail)?;
    }
    let version = identify(conn, path)?;
    if version == VERSION {
        return Ok(());
    }
    if version > VERSION {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the store has schema version {version}, written by a newer Sluice; this \
                 one reads up to version {VERSION}"
            ),
        });
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(fail)?;
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)?;
    tx.execute_batch(&schema::steps_after(current, Dialect::Sqlite))
        .map_err(fail)?;
    tx.execute_batch(&format!("PRAGMA user_version={VERSION};"))
        .map_err(fail)?;
    tx.commit().map_err(fail)
}

/// Sorts an SQLite error into the store's error kinds.
pub(crate) fn classify(err: rusqlite::Error, path: &Path) -> StoreError {
    let path = path.to_path_buf();
    if let rusqlite::Error::SqliteFailure(e, msg) = &err {
        let reason = msg.clone().unwrap_or_else(|| e.to_string());
        return match e.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Locked(path),
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                StoreError::Corrupt { path, reason }
            }
            ErrorCode::DiskFull => StoreError::Full(path),
            _ => StoreError::Failed { path, reason },
        };
    }
    StoreError::Failed {
        path,
        reason: err.to_string(),
    }
}
