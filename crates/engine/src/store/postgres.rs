//! The store on PostgreSQL (feature `postgres`): pooled connections with their prepared
//! statements, the schema's version kept in `sluice_meta` and migrated under an advisory
//! lock, how its errors map to the store's, the run lock, and the URL as messages show it.
//! The queries are the store's own (`store/mod.rs`, `store/sync.rs`), the same SQL as on
//! SQLite.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::diagnostics::{codes, Diag};
use crate::store::db::{params, Cell, Conn, Database, DbError, Dialect, Fence, Param, Row};
use crate::store::error::StoreError;
use crate::store::schema;

/// PostgreSQL stores were first made at the schema's version 3: the version a store keeps
/// in `sluice_meta` counts from there (its 1 is the schema's 3).
const VERSION_OFFSET: i64 = 2;

/// Serialises schema changes between processes (`pg_advisory_xact_lock`).
const SCHEMA_LOCK: i64 = 0x534c_5543;

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`, however malformed,
/// and with any `password=` parameter hidden too.
pub fn without_password(url: &str) -> String {
    crate::diagnostics::redact::without_password(url)
}

/// Makes the schema (`create`, when the database has none) or migrates it to this
/// version, in one transaction under an advisory lock. `Err(None)` when there is no store
/// and none was to be made; `Err(Some(reason))` for a database that is not a Sluice store
/// or one of a newer Sluice.
fn prepare_schema(conn: &Conn, create: bool) -> Result<Result<(), Option<String>>, DbError> {
    conn.transaction(|tx| {
        tx.execute("SELECT pg_advisory_xact_lock(?1)", params![SCHEMA_LOCK])?;
        let table_exists = |name: &str| -> Result<bool, DbError> {
            Ok(tx
                .query_row(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?1",
                    params![name],
                )?
                .is_some_and(|r| r.int(0) > 0))
        };
        let current = if table_exists("sluice_meta")? {
            tx.query_row("SELECT value FROM sluice_meta WHERE key = 'version'", params![])?
                .and_then(|r| r.text(0).parse::<i64>().ok())
                .map_or(0, |v| v + VERSION_OFFSET)
        } else if table_exists("objects")? {
            return Ok(Err(Some(
                "the database has an `objects` table but is not a Sluice store".into(),
            )));
        } else if create {
            tx.batch("CREATE TABLE sluice_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
            tx.execute(
                "INSERT INTO sluice_meta(key, value) VALUES ('version', '0')",
                params![],
            )?;
            0
        } else {
            return Ok(Err(None));
        };
        if current > schema::VERSION {
            return Ok(Err(Some(format!(
                "the store has schema version {}, written by a newer Sluice; this one \
                 reads up to version {}",
                current - VERSION_OFFSET,
                schema::VERSION - VERSION_OFFSET
            ))));
        }
        tx.batch(&schema::steps_after(current, Dialect::Postgres))?;
        tx.execute(
            "UPDATE sluice_meta SET value = ?1 WHERE key = 'version'",
            params![(schema::VERSION - VERSION_OFFSET).to_string().as_str()],
        )?;
        Ok(Ok(()))
    })
}

/// Sorts a PostgreSQL error into the store's error kinds by its SQLSTATE.
pub fn classify(err: DbError, path: &Path) -> StoreError {
    let path = path.to_path_buf();
    let reason = err.to_string();
    let state = match &err {
        DbError::Postgres(e) => e.code().map(|c| c.code().to_string()),
        _ => None,
    };
    match state.as_deref() {
        Some("53100") => StoreError::Full(path),
        Some("55P03" | "40P01" | "40001") => StoreError::Locked(path),
        Some("3D000") => StoreError::NotFound(path),
        _ => StoreError::Failed { path, reason },
    }
}

/// The advisory-lock key of a name: the first 8 bytes of its SHA-256.
pub fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    i64::from_be_bytes(bytes)
}

/// Takes the run lock of `connector` in the database at `url`: a session advisory lock on
/// a connection of its own (not pooled), held until the connection is dropped or lost;
/// waits up to `wait`, then E703.
pub fn run_lock(
    url: &Path,
    connector: &str,
    wait: std::time::Duration,
) -> Result<(postgres::Client, Fence), Diag> {
    let url = url.to_string_lossy();
    let shown = without_password(&url);
    let failed = |e: postgres::Error| {
        Diag::new(
            codes::E705_STORE_FAILED,
            format!("cannot take the run lock in {shown}: {}", DbError::from(e)),
        )
    };
    let (mut config, tls) = config_of(&url).map_err(|e| {
        Diag::new(
            codes::E705_STORE_FAILED,
            format!("cannot take the run lock in {shown}: {e}"),
        )
    })?;
    if config.get_application_name() == Some("sluice") {
        config.application_name(&format!("sluice {connector} (run lock)"));
    }
    let mut client = config.connect(tls).map_err(failed)?;
    let key = lock_key(&format!("run:{connector}"));
    let started = std::time::Instant::now();
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .and_then(|row| row.try_get(0))
            .map_err(failed)?;
        if taken {
            // The newest generation is this run's fencing token: a run that held the lock
            // before and lost it fails its next commit.
            let generation: i64 = client
                .query_one(
                    "INSERT INTO run_fences(connector, generation) VALUES ($1, 1)
                     ON CONFLICT (connector) DO UPDATE SET generation = run_fences.generation + 1
                     RETURNING generation",
                    &[&connector],
                )
                .and_then(|row| row.try_get(0))
                .map_err(failed)?;
            return Ok((
                client,
                Fence {
                    connector: connector.to_string(),
                    generation,
                },
            ));
        }
        if started.elapsed() >= wait {
            return Err(Diag::new(
                codes::E703_STORE_LOCKED,
                format!("another run of connector `{connector}` is writing to {shown}"),
            )
            .help("wait for it to finish; a run that was killed releases its lock when its connection ends"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

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
/// workers each look up on their own) and four (the writer, a partitioned run's claims
/// and its lease's heartbeat, and `sluice serve`'s own queries), opened only when needed;
/// `SLUICE_PG_POOL_SIZE` sets it. With fewer, a partitioned run under `sluice serve` waited
/// the pool's 30 s time-out for a connection on every partition.
fn pool_size() -> u32 {
    std::env::var("SLUICE_PG_POOL_SIZE")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            u32::try_from(cores).unwrap_or(8).min(16) + 4
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

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        Ok(self.client.execute(&stmt, &args)?)
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
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

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
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

/// A store's PostgreSQL connection.
pub struct PostgresDb(std::cell::RefCell<PgConn>);

impl PostgresDb {
    /// Connects to the store at `url` (`shown` in messages) and makes (`create`) or
    /// migrates its schema.
    pub fn open(url: &str, shown: &Path, create: bool) -> Result<PostgresDb, StoreError> {
        let conn = PgConn::connect(url).map_err(|e| classify(e, shown))?;
        let db = PostgresDb(std::cell::RefCell::new(conn));
        prepare_schema(&db as &Conn, create)
            .map_err(|e| classify(e, shown))?
            .map_err(|reason| match reason {
                None => StoreError::NotFound(shown.to_path_buf()),
                Some(reason) => StoreError::Corrupt {
                    path: shown.to_path_buf(),
                    reason,
                },
            })?;
        Ok(db)
    }
}

impl Database for PostgresDb {
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        self.0.borrow_mut().execute(sql, params)
    }

    fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
        self.0.borrow_mut().query(sql, params)
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        self.0.borrow_mut().batch(sql)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
