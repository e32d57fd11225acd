//! Golden formula tests: every `tests/golden/**/*.sluice` file holds header lines
//! (`# record: JSON`, `# now: RFC3339`, `# tz: NAME`), the formula, a `---` line, and the
//! expected output: the JSON result, or `exit N` followed by the rendered diagnostic.
//! Run with `BLESS=1` to rewrite the expectations (then review the diff). Every file runs
//! under both engines, the interpreter and the JIT, which must agree, through the embedding
//! API (`sluice eval` compiles a `Program` and executes it, as an embedder does).
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

/// The golden formulas again, compiled with a schema taken from each file's record (so
/// fields have types and the JIT's compiled paths run instead of folding or falling back):
/// both engines must agree, and the report says how many run natively.
#[test]
fn golden_formulas_with_record_schemas_reach_compiled_code() {
    use sluice::compile::{compile, CompileOptions};
    use sluice::transform::Transform;
    use sluice::types::{Schema, TypeSet};
    let mut files = Vec::new();
    golden_files(Path::new("tests/golden"), &mut files);
    files.sort();
    let (mut native, mut mixed, mut interpreted, mut untyped) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let case = parse_case(&std::fs::read_to_string(file).unwrap());
        let json: serde_json::Value = serde_json::from_str(&case.record).unwrap();
        let schema = Schema::new(json.as_object().unwrap().iter().map(|(k, v)| {
            let ty = match v {
                serde_json::Value::Number(_) => TypeSet::NUMBER,
                serde_json::Value::String(_) => TypeSet::STRING,
                serde_json::Value::Bool(_) => TypeSet::BOOLEAN,
                serde_json::Value::Array(_) => TypeSet::ARRAY,
                serde_json::Value::Object(_) => TypeSet::OBJECT,
                serde_json::Value::Null => TypeSet::ANY,
            };
            (k.clone(), ty)
        }));
        let options = CompileOptions {
            schema: Some(schema),
            ..CompileOptions::default()
        };
        let Ok(compiled) = compile(&case.formula, &options) else {
            untyped += 1;
            continue;
        };
        let transform = std::sync::Arc::new(Transform::single(&case.formula, compiled.ir));
        let jit = sluice::jit::JitTransform::compile(std::sync::Arc::clone(&transform)).unwrap();
        match (jit.native_formulas, jit.interpreted_nodes) {
            (0, _) => interpreted += 1,
            (_, 0) => native += 1,
            _ => mixed += 1,
        }
        let record = parse_record(&case.record).unwrap();
        let mut ctx = sluice::runtime::Ctx::new(&record);
        ctx.now = DateTime::parse_from_rfc3339(&case.now).unwrap();
        ctx.tz = case.tz.parse().unwrap();
        let a = transform.apply(&mut sluice::interp::Interpreter::new(), &ctx);
        let b = jit.apply(&mut sluice::interp::Interpreter::new(), &ctx);
        if format!("{a:?}") != format!("{b:?}") {
            failures.push(format!("{}: interpreter {a:?}, jit {b:?}", file.display()));
        }
    }
    eprintln!(
        "golden formulas with their record's schema: {native} run natively, {mixed} natively \
         with some nodes handed to the interpreter, {interpreted} by the interpreter as a \
         whole, {untyped} do not compile with the schema (they read fields the record lacks, \
         or test type errors)"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(native > 0, "no golden formula reaches compiled code");
}
