//! The JIT against the interpreter: every formula that compiles (so is well typed) gives
//! the same value, or the same error, under both engines, on several records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::transform::{Outcome, Transform};
use sluice::interp::Interpreter;
use sluice::jit::JitTransform;
use sluice::runtime::Ctx;
use sluice::value::parse_record;

const RECORDS: &[&str] = &[
    "{}",
    r#"{"a": 1.5, "b": 4, "c": -0.25, "s": "text", "n": null, "l": [1, 2], "o": {"k": "v"}, "f": true}"#,
    r#"{"a": "1.5", "b": 79228162514264337593543950335, "c": 0.0000000000000000000000000001, "s": 7, "n": [], "f": "yes"}"#,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(formula) = sluice::compile(text, &Default::default()) else { return };
    let transform = std::sync::Arc::new(Transform::single(text, formula.ir));
    let jit = JitTransform::compile(std::sync::Arc::clone(&transform)).expect("every compiled formula JIT-compiles");
    for r in RECORDS {
        let record = parse_record(r).expect("fixture record");
        let mut ctx = Ctx::new(&record);
        ctx.now = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").expect("fixed now");
        let a = transform.apply(&mut Interpreter::new(), &ctx);
        let b = jit.apply(&mut Interpreter::new(), &ctx);
        let same = match (&a, &b) {
            (Outcome::Mapped(x), Outcome::Mapped(y)) => x.iter().map(|v| v.to_json()).eq(y.iter().map(|v| v.to_json())),
            (Outcome::Failed { error: e1, .. }, Outcome::Failed { error: e2, .. }) => {
                e1.code == e2.code && e1.message == e2.message && e1.span == e2.span
            }
            _ => false,
        };
        if !same && !text.to_ascii_lowercase().contains("uuid") && !text.to_ascii_lowercase().contains("now") {
            panic!("`{text}` on {r}: interpreter {a:?}, JIT {b:?}");
        }
    }
});
