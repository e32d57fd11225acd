//! The sync executor through the real binary: connectors, runs, dead letters, conflict
//! rules, reviews, checkpoints (with a real `kill -9`), metrics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{run_in, sluice};

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("exec", name)
}

on_postgres!(
    conflict_external_wins_replaces,
    conflict_fentu_wins_keeps_stored_values_and_adds_new_keys,
    conflict_most_recent_compares_updated_at,
    conflict_manual_review_queues_and_review_commands_decide,
    review_reject_keeps_the_stored_record,
    inactive_outbound_is_a_dry_run,
    retry_dead_letters_replays_and_keeps_only_what_fails_again,
    status_reports_the_last_run,
);

const CONNECTOR: &str = r#"name = "people"
conditions = ["data('active') = true"]

[inbound]
type = "ndjson"
object = "person_in"

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
target = "origin"
raw = "test"

[[mappings]]
target = "share"
formula = "100 / data('parts')"
"#;

fn write_connector(dir: &Path, conflict: &str) -> String {
    let path = dir.join("people.toml");
    std::fs::write(&path, CONNECTOR.replace("CONFLICT", conflict)).unwrap();
    path.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn dump(dir: &Path, object: &str) -> Vec<String> {
    let (code, out, err) = run_in(dir, &["objects", "dump", object]);
    assert_eq!(code, 0, "{err}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn run_to_ndjson_writes_exactly_the_targets_in_order() {
    let dir = tempdir("ndjson");
    let c = write_connector(&dir, "external_wins");
    let input = write(&dir, "in.ndjson", "{\"id\": 1, \"name\": \"ada\", \"active\": true, \"parts\": 4, \"extra\": [1,2]}\n{\"id\": 2, \"name\": \"bob\", \"active\": false, \"parts\": 1}\n{\"id\": 3, \"name\": \"cy\", \"active\": true, \"parts\": 0}\nnot json\n{\"id\": 5, \"name\": \"di\", \"active\": true, \"parts\": 3}\n");
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", &input, "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"id\":1,\"name\":\"ADA\",\"origin\":\"test\",\"share\":25}\n{\"id\":5,\"name\":\"DI\",\"origin\":\"test\",\"share\":33.333333333333333333333333333}\n"
    );
    assert!(
        err.contains("read 5, written 2, filtered 1, failed 2"),
        "{err}"
    );
    let dead = std::fs::read_to_string(dir.join("people.dead.ndjson")).unwrap();
    let lines: Vec<&str> = dead.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("{\"line\":3,\"record\":{\"id\": 3,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("\"code\":\"E302\"") && lines[0].contains("\"target\":\"share\""));
    assert!(
        lines[1].starts_with("{\"line\":4,\"record\":null,\"raw\":\"not json\""),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("\"code\":\"E507\""));
}

#[test]
fn invalid_utf8_and_truncated_lines_go_to_dead_letters_with_line_numbers() {
    let dir = tempdir("badbytes");
    let c = write_connector(&dir, "external_wins");
    let mut bytes = b"{\"id\": 1, \"name\": \"a\", \"active\": true, \"parts\": 1}\n{\"id\": 2, \"name\": \"\xff\xfe\", \"active\": true, \"parts\": 1}\n{\"id\": 3, \"name\": \"c\", \"active\": true, \"parts\": 1}\n".to_vec();
    bytes.extend_from_slice(b"{\"id\": 4, \"name\": \"trunc\n");
    std::fs::write(dir.join("in.ndjson"), &bytes).unwrap();
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", "in.ndjson", "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        2,
        "the good records around the bad ones are written"
    );
    let dead = std::fs::read_to_string(dir.join("people.dead.ndjson")).unwrap();
    let lines: Vec<&str> = dead.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("{\"line\":2,") && lines[0].contains("UTF-8"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("{\"line\":4,") && lines[1].contains("E507"),
        "{}",
        lines[1]
    );
}

#[test]
fn csv_input_types_cells_by_schema() {
    let dir = tempdir("csv");
    let c = write(
        &dir,
        "c.toml",
        r#"name = "csv"
[inbound]
type = "csv"
object = "row"
[outbound]
type = "ndjson"
[[mappings]]
target = "total"
formula = "data('qty') * data('price')"
[[mappings]]
target = "label"
formula = "data('sku') & '/' & coalesce(data('note'), '-')"
[objects.row.fields]
qty = "number"
price = "number"
sku = "string"
note = "string"
"#,
    );
    let input = write(
        &dir,
        "in.csv",
        "sku,qty,price,note\nA1,2,9.99,\nB2,x,1.00,hello\nC3,3,0.10,\"quoted, note\"\n",
    );
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", &input, "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"total\":19.98,\"label\":\"A1/-\"}\n{\"total\":0.30,\"label\":\"C3/quoted, note\"}\n"
    );
    let dead = std::fs::read_to_string(dir.join("csv.dead.ndjson")).unwrap();
    assert!(
        dead.starts_with("{\"line\":3,") && dead.contains("is not a number"),
        "{dead}"
    );
}

#[test]
fn stdin_input() {
    let dir = tempdir("stdin");
    let c = write_connector(&dir, "external_wins");
    let out = sluice()
        .current_dir(&dir)
        .args(["run", &c, "--input", "-", "--output", "-"])
        .write_stdin("{\"id\": 9, \"name\": \"x\", \"active\": true, \"parts\": 2}\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"id\":9,\"name\":\"X\",\"origin\":\"test\",\"share\":50}\n"
    );
}

fn store_run(dir: &Path, connector: &str, input: &str) -> String {
    let (code, _, err) = run_in(dir, &["run", connector, "--input", input, "--from-start"]);
    assert_eq!(code, 0, "{err}");
    err
}

#[test]
fn conflict_external_wins_replaces() {
    let dir = tempdir("external");
    let c = write_connector(&dir, "external_wins");
    store_run(
        &dir,
        &c,
        &write(
            &dir,
            "a.ndjson",
            "{\"id\": 1, \"name\": \"old\", \"active\": true, \"parts\": 1}\n",
        ),
    );
    store_run(
        &dir,
        &c,
        &write(
            &dir,
            "b.ndjson",
            "{\"id\": 1, \"name\": \"new\", \"active\": true, \"parts\": 2}\n",
        ),
    );
    assert_eq!(
        dump(&dir, "person"),
        vec!["{\"id\":1,\"name\":\"NEW\",\"origin\":\"test\",\"share\":50}"]
    );
}

#[test]
fn conflict_fentu_wins_keeps_stored_values_and_adds_new_keys() {
    let dir = tempdir("fentu");
    let c = write_connector(&dir, "fentu_wins");
    write(&dir, "stored.ndjson", "{\"id\": 1, \"name\": \"KEEP\"}\n");
    let (code, _, err) = run_in(
        &dir,
        &["objects", "load", "person", "stored.ndjson", "--key", "id"],
    );
    assert_eq!(code, 0, "{err}");
    store_run(&dir, &c, &write(&dir, "b.ndjson", "{\"id\": 1, \"name\": \"new\", \"active\": true, \"parts\": 2}\n{\"id\": 2, \"name\": \"two\", \"active\": true, \"parts\": 1}\n"));
    assert_eq!(
        dump(&dir, "person"),
        vec![
            "{\"id\":1,\"name\":\"KEEP\",\"origin\":\"test\",\"share\":50}",
            "{\"id\":2,\"name\":\"TWO\",\"origin\":\"test\",\"share\":100}"
        ]
    );
}

#[test]
fn conflict_most_recent_compares_updated_at() {
    let dir = tempdir("recent");
    let c = write_connector(&dir, "most_recent");
    let text = std::fs::read_to_string(&c).unwrap()
        + "\n[[mappings]]\ntarget = \"updated_at\"\nfield = \"updated_at\"\n";
    std::fs::write(&c, text).unwrap();
    store_run(&dir, &c, &write(&dir, "a.ndjson", "{\"id\": 1, \"name\": \"mid\", \"active\": true, \"parts\": 1, \"updated_at\": \"2024-05-01T00:00:00Z\"}\n"));
    store_run(&dir, &c, &write(&dir, "b.ndjson", "{\"id\": 1, \"name\": \"older\", \"active\": true, \"parts\": 1, \"updated_at\": \"2024-01-01T00:00:00Z\"}\n"));
    assert!(dump(&dir, "person")[0].contains("\"MID\""));
    store_run(&dir, &c, &write(&dir, "c.ndjson", "{\"id\": 1, \"name\": \"newer\", \"active\": true, \"parts\": 1, \"updated_at\": \"2024-09-01T00:00:00Z\"}\n"));
    assert!(dump(&dir, "person")[0].contains("\"NEWER\""));
}

#[test]
fn conflict_manual_review_queues_and_review_commands_decide() {
    let dir = tempdir("review");
    let c = write_connector(&dir, "manual_review");
    store_run(&dir, &c, &write(&dir, "a.ndjson", "{\"id\": 1, \"name\": \"first\", \"active\": true, \"parts\": 1}\n{\"id\": 2, \"name\": \"two\", \"active\": true, \"parts\": 1}\n"));
    let err = store_run(&dir, &c, &write(&dir, "b.ndjson", "{\"id\": 1, \"name\": \"second\", \"active\": true, \"parts\": 1}\n{\"id\": 2, \"name\": \"two\", \"active\": true, \"parts\": 1}\n{\"id\": 3, \"name\": \"three\", \"active\": true, \"parts\": 1}\n"));
    assert!(err.contains("queued for review 1"), "{err}");
    assert!(
        dump(&dir, "person")[0].contains("\"FIRST\""),
        "a differing record is not applied"
    );
    let (code, out, _) = run_in(&dir, &["review", "list"]);
    assert_eq!(code, 0);
    let reviews: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["incoming"]["name"], "SECOND");
    let id = reviews[0]["id"].as_i64().unwrap().to_string();
    let (code, _, _) = run_in(&dir, &["review", "accept", &id]);
    assert_eq!(code, 0);
    assert!(dump(&dir, "person")[0].contains("\"SECOND\""));
    let (code, out, _) = run_in(&dir, &["review", "list"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, _) = run_in(&dir, &["review", "reject", &id]);
    assert_eq!(code, 2, "a decided review cannot be decided again");
}

#[test]
fn review_reject_keeps_the_stored_record() {
    let dir = tempdir("reject");
    let c = write_connector(&dir, "manual_review");
    store_run(
        &dir,
        &c,
        &write(
            &dir,
            "a.ndjson",
            "{\"id\": 1, \"name\": \"first\", \"active\": true, \"parts\": 1}\n",
        ),
    );
    store_run(
        &dir,
        &c,
        &write(
            &dir,
            "b.ndjson",
            "{\"id\": 1, \"name\": \"second\", \"active\": true, \"parts\": 1}\n",
        ),
    );
    let (_, out, _) = run_in(&dir, &["review", "list"]);
    let review: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let (code, _, _) = run_in(&dir, &["review", "reject", &review["id"].to_string()]);
    assert_eq!(code, 0);
    assert!(dump(&dir, "person")[0].contains("\"FIRST\""));
    let (_, out, _) = run_in(&dir, &["review", "list", "--all"]);
    assert!(out.contains("\"status\":\"rejected\""), "{out}");
}

#[test]
fn inactive_outbound_is_a_dry_run() {
    let dir = tempdir("dry");
    let c = write(
        &dir,
        "dry.toml",
        &CONNECTOR
            .replace("CONFLICT", "external_wins")
            .replace("type = \"store\"", "type = \"store\"\nactive = false"),
    );
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", &write(&dir, "a.ndjson", "{\"id\": 1, \"name\": \"x\", \"active\": true, \"parts\": 0}\n{\"id\": 2, \"name\": \"y\", \"active\": true, \"parts\": 1}\n")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("dry run"), "{err}");
    assert!(!dir.join("sluice.db").exists(), "nothing written");
    assert!(!dir.join("people.dead.ndjson").exists(), "nothing written");
}

#[test]
fn retry_dead_letters_replays_and_keeps_only_what_fails_again() {
    let dir = tempdir("retry");
    let c = write_connector(&dir, "external_wins");
    let input = write(&dir, "in.ndjson", "{\"id\": 1, \"name\": \"a\", \"active\": true, \"parts\": 0}\n{\"id\": 2, \"name\": \"b\", \"active\": true, \"parts\": 0}\n");
    store_run(&dir, &c, &input);
    assert_eq!(
        std::fs::read_to_string(dir.join("people.dead.ndjson"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    let fixed = CONNECTOR
        .replace("CONFLICT", "external_wins")
        .replace("100 / data('parts')", "iferror(100 / data('parts'), null)");
    std::fs::write(&c, fixed).unwrap();
    let (code, _, err) = run_in(&dir, &["run", &c, "--retry-dead-letters"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 2, written 2"), "{err}");
    assert!(!dir.join("people.dead.ndjson").exists(), "no letter left");
    assert_eq!(dump(&dir, "person").len(), 2);
}

#[test]
fn status_reports_the_last_run() {
    let dir = tempdir("status");
    let c = write_connector(&dir, "external_wins");
    store_run(&dir, &c, &write(&dir, "a.ndjson", "{\"id\": 1, \"name\": \"a\", \"active\": true, \"parts\": 1}\n{\"id\": 2, \"active\": false}\n{\"id\": 3, \"name\": \"c\", \"active\": true, \"parts\": 0}\n"));
    let (code, out, _) = run_in(&dir, &["status", "--json"]);
    assert_eq!(code, 0);
    let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &runs[0];
    assert_eq!(m["connector"], "people");
    assert_eq!(
        (
            m["read"].as_u64(),
            m["written"].as_u64(),
            m["filtered"].as_u64(),
            m["failed"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    assert!((m["error_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    let (code, out, _) = run_in(&dir, &["status", "people"]);
    assert_eq!(code, 0);
    assert!(out.contains("error rate 33.33%"), "{out}");
}

#[test]
fn test_command_explains_each_record_and_writes_nothing() {
    let dir = tempdir("testcmd");
    let c = write_connector(&dir, "external_wins");
    let sample = write(&dir, "s.ndjson", "{\"id\": 1, \"name\": \"a\", \"active\": true, \"parts\": 2}\n{\"id\": 2, \"active\": false}\n{\"id\": 3, \"name\": \"c\", \"active\": true, \"parts\": 0}\n");
    let (code, out, err) = run_in(&dir, &["test", &c, "--sample", &sample]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("=> {\"id\":1,\"name\":\"A\",\"origin\":\"test\",\"share\":50}"),
        "{out}"
    );
    assert!(
        out.contains("filtered out by condition 1: data('active') = true"),
        "{out}"
    );
    assert!(
        out.contains("FAILED in mapping `share`") && out.contains("E302"),
        "{out}"
    );
    assert!(out.contains("1 mapped, 1 filtered, 1 failed"), "{out}");
    assert!(!dir.join("sluice.db").exists() && !dir.join("people.dead.ndjson").exists());
}

#[test]
fn check_reports_every_problem_with_file_and_line() {
    let dir = tempdir("check");
    let c = write(
        &dir,
        "bad.toml",
        r#"name = "bad"
conditions = ["data('x') +"]

[inbound]
type = "SAP B2"

[outbound]
type = "store"
object = "o"

[[mappings]]
target = "a"
field = "x"
raw = 1

[[mappings]]
target = "b"
formula = "conact(data('y'))"

[[mappings]]
target = "c"
formula = "'a' * 2"
"#,
    );
    let (code, _, err) = run_in(&dir, &["check", &c]);
    assert_eq!(code, 2);
    for expected in [
        "E005",
        "bad.toml:2",
        "E610",
        "SAP B1",
        "E604",
        "E201",
        "bad.toml:18",
        "E101",
        "bad.toml:22",
        "E603",
        "primary_key",
    ] {
        assert!(err.contains(expected), "missing {expected} in:\n{err}");
    }
    let (code, _, err) = run_in(
        &dir,
        &[
            "check",
            &write(
                &dir,
                "unknown.toml",
                "name = \"x\"\nnmae = 1\n[inbound]\ntype = \"csv\"\n[outbound]\ntype = \"csv\"\n",
            ),
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("E602")
            && err.contains("unknown.toml:2")
            && err.contains("did you mean `name`"),
        "{err}"
    );
    let (code, _, err) = run_in(&dir, &["check", &write(&dir, "c.json", "{\"name\": \"j\", \"inbound\": {\"type\": \"csv\"}, \"outbound\": {\"type\": \"csv\", \"colour\": 1}}")]);
    assert_eq!(code, 2);
    assert!(err.contains("E602") && err.contains("colour"), "{err}");
}

#[test]
fn check_with_schema_is_static() {
    let dir = tempdir("schema");
    let c = write(
        &dir,
        "s.toml",
        r#"name = "s"
[inbound]
type = "csv"
object = "row"
[outbound]
type = "csv"
[[mappings]]
target = "a"
formula = "data('Qty') & data('Nmae')"
[[mappings]]
target = "b"
formula = "upper(data('Qty'))"
[objects.row.fields]
Qty = "number"
Name = "string"
"#,
    );
    let (code, _, err) = run_in(&dir, &["check", &c]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E104") && err.contains("did you mean `Name`"),
        "{err}"
    );
    assert!(err.contains("E102"), "{err}");
}

#[test]
fn export_redacts_credentials_and_env_credentials_are_resolved_not_printed() {
    let dir = tempdir("creds");
    let text = CONNECTOR.replace("CONFLICT", "external_wins").replace(
        "[outbound]",
        "[inbound.credentials]\nuser = \"admin\"\npassword = \"env:SLUICE_TEST_SECRET\"\n\n[outbound]",
    );
    let c = write(&dir, "creds.toml", &text);
    let (code, out, _) = run_in(&dir, &["export", &c]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\"user\": \"***\"")
            && out.contains("env:SLUICE_TEST_SECRET")
            && !out.contains("admin"),
        "{out}"
    );
    let exported = write(&dir, "creds.json", &out);
    let (code, _, err) = run_in(&dir, &["check", &exported]);
    assert_eq!(code, 0, "the exported JSON loads: {err}");
    let input = write(
        &dir,
        "in.ndjson",
        "{\"id\": 1, \"name\": \"a\", \"active\": true, \"parts\": 1}\n",
    );
    let (code, _, err) = run_in(&dir, &["run", &c, "--input", &input, "--output", "-"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("E606") && err.contains("SLUICE_TEST_SECRET"),
        "{err}"
    );
    let out = sluice()
        .current_dir(&dir)
        .env("SLUICE_TEST_SECRET", "hunter2-very-secret")
        .args(["run", &c, "--input", &input, "--output", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!all.contains("hunter2"), "{all}");
}

/// Kills a store-bound run with SIGKILL at several points, then runs the same command to
/// the end: every good record is in the store, and every bad one is in the dead letters
/// exactly once.
#[test]
fn kill_9_then_rerun_loses_nothing_and_duplicates_nothing() {
    let dir = tempdir("kill9");
    let c = write_connector(&dir, "external_wins");
    let total = 60_000;
    let mut input = String::new();
    for i in 1..=total {
        if i % 97 == 0 {
            input.push_str(&format!("{{\"id\": {i}, \"broken\n"));
        } else {
            input.push_str(&format!(
                "{{\"id\": {i}, \"name\": \"n{i}\", \"active\": true, \"parts\": {}}}\n",
                1 + i % 7
            ));
        }
    }
    let input_path = write(&dir, "big.ndjson", &input);
    let bin = assert_cmd::cargo::cargo_bin("sluice");
    let mut kills = 0;
    for delay_ms in [150u64, 400, 700] {
        let mut child = std::process::Command::new(&bin)
            .current_dir(&dir)
            .args(["run", &c, "--input", &input_path, "--batch", "500"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        kills > 0,
        "the run finished before any kill; make the input larger"
    );
    let (code, _, err) = run_in(&dir, &["run", &c, "--input", &input_path, "--batch", "500"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run_in(&dir, &["objects", "list"]);
    assert_eq!(code, 0);
    let bad = total / 97;
    assert_eq!(out, format!("person\t{}\n", total - bad));
    let dead = std::fs::read_to_string(dir.join("people.dead.ndjson")).unwrap();
    let mut lines: Vec<u64> = dead
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lines.len(), bad, "each bad record exactly once");
    lines.dedup();
    assert_eq!(lines.len(), bad);
    assert!(lines.iter().all(|l| l % 97 == 0));
}

#[test]
fn both_engines_write_the_same_output_and_dead_letters() {
    let dir = tempdir("engines");
    let c = write_connector(&dir, "external_wins");
    let mut input = String::new();
    for i in 0..300 {
        let parts = i % 5;
        let active = i % 7 != 0;
        input.push_str(&format!(
            "{{\"id\": {i}, \"name\": \"n{i}\", \"active\": {active}, \"parts\": {parts}}}\n"
        ));
    }
    input
        .push_str("{\"id\": \"x\", \"name\": 5, \"active\": true, \"parts\": \"two\"}\nnot json\n");
    let input = write(&dir, "in.ndjson", &input);
    let mut results = Vec::new();
    for engine in ["interp", "jit"] {
        let dead = format!("dead-{engine}.ndjson");
        let (code, out, err) = run_in(
            &dir,
            &[
                "run",
                &c,
                "--input",
                &input,
                "--output",
                "-",
                "--engine",
                engine,
                "--dead-letter",
                &dead,
            ],
        );
        assert_eq!(code, 0, "{err}");
        results.push((out, std::fs::read_to_string(dir.join(&dead)).unwrap()));
    }
    assert!(results[0].0.lines().count() > 200);
    assert_eq!(results[0], results[1]);
}
