//! Record bytes → the executor's readers (whole record, field picking, slots) and a fixed
//! set of formulas over it: no panic, slot reads agree with whole-record reads, and the
//! one-pass readers agree with the exact serde readers.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use sluice::interp::Interpreter;
use sluice::runtime::Ctx;
use sluice::value::{
    parse_into_slots, parse_into_slots_exact, parse_record, parse_record_fields,
    parse_record_fields_exact, FieldPath, Want,
};

const FORMULAS: &[&str] = &[
    "concat($a, ' ', $b)",
    "round($n * 1.19, 2)",
    "findvalue($l, ['t' => 'x'], 'v', 'none')",
    "if($a > $b, upper($a), lower($b))",
    "data('o.k') ?? data('l[0]')",
    "tojson($o)",
    "formatdate($d, '%Y')",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let whole = parse_record(text).ok();
    let names: Vec<Arc<str>> = ["a", "b", "n", "l", "o", "d"].iter().map(|s| Arc::from(*s)).collect();
    let picked = parse_record_fields(text, Some(&names));
    let exact = parse_record_fields_exact(data, Some(&names));
    assert_eq!(
        picked.as_ref().map_err(ToString::to_string),
        exact.as_ref().map_err(ToString::to_string)
    );
    let mut o_want = Want::Keys(Vec::new());
    o_want.add(&[Arc::from("k")]);
    let table: Vec<(Arc<str>, Want)> = vec![(Arc::from("a"), Want::All), (Arc::from("o"), o_want)];
    let mut slots = Vec::new();
    let slotted = parse_into_slots(text, &table, &mut slots);
    let mut exact_slots = vec![None; table.len()];
    let exact = parse_into_slots_exact(data, &table, &mut exact_slots);
    assert_eq!(slotted.as_ref().map_err(ToString::to_string), exact.as_ref().map_err(ToString::to_string));
    if slotted.is_ok() {
        assert_eq!(slots, exact_slots);
    }
    if let (Some(record), Ok(()) ) = (&whole, &slotted) {
        let mut a = FieldPath::new("a");
        let direct = a.read(record);
        a.slots = Some((Some(0), None));
        assert_eq!(a.read_from(record, Some(&slots)), direct);
        let mut ok = FieldPath::new("o.k");
        let direct = ok.read(record);
        if record.get_key("o.k").is_none() {
            ok.slots = Some((None, Some(1)));
            assert_eq!(ok.read_from(record, Some(&slots)), direct);
        }
    }
    let Ok(record) = picked else { return };
    for f in FORMULAS {
        let formula = sluice::compile(f, &Default::default()).expect("fixed formulas compile");
        let ctx = Ctx::new(&record);
        let _ = Interpreter::new().eval(&formula.ir, &ctx);
    }
});
