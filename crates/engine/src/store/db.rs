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

/// A connection to the store's database.
pub enum Conn {
    /// An embedded SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server.
    #[cfg(feature = "postgres")]
    Postgres(Box<std::cell::RefCell<postgres_conn::PgConn>>),
}

impl Conn {
    /// Runs a statement; the rows it changed.
    pub fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.borrow_mut().execute(sql, params),
        }
    }

    /// Runs a query; its rows.
    pub fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
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
                            rusqlite::types::ValueRef::Text(t)
                            | rusqlite::types::ValueRef::Blob(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        });
                    }
                    out.push(Row(cells));
                }
                Ok(out)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.borrow_mut().query(sql, params),
        }
    }

    /// The first row of a query, if any.
    pub fn query_row(&self, sql: &str, params: &[Param]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs several statements without parameters (schema changes).
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.borrow_mut().batch(sql),
        }
    }

    /// Runs `work` in one write transaction, committed when it succeeds and rolled back
    /// otherwise. SQLite takes the write lock at once (`BEGIN IMMEDIATE`: a second writer
    /// waits for the busy timeout); PostgreSQL locks rows as they are written.
    pub fn transaction<T, E: From<DbError>>(
        &self,
        work: impl FnOnce(&Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let begin = match self {
            Conn::Sqlite(_) => "BEGIN IMMEDIATE",
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => "BEGIN",
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
        !matches!(self, Conn::Sqlite(_))
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

/// The PostgreSQL side: pooled connections with their prepared statements.
#[cfg(feature = "postgres")]
pub mod postgres_conn {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
    use r2d2_postgres::PostgresConnectionManager;
    use tokio_postgres_rustls::MakeRustlsConnect;

    use super::{Cell, DbError, Param, Row};

    /// A pool per database URL, shared by the stores of a process (the run's writer, each
    /// worker's lookups).
    type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

    fn pools() -> &'static Mutex<HashMap<String, Pool>> {
        static POOLS: OnceLock<Mutex<HashMap<String, Pool>>> = OnceLock::new();
        POOLS.get_or_init(Mutex::default)
    }

    /// The connection settings of `url` and its TLS (`sslmode`, see
    /// [`crate::store::pg_tls`]): named `sluice` for the server's session list unless the
    /// URL names it (`?application_name=`), and giving up a connection attempt after 5 s
    /// unless it says otherwise (`?connect_timeout=`).
    pub fn config_of(url: &str) -> Result<(postgres::Config, MakeRustlsConnect), DbError> {
        let (url, tls) = crate::store::pg_tls::tls_for(url).map_err(DbError::Pool)?;
        let mut config: postgres::Config = url.parse()?;
        if config.get_application_name().is_none() {
            config.application_name("sluice");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        Ok((config, tls))
    }

    /// The connections a process keeps to one database at most: one per core (the run's
    /// workers each look up on their own) and two (the writer, a lock), opened only when
    /// needed; `SLUICE_PG_POOL_SIZE` sets it.
    fn pool_size() -> u32 {
        std::env::var("SLUICE_PG_POOL_SIZE")
            .ok()
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                u32::try_from(cores).unwrap_or(8).min(16) + 2
            })
    }

    /// How many prepared statements a connection keeps.
    const STATEMENTS_KEPT: usize = 256;

    /// One pooled connection and the statements prepared on it.
    pub struct PgConn {
        client: r2d2::PooledConnection<PostgresConnectionManager<MakeRustlsConnect>>,
        statements: HashMap<String, postgres::Statement>,
    }

    impl PgConn {
        /// A connection to `url` from the process's pool for it.
        pub fn connect(url: &str) -> Result<PgConn, DbError> {
            let pool = {
                let mut pools = pools()
                    .lock()
                    .map_err(|_| DbError::Pool("pool lock".into()))?;
                match pools.get(url) {
                    Some(pool) => pool.clone(),
                    None => {
                        let (config, tls) = config_of(url)?;
                        // One connection first: a wrong database, role, password or port is
                        // reported at once, with PostgreSQL's own reason and code, instead
                        // of as the pool's time-out.
                        drop(config.connect(tls.clone())?);
                        let pool = r2d2::Pool::builder()
                            .max_size(pool_size())
                            .min_idle(Some(0))
                            .connection_timeout(std::time::Duration::from_secs(30))
                            .build_unchecked(PostgresConnectionManager::new(config, tls));
                        pools.insert(url.to_string(), pool.clone());
                        pool
                    }
                }
            };
            let client = pool.get().map_err(|e| DbError::Pool(e.to_string()))?;
            Ok(PgConn {
                client,
                statements: HashMap::new(),
            })
        }

        fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
            if let Some(stmt) = self.statements.get(sql) {
                return Ok(stmt.clone());
            }
            let stmt = self.client.prepare(&dollar_params(sql))?;
            if self.statements.len() >= STATEMENTS_KEPT {
                // Multi-row statements vary with their row count: keep the cache bounded.
                self.statements.clear();
            }
            self.statements.insert(sql.to_string(), stmt.clone());
            Ok(stmt)
        }

        pub(super) fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
            let stmt = self.statement(sql)?;
            let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            Ok(self.client.execute(&stmt, &args)?)
        }

        pub(super) fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
            let stmt = self.statement(sql)?;
            let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            let rows = self.client.query(&stmt, &args)?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| cell(row, i))
                        .collect::<Result<Vec<_>, _>>()
                        .map(Row)
                })
                .collect()
        }

        pub(super) fn batch(&mut self, sql: &str) -> Result<(), DbError> {
            Ok(self.client.batch_execute(sql)?)
        }
    }

    /// Column `i` of a row as a cell, by its type.
    fn cell(row: &postgres::Row, i: usize) -> Result<Cell, DbError> {
        let ty = row.columns().get(i).map(|c| c.type_().clone());
        Ok(match ty {
            Some(Type::INT8) => row
                .try_get::<_, Option<i64>>(i)?
                .map_or(Cell::Null, Cell::Int),
            Some(Type::INT4) => row
                .try_get::<_, Option<i32>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(i64::from(v))),
            Some(Type::INT2) => row
                .try_get::<_, Option<i16>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(i64::from(v))),
            Some(Type::BOOL) => row
                .try_get::<_, Option<bool>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(i64::from(v))),
            Some(Type::FLOAT8) => row
                .try_get::<_, Option<f64>>(i)?
                .map_or(Cell::Null, Cell::Real),
            _ => row
                .try_get::<_, Option<String>>(i)?
                .map_or(Cell::Null, Cell::Text),
        })
    }

    /// `?N` placeholders as PostgreSQL's `$N` (the store's SQL has no `?` elsewhere).
    fn dollar_params(sql: &str) -> String {
        sql.replace('?', "$")
    }

    impl ToSql for Param<'_> {
        fn to_sql(
            &self,
            ty: &Type,
            out: &mut bytes::BytesMut,
        ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
            match *self {
                Param::Int(None) | Param::Real(None) | Param::Text(None) => Ok(IsNull::Yes),
                Param::Int(Some(v)) => match *ty {
                    Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                    Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                    Type::BOOL => (v != 0).to_sql(ty, out),
                    Type::FLOAT8 => (v as f64).to_sql(ty, out),
                    Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                    _ => v.to_sql(ty, out),
                },
                Param::Real(Some(v)) => v.to_sql(ty, out),
                Param::Text(Some(v)) => v.to_sql(ty, out),
            }
        }

        fn accepts(_: &Type) -> bool {
            true
        }

        to_sql_checked!();
    }
}
