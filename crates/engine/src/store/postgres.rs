//! The store on PostgreSQL (feature `postgres`): its schema and versioned migrations, how
//! its errors map to the store's, and the URL as messages show it. The queries are the
//! store's own (`store.rs`, `sync_store.rs`), the same SQL as on SQLite.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::diagnostics::{codes, Diag};
use crate::store::db::{params, Conn, DbError};
use crate::store::sync::Fence;
use crate::store::StoreError;

/// The schema version this Sluice writes on PostgreSQL.
const SCHEMA_VERSION: i64 = 5;

/// The migration from each version to the next: `MIGRATIONS[i]` takes version `i + 1` to
/// `i + 2`. A new store is made at version 1 and migrated like any other.
const MIGRATIONS: &[&str] = &[
    crate::store::SYNC_BASELINES,
    crate::store::ACCESS,
    crate::store::FENCES,
    crate::store::CONFLICT_LOSSES,
];

/// Serialises schema changes between processes (`pg_advisory_xact_lock`).
const SCHEMA_LOCK: i64 = 0x534c_5543;

/// The tables, as on SQLite, with PostgreSQL's types (64-bit integers throughout).
const SCHEMA: &str = "
CREATE TABLE sluice_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE objects (
    id BIGSERIAL PRIMARY KEY,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX objects_by_time ON objects(type, updated_at);
CREATE TABLE object_values (
    object_id BIGINT NOT NULL,
    type TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    folded TEXT
);
CREATE INDEX object_values_lookup ON object_values(type, field, value);
CREATE INDEX object_values_by_object ON object_values(object_id);
CREATE TABLE checkpoints (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    byte_offset BIGINT NOT NULL,
    line BIGINT NOT NULL,
    dead_letter_bytes BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    input_size BIGINT NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL DEFAULT '',
    complete BIGINT NOT NULL DEFAULT 1,
    run_started TEXT NOT NULL DEFAULT '',
    segments BIGINT NOT NULL DEFAULT 1,
    counts TEXT NOT NULL DEFAULT '{}',
    cursor TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connector, input)
);
CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    connector TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    read BIGINT NOT NULL,
    written BIGINT NOT NULL,
    filtered BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    queued BIGINT NOT NULL,
    error_rate DOUBLE PRECISION NOT NULL,
    p50_us DOUBLE PRECISION,
    p95_us DOUBLE PRECISION,
    p99_us DOUBLE PRECISION,
    dry_run BIGINT NOT NULL,
    kept BIGINT NOT NULL DEFAULT 0,
    segments BIGINT NOT NULL DEFAULT 1,
    noop BIGINT NOT NULL DEFAULT 0,
    stopped BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE reviews (
    id BIGSERIAL PRIMARY KEY,
    connector TEXT NOT NULL,
    object_type TEXT NOT NULL,
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    existing TEXT NOT NULL,
    incoming TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX reviews_pending ON reviews(object_type, key_value, status);
CREATE TABLE partitions (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    part BIGINT NOT NULL,
    start_offset BIGINT NOT NULL,
    end_offset BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    done BIGINT NOT NULL DEFAULT 0,
    last BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, input, part)
);
CREATE TABLE scheduled_runs (
    connector TEXT NOT NULL,
    slot TEXT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    done BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, slot)
);
CREATE TABLE dead_letters (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    line BIGINT NOT NULL,
    letter TEXT NOT NULL,
    PRIMARY KEY (connector, input, line)
);
";

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`, however malformed,
/// and with any `password=` parameter hidden too.
pub fn without_password(url: &str) -> String {
    crate::diagnostics::redact::without_password(url)
}

/// Makes the schema (`create`, when the database has none) or migrates it to this
/// version, in one transaction under an advisory lock. `Err(None)` when there is no store
/// and none was to be made; `Err(Some(reason))` for a database that is not a Sluice store
/// or one of a newer Sluice.
pub fn prepare_schema(conn: &Conn, create: bool) -> Result<Result<(), Option<String>>, DbError> {
    conn.transaction(|tx| {
        tx.execute("SELECT pg_advisory_xact_lock(?1)", params![SCHEMA_LOCK])?;
        let has_meta = tx
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'sluice_meta'",
                params![],
            )?
            .is_some_and(|r| r.int(0) > 0);
        if !has_meta {
            let has_objects = tx
                .query_row(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'objects'",
                    params![],
                )?
                .is_some_and(|r| r.int(0) > 0);
            if has_objects {
                return Ok(Err(Some(
                    "the database has an `objects` table but is not a Sluice store".into(),
                )));
            }
            if !create {
                return Ok(Err(None));
            }
            tx.batch(SCHEMA)?;
            tx.execute(
                "INSERT INTO sluice_meta(key, value) VALUES ('version', '1')",
                params![],
            )?;
        }
        let version: i64 = tx
            .query_row("SELECT value FROM sluice_meta WHERE key = 'version'", params![])?
            .and_then(|r| r.text(0).parse().ok())
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Ok(Err(Some(format!(
                "the store has schema version {version}, written by a newer Sluice; this one \
                 reads up to version {SCHEMA_VERSION}"
            ))));
        }
        for (from, sql) in MIGRATIONS.iter().enumerate() {
            if i64::try_from(from).unwrap_or(i64::MAX) + 1 >= version {
                tx.batch(sql)?;
            }
        }
        tx.execute(
            "UPDATE sluice_meta SET value = ?1 WHERE key = 'version'",
            params![SCHEMA_VERSION.to_string().as_str()],
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
    let (mut config, tls) = crate::store::db::postgres_conn::config_of(&url).map_err(|e| {
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
