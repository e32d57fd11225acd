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
