//! The embedding API as a connector runtime uses it: the example program `embed` (built by
//! `cargo test` with the other examples) transforms a stream with a compiled connector on
//! every core, and gives what `sluice run` gives on the same records.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let dir = deps.parent().unwrap().parent().unwrap();
    dir.join("examples").join(name)
}

#[test]
fn the_embedding_example_transforms_a_stream_like_sluice_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let connector = root.join("examples/customers.toml");
    let records = root.join("examples/business_partners.ndjson");
    let mut input = String::new();
    for _ in 0..200 {
        input.push_str(&std::fs::read_to_string(&records).unwrap());
    }
    let embed = built_example("embed");
    let out = std::process::Command::new(&embed)
        .arg(&connector)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let embedded = String::from_utf8(out.stdout).unwrap();

    let dir = common::tempdir("embedding", "run");
    std::fs::write(dir.join("in.ndjson"), &input).unwrap();
    let (code, run_out, err) = common::run_in(
        &dir,
        &[
            "run",
            connector.to_str().unwrap(),
            "--input",
            "in.ndjson",
            "--output",
            "-",
            "--now",
            "2024-05-01T12:00:00Z",
            "--tz",
            "Europe/Berlin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        embedded.lines().count(),
        800,
        "4 of 8 records map, 200 times"
    );
    let normalise = |s: &str| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(normalise(&embedded), normalise(&run_out));
    let errors = String::from_utf8(out.stderr).unwrap();
    assert_eq!(errors.matches("E511").count(), 200, "{errors}");
    assert_eq!(errors.matches("E507").count(), 200, "{errors}");
}

/// The example binary `name`, built if a run of this test alone did not build it.
fn built_example(name: &str) -> PathBuf {
    let path = example(name);
    if !path.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    path
}

/// One HTTP/1.1 exchange with a server on `addr`: status and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(common::patience(30))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The Axum example: connectors compiled from request bodies, NDJSON transformed.
#[test]
fn the_axum_example_compiles_connectors_from_requests_and_transforms_ndjson() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(built_example("axum_service"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let connector = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/customers.toml"),
    )
    .unwrap();
    let (status, body) = http(&addr, "PUT", "/connectors/customers", &connector);
    assert_eq!(status, 201, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["targets"][0], "erp_id");
    let records = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/business_partners.ndjson"),
    )
    .unwrap();
    let (status, body) = http(&addr, "POST", "/connectors/customers/run", &records);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.lines().count(),
        records.lines().filter(|l| !l.is_empty()).count()
    );
    assert_eq!(
        body.lines()
            .filter(|l| l.starts_with(r#"{"erp_id":"#))
            .count(),
        4,
        "{body}"
    );
    assert!(body.contains(r#""code":"E511""#), "{body}");

    let broken = connector.replacen("formula = \"", "formula = \"upper(", 1);
    let (status, body) = http(&addr, "PUT", "/connectors/broken", &broken);
    assert_eq!(status, 422, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"]["kind"], "Compile");
    assert!(answer["error"]["line"].as_u64().is_some(), "{body}");
    let (status, _) = http(&addr, "POST", "/connectors/broken/run", "{}");
    assert_eq!(status, 404);
    child.kill().unwrap();
    child.wait().unwrap();
}

fn ctx() -> sluice::Context {
    sluice::Context::at("2024-05-01T00:00:00Z").unwrap()
}

fn record(json: &str) -> sluice::Value {
    sluice::Value::parse_json(json).unwrap()
}

#[test]
fn a_program_is_send_and_sync_and_cheap_to_share() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<sluice::Program>();
    let program = sluice::Program::compile("data('n') * 2").unwrap();
    let ctx = ctx();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (program, ctx) = (program.clone(), ctx.clone());
            std::thread::spawn(move || {
                program
                    .execute(&record(&format!(r#"{{"n": {i}}}"#)), &ctx)
                    .unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(
            h.join().unwrap().to_json(),
            Some(format!(r#"{{"result":{}}}"#, i * 2))
        );
    }
}

#[test]
fn errors_carry_kind_code_span_and_target() {
    let program = sluice::Program::from_mappings(
        &["data('a') >= 0"],
        &[
            ("ok", sluice::Mapping::Raw(sluice::Value::Number(1.into()))),
            ("ratio", sluice::Mapping::Formula("data('a') / data('b')")),
        ],
        &Default::default(),
    )
    .unwrap();
    let err = program
        .execute(&record(r#"{"a": 1, "b": 0}"#), &ctx())
        .unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (sluice::ErrorKind::Evaluation, "E302")
    );
    assert_eq!(err.target.as_deref(), Some("ratio"));
    assert_eq!(err.span, Some(0..21));
    assert!(
        err.rendered.contains("division by zero"),
        "{}",
        err.rendered
    );
    // conditions count from 1, as dead letters do
    let out = program.execute(&record(r#"{"a": -1}"#), &ctx()).unwrap();
    assert_eq!(out, sluice::Output::Filtered { condition: 1 });

    let err = sluice::Program::compile("upper(").unwrap_err();
    assert_eq!((err.kind, err.code), (sluice::ErrorKind::Compile, "E005"));
    // help speaks of the library, not of the command line
    let err = sluice::Program::compile("uper(data('a'))").unwrap_err();
    assert_eq!(err.code, "E201");
    let err = sluice::Program::compile("frobnicate(1)").unwrap_err();
    assert_eq!(err.message, "unknown function `frobnicate`");
    assert_eq!(
        err.help.as_deref(),
        Some("`sluice::functions()` lists every function")
    );
    assert!(
        !err.rendered.contains("`sluice functions`"),
        "{}",
        err.rendered
    );

    let err = sluice::Program::compile("1")
        .unwrap()
        .execute_ndjson(b"{\"a\": ", &ctx())
        .unwrap_err();
    assert_eq!(err.kind, sluice::ErrorKind::Input);
}

#[test]
fn a_connectors_errors_point_into_its_file_at_the_mapping_that_failed() {
    let text = r#"name = "c"
[inbound]
type = "ndjson"
[outbound]
type = "ndjson"
[[mappings]]
target = "id"
field = "Code"
[[mappings]]
target = "total"
formula = "data('q') * 'x'"
"#;
    let err = sluice::Program::from_toml(text, &Default::default()).unwrap_err();
    assert_eq!((err.kind, err.code), (sluice::ErrorKind::Compile, "E101"));
    assert_eq!(err.target.as_deref(), Some("total"));
    assert_eq!(err.line, Some(11));
    let span = err.span.clone().unwrap();
    assert_eq!(&text[span], "'x'");

    let err = sluice::Program::from_toml(
        &text.replace("ndjson\"\n[outbound]", "ndjson\"\nspeed = 3\n[outbound]"),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind, sluice::ErrorKind::Connector);

    // at run time too, the span is in the file
    let text = text.replace("data('q') * 'x'", "data('q') / data('d')");
    let program = sluice::Program::from_toml(&text, &Default::default()).unwrap();
    let err = program
        .execute_ndjson(br#"{"Code": 1, "q": 1, "d": 0}"#, &ctx())
        .unwrap_err();
    assert_eq!((err.code, err.target.as_deref()), ("E302", Some("total")));
    assert_eq!(&text[err.span.clone().unwrap()], "data('q') / data('d')");
}

/// An embedder's own system type is the embedder's business, not an error of the language.
#[test]
fn a_connector_of_a_system_sluice_does_not_know_compiles() {
    let text = r#"name = "odoo"
[inbound]
type = "Odoo"
[outbound]
type = "FSM"
[[mappings]]
target = "id"
field = "Code"
"#;
    let program = sluice::Program::from_toml(text, &Default::default()).unwrap();
    assert_eq!(program.input_fields(), Some(vec!["Code"]));
}

#[test]
fn lookups_come_from_the_embedder() {
    use sluice::{Map, Value};
    struct Customers;
    impl sluice::ObjectLookups for Customers {
        fn latest_equal(
            &self,
            object: &str,
            field: &str,
            value: &Value,
        ) -> Result<Option<Value>, String> {
            Ok(
                (object == "fsmcustomer" && field == "erp_id" && *value == Value::str("C1"))
                    .then(|| record(r#"{"erp_id": "C1", "customer_id": 42}"#)),
            )
        }
        fn oldest_containing(&self, _: &str, _: &str, _: &str) -> Result<Option<Value>, String> {
            Ok(None)
        }
        fn all_matching(&self, _: &str, _: &Map) -> Result<Vec<Value>, String> {
            Ok(vec![])
        }
    }
    let ctx = ctx().with_lookups(std::sync::Arc::new(Customers));
    let program =
        sluice::Program::compile("vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')")
            .unwrap();
    let out = program
        .execute(&record(r#"{"CardCode": "C1"}"#), &ctx)
        .unwrap();
    assert_eq!(out.to_json().as_deref(), Some(r#"{"result":42}"#));
}

/// Regression: a panic in an embedder's lookup under the JIT ended the host with "panic in a
/// function that cannot unwind" (exit 134). It is now an error (E307, kind Lookup, the
/// panic's message) under both engines, whatever the call that reached the lookup (a whole
/// mapping, a number inside native arithmetic, a condition).
#[test]
fn a_panicking_lookup_is_an_error_record_under_each_engine_not_an_abort() {
    use sluice::{Map, Value};
    struct Panics;
    impl sluice::ObjectLookups for Panics {
        fn latest_equal(&self, _: &str, _: &str, _: &Value) -> Result<Option<Value>, String> {
            panic!("the embedder's database driver panicked")
        }
        fn oldest_containing(&self, _: &str, _: &str, _: &str) -> Result<Option<Value>, String> {
            Ok(None)
        }
        fn all_matching(&self, _: &str, _: &Map) -> Result<Vec<Value>, String> {
            Ok(vec![])
        }
    }
    let ctx = ctx().with_lookups(std::sync::Arc::new(Panics));
    let lookup = "vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')";
    let cases = [
        (None, lookup.to_string()),
        (None, format!("{lookup} + data('n') * 2")),
        (
            Some(format!("data('n') > 0 and {lookup} = 1")),
            "data('n')".to_string(),
        ),
    ];
    for engine in [sluice::Engine::Interp, sluice::Engine::Jit] {
        let mut options = sluice::Options::default();
        options.engine = engine;
        for (i, (condition, mapping)) in cases.iter().enumerate() {
            let conditions: Vec<&str> = condition.iter().map(String::as_str).collect();
            let program = sluice::Program::from_mappings(
                &conditions,
                &[("result", sluice::Mapping::Formula(mapping.as_str()))],
                &options,
            )
            .unwrap();
            assert_eq!(program.is_native(), engine == sluice::Engine::Jit);
            let err = program
                .execute(&record(r#"{"CardCode": "C1", "n": 2}"#), &ctx)
                .expect_err(&format!("case {i} under {engine:?}"));
            assert_eq!(
                (err.kind, err.code),
                (sluice::ErrorKind::Lookup, "E307"),
                "case {i}"
            );
            assert!(
                err.message
                    .contains("panicked: the embedder's database driver panicked"),
                "{}",
                err.message
            );
        }
    }
}

fn vat() -> sluice::HostFunction {
    use sluice::{FieldType, HostFunction, Value};
    HostFunction::new("vat", FieldType::Number, |args: &[Value]| match args {
        [Value::Number(n), ..] if n.is_zero() => panic!("a host bug"),
        [Value::Number(n)] => Ok(Value::Number(
            *n * sluice::rust_decimal::Decimal::new(19, 2),
        )),
        [Value::Number(n), Value::Number(rate)] => Ok(Value::Number(*n * *rate)),
        [Value::Null, ..] => Ok(Value::Null),
        _ => Err("vat(amount, rate?) needs numbers".to_string()),
    })
    .param("amount", FieldType::Number)
    .optional("rate", FieldType::Number)
    .pure(true)
    .doc("VAT on an amount")
}

#[test]
fn host_functions_are_called_by_both_engines_and_their_failures_are_errors() {
    let mut functions = sluice::Functions::new();
    functions.register(vat()).unwrap();
    for engine in [sluice::Engine::Interp, sluice::Engine::Jit] {
        let mut options = sluice::Options::default();
        options.engine = engine;
        options.functions = functions.clone();
        let program = sluice::Program::from_mappings(
            &[],
            &[
                ("vat", sluice::Mapping::Formula("vat(data('net'))")),
                (
                    "gross",
                    sluice::Mapping::Formula("data('net') + vat(data('net'), 0.07)"),
                ),
                ("folded", sluice::Mapping::Formula("VAT(100)")),
            ],
            &options,
        )
        .unwrap();
        let out = program.execute_ndjson(br#"{"net": 200}"#, &ctx()).unwrap();
        assert_eq!(
            out.to_json().as_deref(),
            Some(r#"{"vat":38.00,"gross":214.00,"folded":19.00}"#),
            "{engine:?}"
        );
        let err = program
            .execute_ndjson(br#"{"net": "x"}"#, &ctx())
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code),
            (sluice::ErrorKind::HostFunction, "E313")
        );
        let err = program
            .execute_ndjson(br#"{"net": 0}"#, &ctx())
            .unwrap_err();
        assert_eq!(err.code, "E313");
        assert!(
            err.message.contains("panicked: a host bug"),
            "{}",
            err.message
        );
    }
    // the checker knows its signature
    let mut options = sluice::Options::default();
    options.functions = functions.clone();
    let err = sluice::Program::compile_with("vat('x')", &options).unwrap_err();
    assert_eq!(err.code, "E102");
    let err = sluice::Program::compile_with("vat(1, 2, 3)", &options).unwrap_err();
    assert_eq!(err.code, "E202");
    assert!(sluice::functions(&functions).any(|f| f.name == "vat"
        && f.signature
            .starts_with("vat(amount: number, rate?: number)")));
    // names are checked
    for name in ["round", "vat", "2x", "a-b", "and"] {
        let err = functions
            .clone()
            .register(sluice::HostFunction::new(
                name,
                sluice::FieldType::Any,
                |_| Ok(sluice::Value::Null),
            ))
            .unwrap_err();
        assert_eq!(err.code, "E205", "{name}");
    }
}

#[test]
fn a_program_says_which_fields_it_reads() {
    let program = sluice::Program::from_mappings(
        &["data('Type') = 'C'"],
        &[
            ("id", sluice::Mapping::Field("Code")),
            (
                "city",
                sluice::Mapping::Formula("upper(data('address.city'))"),
            ),
            ("again", sluice::Mapping::Formula("lower(data('Code'))")),
        ],
        &Default::default(),
    )
    .unwrap();
    // a dotted name is listed as written and by its first part: a record may hold either
    let mut fields = program.input_fields().unwrap();
    fields.sort_unstable();
    assert_eq!(fields, ["Code", "Type", "address", "address.city"]);
    let dynamic = sluice::Program::compile("data(concat('a', data('b')))").unwrap();
    assert_eq!(dynamic.input_fields(), None);
}

#[test]
fn a_typed_schema_conforms_fields_and_checks_statically() {
    let mut options = sluice::Options::default();
    options.schema = vec![
        ("Qty".to_string(), sluice::FieldType::Number),
        ("Due".to_string(), sluice::FieldType::Date),
    ];
    let program =
        sluice::Program::compile_with("dateadd(data('Due'), data('Qty'), 'day')", &options)
            .unwrap();
    let out = program
        .execute_ndjson(br#"{"Qty": 2, "Due": "2024-05-30"}"#, &ctx())
        .unwrap();
    assert_eq!(out.to_json().as_deref(), Some(r#"{"result":"2024-06-01"}"#));
    let err = sluice::Program::compile_with("upper(data('Qty'))", &options).unwrap_err();
    assert_eq!(err.code, "E102");
}

/// `Auto` runs the interpreter for a one-off evaluation and native code for a stream.
#[test]
fn auto_compiles_native_code_only_after_enough_records() {
    let program = sluice::Program::compile("data('n') * 2 + 1").unwrap();
    assert!(!program.is_native());
    let ctx = ctx();
    for _ in 0..sluice::AUTO_NATIVE_AFTER {
        program.execute_ndjson(br#"{"n": 1}"#, &ctx).unwrap();
    }
    assert!(!program.is_native());
    let out = program.execute_ndjson(br#"{"n": 1}"#, &ctx).unwrap();
    assert_eq!(out.to_json().as_deref(), Some(r#"{"result":3}"#));
    assert!(program.is_native());
    let fresh = sluice::Program::compile("data('n') * 2").unwrap();
    assert!(fresh.compile_native());
    assert!(fresh.is_native());
    // a program no formula of which compiles natively stays with the interpreter
    let text_only = sluice::Program::compile("upper(data('s'))").unwrap();
    assert!(!text_only.compile_native());
}

/// Records keep their exact digits and their field order through the API.
#[test]
fn numbers_stay_exact_and_fields_stay_in_order() {
    let program = sluice::Program::from_mappings(
        &[],
        &[
            ("z", sluice::Mapping::Field("price")),
            ("a", sluice::Mapping::Formula("data('price') * 3")),
            ("m", sluice::Mapping::Field("nested")),
        ],
        &Default::default(),
    )
    .unwrap();
    let line = br#"{"price": 0.10000000000000000000000001, "nested": {"y": 12.50, "b": [1.0]}}"#;
    let out = program.execute_ndjson(line, &ctx()).unwrap();
    assert_eq!(
        out.to_json().as_deref(),
        Some(
            r#"{"z":0.10000000000000000000000001,"a":0.30000000000000000000000003,"m":{"y":12.50,"b":[1.0]}}"#
        )
    );
    let value = sluice::Value::parse_json(std::str::from_utf8(line).unwrap()).unwrap();
    assert_eq!(program.execute(&value, &ctx()).unwrap(), out);
    let err = sluice::Error::from(sluice::Value::parse_json(r#"{"a": 1e99}"#).unwrap_err());
    assert_eq!((err.kind, err.code), (sluice::ErrorKind::Input, "E503"));
}
