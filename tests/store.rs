//! The Connect Object store through the real binary and a real SQLite file: load, dump,
//! list, lookups from `sluice eval`, injection attempts, and broken stores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::{run, sluice};

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("store", name)
}

on_postgres!(
    load_list_dump_round_trip,
    vlookup_takes_the_most_recent_match,
    load_with_key_upserts,
    like_lookup_escapes_wildcards,
    lookups_are_injection_proof,
    lookups_compare_typed_values_like_equality,
    a_run_looks_up_in_the_store_from_every_worker,
);

const CUSTOMERS: &str = r#"{"customer_id": "FSM-1", "erp_id": "C001", "name": "Acme GmbH", "updated_at": "2024-01-01T00:00:00Z"}
{"customer_id": "FSM-2", "erp_id": "C002", "name": "Beta 100% Bio_Markt", "updated_at": "2024-02-01T00:00:00Z"}
{"customer_id": "FSM-3", "erp_id": "C001", "name": "Acme GmbH (new)", "updated_at": "2024-03-01T00:00:00Z"}
"#;

fn loaded_store(dir: &Path) -> String {
    let file = dir.join("customers.ndjson");
    std::fs::write(&file, CUSTOMERS).unwrap();
    let db = common::store_in(dir, "s.db");
    let (code, _, err) = run(&[
        "objects",
        "load",
        "fsmcustomer",
        file.to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("loaded 3 records"), "{err}");
    db
}

fn eval_with(db: &str, record: &str, formula: &str) -> (i32, String, String) {
    run(&["eval", "--store", db, "--record", record, formula])
}

#[test]
fn load_list_dump_round_trip() {
    let dir = tempdir("roundtrip");
    let db = loaded_store(&dir);
    let (code, out, _) = run(&["objects", "list", "--store", &db]);
    assert_eq!(code, 0);
    assert_eq!(out, "fsmcustomer\t3\n");
    let (code, out, _) = run(&["objects", "dump", "fsmcustomer", "--store", &db]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].contains("\"FSM-1\""));
}

#[test]
fn vlookup_takes_the_most_recent_match() {
    let dir = tempdir("vlookup");
    let db = loaded_store(&dir);
    let (code, out, err) = eval_with(
        &db,
        r#"{"CardCode": "C001"}"#,
        "vlookup('CardCode','fsmcustomer','erp_id','customer_id')",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "\"FSM-3\"\n");
}

/// A connector that looks up in a mapping (`vlookup`) and, apart, in its condition.
const LOOKING_UP: &str = r#"name = "lookups"
conditions = ["not isnull(textvlookup(data('CardCode'), 'fsmcustomer', 'erp_id', 'name'))"]

[inbound]
type = "ndjson"
object = "erp_record"

[outbound]
type = "ndjson"

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "customer"
formula = "vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')"
"#;

#[test]
fn a_run_looks_up_in_the_store_from_every_worker() {
    let dir = tempdir("run-lookups");
    let db = loaded_store(&dir);
    std::fs::write(dir.join("c.toml"), LOOKING_UP).unwrap();
    // lines for several chunks of 512, so that every worker maps some
    let codes = ["C001", "C002", "C404"];
    let lines: String = (0..3000)
        .map(|i| format!("{{\"id\": {i}, \"CardCode\": \"{}\"}}\n", codes[i % 3]))
        .collect();
    std::fs::write(dir.join("in.ndjson"), lines).unwrap();
    let (code, _, err) = common::run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--output",
            "out.ndjson",
            "--store",
            &db,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let out = std::fs::read_to_string(dir.join("out.ndjson")).unwrap();
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // C404 is in no stored record: its lines are filtered out by the condition
    assert_eq!(rows.len(), 2000, "{err}");
    for row in rows {
        let id = row["id"].as_u64().unwrap();
        let want = if id % 3 == 0 { "FSM-3" } else { "FSM-2" };
        assert_eq!(row["customer"], want, "{row}");
    }
}

#[test]
fn only_a_transform_that_looks_up_reads_the_store() {
    use sluice::transform::connector_file::ConnectorFile;
    use sluice::transform::Transform;
    let compiled = |text: &str| {
        let file = ConnectorFile::from_text("c.toml", text, false).unwrap();
        Transform::compile(&file, &Default::default()).unwrap()
    };
    assert!(compiled(LOOKING_UP).reads_store());
    let without_condition = LOOKING_UP.replace(
        "conditions = [\"not isnull(textvlookup(data('CardCode'), 'fsmcustomer', 'erp_id', 'name'))\"]",
        "",
    );
    assert!(compiled(&without_condition).reads_store());
    let condition_only = LOOKING_UP.replace(
        "vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')",
        "upper(data('CardCode'))",
    );
    assert!(compiled(&condition_only).reads_store());
    let deep = condition_only.replace(
        "not isnull(textvlookup(data('CardCode'), 'fsmcustomer', 'erp_id', 'name'))",
        "count(get_entity_data('fsmcustomer', ['erp_id' => data('CardCode')])) > 0",
    );
    assert!(compiled(&deep).reads_store());
    let none = without_condition.replace(
        "vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')",
        "concat(data('CardCode'), '-', findvalue(data('tags'), [], 'x'))",
    );
    assert!(!compiled(&none).reads_store());
}

#[test]
fn load_with_key_upserts() {
    let dir = tempdir("upsert");
    let db = loaded_store(&dir);
    let file = dir.join("update.ndjson");
    std::fs::write(&file, "{\"customer_id\": \"FSM-2\", \"erp_id\": \"C002\", \"name\": \"Beta renamed\"}\n{\"customer_id\": \"FSM-9\", \"erp_id\": \"C009\", \"name\": \"New\"}\n").unwrap();
    let (code, _, err) = run(&[
        "objects",
        "load",
        "fsmcustomer",
        file.to_str().unwrap(),
        "--key",
        "customer_id",
        "--store",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 new, 1 updated"), "{err}");
    let (_, out, _) = eval_with(
        &db,
        "{}",
        "textvlookup('FSM-2','fsmcustomer','customer_id','name')",
    );
    assert_eq!(out, "\"Beta renamed\"\n");
    let (_, out, _) = run(&["objects", "list", "--store", &db]);
    assert_eq!(out, "fsmcustomer\t4\n");
}

#[test]
fn like_lookup_escapes_wildcards() {
    let dir = tempdir("like");
    let db = loaded_store(&dir);
    for (needle, expected) in [
        ("'%'", "\"FSM-2\""),
        ("'_'", "\"FSM-2\""),
        ("'acme'", "\"FSM-1\""),
        ("'\\\\'", "null"),
        ("'A%e'", "null"),
    ] {
        let formula = format!("textvlookuplike({needle}, 'fsmcustomer', 'name', 'customer_id')");
        let (code, out, err) = eval_with(&db, "{}", &formula);
        assert_eq!(code, 0, "{formula}: {err}");
        assert_eq!(out.trim(), expected, "{formula}");
    }
}

#[test]
fn lookups_are_injection_proof() {
    let dir = tempdir("inject");
    let db = loaded_store(&dir);
    let attacks = [
        "textvlookup('x'' OR ''1''=''1', 'fsmcustomer', 'erp_id', 'customer_id')",
        "textvlookup('C001', 'fsmcustomer; DROP TABLE objects; --', 'erp_id', 'customer_id')",
        "textvlookup('C001', 'fsmcustomer', 'erp_id'' OR 1=1 --', 'customer_id')",
        "textvlookuplike(''' OR 1=1 --', 'fsmcustomer', 'name', 'customer_id')",
        "get_entity_data('fsmcustomer'' OR ''a''=''a', [])",
    ];
    for attack in attacks {
        let (code, out, err) = eval_with(&db, "{}", attack);
        assert_eq!(code, 0, "{attack}: {err}");
        assert!(
            out.trim() == "null" || out.trim() == "[]",
            "{attack} returned {out}"
        );
    }
    let (_, out, _) = run(&["objects", "list", "--store", &db]);
    assert_eq!(out, "fsmcustomer\t3\n", "the store is intact");
}

#[test]
fn missing_store_is_a_clear_error() {
    let (code, _, err) = run(&["eval", "--store", "/nonexistent/dir/s.db", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("E701"), "{err}");
    let (code, _, err) = run(&["objects", "dump", "x", "--store", "/nonexistent/dir/s.db"]);
    assert_eq!(code, 1);
    assert!(err.contains("E701"), "{err}");
}

#[test]
fn lookup_without_store_is_a_runtime_error() {
    let dir = tempdir("nostore");
    let out = sluice()
        .current_dir(&dir)
        .args(["eval", "textvlookup('a', 'b', 'c', 'd')"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E307"));
}

#[test]
fn corrupt_store_is_a_clear_error() {
    let dir = tempdir("corrupt");
    let db = dir.join("bad.db");
    std::fs::write(&db, b"this is not an sqlite database, just some bytes ......................................................").unwrap();
    let (code, _, err) = run(&["objects", "list", "--store", db.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("E702"), "{err}");
    let (code, _, err) = run(&["eval", "--store", db.to_str().unwrap(), "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("E702"), "{err}");
}

#[test]
fn foreign_sqlite_file_is_not_taken_for_a_store() {
    let dir = tempdir("foreign");
    let db = dir.join("other.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let file = dir.join("a.ndjson");
    std::fs::write(&file, "{\"a\": 1}\n").unwrap();
    let (code, _, err) = run(&[
        "objects",
        "load",
        "x",
        file.to_str().unwrap(),
        "--store",
        db.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("E702"), "{err}");
}

#[test]
fn locked_store_is_a_clear_error() {
    let dir = tempdir("locked");
    let db = loaded_store(&dir);
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let file = dir.join("more.ndjson");
    std::fs::write(&file, "{\"customer_id\": \"FSM-5\"}\n").unwrap();
    let (code, _, err) = run(&[
        "objects",
        "load",
        "fsmcustomer",
        file.to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("E703"), "{err}");
    holder.execute_batch("ROLLBACK;").unwrap();
    let (_, out, _) = run(&["objects", "list", "--store", &db]);
    assert_eq!(out, "fsmcustomer\t3\n", "nothing was written half");
}

#[test]
fn bad_ndjson_line_loads_nothing_and_names_the_line() {
    let dir = tempdir("badline");
    let db = dir.join("s.db");
    let file = dir.join("bad.ndjson");
    std::fs::write(&file, b"{\"a\": 1}\n{\"a\": \n{\"a\": 3}\n").unwrap();
    let (code, _, err) = run(&[
        "objects",
        "load",
        "x",
        file.to_str().unwrap(),
        "--store",
        db.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("E507") && err.contains(":2:"), "{err}");
    std::fs::write(&file, b"{\"a\": 1}\n{\"a\": \"\xff\"}\n").unwrap();
    let (code, _, err) = run(&[
        "objects",
        "load",
        "x",
        file.to_str().unwrap(),
        "--store",
        db.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("E507") && err.contains(":2:"), "{err}");
    assert!(!db.exists(), "nothing was stored");
}

#[test]
fn lookups_compare_typed_values_like_equality() {
    let dir = tempdir("typed");
    let file = dir.join("n.ndjson");
    std::fs::write(
        &file,
        "{\"id\": 1, \"name\": \"one\"}\n{\"id\": 2.0, \"name\": \"two\"}\n",
    )
    .unwrap();
    let db = common::store_in(&dir, "s.db");
    let (code, _, err) = run(&[
        "objects",
        "load",
        "num",
        file.to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    for (formula, expected) in [
        ("textvlookup(1, 'num', 'id', 'name')", "\"one\""),
        ("textvlookup(1.00, 'num', 'id', 'name')", "\"one\""),
        ("textvlookup(2, 'num', 'id', 'name')", "\"two\""),
        ("textvlookup('1', 'num', 'id', 'name')", "null"),
    ] {
        let (code, out, err) = eval_with(&db, "{}", formula);
        assert_eq!(code, 0, "{formula}: {err}");
        assert_eq!(out.trim(), expected, "{formula}");
    }
}
