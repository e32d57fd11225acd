//! Every resource limit through the CLI: its default holds and `--limit` sets it, with its
//! own error code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use assert_cmd::Command;

fn eval(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("sluice")
        .unwrap()
        .arg("eval")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn step_limit() {
    let (code, out, _) = eval(&["1+1+1+1+1+1+1"]);
    assert_eq!((code, out.as_str()), (0, "7\n"));
    let (code, _, err) = eval(&[
        "--limit",
        "steps=5",
        "--record",
        r#"{"a": 1}"#,
        "$a+$a+$a+$a+$a+$a",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("E311"), "{err}");
}

#[test]
fn string_and_array_limits() {
    let (code, _, err) = eval(&["--limit", "string_bytes=10", "repeat('ab', 6)"]);
    assert_eq!(code, 1);
    assert!(err.contains("E310"), "{err}");
    let (code, out, _) = eval(&["--limit", "string_bytes=12", "repeat('ab', 6)"]);
    assert_eq!((code, out.as_str()), (0, "\"abababababab\"\n"));
    let (code, _, err) = eval(&["--limit", "array_len=2", "split('a,b,c', ',')"]);
    assert_eq!(code, 1);
    assert!(err.contains("E310"), "{err}");
    let (code, _, err) = eval(&["repeat(repeat('x', 10000), 10000)"]);
    assert_eq!(code, 1, "the default (16 MiB) holds");
    assert!(err.contains("E310"), "{err}");
}

#[test]
fn formula_size_limits() {
    let (code, _, err) = eval(&["--limit", "depth=3", "[[[[1]]]]"]);
    assert_eq!(code, 2);
    assert!(err.contains("E008"), "{err}");
    let (code, _, err) = eval(&["--limit", "formula_bytes=5", "123456"]);
    assert_eq!(code, 2);
    assert!(err.contains("E009"), "{err}");
}

#[test]
fn regex_limit() {
    let (code, _, err) = eval(&[
        "--limit",
        "regex_bytes=1000",
        "regexmatch('a', concat('a{1000}', 'b{1000}'))",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("E309"), "{err}");
    let (code, _, err) = eval(&["regexmatch('a', 'a{100000}{100000}')"]);
    assert_eq!(code, 2, "a literal beyond the default is a compile error");
    assert!(err.contains("E203"), "{err}");
}

#[test]
fn bad_limit_is_reported() {
    let (code, _, err) = eval(&["--limit", "speed=1", "1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E510") && err.contains("unknown limit"),
        "{err}"
    );
}

#[test]
fn record_size_and_depth_limits_send_records_to_dead_letters() {
    let dir = std::env::temp_dir().join(format!("sluice-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("c.toml"),
        "name = \"lim\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"ndjson\"\n[[mappings]]\ntarget = \"a\"\nfield = \"a\"\n",
    )
    .unwrap();
    let long = format!("{{\"a\": \"{}\"}}", "x".repeat(200));
    std::fs::write(
        dir.join("in.ndjson"),
        format!("{{\"a\": 1}}\n{long}\n{{\"a\": [[[[1]]]]}}\n{{\"a\": 2}}\n"),
    )
    .unwrap();
    let out = Command::cargo_bin("sluice")
        .unwrap()
        .current_dir(&dir)
        .args([
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--output",
            "-",
            "--limit",
            "record_bytes=100",
            "--limit",
            "json_depth=3",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"a\":1}\n{\"a\":2}\n"
    );
    let dead = std::fs::read_to_string(dir.join("lim.dead.ndjson")).unwrap();
    assert!(dead.contains("E508") && dead.contains("E509"), "{dead}");
}

/// `sluice eval` with the record read from a file, under `engine`.
fn eval_on(engine: &str, record: &std::path::Path, formula: &str) -> (i32, String, String) {
    eval(&[
        "--engine",
        engine,
        "--record",
        &format!("@{}", record.display()),
        formula,
    ])
}

fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("sluice-limits-{}-{name}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn distinct_of_many_arrays_is_one_pass_under_both_engines() {
    // 400 000 one-item arrays, 200 000 of them different: ten times the 40 000 that took
    // 45 s when each new item was compared with every kept one.
    let items: Vec<String> = (0..400_000).map(|i| format!("[{}]", i % 200_000)).collect();
    let record = temp_file(
        "distinct.json",
        format!("{{\"a\": [{}]}}", items.join(",")).as_bytes(),
    );
    for engine in ["interp", "jit"] {
        let (code, out, err) = eval_on(engine, &record, "count(distinct($a))");
        assert_eq!((code, out.as_str()), (0, "200000\n"), "{engine}: {err}");
        let (code, out, err) = eval_on(
            engine,
            &record,
            "count(distinct([[1, 'a'], [1.0, 'a'], ['k' => 1, 'j' => 2], ['j' => 2, 'k' => 1.00], [1]]))",
        );
        assert_eq!(
            (code, out.as_str()),
            (0, "3\n"),
            "{engine}: equal items are one: {err}"
        );
    }
    let _ = std::fs::remove_file(record);
}

#[test]
fn formatdate_stops_at_the_string_limit_under_both_engines() {
    // 16 MB of `%c` made 192 MB of text (2.85 GB of memory) past the 16 MiB limit; `%B`
    // (a month's name) is what a date has.
    let pattern = "%B".repeat(8 << 20);
    let record = temp_file(
        "formatdate.json",
        format!("{{\"p\": \"{pattern}\"}}").as_bytes(),
    );
    for engine in ["interp", "jit"] {
        for formula in [
            "formatdate(date(2024, 1, 2), $p)",
            "text(date(2024, 1, 2), $p)",
        ] {
            let (code, _, err) = eval_on(engine, &record, formula);
            assert_eq!(code, 1, "{engine} {formula}: {err}");
            assert!(err.contains("E310"), "{engine} {formula}: {err}");
        }
    }
    let (code, _, err) = eval(&[
        "--limit",
        "string_bytes=100",
        "formatdate(date(2024, 1, 2), repeat('%B', 20))",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("E310"), "{err}");
    let (code, _, err) = eval(&[
        "--limit",
        "string_bytes=100",
        "repeat('ab', 40) & repeat('cd', 40)",
    ]);
    assert_eq!(code, 1, "the `&` operator is bounded too");
    assert!(err.contains("E310"), "{err}");
    let _ = std::fs::remove_file(record);
}

#[test]
fn a_long_formula_is_not_echoed_whole_in_its_diagnostic() {
    let formula = format!("1 + {}", "1 + ".repeat(30_000))
        .trim_end_matches(" + ")
        .to_string();
    let (code, _, err) = eval(&[&formula]);
    assert_eq!(code, 2);
    assert!(err.contains("E009"), "{}", &err[..err.len().min(500)]);
    assert!(
        err.len() < 4096,
        "the diagnostic does not echo {} bytes",
        err.len()
    );
    // With the limit raised, a syntax error at the end is shown in an excerpt around it.
    let broken = format!("{formula} +* 1");
    let (code, _, err) = eval(&["--limit", "formula_bytes=1000000", &broken]);
    assert_eq!(code, 2);
    assert!(err.contains("E004"), "{}", &err[..err.len().min(500)]);
    assert!(
        err.len() < 4096,
        "the diagnostic shows an excerpt, not {} bytes",
        err.len()
    );
    assert!(err.contains("an excerpt: bytes"), "{err}");
    assert!(
        err.contains("+* 1"),
        "the excerpt is around the error: {err}"
    );
    // A connector whose formula is 16 MB (ten times more would only take longer to write).
    let dir = std::env::temp_dir().join(format!("sluice-limits-{}-long", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let long = "1 + ".repeat(4 << 20);
    std::fs::write(
        dir.join("c.toml"),
        format!(
            "name = \"c\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"ndjson\"\n\n[[mappings]]\ntarget = \"x\"\nformula = \"{long}1\"\n"
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("sluice")
        .unwrap()
        .current_dir(&dir)
        .args(["check", "c.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("E009"), "{}", &err[..err.len().min(500)]);
    assert!(err.len() < 8192, "{} bytes of diagnostic", err.len());
    let _ = std::fs::remove_dir_all(dir);
}
