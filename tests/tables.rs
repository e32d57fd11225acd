//! SQL tables as sources and sinks, through the real binary against the PostgreSQL server
//! of this machine (a fresh database per test): incremental reads by a watermark that never
//! skip rows with equal watermarks, full reads, upserts of exact numerics and timestamps,
//! refused rows as dead letters, a kill -9 mid-run that loses and duplicates nothing, and
//! the password never printed. Skipped (and listed by `scripts/test`) without a server; in
//! CI they must run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::served::Served;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A fresh database for `test` (its URL), or none: skipped.
fn database(test: &str) -> Option<String> {
    common::postgres::use_fresh_database(&format!("tables::{test}"))
        .then(common::postgres::current)
        .flatten()
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

/// `sluice run` in `dir` with the state in a file of its own: exit code, stdout, stderr.
fn run(dir: &Path, connector: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = common::sluice();
    command
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .args(["run", connector, "--store", "state.db"]);
    for (k, v) in env {
        command.env(k, v);
    }
    common::outcome(&mut command)
}

fn count(client: &mut postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Customers in a staging table, read incrementally into the store.
const INTO_STORE: &str = r#"name = "staging"

[inbound]
type = "ERP staging"

[inbound.table]
url = "env:ERP_DB"
name = "staging.customers"
key = "id"
watermark = "changed"
batch = 2

[outbound]
type = "store"
object = "customer"
primary_key = "id"

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "name"
formula = "upper(data('name'))"

[[mappings]]
target = "balance"
field = "balance"

[[mappings]]
target = "changed"
field = "changed"
"#;

#[test]
fn an_incremental_read_takes_only_new_rows_and_never_skips_equal_watermarks() {
    let Some(url) = database("incremental") else {
        return;
    };
    let mut db = client(&url);
    db.batch_execute(
        "CREATE SCHEMA staging;
         CREATE TABLE staging.customers (id integer PRIMARY KEY, name text, balance numeric(12,2), changed timestamptz NOT NULL);
         INSERT INTO staging.customers VALUES
           (1, 'ada', 10.10, '2024-05-01T10:00:00Z'),
           (2, 'bob', 20.00, '2024-05-01T10:00:00Z'),
           (3, 'cy',  0.05,  '2024-05-01T11:00:00Z')",
    )
    .unwrap();
    let dir = common::tempdir("tables", "incremental");
    std::fs::write(dir.join("c.toml"), INTO_STORE).unwrap();
    let env = [("ERP_DB", url.as_str())];
    let (code, _, err) = run(&dir, "c.toml", &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 3, written 3"), "{err}");

    // A row at the watermark of the last one read (a higher key) and one later: a read by
    // `watermark > last` alone would skip row 4.
    db.batch_execute(
        "INSERT INTO staging.customers VALUES
           (4, 'eve', 2.50, '2024-05-01T11:00:00Z'),
           (5, 'fay', 3.00, '2024-05-01T12:00:00Z')",
    )
    .unwrap();
    let (code, _, err) = run(&dir, "c.toml", &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 2, written 2"), "{err}");
    let (code, _, err) = run(&dir, "c.toml", &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 0"), "nothing new: {err}");

    let (code, out, err) = common::outcome(
        common::sluice()
            .current_dir(&dir)
            .args(["objects", "dump", "customer", "--store", "state.db"]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(r#""name":"ADA","balance":10.10,"changed":"2024-05-01T10:00:00+00:00""#),
        "{out}"
    );
    assert!(out.contains(r#""balance":0.05"#), "exact numerics: {out}");
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(out.contains(r#""name":"EVE""#), "{out}");
}

/// Rows with equal watermarks are read in key order and the cursor is (watermark, key):
/// a batch boundary between two rows of one watermark skips neither.
#[test]
fn a_batch_boundary_inside_one_watermark_skips_no_row() {
    let Some(url) = database("boundary") else {
        return;
    };
    let mut db = client(&url);
    db.batch_execute(
        "CREATE SCHEMA staging;
         CREATE TABLE staging.customers (id integer PRIMARY KEY, name text, balance numeric, changed timestamptz NOT NULL);
         INSERT INTO staging.customers
           SELECT i, 'n' || i, i, '2024-05-01T10:00:00Z' FROM generate_series(1, 7) i",
    )
    .unwrap();
    let dir = common::tempdir("tables", "boundary");
    std::fs::write(dir.join("c.toml"), INTO_STORE).unwrap();
    let (code, _, err) = run(&dir, "c.toml", &[("ERP_DB", url.as_str())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 7, written 7"),
        "batches of 2 over 7 rows of one watermark: {err}"
    );
}

/// From the store into a reporting table: upserts by key, exact numerics and instants,
/// a refused row a dead letter while the others are written, a rerun changing nothing.
#[test]
fn records_are_upserted_into_a_table_and_a_refused_row_is_a_dead_letter() {
    let Some(url) = database("upsert") else {
        return;
    };
    let mut db = client(&url);
    db.batch_execute(
        "CREATE TABLE \"Report\" (code varchar(4) PRIMARY KEY, amount numeric(14,4), at timestamptz, note text DEFAULT 'kept')",
    )
    .unwrap();
    db.batch_execute("INSERT INTO \"Report\" VALUES ('A1', 1, NULL, 'old')")
        .unwrap();
    let dir = common::tempdir("tables", "upsert");
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"code\": \"A1\", \"amount\": 12345.6789, \"at\": \"2024-05-01T12:00:00+02:00\"}\n\
         {\"code\": \"TOOLONG\", \"amount\": 1, \"at\": \"2024-05-01T12:00:00Z\"}\n\
         {\"code\": \"B2\", \"amount\": 0.1, \"at\": \"2024-05-02T00:00:00Z\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.toml"),
        r#"name = "report"
[inbound]
type = "ndjson"
[outbound]
type = "Reporting DB"
[outbound.table]
url = "env:REPORT_DB"
name = "Report"
key = "code"
[[mappings]]
target = "code"
field = "code"
[[mappings]]
target = "amount"
formula = "data('amount') * 2"
[[mappings]]
target = "at"
field = "at"
"#,
    )
    .unwrap();
    let mut command = common::sluice();
    command.current_dir(&dir).env_remove("SLUICE_STORE").args([
        "run",
        "c.toml",
        "--input",
        "in.ndjson",
        "--store",
        "state.db",
    ]);
    command.env("REPORT_DB", &url);
    let (code, _, err) = common::outcome(&mut command);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("written 2") && err.contains("failed 1"),
        "{err}"
    );
    let rows: Vec<(String, String, String, String)> = db
        .query(
            "SELECT code, amount::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), note FROM \"Report\" ORDER BY code",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "A1".into(),
                "24691.3578".into(),
                "2024-05-01 10:00".into(),
                "old".into()
            ),
            (
                "B2".into(),
                "0.2000".into(),
                "2024-05-02 00:00".into(),
                "kept".into()
            ),
        ],
        "the mapped columns are upserted, the others kept"
    );
    let letters = std::fs::read_to_string(dir.join("report.dead.ndjson")).unwrap();
    assert_eq!(letters.lines().count(), 1, "{letters}");
    assert!(
        letters.contains("E615") && letters.contains("TOOLONG"),
        "{letters}"
    );
    assert!(
        letters.contains("character varying(4)"),
        "PostgreSQL's reason: {letters}"
    );
}

/// A database that cannot be reached is E614 with the URL shown without its password.
#[test]
fn the_password_of_a_table_url_is_never_printed() {
    let dir = common::tempdir("tables", "password");
    std::fs::write(dir.join("c.toml"), INTO_STORE).unwrap();
    let (code, out, err) = run(
        &dir,
        "c.toml",
        &[(
            "ERP_DB",
            "postgres://sync:s3cr3t-pw@127.0.0.1:1/erp?connect_timeout=2",
        )],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("E614") && err.contains("sync:***@127.0.0.1:1"),
        "{err}"
    );
    assert!(
        !out.contains("s3cr3t-pw") && !err.contains("s3cr3t-pw"),
        "{err}"
    );
    let (code, out, _) = common::outcome(
        common::sluice()
            .current_dir(&dir)
            .args(["export", "c.toml"]),
    );
    assert_eq!(code, 0);
    assert!(out.contains("env:ERP_DB"), "{out}");
}

/// A store-bound read of a large table killed with SIGKILL mid-run, then run again: every
/// row stored exactly once, the second run going on from the last commit.
#[test]
fn a_table_read_killed_mid_run_resumes_and_stores_every_row_once() {
    let Some(url) = database("kill") else {
        return;
    };
    const N: i64 = 60_000;
    let mut db = client(&url);
    db.batch_execute(&format!(
        "CREATE SCHEMA staging;
         CREATE TABLE staging.customers (id integer PRIMARY KEY, name text, balance numeric, changed timestamptz NOT NULL);
         INSERT INTO staging.customers
           SELECT i, 'n' || i, i / 100.0, timestamptz '2024-05-01T00:00:00Z' + (i / 7) * interval '1 second'
           FROM generate_series(1, {N}) i"
    ))
    .unwrap();
    let dir = common::tempdir("tables", "kill");
    std::fs::write(
        dir.join("c.toml"),
        INTO_STORE.replace("batch = 2", "batch = 500"),
    )
    .unwrap();
    let mut child = common::process()
        .current_dir(&dir)
        .env_remove("SLUICE_STORE")
        .env("ERP_DB", &url)
        .args(["run", "c.toml", "--store", "state.db", "--batch", "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never committed"
        );
        std::thread::sleep(Duration::from_millis(20));
        let committed = rusqlite::Connection::open(dir.join("state.db"))
            .and_then(|c| c.query_row("SELECT count(*) FROM objects", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if committed > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, _, err) = run(&dir, "c.toml", &[("ERP_DB", url.as_str())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("resumed"),
        "the second run goes on from the checkpoint: {err}"
    );
    let store = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let (rows, distinct): (i64, i64) = store
        .query_row(
            "SELECT count(*), count(DISTINCT json_extract(data, '$.id')) FROM objects WHERE type = 'customer'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, distinct), (N, N));
    let mut db = client(&url);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM staging.customers"),
        N,
        "the source is only read"
    );
}

/// `sluice check` refuses a table side it could never open, without a database.
#[test]
fn check_refuses_a_malformed_table_side() {
    let dir = common::tempdir("tables", "check");
    for (edit, expected) in [
        ("name = \"staging.customers\"", "name = \"a.b.c\""),
        ("key = \"id\"\nwatermark", "key = \"\"\nwatermark"),
    ] {
        std::fs::write(dir.join("c.toml"), INTO_STORE.replace(edit, expected)).unwrap();
        let (code, _, err) =
            common::outcome(common::sluice().current_dir(&dir).args(["check", "c.toml"]));
        assert_eq!(code, 2, "{expected}");
        assert!(err.contains("E610"), "{err}");
    }
    std::fs::write(
        dir.join("c.toml"),
        format!("{INTO_STORE}\n[outbound.table]\nurl = \"x\"\nname = \"t\"\nkey = \"id\"\n[outbound.connection]\nurl = \"https://x.example\"\n"),
    )
    .unwrap();
    let (code, _, err) =
        common::outcome(common::sluice().current_dir(&dir).args(["check", "c.toml"]));
    assert_eq!(code, 2);
    assert!(err.contains("a side is one system"), "{err}");
}

/// A fresh MariaDB database for `test` (its URL; the test drops it when it passes), or
/// none: skipped outside CI.
fn mariadb(test: &str) -> Option<String> {
    let name = format!("sluice_t_{}_{test}", std::process::id());
    let made = std::process::Command::new("mariadb")
        .args(["-uroot", "-h127.0.0.1", "-P3306", "-e"])
        .arg(format!(
            "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"
        ))
        .output();
    match made {
        Ok(out) if out.status.success() => Some(format!("mysql://root@127.0.0.1:3306/{name}")),
        other if std::env::var_os("CI").is_some() => {
            panic!("{test} must run on MariaDB in CI: {other:?}")
        }
        _ => None,
    }
}

/// Runs SQL in a MariaDB database (through the server's own client).
fn maria_sql(url: &str, sql: &str) -> String {
    let db = url.rsplit('/').next().unwrap();
    let out = std::process::Command::new("mariadb")
        .args(["-uroot", "-h127.0.0.1", "-P3306", "-N", "-B", db, "-e", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A MariaDB table read incrementally (equal watermarks across a batch boundary), each row
/// typed (decimals exact, a TIMESTAMP an instant), upserted into another MariaDB table, a
/// refused row a dead letter; a second run reads only what changed.
#[test]
fn a_mariadb_table_is_read_incrementally_and_upserted_into_another() {
    let Some(url) = mariadb("maria") else {
        return;
    };
    maria_sql(
        &url,
        "CREATE TABLE src (id INT PRIMARY KEY, name VARCHAR(40), balance DECIMAL(12,2), changed TIMESTAMP(6) NOT NULL);
         CREATE TABLE dst (code VARCHAR(4) PRIMARY KEY, balance DECIMAL(14,4), changed TIMESTAMP(6) NULL, note VARCHAR(10) DEFAULT 'kept');
         INSERT INTO src VALUES
           (1, 'ada', 10.10, '2024-05-01 10:00:00'), (2, 'bob', 0.05, '2024-05-01 10:00:00'),
           (3, 'toolong', 1.00, '2024-05-01 10:00:00'), (4, 'dee', 2.50, '2024-05-01 11:00:00');
         INSERT INTO dst VALUES ('ada', 0, NULL, 'old')",
    );
    let dir = common::tempdir("tables", "maria");
    std::fs::write(
        dir.join("c.toml"),
        r#"name = "maria"
[inbound]
type = "ERP"
[inbound.table]
url = "env:SRC_DB"
name = "src"
key = "id"
watermark = "changed"
batch = 2
[outbound]
type = "Reporting"
[outbound.table]
url = "env:SRC_DB"
name = "dst"
key = "code"
[[mappings]]
target = "code"
field = "name"
[[mappings]]
target = "balance"
formula = "data('balance') * 3"
[[mappings]]
target = "changed"
field = "changed"
"#,
    )
    .unwrap();
    let env = [("SRC_DB", url.as_str())];
    let (code, _, err) = run(&dir, "c.toml", &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 4, written 3, filtered 0, failed 1"),
        "{err}"
    );
    assert_eq!(
        maria_sql(
            &url,
            "SELECT code, balance, changed, note FROM dst ORDER BY code"
        ),
        "ada\t30.3000\t2024-05-01 10:00:00.000000\told\n\
         bob\t0.1500\t2024-05-01 10:00:00.000000\tkept\n\
         dee\t7.5000\t2024-05-01 11:00:00.000000\tkept\n"
    );
    let letters = std::fs::read_to_string(dir.join("maria.dead.ndjson")).unwrap();
    assert!(
        letters.contains("E615") && letters.contains("toolong"),
        "{letters}"
    );

    maria_sql(
        &url,
        "INSERT INTO src VALUES (5, 'eve', 1.10, '2024-05-01 11:00:00'), (6, 'fay', 2.00, '2024-05-01 12:00:00');
         UPDATE src SET balance = 1.00, changed = '2024-05-01 12:30:00' WHERE id = 1",
    );
    let (code, _, err) = run(&dir, "c.toml", &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 3, written 3"),
        "only the new and changed rows: {err}"
    );
    assert_eq!(
        maria_sql(&url, "SELECT code, balance FROM dst ORDER BY code"),
        "ada\t3.0000\nbob\t0.1500\ndee\t7.5000\neve\t3.3000\nfay\t6.0000\n"
    );
    let db = url.rsplit('/').next().unwrap().to_string();
    let _ = std::process::Command::new("mariadb")
        .args([
            "-uroot",
            "-h127.0.0.1",
            "-P3306",
            "-e",
            &format!("DROP DATABASE {db}"),
        ])
        .output();
}

/// `sluice serve` follows a table in realtime (a look every `poll`, each reading only the
/// rows after the last): rows inserted while it runs reach the store within moments, and
/// the connector is runnable without records brought by a webhook.
#[test]
fn serve_follows_a_table_in_realtime() {
    let Some(url) = database("realtime") else {
        return;
    };
    let mut db = client(&url);
    db.batch_execute(
        "CREATE SCHEMA staging;
         CREATE TABLE staging.customers (id integer PRIMARY KEY, name text, balance numeric, changed timestamptz NOT NULL DEFAULT now());
         INSERT INTO staging.customers VALUES (1, 'ada', 1, '2024-05-01T10:00:00Z')",
    )
    .unwrap();
    let dir = common::tempdir("tables", "realtime");
    std::fs::write(
        dir.join("c.toml"),
        format!("{INTO_STORE}\n[sync]\nfrequency = \"realtime\"\npoll = \"100ms\"\n"),
    )
    .unwrap();
    let served = Served::start(&dir, &["c.toml"], &[("ERP_DB", url.as_str())]);
    assert_eq!(served.connector("staging")["runnable"], true);
    // none until the server's first run has made the store's tables (on a loaded machine
    // the first look may come before it)
    let stored = |db: &mut postgres::Client| {
        db.query_one("SELECT count(*) FROM objects WHERE type = 'customer'", &[])
            .map_or(0, |row| row.get::<_, i64>(0))
    };
    let store = std::cell::RefCell::new(client(&url));
    served.wait_until("the first row", 20, |_| {
        stored(&mut store.borrow_mut()) == 1
    });
    let mut waits = Vec::new();
    for id in 2..=6 {
        db.execute(
            "INSERT INTO staging.customers (id, name, balance) VALUES ($1, 'n', 1)",
            &[&id],
        )
        .unwrap();
        let inserted = Instant::now();
        served.wait_until("an inserted row", 20, |_| {
            stored(&mut store.borrow_mut()) == i64::from(id)
        });
        waits.push(inserted.elapsed());
    }
    waits.sort();
    eprintln!("insert to store, median of 5: {:?}", waits[2]);
    assert!(waits[2] < Duration::from_secs(5), "{waits:?}");
}
