//! Nothing lost, nothing duplicated: `sluice run` killed at random moments (store creation
//! included), stopped by SIGTERM, resumed over changed or growing inputs, rerun, retried and
//! raced, through the real binary on real files and a real SQLite store. Every record must be
//! stored once and every dead letter written once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{run_in, sluice};

const CONNECTOR: &str = r#"name = "people"

[inbound]
type = "ndjson"

[outbound]
type = "store"
object = "person"
primary_key = "id"

[sync]
conflict = "CONFLICT"

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "name"
formula = "upper(data('name'))"

[[mappings]]
target = "share"
formula = "100 / data('parts')"

[[mappings]]
target = "updated_at"
field = "updated_at"
"#;

fn setup(name: &str, conflict: &str) -> PathBuf {
    let dir = common::tempdir("reliability", name);
    std::fs::write(
        dir.join("people.toml"),
        CONNECTOR.replace("CONFLICT", conflict),
    )
    .unwrap();
    dir
}

/// `n` records from id `first`; every tenth one fails (division by zero).
fn records(first: u64, n: u64) -> String {
    (first..first + n)
        .map(|i| {
            let parts = if i % 10 == 7 { 0 } else { 4 };
            format!("{{\"id\": {i}, \"name\": \"n{i}\", \"parts\": {parts}}}\n")
        })
        .collect()
}

fn failing(first: u64, n: u64) -> u64 {
    (first..first + n).filter(|i| i % 10 == 7).count() as u64
}

/// The dead letters in the file: each line must be whole JSON; (input, line) pairs.
fn letters(dir: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(dir.join("people.dead.ndjson")).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a partial last line"
    );
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad letter {l:?}: {e}"));
            (
                v["input"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every letter once: no (input, line) twice, and `expected` of them.
fn assert_letters_once(dir: &Path, expected: u64) {
    let all = letters(dir);
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a dead letter is duplicated");
    assert_eq!(all.len() as u64, expected, "dead letters");
}

/// The stored ids: each once, and `expected` of them.
fn assert_stored_once(dir: &Path, expected: u64) {
    let (code, out, err) = run_in(dir, &["objects", "dump", "person"]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a record is stored twice");
    assert_eq!(ids.len() as u64, expected, "stored records");
}

/// `sluice run people.toml --input in.ndjson EXTRA...` in the background.
fn run_people(dir: &Path, extra: &[&str]) -> Child {
    let mut args = vec!["run", "people.toml", "--input", "in.ndjson"];
    args.extend(extra);
    spawn(dir, &args)
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    common::process()
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on a child process of this test that has not been waited for.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// A small pseudo-random sequence (no dependency): the same kills every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

on_postgres!(
    crash_loop_every_record_and_every_dead_letter_exactly_once,
    kill_before_the_first_commit_does_not_duplicate_dead_letters,
    reruns_from_start_and_to_output_replace_their_letters,
    no_op_rerun_over_an_older_input_keeps_the_other_inputs_letters,
    plain_run_after_a_retry_keeps_every_letter_whole,
    most_recent_counts_lost_records_and_compares_dates_as_instants,
    sigterm_finishes_the_batch_commits_and_resumes,
    a_second_run_of_the_same_connector_gets_the_lock_error,
);

#[test]
fn crash_loop_every_record_and_every_dead_letter_exactly_once() {
    let dir = setup("crashloop", "external_wins");
    let n = 30_000;
    std::fs::write(dir.join("in.ndjson"), records(0, n)).unwrap();
    let mut rng = Lcg(7);
    let mut kills = 0;
    loop {
        let mut child = run_people(&dir, &["--batch", "700"]);
        // Bounded by kills, not by time: after eight kills the run is let finish, however
        // slow a loaded machine makes it.
        if kills == 8 {
            let status = child.wait().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(status.success(), "{err}");
            break;
        }
        // kills at random moments, often enough that a run (faster since the JIT keeps
        // its output buffer) is killed several times before it gets through
        let delay = if kills % 4 == 0 {
            rng.next(6)
        } else {
            rng.next(400)
        };
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap();
        if let Some(status) = finished {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(status.success(), "{err}");
            break;
        }
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
        kills += 1;
    }
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(kills >= 5, "only {kills} kills");
    assert_stored_once(&dir, n - failing(0, n));
    assert_letters_once(&dir, failing(0, n));
    let (_, out, _) = run_in(&dir, &["status", "people", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    let last = &status[0];
    let sum: u64 = [
        "written",
        "filtered",
        "failed",
        "queued",
        "unchanged",
        "lost",
    ]
    .iter()
    .map(|k| last[k].as_u64().unwrap())
    .sum();
    assert_eq!(last["read"].as_u64().unwrap(), sum, "{last}");
}

#[test]
fn kill_during_store_creation_never_leaves_a_corrupt_store() {
    let dir = setup("creation", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 50)).unwrap();
    let mut rng = Lcg(11);
    for round in 0..25 {
        let _ = std::fs::remove_file(dir.join("sluice.db"));
        let mut child = run_people(&dir, &[]);
        std::thread::sleep(Duration::from_micros(rng.next(4000)));
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
        let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
        assert_eq!(code, 0, "round {round}: {err}");
        assert!(!err.contains("E702"), "round {round}: {err}");
    }
    assert_stored_once(&dir, 50 - failing(0, 50));
    assert_letters_once(&dir, failing(0, 50));
}

#[test]
fn two_first_runs_racing_on_a_new_store_never_see_it_corrupt() {
    let dir = setup("race", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 2000)).unwrap();
    for _ in 0..5 {
        let _ = std::fs::remove_file(dir.join("sluice.db"));
        let a = run_people(&dir, &[]);
        let b = run_people(&dir, &[]);
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("E702"), "{err}");
            assert!(out.status.success() || err.contains("E703"), "{err}");
        }
    }
    assert_stored_once(&dir, 2000 - failing(0, 2000));
    assert_letters_once(&dir, failing(0, 2000));
}

#[test]
fn kill_before_the_first_commit_does_not_duplicate_dead_letters() {
    let dir = setup("firstcommit", "external_wins");
    let n = 20_000;
    std::fs::write(dir.join("in.ndjson"), records(0, n)).unwrap();
    let mut child = run_people(&dir, &["--batch", "1000000"]);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGKILL);
    let _ = child.wait();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_letters_once(&dir, failing(0, n));
    assert_stored_once(&dir, n - failing(0, n));
}

#[test]
fn reruns_from_start_and_to_output_replace_their_letters() {
    let dir = setup("reruns", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 100)).unwrap();
    let output: &[&str] = &["--output", "out.ndjson"];
    for extra in [
        &[][..],
        &["--from-start"],
        &["--from-start"],
        output,
        output,
    ] {
        let mut args = vec!["run", "people.toml", "--input", "in.ndjson"];
        args.extend(extra);
        let (code, _, err) = run_in(&dir, &args);
        assert_eq!(code, 0, "{err}");
        assert_letters_once(&dir, failing(0, 100));
    }
}

#[test]
fn no_op_rerun_over_an_older_input_keeps_the_other_inputs_letters() {
    let dir = setup("twoinputs", "external_wins");
    std::fs::write(dir.join("a.ndjson"), records(0, 30)).unwrap();
    std::fs::write(dir.join("b.ndjson"), records(100, 10)).unwrap();
    for input in ["a.ndjson", "b.ndjson", "a.ndjson"] {
        let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", input]);
        assert_eq!(code, 0, "{err}");
    }
    assert_letters_once(&dir, failing(0, 30) + failing(100, 10));
    let (_, out, _) = run_in(&dir, &["status", "people.toml"]);
    assert!(
        out.contains("read 10,"),
        "the no-op rerun hides no real run: {out}"
    );
    assert!(out.contains("nothing new since"), "{out}");
}

#[test]
fn plain_run_after_a_retry_keeps_every_letter_whole() {
    let dir = setup("afterretry", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 50)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let fixed = CONNECTOR.replace("CONFLICT", "external_wins").replace(
        "100 / data('parts')",
        "if(data('parts') = 0, null, 100 / data('parts'))",
    );
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--retry-dead-letters"]);
    assert_eq!(code, 0, "{err}");
    assert_letters_once(&dir, failing(0, 50));
    std::fs::write(dir.join("more.ndjson"), records(50, 20)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "more.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_letters_once(&dir, failing(0, 70));
    std::fs::write(dir.join("people.toml"), fixed).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--retry-dead-letters"]);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.join("people.dead.ndjson").exists(), "all retried");
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_letters_once(&dir, 0);
    assert_stored_once(&dir, 70);
}

#[test]
fn a_failed_run_adds_no_letters() {
    let dir = setup("failedrun", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 100)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let before = std::fs::read(dir.join("people.dead.ndjson")).unwrap();
    std::fs::write(dir.join("other.ndjson"), records(200, 100)).unwrap();
    let conn = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "other.ndjson"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E703"), "{err}");
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        std::fs::read(dir.join("people.dead.ndjson")).unwrap(),
        before
    );
}

#[test]
fn a_second_writer_waits_for_the_lock_as_documented() {
    let dir = setup("lockwait", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 10)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("in.ndjson"), records(0, 20)).unwrap();
    let db = dir.join("sluice.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::sleep(Duration::from_millis(800));
        conn.execute_batch("COMMIT").unwrap();
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    holder.join().unwrap();
    assert_eq!(code, 0, "it waited for the lock instead of failing: {err}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_stored_once(&dir, 20 - failing(0, 20));
}

#[test]
fn most_recent_counts_lost_records_and_compares_dates_as_instants() {
    let dir = setup("mostrecent", "most_recent");
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"id\": 1, \"name\": \"new\", \"parts\": 1, \"updated_at\": \"2023-06-01\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        dir.join("old.ndjson"),
        "{\"id\": 1, \"name\": \"old\", \"parts\": 1, \"updated_at\": \"2019-01-01\"}\n{\"id\": 2, \"name\": \"two\", \"parts\": 1, \"updated_at\": \"2019-01-01\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "old.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 2, written 1, filtered 0, failed 0, lost a conflict 1"),
        "{err}"
    );
    let (_, out, _) = run_in(&dir, &["objects", "dump", "person"]);
    assert!(
        out.contains("\"NEW\""),
        "the 2019 record did not overwrite 2023: {out}"
    );
}

#[test]
fn resume_refuses_a_changed_connector_and_a_truncated_or_replaced_input() {
    let dir = setup("identity", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 30_000)).unwrap();
    let mut child = run_people(&dir, &["--batch", "500"]);
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let committed = dir.join("sluice.db").exists()
            && rusqlite::Connection::open(dir.join("sluice.db"))
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM checkpoints", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .unwrap_or(0)
                > 0;
        assert!(start.elapsed() < common::patience(20), "no checkpoint");
        if committed {
            break;
        }
    }
    signal(&child, libc::SIGKILL);
    let _ = child.wait();

    let original = std::fs::read_to_string(dir.join("people.toml")).unwrap();
    std::fs::write(
        dir.join("people.toml"),
        original.replace("upper(data('name'))", "lower(data('name'))"),
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("E611") && err.contains("--from-start"),
        "{err}"
    );
    std::fs::write(dir.join("people.toml"), &original).unwrap();

    let full = std::fs::read(dir.join("in.ndjson")).unwrap();
    std::fs::write(dir.join("in.ndjson"), &full[..100]).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E612") && err.contains("shorter"), "{err}");

    std::fs::write(dir.join("in.ndjson"), records(1_000_000, 30_000)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E612") && err.contains("replaced"), "{err}");

    std::fs::write(dir.join("in.ndjson"), &full).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "the original input resumes: {err}");
    assert_stored_once(&dir, 30_000 - failing(0, 30_000));
    assert_letters_once(&dir, failing(0, 30_000));
    let (_, out, _) = run_in(&dir, &["status", "people"]);
    assert!(
        out.contains("read 30000,") && out.contains("2 segments"),
        "{out}"
    );
}

#[test]
fn unterminated_last_line_of_a_growing_file_waits_until_complete() {
    let dir = setup("growing", "external_wins");
    let mut text = records(0, 5);
    text.push_str("{\"id\": 5, \"na");
    std::fs::write(dir.join("in.ndjson"), &text).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 5,") && err.contains("line 6 is not complete yet"),
        "{err}"
    );
    text.push_str("me\": \"n5\", \"parts\": 4}\n");
    std::fs::write(dir.join("in.ndjson"), &text).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 1,"), "{err}");
    assert_stored_once(&dir, 6);
    assert_letters_once(&dir, 0);
}

#[test]
fn sigterm_finishes_the_batch_commits_and_resumes() {
    let dir = setup("sigterm", "external_wins");
    let n = 60_000;
    std::fs::write(dir.join("in.ndjson"), records(0, n)).unwrap();
    let child = run_people(&dir, &["--batch", "500"]);
    std::thread::sleep(Duration::from_millis(700));
    signal(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        err.contains("E613") && err.contains("run the same command to resume"),
        "{err}"
    );
    let (_, status, _) = run_in(&dir, &["status", "people"]);
    assert!(status.contains("stopped before the end"), "{status}");
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resumed from the checkpoint"), "{err}");
    assert_stored_once(&dir, n - failing(0, n));
    assert_letters_once(&dir, failing(0, n));
}

#[test]
fn sigint_on_a_waiting_pipe_stops_with_whole_lines_written() {
    let dir = setup("sigint", "external_wins");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sluice"))
        .current_dir(&dir)
        .args([
            "run",
            "people.toml",
            "--input",
            "-",
            "--output",
            "out.ndjson",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, records(0, 1000).as_bytes()).unwrap();
    std::io::Write::flush(&mut stdin).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("read 1000,"),
        "every line sent was processed: {err}"
    );
    let output = std::fs::read_to_string(dir.join("out.ndjson")).unwrap();
    assert!(output.ends_with('\n'));
    assert_eq!(output.lines().count() as u64, 1000 - failing(0, 1000));
    for line in output.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn newer_store_schema_is_refused_and_an_older_one_migrated() {
    let dir = setup("schema", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 20)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let conn = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    conn.execute_batch(
        "DROP TABLE dead_letters; DROP INDEX reviews_pending; DROP TABLE sync_baselines;
         DROP TABLE api_tokens; DROP TABLE webhook_deliveries; DROP TABLE run_fences; DROP TABLE object_keys;
         DROP TABLE secrets;
         ALTER TABLE checkpoints DROP COLUMN fingerprint; ALTER TABLE checkpoints DROP COLUMN input_size;
         ALTER TABLE checkpoints DROP COLUMN head_hash; ALTER TABLE checkpoints DROP COLUMN complete;
         ALTER TABLE checkpoints DROP COLUMN run_started; ALTER TABLE checkpoints DROP COLUMN segments;
         ALTER TABLE checkpoints DROP COLUMN counts; ALTER TABLE checkpoints DROP COLUMN cursor;
         ALTER TABLE runs DROP COLUMN kept; ALTER TABLE runs DROP COLUMN lost;
         ALTER TABLE runs DROP COLUMN segments; ALTER TABLE runs DROP COLUMN noop;
         ALTER TABLE runs DROP COLUMN stopped; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    std::fs::write(dir.join("in.ndjson"), records(0, 40)).unwrap();
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "a version-1 store is migrated: {err}");
    assert_stored_once(&dir, 40 - failing(0, 40));

    let conn = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let (code, _, err) = run_in(&dir, &["status"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("E702") && err.contains("newer Sluice"),
        "{err}"
    );
}

#[test]
fn test_and_run_agree_on_every_example_connector() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let sample = text
            .lines()
            .find_map(|l| l.strip_prefix("# sample: "))
            .unwrap_or_else(|| panic!("{} names no `# sample: FILE`", path.display()));
        let dir = common::tempdir("reliability", &format!("agree-{checked}"));
        let connector = path.display().to_string();
        let sample = path.with_file_name(sample.trim()).display().to_string();
        let test = sluice()
            .current_dir(&dir)
            .args([
                "test",
                &connector,
                "--sample",
                &sample,
                "--tz",
                "Europe/Berlin",
            ])
            .output()
            .unwrap();
        let test_out = String::from_utf8(test.stdout).unwrap();
        let lines: Vec<&str> = test_out.lines().collect();
        let dry_written: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                l.starts_with("  => ")
                    && !lines.get(i + 1).is_some_and(|n| n.starts_with("  FAILED"))
            })
            .map(|(_, l)| l.trim_start_matches("  => "))
            .collect();
        let dry_failed: Vec<u64> = {
            let mut line = 0;
            let mut failed = Vec::new();
            for l in test_out.lines() {
                if let Some(rest) = l.strip_prefix("line ") {
                    line = rest.split(':').next().unwrap().parse().unwrap();
                    if l.contains("FAILED") {
                        failed.push(line);
                    }
                } else if l.starts_with("  FAILED") {
                    failed.push(line);
                }
            }
            failed
        };
        let (code, _, err) = run_in(
            &dir,
            &[
                "run",
                &connector,
                "--input",
                &sample,
                "--tz",
                "Europe/Berlin",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let object = text
            .lines()
            .skip_while(|l| l.trim() != "[outbound]")
            .find_map(|l| l.strip_prefix("object = "))
            .unwrap()
            .trim_matches('"');
        let (_, stored, _) = run_in(&dir, &["objects", "dump", object]);
        assert_eq!(
            stored.lines().collect::<Vec<_>>(),
            dry_written,
            "{}",
            path.display()
        );
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"');
        let dead =
            std::fs::read_to_string(dir.join(format!("{name}.dead.ndjson"))).unwrap_or_default();
        let run_failed: Vec<u64> = dead
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(run_failed, dry_failed, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 1);
}

#[test]
fn a_second_run_of_the_same_connector_gets_the_lock_error() {
    let dir = setup("runlock", "external_wins");
    std::fs::write(dir.join("in.ndjson"), records(0, 200_000)).unwrap();
    let mut first = run_people(&dir, &["--batch", "500"]);
    std::thread::sleep(Duration::from_millis(300));
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    signal(&first, libc::SIGKILL);
    let _ = first.wait();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("E703") && err.contains("another run of connector `people`"),
        "{err}"
    );
    let (code, _, err) = run_in(&dir, &["run", "people.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "the killed run released its lock: {err}");
}
