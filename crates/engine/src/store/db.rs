//! The store's SQL, once for both databases: a connection is an embedded SQLite file or a
//! PostgreSQL server (feature `postgres`), and every query of the store is written once in
//! the SQL both understand, with `?N` parameters (rewritten to `$N` for PostgreSQL) and
//! prepared once per connection. Parameters and cells are the few types the store uses.

/// A query parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    /// An integer (counts, ids, offsets, flags), or NULL.
    Int(Option<i64>),
    /// A float, or NULL.
    Real(Option<f64>),
    /// Text, or NULL.
    Text(Option<&'a str>),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<u64> for Param<'_> {
    fn from(v: u64) -> Self {
        Param::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Int(Some(i64::from(v)))
    }
}

impl From<f64> for Param<'_> {
    fn from(v: f64) -> Self {
        Param::Real(Some(v))
    }
}

impl From<Option<f64>> for Param<'_> {
    fn from(v: Option<f64>) -> Self {
        Param::Real(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

/// `[Param; N]` from values: `params![a, b, c]`.
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::db::Param::from($v)),*][..]
    };
}
pub(crate) use params;

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer (a boolean is 0 or 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

/// A result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    /// Column `i` as an integer (0 when NULL or not a number).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Cell::Int(v)) => *v,
            Some(Cell::Real(v)) => *v as i64,
            _ => 0,
        }
    }

    /// Column `i` as a count (negative values are 0).
    pub fn count(&self, i: usize) -> u64 {
        u64::try_from(self.int(i)).unwrap_or(0)
    }

    /// Column `i` as a flag.
    pub fn flag(&self, i: usize) -> bool {
        self.int(i) != 0
    }

    /// Column `i` as a float, when not NULL.
    pub fn real(&self, i: usize) -> Option<f64> {
        match self.0.get(i) {
            Some(Cell::Real(v)) => Some(*v),
            Some(Cell::Int(v)) => Some(*v as f64),
            _ => None,
        }
    }

    /// Column `i` as text, when not NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Cell::Text(v)) => Some(v.clone()),
            Some(Cell::Int(v)) => Some(v.to_string()),
            Some(Cell::Real(v)) => Some(v.to_string()),
            _ => None,
        }
    }

    /// Column `i` as text (empty when NULL).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
}

/// What a database reported.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite's error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's error.
    #[cfg(feature = "postgres")]
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// A partition's lease was taken over by another worker: the transaction is rolled back.
    #[error("the lease on the partition was taken over by another worker")]
    LeaseLost,
    /// The run lock's fencing token is no longer the newest: the transaction is rolled back.
    #[error("the run lock was lost: another run holds the connector")]
    FenceLost,
    /// Taking a connection from the pool failed.
    #[cfg(feature = "postgres")]
    #[error("no connection to PostgreSQL: {0}")]
    Pool(String),
}

/// PostgreSQL's message, with its detail when it gives one.
#[cfg(feature = "postgres")]
fn postgres_message(e: &postgres::Error) -> String {
    use std::error::Error as _;
    match (e.as_db_error(), e.source()) {
        (Some(db), _) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        // "error connecting to server" says little: the cause (connection refused, a
        // time-out, TLS required) is what a user can act on
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

/// Which database a store lives in: where their SQL differs (the schema's types, how a
/// write transaction begins, row locks), the store asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection to the store's database, implemented by each database the store can live
/// in ([`crate::store::sqlite::SqliteDb`], `crate::store::postgres::PostgresDb`). Every
/// query of the store is written once over it.
pub trait Database: Send {
    /// Runs a statement; the rows it changed.
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError>;

    /// Runs a query; its rows.
    fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError>;

    /// Runs several statements without parameters (schema changes).
    fn batch(&self, sql: &str) -> Result<(), DbError>;

    /// Which database this is.
    fn dialect(&self) -> Dialect;
}

/// A connection to the store's database, whichever it is.
pub type Conn = dyn Database;

impl dyn Database {
    /// The first row of a query, if any.
    pub fn query_row(&self, sql: &str, params: &[Param]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `work` in one write transaction, committed when it succeeds and rolled back
    /// otherwise. SQLite takes the write lock at once (`BEGIN IMMEDIATE`: a second writer
    /// waits for the busy timeout); PostgreSQL locks rows as they are written.
    pub fn transaction<T, E: From<DbError>>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let begin = match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        };
        self.batch(begin)?;
        match work(self) {
            Ok(value) => {
                if let Err(e) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(value)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Whether this is a PostgreSQL connection.
    pub fn is_postgres(&self) -> bool {
        self.dialect() == Dialect::Postgres
    }
}

/// How long a writer waits for another process's lock before giving up.
pub const BUSY_TIMEOUT_MS: u64 = 2_000;

/// A run lock's fencing token: the generation its run got when it took the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The connector.
    pub connector: String,
    /// The generation, compared by each commit with the newest.
    pub generation: i64,
}
