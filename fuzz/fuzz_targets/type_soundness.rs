//! The type-soundness oracle: whatever a formula evaluates to, its kind is within the
//! type the checker inferred for it. Runs each formula against several records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::interp::Interpreter;
use sluice::runtime::Ctx;
use sluice::value::parse_record;

const RECORDS: &[&str] = &[
    "{}",
    r#"{"a": 1.5, "s": "text", "n": null, "l": [1, 2], "o": {"k": "v"}, "b": true}"#,
    r#"{"a": "1.5", "s": 7, "n": [], "l": "x", "o": null, "b": "yes"}"#,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(formula) = sluice::compile(text, &Default::default()) else { return };
    let inferred = formula.ir.ty;
    for r in RECORDS {
        let record = parse_record(r).expect("fixture record");
        let mut ctx = Ctx::new(&record);
        ctx.now = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").expect("fixed now");
        if let Ok(v) = Interpreter::new().eval(&formula.ir, &ctx) {
            assert!(
                inferred.contains(v.kind()),
                "`{text}` inferred {inferred} but gave {} ({}) on {r}",
                v.type_name(),
                v.to_json()
            );
        }
    }
});
