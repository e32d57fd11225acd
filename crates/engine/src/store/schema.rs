//! The store's schema, written once for both databases: a list of versioned steps in the
//! SQL both understand, with three type words each database spells its own way (`{id}` an
//! auto-numbered key, `{int}` a 64-bit integer, `{real}` a double). A new store runs every
//! step; an older one runs those after its version, in one transaction. How a database keeps
//! its version (SQLite's `user_version`, a `sluice_meta` row on PostgreSQL) is its own
//! ([`crate::store::sqlite`], [`crate::store::postgres`]).

use crate::store::db::Dialect;

/// The schema version this Sluice writes.
pub const VERSION: i64 = 8;

/// One step of the schema: what it makes, from which version on, on which databases.
struct Step {
    /// The version this step brings the store to.
    version: i64,
    /// The SQL, with `{id}`, `{int}` and `{real}` for the types.
    sql: &'static str,
    /// The one database it is for, when not both.
    only: Option<Dialect>,
}

/// Every step, in order. A step is never edited once released: a change is a new step.
const STEPS: &[Step] = &[
    Step {
        version: 1,
        sql: OBJECTS_AND_RUNS,
        only: None,
    },
    Step {
        version: 2,
        sql: DEAD_LETTERS_AND_RESUMING,
        only: None,
    },
    Step {
        version: 3,
        sql: "ALTER TABLE checkpoints ADD COLUMN cursor TEXT NOT NULL DEFAULT '';",
        only: None,
    },
    Step {
        version: 3,
        sql: LEASES,
        only: Some(Dialect::Postgres),
    },
    Step {
        version: 4,
        sql: SYNC_BASELINES,
        only: None,
    },
    Step {
        version: 5,
        sql: ACCESS,
        only: None,
    },
    Step {
        version: 6,
        sql: FENCES,
        only: None,
    },
    Step {
        version: 7,
        sql: "ALTER TABLE runs ADD COLUMN lost {int} NOT NULL DEFAULT 0;",
        only: None,
    },
    Step {
        version: 8,
        sql: SECRETS,
        only: None,
    },
];

/// The SQL that takes a `dialect` store from version `from` to [`VERSION`] (all of it
/// when `from` is 0).
pub fn steps_after(from: i64, dialect: Dialect) -> String {
    STEPS
        .iter()
        .filter(|s| s.version > from && s.only.is_none_or(|d| d == dialect))
        .map(|s| render(s.sql, dialect))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `sql` with its type words in `dialect`'s spelling.
fn render(sql: &str, dialect: Dialect) -> String {
    let (id, int, real) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER", "REAL"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BIGINT", "DOUBLE PRECISION"),
    };
    sql.replace("{id}", id)
        .replace("{int}", int)
        .replace("{real}", real)
}

/// Version 1: the Connect Objects with their value index, checkpoints, run records and
/// the review queue.
const OBJECTS_AND_RUNS: &str = "
CREATE TABLE IF NOT EXISTS objects (
    id {id},
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_time ON objects(type, updated_at);
CREATE TABLE IF NOT EXISTS object_values (
    object_id {int} NOT NULL,
    type TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    folded TEXT
);
CREATE INDEX IF NOT EXISTS object_values_lookup ON object_values(type, field, value);
CREATE INDEX IF NOT EXISTS object_values_by_object ON object_values(object_id);
CREATE TABLE IF NOT EXISTS checkpoints (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    byte_offset {int} NOT NULL,
    line {int} NOT NULL,
    dead_letter_bytes {int} NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connector, input)
);
CREATE TABLE IF NOT EXISTS runs (
    id {id},
    connector TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    read {int} NOT NULL,
    written {int} NOT NULL,
    filtered {int} NOT NULL,
    failed {int} NOT NULL,
    queued {int} NOT NULL,
    error_rate {real} NOT NULL,
    p50_us {real},
    p95_us {real},
    p99_us {real},
    dry_run {int} NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id {id},
    connector TEXT NOT NULL,
    object_type TEXT NOT NULL,
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    existing TEXT NOT NULL,
    incoming TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL
);
";

/// Version 2: dead letters in the store, and what a checkpoint and a run record keep to
/// resume and to report.
const DEAD_LETTERS_AND_RESUMING: &str = "
CREATE TABLE dead_letters (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    line {int} NOT NULL,
    letter TEXT NOT NULL,
    PRIMARY KEY (connector, input, line)
);
ALTER TABLE checkpoints ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN input_size {int} NOT NULL DEFAULT 0;
ALTER TABLE checkpoints ADD COLUMN head_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN complete {int} NOT NULL DEFAULT 1;
ALTER TABLE checkpoints ADD COLUMN run_started TEXT NOT NULL DEFAULT '';
ALTER TABLE checkpoints ADD COLUMN segments {int} NOT NULL DEFAULT 1;
ALTER TABLE checkpoints ADD COLUMN counts TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN kept {int} NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN segments {int} NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN noop {int} NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN stopped {int} NOT NULL DEFAULT 0;
CREATE INDEX reviews_pending ON reviews(object_type, key_value, status);
";

/// Version 3, PostgreSQL only: the leases of input partitions and scheduled slots that
/// many workers share (`executor::partitions`, `executor::slots`); one SQLite file has one
/// writer and no need of them.
const LEASES: &str = "
CREATE TABLE partitions (
    connector TEXT NOT NULL,
    input TEXT NOT NULL,
    part {int} NOT NULL,
    start_offset {int} NOT NULL,
    end_offset {int} NOT NULL,
    first_line {int} NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    done {int} NOT NULL DEFAULT 0,
    last {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, input, part)
);
CREATE TABLE scheduled_runs (
    connector TEXT NOT NULL,
    slot TEXT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    done {int} NOT NULL DEFAULT 0,
    PRIMARY KEY (connector, slot)
);
";

/// Version 4: origin tracking of bidirectional connectors (`store::origins`).
const SYNC_BASELINES: &str = "
CREATE TABLE sync_baselines (
    connector TEXT NOT NULL,
    side TEXT NOT NULL,
    key_value TEXT NOT NULL,
    hash TEXT NOT NULL,
    fields TEXT,
    PRIMARY KEY (connector, side, key_value)
);
";

/// Version 5: `sluice serve`'s access control (`store::access`): API tokens, kept as
/// SHA-256 hashes, and the webhook deliveries already received.
const ACCESS: &str = "
CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
    connector TEXT NOT NULL,
    id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (connector, id)
);
";

/// Version 6: what concurrent writers on PostgreSQL coordinate through: the fencing tokens
/// of the run locks (each run that takes a connector's lock makes its generation the
/// newest, and every commit of a run checks that its generation still is) and a row per
/// stored key, which a batch locks before it reads the key's record (`lock_keys`). Made on
/// SQLite too, where the file lock and its one writer at a time make them unneeded.
const FENCES: &str = "
CREATE TABLE run_fences (
    connector TEXT PRIMARY KEY,
    generation {int} NOT NULL
);
CREATE TABLE object_keys (
    type TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (type, field, value)
);
";

/// Version 8: the secrets Sluice obtains (an OAuth 2.0 token set), each sealed with the
/// user's key (`store::secrets`); nothing in it is readable without the key.
const SECRETS: &str = "
CREATE TABLE secrets (
    connector TEXT NOT NULL,
    name TEXT NOT NULL,
    nonce TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connector, name)
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_of_either_database_gets_every_step_in_its_own_types() {
        let sqlite = steps_after(0, Dialect::Sqlite);
        let postgres = steps_after(0, Dialect::Postgres);
        assert!(sqlite.contains("id INTEGER PRIMARY KEY") && !sqlite.contains("{int}"));
        assert!(postgres.contains("id BIGSERIAL PRIMARY KEY") && !postgres.contains("{int}"));
        assert!(postgres.contains("CREATE TABLE partitions"));
        assert!(!sqlite.contains("CREATE TABLE partitions"));
        assert!(sqlite.contains("ADD COLUMN lost INTEGER") && postgres.contains("lost BIGINT"));
    }

    #[test]
    fn an_older_store_runs_only_the_steps_after_its_version() {
        let from_six = steps_after(6, Dialect::Sqlite);
        assert!(from_six
            .trim()
            .starts_with("ALTER TABLE runs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;"));
        assert!(from_six.contains("CREATE TABLE secrets"));
        assert_eq!(steps_after(VERSION, Dialect::Postgres), "");
    }
}
