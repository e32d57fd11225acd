//! A run's record is kept with its last checkpoint, idle runs do not pile up, the runs table
//! is pruned, and the dead-letter file is written only when its letters may have changed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::{run_in, tempdir};
use serde_json::Value;

on_postgres!(
    a_run_whose_dead_letter_file_cannot_be_written_is_still_recorded,
    idle_runs_leave_one_record_and_old_runs_are_pruned,
);

fn setup(name: &str) -> std::path::PathBuf {
    let dir = tempdir("run-records", name);
    std::fs::write(
        dir.join("c.toml"),
        r#"name = "people"

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
target = "double"
formula = "data('n') * 2"
"#,
    )
    .unwrap();
    dir
}

fn runs(dir: &Path) -> i64 {
    match common::postgres::current() {
        Some(url) => {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .query_one("SELECT count(*) FROM runs", &[])
                .unwrap()
                .get::<_, i64>(0)
        }
        None => rusqlite::Connection::open(dir.join("sluice.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .unwrap(),
    }
}

fn status(dir: &Path) -> Value {
    let (code, out, err) = run_in(dir, &["status", "people", "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Value>(&out).unwrap()[0].clone()
}

#[test]
fn a_run_whose_dead_letter_file_cannot_be_written_is_still_recorded() {
    let dir = setup("letters-dir");
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"id\": 1, \"n\": 1}\n{\"id\": 2, \"n\": \"x\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--dead-letter",
            "missing/dir/letters.ndjson",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E506"), "{err}");
    let last = status(&dir);
    assert_eq!(
        last["read"], 2,
        "the run is recorded with its checkpoint: {last}"
    );
    assert_eq!(last["written"], 1, "{last}");
    assert_eq!(last["failed"], 1, "{last}");
}

#[test]
fn idle_runs_leave_one_record_and_old_runs_are_pruned() {
    let dir = setup("idle");
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"id\": 1, \"n\": 1}\n{\"id\": 2, \"n\": \"x\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let letters = dir.join("people.dead.ndjson");
    let written = std::fs::metadata(&letters).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    for _ in 0..5 {
        let (code, _, err) = run_in(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("nothing new"), "{err}");
    }
    assert_eq!(runs(&dir), 2, "one run that read, one idle record");
    assert_eq!(
        std::fs::metadata(&letters).unwrap().modified().unwrap(),
        written,
        "idle runs do not rewrite the dead-letter file"
    );
    let last = status(&dir);
    assert_eq!(
        last["read"], 2,
        "status shows the last run that read: {last}"
    );
    // runs beyond --keep-runs are pruned
    for n in 3..8 {
        std::fs::write(
            dir.join("in.ndjson"),
            format!("{{\"id\": {n}, \"n\": {n}}}\n"),
        )
        .unwrap();
        let (code, _, err) = run_in(
            &dir,
            &[
                "run",
                "c.toml",
                "--input",
                "in.ndjson",
                "--from-start",
                "--keep-runs",
                "3",
            ],
        );
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(runs(&dir), 3);
}

#[test]
fn a_line_too_deep_in_a_field_no_mapping_reads_gets_e509_on_every_path() {
    let dir = setup("deep");
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    std::fs::write(
        dir.join("in.ndjson"),
        format!("{{\"id\": 1, \"n\": 1}}\n{{\"id\": 2, \"n\": 2, \"unread\": {deep}}}\n"),
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let letters = std::fs::read_to_string(dir.join("people.dead.ndjson")).unwrap();
    assert!(letters.contains("E509"), "{letters}");
    let (code, out, _) = run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--output",
            "-",
            "--from-start",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    let (_, out, err) = run_in(&dir, &["test", "c.toml", "--sample", "in.ndjson"]);
    assert!(format!("{out}{err}").contains("E509"), "{out}{err}");
}

#[test]
fn files_a_killed_process_left_half_made_are_removed_at_the_next_run() {
    let dir = setup("leftovers");
    std::fs::write(dir.join("in.ndjson"), "{\"id\": 1, \"n\": \"x\"}\n").unwrap();
    let dead = 999_999_999;
    let left = [
        format!("sluice.db.creating-{dead}-1"),
        format!("sluice.db.creating-{dead}-1-journal"),
        format!("people.dead.ndjson.writing-{dead}"),
    ];
    for name in &left {
        std::fs::write(dir.join(name), "half").unwrap();
    }
    let (code, _, err) = run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--store",
            "sluice.db",
        ],
    );
    assert_eq!(code, 0, "{err}");
    for name in &left {
        assert!(!dir.join(name).exists(), "{name} is still there");
    }
}
