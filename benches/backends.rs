//! The store on SQLite and on PostgreSQL side by side, in one run: load (insert)
//! throughput up to 1 000 000 records, upsert throughput of the run's write path (updates
//! and inserts) on top of them, lookup latency against them; then a partitioned run of
//! 300 000 records with 1, 2 and 4 workers on PostgreSQL (the release binary), next to one
//! SQLite run of the same input. `cargo bench --bench backends [-- RECORDS]`; the server is
//! `SLUICE_TEST_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use sluice::store::sync::{LetterBatch, UpsertTarget};
use sluice::store::Store;
use sluice::transform::connector::Conflict;
use sluice::value::{parse_record, Value};

#[allow(dead_code)]
#[path = "../tests/common/postgres.rs"]
mod pg;

const BATCH: usize = 10_000;

/// A fresh PostgreSQL database for `name`, as the tests make them: its URL.
fn fresh_database(name: &str) -> String {
    pg::fresh_database(name).unwrap()
}

fn customer(i: usize, suffix: &str) -> Value {
    parse_record(&format!(
        r#"{{"customer_id": "FSM-{i}", "erp_id": "C{i:07}", "name": "Customer {i} GmbH{suffix}", "city": "City {}"}}"#,
        i % 1000
    ))
    .unwrap()
}

/// Loads `n` records in batches: records/s.
fn load(store: &mut Store, n: usize) -> f64 {
    let started = Instant::now();
    for batch in 0..n.div_ceil(BATCH) {
        let records: Vec<Value> = (batch * BATCH..((batch + 1) * BATCH).min(n))
            .map(|i| customer(i, ""))
            .collect();
        store
            .load("fsmcustomer", &records, None, chrono::Utc::now())
            .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Upserts `count` records by `erp_id` from `first` through the run's write path, in
/// transactions of 1 000: records/s.
fn upsert(store: &mut Store, first: usize, count: usize) -> f64 {
    let started = Instant::now();
    for chunk in (first..first + count).collect::<Vec<_>>().chunks(1000) {
        let records: Vec<Value> = chunk.iter().map(|i| customer(*i, " (changed)")).collect();
        store
            .apply_batch(
                "bench",
                UpsertTarget {
                    object: "fsmcustomer",
                    key: "erp_id",
                    conflict: Conflict::ExternalWins,
                    time_field: "updated_at",
                },
                &records,
                &LetterBatch::default(),
                chrono::Utc::now(),
                chrono_tz::Tz::UTC,
                None,
            )
            .unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// `n` uncached equality lookups spread over the store: (p50, p99) in µs.
fn lookups(store: &Store, stored: usize, n: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    let mut i = 0usize;
    for _ in 0..n {
        i = (i + 7919) % stored;
        let key = Value::string(format!("C{i:07}"));
        let t = Instant::now();
        let found = store.latest_equal("fsmcustomer", "erp_id", &key).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(found.is_some());
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], times[n * 99 / 100])
}

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

/// The CPU seconds this process's waited-for children have used (user and system, from
/// `/proc/self/stat`; clock ticks of 1/100 s, as Linux counts them for user space).
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // after the command name in parentheses: fields 3.. ; cutime and cstime are 16 and 17
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(13) + ticks(14)) / 100.0
}

/// Wall time and CPU time (all workers together) of `workers` concurrent `sluice run`
/// processes with `args`.
fn workers(dir: &Path, workers: usize, args: &[&str]) -> (f64, f64) {
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
                .current_dir(dir)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    (
        started.elapsed().as_secs_f64(),
        children_cpu_seconds() - cpu_before,
    )
}

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let only_workers = std::env::args().any(|a| a == "workers");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/backends");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if !only_workers {
        backends(&dir, records);
    }
    partitioned(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Load, upsert and lookups on each backend.
fn backends(dir: &Path, records: usize) {
    println!("store backends, {records} stored records, 2-core machine, one run\n");
    println!(
        "{:<10} {:>14} {:>16} {:>16} {:>12} {:>12}",
        "backend", "load rec/s", "update rec/s", "insert rec/s", "lookup p50", "lookup p99"
    );
    let postgres_url = fresh_database("bench::backends");
    for (name, location) in [
        ("SQLite", dir.join("store.db").display().to_string()),
        ("PostgreSQL", postgres_url.clone()),
    ] {
        let mut store = Store::open_or_create(Path::new(&location)).unwrap();
        let loaded = load(&mut store, records);
        let updated = upsert(&mut store, 0, 100_000.min(records));
        let inserted = upsert(&mut store, records, 100_000);
        let (p50, p99) = lookups(&store, records, 20_000);
        println!(
            "{name:<10} {loaded:>14.0} {updated:>16.0} {inserted:>16.0} {p50:>10.1}µs {p99:>10.1}µs"
        );
    }
    // Its autovacuum would compete with the runs below for this machine's two cores.
    let mut client = postgres::Client::connect(&pg::server(), postgres::NoTls).unwrap();
    let name = url::Url::parse(&postgres_url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
}

/// One input with 1, 2 and 3 workers of a partitioned run (and 1 again, for the noise),
/// next to one SQLite run.
fn partitioned(dir: &Path) {
    let n = 300_000;
    let lines: String = (0..n)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"))
        .collect();
    std::fs::write(dir.join("in.ndjson"), lines).unwrap();
    std::fs::write(dir.join("people.toml"), CONNECTOR).unwrap();
    println!("\none input of {n} records, release binary: wall time of the whole run, and the CPU time of all its workers per record (the database server's not counted)\n");
    let (sqlite, sqlite_cpu) = workers(
        dir,
        1,
        &[
            "run",
            "people.toml",
            "--input",
            "in.ndjson",
            "--store",
            "run.db",
        ],
    );
    println!(
        "{:<44} {:>8.1} s {:>10.0} rec/s {:>8.2} µs CPU/rec",
        "SQLite, one run",
        sqlite,
        n as f64 / sqlite,
        sqlite_cpu * 1e6 / n as f64
    );
    for count in [1, 2, 4, 1] {
        let url = fresh_database("bench::workers");
        let (seconds, cpu) = workers(
            dir,
            count,
            &[
                "run",
                "people.toml",
                "--input",
                "in.ndjson",
                "--store",
                &url,
                "--partitions",
                "12",
            ],
        );
        println!(
            "{:<44} {:>8.1} s {:>10.0} rec/s {:>8.2} µs CPU/rec",
            format!("PostgreSQL, --partitions 12, {count} worker(s)"),
            seconds,
            n as f64 / seconds,
            cpu * 1e6 / n as f64
        );
    }
}
