//! Golden formula tests: every `tests/golden/**/*.sluice` file holds header lines
//! (`# record: JSON`, `# now: RFC3339`, `# tz: NAME`), the formula, a `---` line, and the
//! expected output: the JSON result, or `exit N` followed by the rendered diagnostic.
//! Run with `BLESS=1` to rewrite the expectations (then review the diff). Every file runs
//! under both engines, the interpreter and the JIT, which must agree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use chrono::DateTime;
use sluice::cli::eval::{evaluate, Outcome, Settings};
use sluice::diagnostics::render_plain;
use sluice::value::parse_record;
use sluice::Engine;

fn golden_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            golden_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sluice") {
            out.push(path);
        }
    }
}

struct Case {
    record: String,
    now: String,
    tz: String,
    formula: String,
    expected: String,
}

fn parse_case(text: &str) -> Case {
    let (head, expected) = text.split_once("\n---\n").expect("a `---` line");
    let mut case = Case {
        record: "{}".into(),
        now: "2024-05-01T12:00:00Z".into(),
        tz: "UTC".into(),
        formula: String::new(),
        expected: expected.trim_end().to_string(),
    };
    let mut formula_lines = Vec::new();
    for line in head.lines() {
        if let Some(v) = line.strip_prefix("# record: ") {
            case.record = v.to_string();
        } else if let Some(v) = line.strip_prefix("# now: ") {
            case.now = v.to_string();
        } else if let Some(v) = line.strip_prefix("# tz: ") {
            case.tz = v.to_string();
        } else if line.starts_with("# ") {
            continue;
        } else {
            formula_lines.push(line);
        }
    }
    case.formula = formula_lines.join("\n");
    case
}

fn actual_output(case: &Case, engine: Engine) -> String {
    let mut settings = Settings::new(
        parse_record(&case.record).expect("the record header is valid JSON"),
        DateTime::parse_from_rfc3339(&case.now).unwrap(),
        case.tz.parse().unwrap(),
    );
    settings.engine = engine;
    let Outcome {
        exit,
        stdout,
        report,
    } = evaluate(&case.formula, &settings);
    let mut out = String::new();
    if exit != 0 {
        out.push_str(&format!("exit {exit}\n"));
    }
    if let Some(s) = stdout {
        out.push_str(&s);
    }
    if let Some(r) = report {
        out.push_str(&render_plain(&r));
    }
    out.trim_end().to_string()
}

#[test]
fn golden_formulas() {
    let mut files = Vec::new();
    golden_files(Path::new("tests/golden"), &mut files);
    files.sort();
    assert!(files.len() > 20, "golden files missing");
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let case = parse_case(&text);
        let actual = actual_output(&case, Engine::Interp);
        let by_jit = actual_output(&case, Engine::Jit);
        if by_jit != actual {
            failures.push(format!(
                "{}\n--- interpreter\n{actual}\n--- jit\n{by_jit}\n",
                file.display()
            ));
        }
        if actual == case.expected {
            continue;
        }
        if bless {
            let head = text.split_once("\n---\n").unwrap().0;
            std::fs::write(file, format!("{head}\n---\n{actual}\n")).unwrap();
        } else {
            failures.push(format!(
                "{}\n--- expected\n{}\n--- actual\n{}\n",
                file.display(),
                case.expected,
                actual
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden file(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
