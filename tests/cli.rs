//! The `sluice` binary as a user runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::sluice;

fn stdout_of(args: &[&str]) -> String {
    let out = sluice().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn eval_prints_one_json_line() {
    let out = stdout_of(&[
        "eval",
        "--record",
        r#"{"firstName":"Ada","lastName":"Lovelace"}"#,
        "concat(data('firstName'), ' ', data('lastName'))",
    ]);
    assert_eq!(out, "\"Ada Lovelace\"\n");
}

#[test]
fn eval_exact_decimals() {
    assert_eq!(stdout_of(&["eval", "0.1+0.2"]), "0.3\n");
}

#[test]
fn eval_record_from_file() {
    let dir = tempdir();
    let path = dir.join("rec.json");
    std::fs::write(&path, r#"{"Qty": 4, "Price": 2.50}"#).unwrap();
    let arg = format!("@{}", path.display());
    assert_eq!(
        stdout_of(&["eval", "--record", &arg, "$Qty * $Price"]),
        "10.00\n"
    );
}

#[test]
fn eval_record_from_stdin() {
    let out = sluice()
        .args(["eval", "--record", "@-", "$a & $b"])
        .write_stdin(r#"{"a": "x", "b": 1}"#)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "\"x1\"\n");
}

#[test]
fn formula_starting_with_dash_after_double_dash() {
    assert_eq!(stdout_of(&["eval", "--", "-1 + 3"]), "2\n");
}

#[test]
fn compile_error_exits_2_with_code_on_stderr() {
    let out = sluice().args(["eval", "'a' * 2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("E101"), "{err}");
}

#[test]
fn runtime_error_exits_1_with_code_on_stderr() {
    let out = sluice().args(["eval", "number('abc')"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E304"));
    let out = sluice()
        .args(["eval", "--record", r#"{"v": 0}"#, "1 / $v"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E302"));
}

#[test]
fn bad_record_is_a_diagnostic_not_a_panic() {
    for (record, code) in [
        ("{not json", "E501"),
        ("[1,2]", "E502"),
        (r#"{"n": 1e999}"#, "E503"),
    ] {
        let out = sluice()
            .args(["eval", "--record", record, "1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{record}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(code), "{record}: {err}");
    }
}

#[test]
fn missing_record_file_is_reported() {
    let out = sluice()
        .args(["eval", "--record", "@/nonexistent/rec.json", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E506"));
}

#[test]
fn bad_now_and_tz_are_reported() {
    let out = sluice()
        .args(["eval", "--now", "yesterday", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E504"));
    let out = sluice()
        .args(["eval", "--tz", "Mars/Olympus", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E505"));
}

#[test]
fn explain_prints_the_page() {
    let out = stdout_of(&["explain", "E101"]);
    assert!(out.starts_with("E101: operator applied to a value of the wrong type"));
    let out = sluice().args(["explain", "E999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn functions_lists_and_describes() {
    let all = stdout_of(&["functions"]);
    assert!(all.contains("concat") && all.contains("findvalue"));
    let one = stdout_of(&["functions", "IF"]);
    assert!(
        one.starts_with("if(condition: boolean, then: any, else?: any)"),
        "{one}"
    );
    assert!(one.contains("Examples:"));
}

#[test]
fn deep_nesting_is_rejected_not_a_crash() {
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let out = sluice().args(["eval", &deep]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E008"));
    let calls = format!("{}1{}", "concat(".repeat(3000), ")".repeat(3000));
    let out = sluice().args(["eval", &calls]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E008"));
    let parens = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(stdout_of(&["eval", &parens]), "1\n");
    let minus = format!("{}1", "-".repeat(60_000));
    let out = sluice().args(["eval", &minus]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let long = "1+".repeat(40_000) + "1";
    let out = sluice().args(["eval", &long]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("E009"));
}

fn tempdir() -> std::path::PathBuf {
    common::tempdir("cli", "record-file")
}

#[test]
fn eval_formula_starting_with_minus_needs_no_double_dash() {
    assert_eq!(stdout_of(&["eval", "-round(2.5)"]), "-3\n");
    assert_eq!(stdout_of(&["eval", "-1 + 3"]), "2\n");
}

#[test]
fn explain_unknown_code_names_the_real_range() {
    let out = sluice().args(["explain", "E999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let last = sluice::diagnostics::codes::ALL.last().unwrap().id;
    assert!(last.starts_with("E8"));
    assert!(
        err.contains(&format!("codes run from E001 to {last}")),
        "{err}"
    );
    assert!(err.contains("E7xx the store"), "{err}");
    assert!(err.contains("E8xx `sluice serve`"), "{err}");
}

#[test]
fn sluice_bench_json_counts_each_stages_instructions_under_callgrind() {
    let dir = common::tempdir("cli", "bench-instructions");
    let records: String = (0..120)
        .map(|i| {
            format!(
                "{{\"id\": \"C{i:05}\", \"first\": \"ada\", \"last\": \"byron\", \"email\": \" A{i}@X.COM \", \"price\": {i}.50, \"qty\": {q}, \"tax_rate\": 0.19, \"active\": {a}, \"status\": null, \"country\": \"de\", \"address\": {{\"city\": \"Köln\"}}}}\n",
                q = i % 7 + 1,
                a = i % 10 != 0
            )
        })
        .collect();
    let input = dir.join("records.ndjson");
    std::fs::write(&input, records).unwrap();
    let connector = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/bench_connector.toml");
    let (code, out, err) = common::run(&[
        "bench",
        connector,
        "--input",
        input.to_str().unwrap(),
        "--json",
        "--passes",
        "1",
        "--instructions-sample",
        "40",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["records"], 120);
    assert_eq!(report["mapped"], 108, "one in ten is not active");
    let counted = &report["instructions_per_record"];
    let has_valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_valgrind {
        assert!(counted.is_null(), "{report}");
        return;
    }
    assert_eq!(counted["records"], 40, "{report}");
    for stage in ["parse", "interp", "jit", "write"] {
        let n = counted[stage].as_f64().unwrap_or(0.0);
        assert!(n > 100.0, "{stage}: {report}");
    }
    // turned off: no count, and no valgrind run
    let (code, out, _) = common::run(&[
        "bench",
        connector,
        "--input",
        input.to_str().unwrap(),
        "--json",
        "--instructions-sample",
        "0",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"instructions_per_record\":null"), "{out}");
}
