//! Formula text → parse, check, print/re-parse, evaluate: no panic, no hang, and the
//! canonical text of a formula that parses parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::interp::Interpreter;
use sluice::limits::Limits;
use sluice::runtime::Ctx;
use sluice::value::parse_record;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    if let Ok(ast) = sluice::syntax::parse(text, &limits) {
        let printed = sluice::syntax::print(&ast);
        let reparsed = sluice::syntax::parse(&printed, &limits).expect("canonical text parses");
        assert_eq!(reparsed.without_spans(), ast.without_spans(), "round trip of {printed}");
    }
    let Ok(formula) = sluice::compile(text, &Default::default()) else { return };
    let record = parse_record(r#"{"a": 1.5, "s": "Köln", "n": null, "l": [1, {"q": 2}], "o": {"k": "v"}, "d": "2024-03-31T02:30:00"}"#)
        .expect("fixture record");
    let mut ctx = Ctx::new(&record);
    ctx.now = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").expect("fixed now");
    let _ = Interpreter::new().eval(&formula.ir, &ctx);
});
