//! How input records are read, on every input path (NDJSON in parallel, NDJSON through
//! `sluice test`, CSV, retried dead letters): each way a record can be unreadable has its
//! own code, values are checked against the declared schema, and a record whose primary
//! key is not one value dead-letters instead of vanishing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::run_in;

const CONNECTOR: &str = r#"name = "items"

[inbound]
type = "SAP B1"
object = "item"

[outbound]
type = "store"
object = "fsm_item"
primary_key = "code"

[[mappings]]
target = "code"
field = "ItemCode"

[[mappings]]
target = "group"
formula = "data('ItemsGroupCode') + 0"

[[mappings]]
target = "since_kind"
formula = "typeof(data('Since'))"

[objects.item.fields]
ItemCode = "any"
ItemsGroupCode = "number"
Since = "date"
Unread = "number"
"#;

fn setup(name: &str, input: &[u8]) -> (std::path::PathBuf, String, String) {
    let dir = common::tempdir("input", name);
    std::fs::write(dir.join("items.toml"), CONNECTOR).unwrap();
    std::fs::write(dir.join("in.ndjson"), input).unwrap();
    (dir, "items.toml".to_string(), "in.ndjson".to_string())
}

/// The dead letters of a run, as (line, code) pairs.
fn letters(dir: &Path) -> Vec<(u64, String)> {
    letters_of(dir, "in.ndjson")
}

/// The dead letters of the input whose path ends with `input`, as (line, code) pairs.
fn letters_of(dir: &Path, input: &str) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(dir.join("items.dead.ndjson")).unwrap_or_default();
    text.lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["input"].as_str().unwrap().ends_with(input)
        })
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["line"].as_u64().unwrap(),
                v["error"]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn wrong_type_for_a_declared_field_is_e511_not_a_silent_null() {
    let (dir, c, input) = setup(
        "schema",
        b"{\"ItemCode\":\"A1\",\"ItemsGroupCode\":101,\"Since\":\"2024-05-01\"}\n{\"ItemCode\":\"A2\",\"ItemsGroupCode\":\"101\",\"Since\":\"2024-05-01\"}\n{\"ItemCode\":\"A3\",\"ItemsGroupCode\":7,\"Since\":\"yesterday\"}\n",
    );
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", &input, "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "{\"code\":\"A1\",\"group\":101,\"since_kind\":\"date\"}\n",
        "a date field's ISO text is read as a date"
    );
    assert_eq!(
        letters(&dir),
        vec![(2, "E511".to_string()), (3, "E511".to_string())]
    );
    let dead = std::fs::read_to_string(dir.join("items.dead.ndjson")).unwrap();
    assert!(
        dead.contains("field `ItemsGroupCode` is declared number, found string \\\"101\\\""),
        "{dead}"
    );
    assert!(
        dead.lines()
            .all(|l| l.starts_with("{\"line\":") && l.contains("\"record\":{")),
        "a record of the wrong type keeps its JSON in `record`: {dead}"
    );
    let (code, out, _) = run_in(&dir, &["test", &c, "--sample", &input]);
    assert_eq!(code, 0);
    assert!(
        out.contains("line 2: FAILED to read: E511: field `ItemsGroupCode`"),
        "{out}"
    );
}

#[test]
fn over_size_and_too_deep_records_have_their_own_codes_on_every_path() {
    let deep = "{\"ItemCode\":\"D\",\"x\":[[[[1]]]]}";
    let big = format!("{{\"ItemCode\":\"B\",\"pad\":\"{}\"}}", "x".repeat(200));
    let input = format!("{{\"ItemCode\":\"A\"}}\n{big}\n{deep}\nnot json\n");
    let (dir, c, file) = setup("limits", input.as_bytes());
    let limits = ["--limit", "record_bytes=100", "--limit", "json_depth=3"];
    let mut args = vec!["run", &c, "--input", &file, "--output", "out.ndjson"];
    args.extend(limits);
    let (code, _, err) = run_in(&dir, &args);
    assert_eq!(code, 0, "{err}");
    let expected = vec![
        (2, "E508".to_string()),
        (3, "E509".to_string()),
        (4, "E507".to_string()),
    ];
    assert_eq!(letters(&dir), expected, "parallel NDJSON run");

    let mut args = vec!["test", &c, "--sample", &file];
    args.extend(limits);
    let (_, out, _) = run_in(&dir, &args);
    for (line, code) in &expected {
        assert!(
            out.contains(&format!("line {line}: FAILED to read: {code}")),
            "sluice test, line {line}: {out}"
        );
    }

    let mut args = vec!["run", &c, "--retry-dead-letters", "--output", "out.ndjson"];
    args.extend(limits);
    let (code, _, err) = run_in(&dir, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        letters(&dir),
        expected,
        "retry reads the lines as the run did"
    );

    let csv = format!("ItemCode,pad\nA,x\nB,{}\n", "y".repeat(200));
    std::fs::write(dir.join("in.csv"), csv).unwrap();
    let (code, _, err) = run_in(
        &dir,
        &[
            "run",
            &c,
            "--input",
            "in.csv",
            "--output",
            "out.ndjson",
            "--limit",
            "record_bytes=100",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        letters_of(&dir, "in.csv"),
        vec![(3, "E508".to_string())],
        "CSV"
    );
    assert_eq!(
        letters(&dir),
        expected,
        "the NDJSON input's letters are kept"
    );
}

#[test]
fn duplicate_csv_header_is_an_error_not_a_dropped_column() {
    let (dir, c, _) = setup("csvdup", b"");
    std::fs::write(dir.join("in.csv"), "ItemCode,Name,Name\nA,x,y\n").unwrap();
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", "in.csv", "--output", "-"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("column 3 repeats the name `Name`"), "{err}");
}

#[test]
fn non_utf8_bytes_survive_a_retry_unchanged() {
    let line: &[u8] = b"{\"ItemCode\":\"caf\xe9\"}";
    let mut input = line.to_vec();
    input.extend_from_slice(b"\n{\"ItemCode\":\"ok\"}\n");
    let (dir, c, file) = setup("utf8", &input);
    let (code, _, err) = run_in(
        &dir,
        &["run", &c, "--input", &file, "--output", "out.ndjson"],
    );
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read(dir.join("items.dead.ndjson")).unwrap();
    assert_eq!(letters(&dir), vec![(1, "E507".to_string())]);
    let (code, _, err) = run_in(
        &dir,
        &["run", &c, "--retry-dead-letters", "--output", "out.ndjson"],
    );
    assert_eq!(code, 0, "{err}");
    let again = std::fs::read(dir.join("items.dead.ndjson")).unwrap();
    assert_eq!(first, again, "the letter is the same after a retry");
    let text = String::from_utf8(again).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, line, "the original bytes are kept");
}

#[test]
fn primary_key_that_is_an_array_or_object_dead_letters_with_e607() {
    let (dir, c, file) = setup(
        "key",
        b"{\"ItemCode\":\"A\"}\n{\"ItemCode\":[1]}\n{\"ItemCode\":{\"a\":1}}\n",
    );
    let (code, _, err) = run_in(&dir, &["run", &c, "--input", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 3, written 1, filtered 0, failed 2"),
        "{err}"
    );
    assert_eq!(
        letters(&dir),
        vec![(2, "E607".to_string()), (3, "E607".to_string())]
    );
    let (_, out, _) = run_in(&dir, &["test", &c, "--sample", &file]);
    assert_eq!(out.matches("FAILED: E607").count(), 2, "{out}");
}

#[test]
fn declared_datetime_field_gives_one_output_type_for_mixed_input_forms() {
    let connector = CONNECTOR
        .replace("Since = \"date\"", "Since = \"datetime\"")
        .replace(
            "typeof(data('Since'))",
            "typeof(dateadd(data('Since'), 1, 'day')) & ' ' & tostring(dateadd(data('Since'), 1, 'day'))",
        );
    let (dir, _, file) = setup(
        "datetime",
        b"{\"ItemCode\":\"A\",\"Since\":\"2024-05-01\"}\n{\"ItemCode\":\"B\",\"Since\":\"2024-05-01T10:00:00Z\"}\n",
    );
    std::fs::write(dir.join("items.toml"), connector).unwrap();
    let (code, out, err) = run_in(
        &dir,
        &[
            "run",
            "items.toml",
            "--input",
            &file,
            "--output",
            "-",
            "--tz",
            "Europe/Berlin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "{\"code\":\"A\",\"group\":null,\"since_kind\":\"datetime 2024-05-02T00:00:00+02:00\"}\n\
         {\"code\":\"B\",\"group\":null,\"since_kind\":\"datetime 2024-05-02T10:00:00Z\"}\n"
    );
}

#[test]
fn a_declared_field_the_connector_does_not_read_is_not_checked_by_run_or_test() {
    let (dir, c, file) = setup(
        "unread",
        b"{\"ItemCode\":\"A\",\"ItemsGroupCode\":1,\"Unread\":\"text\"}\n",
    );
    let (code, out, err) = run_in(&dir, &["run", &c, "--input", &file, "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{err}");
    let (_, out, _) = run_in(&dir, &["test", &c, "--sample", &file]);
    assert!(out.contains("1 mapped, 0 filtered, 0 failed"), "{out}");
}
