//! What only a PostgreSQL store does, through the real binary on a fresh database per test:
//! partitioned runs (three `sluice run --partitions` workers share one input of 300 000
//! records through leases; one is killed with SIGKILL in the middle of a partition, the
//! others take it over when its lease runs out, and every record is written exactly once),
//! scheduled runs claimed by one worker, and `[store] url` in a connector. Skipped (and
//! listed by `scripts/test`) without a server; in CI they must run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/stubs.rs"]
mod stubs;

use common::served::Served;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const RECORDS: u64 = 300_000;

const CONNECTOR: &str = r#"name = "people"

[inbound]
type = "ndjson"

[outbound]
type = "store"
object = "person"
primary_key = "id"

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#;

fn worker(dir: &std::path::Path) -> Child {
    common::process()
        .current_dir(dir)
        .args([
            "run",
            "people.toml",
            "--input",
            "in.ndjson",
            "--partitions",
            "12",
            "--lease",
            "2s",
            "--batch",
            "2000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A fresh database for `test` (its URL, and the test's store), or none: skipped.
fn database(test: &str) -> Option<String> {
    common::postgres::use_fresh_database(&format!("postgres::{test}"))
        .then(common::postgres::current)
        .flatten()
}

/// Waits (polling every `poll`, for `limit` at most) until `victim` holds a partition and
/// has committed part of it, then kills it with SIGKILL.
fn kill_mid_partition(
    client: &mut postgres::Client,
    victim: &mut Child,
    (poll, limit): (Duration, Duration),
) {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < limit, "the victim never got going");
        std::thread::sleep(poll);
        let mid = client
            .query_opt(
                "SELECT c.line FROM partitions p
                 JOIN checkpoints c ON c.connector = p.connector AND c.input = p.input || '#part' || p.part
                 WHERE p.owner LIKE $1 AND p.done = 0 AND c.complete = 0
                   AND c.line >= p.first_line AND c.byte_offset < p.end_offset",
                &[&format!("%:{}:%", victim.id())],
            )
            .ok()
            .flatten();
        if mid.is_some() {
            break;
        }
    }
    // SAFETY: a process this test started and has not waited for.
    unsafe { libc::kill(victim.id() as i32, libc::SIGKILL) };
    let _ = victim.wait();
}

fn query_count(client: &mut postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn three_workers_one_killed_mid_partition_write_every_record_exactly_once() {
    let Some(url) =
        database("three_workers_one_killed_mid_partition_write_every_record_exactly_once")
    else {
        return;
    };
    let dir = common::tempdir("partitions", "kill");
    std::fs::write(dir.join("people.toml"), CONNECTOR).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, RECORDS)).unwrap();

    let mut workers: Vec<Child> = (0..3).map(|_| worker(&dir)).collect();
    let victim = workers[0].id();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let started = Instant::now();
    kill_mid_partition(
        &mut client,
        &mut workers[0],
        (Duration::from_millis(50), common::patience(120)),
    );
    let taken_over: i64 = client
        .query_one(
            "SELECT count(*) FROM partitions WHERE owner LIKE $1",
            &[&format!("%:{victim}:%")],
        )
        .unwrap()
        .get(0);
    assert_eq!(taken_over, 1, "the victim died holding one partition");

    for mut w in workers.drain(1..) {
        let status = w.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut w.stderr.take().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{err}");
        assert!(err.contains("every partition is done"), "{err}");
    }
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(*) FROM partitions WHERE done = 0"
        ),
        0,
        "every partition done"
    );
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(*) FROM objects WHERE type = 'person'"
        ),
        RECORDS as i64,
        "no record written twice, none lost"
    );
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(DISTINCT value) FROM object_values WHERE type = 'person' AND field = 'id'"
        ),
        RECORDS as i64,
        "every id once"
    );
    assert!(started.elapsed() < common::patience(300));
}

#[test]
fn a_connector_names_its_store_and_the_flag_overrides_it() {
    let Some(url) = database("a_connector_names_its_store_and_the_flag_overrides_it") else {
        return;
    };
    let dir = common::tempdir("pgstore", "connector-url");
    let connector = format!("{CONNECTOR}\n[store]\nurl = \"env:PEOPLE_DB\"\n");
    std::fs::write(dir.join("people.toml"), connector).unwrap();
    std::fs::write(dir.join("in.ndjson"), "{\"id\": 1, \"name\": \"a\"}\n").unwrap();
    let run = |extra: &[&str], env: Option<&str>| {
        let mut command = common::sluice();
        command.current_dir(&dir).env_remove("SLUICE_STORE");
        if let Some(db) = env {
            command.env("PEOPLE_DB", db);
        }
        command
            .args(["run", "people.toml", "--input", "in.ndjson"])
            .args(extra);
        common::outcome(&mut command)
    };
    let (code, _, err) = run(&[], None);
    assert_eq!(code, 1);
    assert!(err.contains("E606") && err.contains("PEOPLE_DB"), "{err}");
    let (code, _, err) = run(&[], Some(&url));
    assert_eq!(code, 0, "{err}");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(query_count(&mut client, "SELECT count(*) FROM objects"), 1);
    assert!(!dir.join("sluice.db").exists());
    let (code, _, err) = run(&["--store", "local.db"], Some(&url));
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("local.db").exists(), "--store wins over [store]");
    let (code, out, err) = common::outcome(
        common::sluice()
            .current_dir(&dir)
            .args(["export", "people.toml"]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("env:PEOPLE_DB"), "{out}");
}

fn slot_worker(dir: &std::path::Path, input: &str, slot: &str) -> Child {
    common::process()
        .current_dir(dir)
        .args([
            "run",
            "people.toml",
            "--input",
            input,
            "--slot",
            slot,
            "--lease",
            "2s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(mut child: Child) -> String {
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    err
}

fn records(first: u64, n: u64) -> String {
    (first..first + n)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"))
        .collect()
}

#[test]
fn of_the_workers_given_one_slot_one_runs_it_and_a_dead_ones_slot_is_taken_over() {
    let Some(url) =
        database("of_the_workers_given_one_slot_one_runs_it_and_a_dead_ones_slot_is_taken_over")
    else {
        return;
    };
    let dir = common::tempdir("pgstore", "slots");
    std::fs::write(dir.join("people.toml"), CONNECTOR).unwrap();
    std::fs::write(dir.join("a.ndjson"), records(0, 20_000)).unwrap();
    let workers: Vec<Child> = (0..3)
        .map(|_| slot_worker(&dir, "a.ndjson", "nightly-1"))
        .collect();
    let outputs: Vec<String> = workers.into_iter().map(finish).collect();
    let ran: Vec<&String> = outputs
        .iter()
        .filter(|e| e.contains("read 20000"))
        .collect();
    assert_eq!(ran.len(), 1, "exactly one worker ran the slot: {outputs:?}");
    assert!(
        outputs
            .iter()
            .filter(|e| !e.contains("read 20000"))
            .all(|e| e.contains("is being run by") || e.contains("was run already")),
        "{outputs:?}"
    );
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(
        query_count(&mut client, "SELECT count(*) FROM objects"),
        20_000
    );
    let err = finish(slot_worker(&dir, "a.ndjson", "nightly-1"));
    assert!(err.contains("was run already"), "{err}");

    // The worker of the next slot dies half-way: its lease keeps others off until it runs
    // out, then the next worker takes the slot over from the checkpoint.
    std::fs::write(dir.join("b.ndjson"), records(20_000, 60_000)).unwrap();
    let mut first = slot_worker(&dir, "b.ndjson", "nightly-2");
    let started = Instant::now();
    while query_count(&mut client, "SELECT count(*) FROM objects") < 25_000 {
        assert!(
            started.elapsed() < common::patience(60),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a process this test started and has not waited for.
    unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
    let _ = first.wait();
    assert!(
        query_count(&mut client, "SELECT count(*) FROM objects") < 80_000,
        "killed half-way"
    );
    let err = finish(slot_worker(&dir, "b.ndjson", "nightly-2"));
    assert!(
        err.contains("is being run by"),
        "the dead worker's lease still holds: {err}"
    );
    std::thread::sleep(Duration::from_millis(2_500));
    let err = finish(slot_worker(&dir, "b.ndjson", "nightly-2"));
    assert!(err.contains("resumed from the checkpoint"), "{err}");
    assert_eq!(
        query_count(&mut client, "SELECT count(*) FROM objects"),
        80_000
    );
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(DISTINCT value) FROM object_values WHERE field = 'id'"
        ),
        80_000
    );
}

#[test]
fn three_workers_share_an_apis_pages_and_a_killed_ones_partition_is_finished_by_another() {
    let Some(url) = database(
        "three_workers_share_an_apis_pages_and_a_killed_ones_partition_is_finished_by_another",
    ) else {
        return;
    };
    let pager = std::sync::Arc::new(std::sync::Mutex::new(stubs::Pager {
        style: "skip".into(),
        count: 3000,
        delay: Duration::from_millis(40),
        ..Default::default()
    }));
    let server = stubs::pager(&pager);
    let dir = common::tempdir("pgstore", "api-partitions");
    let connector = format!(
        r#"name = "items"

[inbound]
type = "Shopware"
entity = "items"

[inbound.connection]
url = "{}/v1"
records = "data.items"
paging = "skip"
page_size_param = "limit"
page_size = 50

[outbound]
type = "store"
object = "item"
primary_key = "n"

[[mappings]]
target = "n"
field = "n"
"#,
        server.base
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    let spawn = || {
        common::process()
            .current_dir(&dir)
            .args([
                "run",
                "c.toml",
                "--partitions",
                "4",
                "--lease",
                "2s",
                "--batch",
                "50",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut workers: Vec<Child> = (0..3).map(|_| spawn()).collect();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    kill_mid_partition(
        &mut client,
        &mut workers[0],
        (Duration::from_millis(5), common::patience(60)),
    );
    for w in workers.drain(1..) {
        let err = finish(w);
        assert!(err.contains("every partition is done"), "{err}");
    }
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(*) FROM partitions WHERE done = 0"
        ),
        0
    );
    assert_eq!(
        query_count(&mut client, "SELECT count(*) FROM objects"),
        3000
    );
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(DISTINCT value) FROM object_values WHERE field = 'n'"
        ),
        3000
    );
}

/// The columns of every table of a store, as `table.column` sorted: from PostgreSQL's
/// catalogue or SQLite's.
fn columns_of_postgres(client: &mut postgres::Client) -> Vec<String> {
    let mut columns: Vec<String> = client
        .query(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name NOT IN ('sluice_meta', 'partitions', 'scheduled_runs')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    columns.sort();
    columns
}

fn columns_of_sqlite(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut columns = Vec::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        columns.extend(names.into_iter().map(|c| format!("{table}.{c}")));
    }
    columns.sort();
    columns
}

#[test]
fn the_schema_is_written_once_and_an_older_postgres_store_is_migrated() {
    let Some(url) = database("the_schema_is_written_once_and_an_older_postgres_store_is_migrated")
    else {
        return;
    };
    let dir = common::tempdir("pgstore", "schema-once");
    std::fs::write(dir.join("people.toml"), CONNECTOR).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, 10)).unwrap();
    let run = |store: &str| {
        common::outcome(common::sluice().current_dir(&dir).args([
            "run",
            "people.toml",
            "--input",
            "in.ndjson",
            "--store",
            store,
        ]))
    };
    let (code, _, err) = run(&url);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run("local.db");
    assert_eq!(code, 0, "{err}");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(
        columns_of_postgres(&mut client),
        columns_of_sqlite(&dir.join("local.db")),
        "both databases get the same tables and columns from the one schema"
    );

    // A store as the first PostgreSQL Sluice made it (its version 1): what came later goes.
    client
        .batch_execute(
            "DROP TABLE sync_baselines; DROP TABLE api_tokens; DROP TABLE webhook_deliveries;
             DROP TABLE run_fences; DROP TABLE object_keys; ALTER TABLE runs DROP COLUMN lost;
             DROP TABLE secrets;
             UPDATE sluice_meta SET value = '1' WHERE key = 'version'",
        )
        .unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, 20)).unwrap();
    let (code, _, err) = run(&url);
    assert_eq!(code, 0, "a version-1 PostgreSQL store is migrated: {err}");
    assert_eq!(query_count(&mut client, "SELECT count(*) FROM objects"), 20);
    let version: String = client
        .query_one("SELECT value FROM sluice_meta WHERE key = 'version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, "6");
    assert_eq!(
        query_count(&mut client, "SELECT count(*) FROM run_fences"),
        1,
        "the migrated store fences its runs again"
    );

    client
        .batch_execute("UPDATE sluice_meta SET value = '99' WHERE key = 'version'")
        .unwrap();
    let (code, _, err) = run(&url);
    assert_eq!(code, 1);
    assert!(
        err.contains("E702") && err.contains("newer Sluice"),
        "{err}"
    );
}

/// One sync, whichever front end runs it: a connector that names `[sync] partitions` is
/// shared by two `sluice serve` processes on one PostgreSQL store as by `sluice run`
/// workers — every partition run once, every record read and stored once between them.
#[test]
fn two_servers_share_the_partitions_of_a_connector_that_names_them() {
    let Some(url) = database("two_servers_share_the_partitions_of_a_connector_that_names_them")
    else {
        return;
    };
    const N: u64 = 40_000;
    let dir = common::tempdir("pgstore", "serve-partitions");
    let connector = CONNECTOR.replace(
        "[inbound]\ntype = \"ndjson\"\n",
        "[inbound]\ntype = \"ndjson\"\npath = \"in.ndjson\"\n",
    ) + "\n[sync]\npartitions = 8\nlease = \"5s\"\n";
    std::fs::write(dir.join("people.toml"), connector).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, N)).unwrap();
    let first = Served::start(&dir, &["people.toml"], &[]);
    let second = Served::start(&dir, &["people.toml"], &[]);
    let runs = [first.trigger("people"), second.trigger("people")];
    let ended = [first.finished(runs[0]), second.finished(runs[1])];
    for run in &ended {
        assert_eq!(
            run["status"],
            "succeeded",
            "{run}\n{}\n{}",
            first.log(),
            second.log()
        );
    }
    let read: u64 = ended.iter().map(|r| r["read"].as_u64().unwrap()).sum();
    assert_eq!(read, N, "each record is read by one server: {ended:?}");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(
        query_count(&mut client, "SELECT count(*) FROM objects"),
        N as i64
    );
    assert_eq!(
        query_count(&mut client, "SELECT count(DISTINCT data) FROM objects"),
        N as i64
    );
    assert_eq!(
        query_count(
            &mut client,
            "SELECT count(*) FROM partitions WHERE connector = 'people' AND done = 1"
        ),
        8
    );
}
