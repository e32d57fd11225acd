//! The embedding API as a connector runtime uses it: the example program `embed` (built by
//! `cargo test` with the other examples) transforms a stream with a compiled connector on
//! every core, and gives what `sluice run` gives on the same records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

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
    let embed = example("embed");
    if !embed.exists() {
        // `cargo test` builds the examples; a run of this test alone may not have.
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", "embed"])
            .current_dir(root)
            .status()
            .unwrap();
        assert!(status.success());
    }
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

#[test]
fn a_program_is_send_and_sync_and_cheap_to_share() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<sluice::Program>();
    let program = sluice::Program::compile("data('n') * 2").unwrap();
    let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (program, ctx) = (program.clone(), ctx.clone());
            std::thread::spawn(move || {
                program
                    .execute(&serde_json::json!({ "n": i }), &ctx)
                    .unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let expected = serde_json::json!({ "result": i * 2 });
        assert_eq!(
            h.join().unwrap(),
            sluice::Output::Mapped(expected.as_object().unwrap().clone())
        );
    }
}

#[test]
fn errors_carry_code_span_and_target() {
    let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    let program = sluice::Program::from_mappings(
        &[],
        &[
            ("ok", sluice::Mapping::Raw(1.into())),
            ("ratio", sluice::Mapping::Formula("data('a') / data('b')")),
        ],
        &Default::default(),
    )
    .unwrap();
    let err = program
        .execute(&serde_json::json!({"a": 1, "b": 0}), &ctx)
        .unwrap_err();
    assert_eq!(err.code, "E302");
    assert_eq!(err.target.as_deref(), Some("ratio"));
    assert_eq!(err.span, Some(0..21));
    assert!(
        err.rendered.contains("division by zero"),
        "{}",
        err.rendered
    );
    let err = sluice::Program::compile("upper(").unwrap_err();
    assert_eq!(err.code, "E005");
}

#[test]
fn lookups_come_from_the_embedder() {
    struct Customers;
    impl sluice::ObjectLookups for Customers {
        fn latest_equal(
            &self,
            object: &str,
            field: &str,
            value: &serde_json::Value,
        ) -> Result<Option<serde_json::Value>, String> {
            Ok(
                (object == "fsmcustomer" && field == "erp_id" && value == "C1")
                    .then(|| serde_json::json!({"erp_id": "C1", "customer_id": 42})),
            )
        }
        fn oldest_containing(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<serde_json::Value>, String> {
            Ok(None)
        }
        fn all_matching(
            &self,
            _: &str,
            _: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<Vec<serde_json::Value>, String> {
            Ok(vec![])
        }
    }
    let mut ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    ctx.lookups = Some(std::sync::Arc::new(Customers));
    let program =
        sluice::Program::compile("vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')")
            .unwrap();
    let out = program
        .execute(&serde_json::json!({"CardCode": "C1"}), &ctx)
        .unwrap();
    let expected = serde_json::json!({"result": 42});
    assert_eq!(
        out,
        sluice::Output::Mapped(expected.as_object().unwrap().clone())
    );
}

/// Regression: a panic in an embedder's lookup under the JIT ended the host with "panic in a
/// function that cannot unwind" (exit 134); it now reaches the host as a panic, as it does
/// under the interpreter, whatever the call that reached the lookup (a whole mapping, a
/// number inside native arithmetic, a condition).
#[test]
fn a_panicking_lookup_under_the_jit_unwinds_to_the_host_instead_of_aborting() {
    struct Panics;
    impl sluice::ObjectLookups for Panics {
        fn latest_equal(
            &self,
            _: &str,
            _: &str,
            _: &serde_json::Value,
        ) -> Result<Option<serde_json::Value>, String> {
            panic!("the embedder's database driver panicked")
        }
        fn oldest_containing(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<serde_json::Value>, String> {
            Ok(None)
        }
        fn all_matching(
            &self,
            _: &str,
            _: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<Vec<serde_json::Value>, String> {
            Ok(vec![])
        }
    }
    let mut ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    ctx.lookups = Some(std::sync::Arc::new(Panics));
    let lookup = "vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')";
    // (condition, mapping): the lookup as a whole mapping, inside native arithmetic, and in
    // a condition
    let cases = [
        (None, lookup.to_string()),
        (None, format!("{lookup} + data('n') * 2")),
        (
            Some(format!("data('n') > 0 and {lookup} = 1")),
            "data('n')".to_string(),
        ),
    ];
    for engine in [sluice::Engine::Interp, sluice::Engine::Jit] {
        let options = sluice::Options {
            engine,
            ..Default::default()
        };
        for (i, (condition, mapping)) in cases.iter().enumerate() {
            let conditions: Vec<&str> = condition.iter().map(String::as_str).collect();
            let program = sluice::Program::from_mappings(
                &conditions,
                &[("result", sluice::Mapping::Formula(mapping.as_str()))],
                &options,
            )
            .unwrap();
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                program.execute(&serde_json::json!({"CardCode": "C1", "n": 2}), &ctx)
            }));
            let payload = caught.expect_err(&format!("case {i} under {engine:?} did not panic"));
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(message.contains("database driver panicked"), "{message}");
        }
    }
}
