//! The one-pass record reader against the exact serde reader (issue 25): on any line — valid
//! records of every shape, and the same lines with bytes inserted, replaced and removed —
//! both give the same slots, the same record, or the same error. `SLUICE_SCAN_CASES` sets
//! how many lines (20 000 by default; run millions before changing the reader).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sluice::value::{
    parse_into_slots, parse_into_slots_exact, parse_record_fields, parse_record_fields_exact,
    SlotTable, Value, Want,
};

/// Keys the lines use: some wanted, some not, one only reachable through an escape.
const KEYS: [&str; 7] = ["id", "a", "b", "name", "x", "skip", "\\u0061"];

/// Strings' pieces: plain text, every escape kind, a lone surrogate, bad escapes come from
/// the mutations.
const STRING_PIECES: [&str; 12] = [
    "abc",
    " ",
    "é",
    "日本",
    "\\\"",
    "\\\\",
    "\\n",
    "\\/",
    "\\u00e9",
    "\\ud800",
    "\\ud83d\\ude00",
    "\\u0041",
];

/// Numbers in every JSON form, in and out of the decimal range.
const NUMBERS: [&str; 12] = [
    "0",
    "-0",
    "1.50",
    "1e5",
    "-1E-3",
    "12345678901234567890123456789",
    "123456789012345678901234567890123",
    "1e999",
    "0.000000000000000000000000000001",
    "-12.5e+2",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
];

/// Bytes the mutations insert or put in place of others.
const MUTATIONS: [char; 26] = [
    '{', '}', '[', ']', '"', ':', ',', '\\', 'u', '0', '1', '9', '.', 'e', '-', '+', 't', 'n', 'l',
    ' ', '\t', '\n', '\u{1}', 'x', 'F', 'é',
];

fn space() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", " ", "  ", "\t", "\r\n"])
}

fn json_string() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(STRING_PIECES.to_vec()), 0..4)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(NUMBERS.to_vec()).prop_map(str::to_string),
        json_string(),
        prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec((space(), inner.clone()), 0..4)).prop_map(|items| {
                let items: Vec<String> =
                    items.into_iter().map(|(s, v)| format!("{s}{v}")).collect();
                format!("[{}]", items.join(","))
            }),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), space(), inner), 0..4)
                .prop_map(|fields| object(&fields)),
        ]
    })
}

fn object(fields: &[(&str, &str, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, s, v)| format!("{s}\"{k}\"{s}:{s}{v}"))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A record line, then up to three edits of it.
fn line() -> impl Strategy<Value = String> {
    let record = (
        space(),
        prop::collection::vec(
            (prop::sample::select(KEYS.to_vec()), space(), json_value()),
            0..7,
        ),
        space(),
    )
        .prop_map(|(before, fields, after)| format!("{before}{}{after}", object(&fields)));
    let edit = (
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(MUTATIONS.to_vec()),
    );
    (record, prop::collection::vec(edit, 0..4)).prop_map(|(record, edits)| {
        let mut chars: Vec<char> = record.chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => chars[i] = c,
                _ if i < chars.len() => {
                    chars.remove(i);
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

/// Wanted: four whole fields, `b.x`, and `name.a.id` (a nested object's wanted key that is
/// itself an object of which one key is wanted).
fn slot_fields() -> SlotTable {
    let mut b = Want::Keys(Vec::new());
    b.add(&[Arc::from("x")]);
    let mut name = Want::Keys(Vec::new());
    name.add(&[Arc::from("a"), Arc::from("id")]);
    SlotTable::new(
        ["id", "a", "missing"]
            .into_iter()
            .map(|k| (Arc::from(k), Want::All))
            .chain([(Arc::from("b"), b), (Arc::from("name"), name)])
            .collect(),
    )
}

fn shown(slots: Result<(), serde_json::Error>, values: &[Option<Value>]) -> String {
    match slots {
        Ok(()) => values
            .iter()
            .map(|v| v.as_ref().map_or("-".to_string(), Value::to_json))
            .collect::<Vec<_>>()
            .join(" | "),
        Err(e) => format!("error: {e}"),
    }
}

fn record_shown(record: Result<Value, serde_json::Error>) -> String {
    match record {
        Ok(v) => v.to_json(),
        Err(e) => format!("error: {e}"),
    }
}

fn cases() -> u32 {
    std::env::var("SLUICE_SCAN_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn the_one_pass_reader_agrees_with_the_exact_reader_on_any_line() {
    let table = slot_fields();
    let fields = table.fields();
    let names: Vec<Arc<str>> = fields.iter().map(|(k, _)| k.clone()).collect();
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let valid = std::cell::Cell::new(0u32);
    // one slot vector for all lines, as a worker keeps it: what a line leaves in it (and
    // the objects it lends to the next line) must never show in the next line's slots
    let fast = std::cell::RefCell::new(Vec::new());
    runner
        .run(&line(), |line| {
            let mut fast = fast.borrow_mut();
            let got = parse_into_slots(&line, &table, &mut fast);
            valid.set(valid.get() + u32::from(got.is_ok()));
            let mut exact = vec![None; fields.len()];
            let want = parse_into_slots_exact(line.as_bytes(), fields, &mut exact);
            prop_assert_eq!(shown(got, &fast), shown(want, &exact), "slots of {}", line);
            for picked in [Some(names.as_slice()), None] {
                prop_assert_eq!(
                    record_shown(parse_record_fields(&line, picked)),
                    record_shown(parse_record_fields_exact(line.as_bytes(), picked)),
                    "record of {}",
                    line
                );
            }
            Ok(())
        })
        .unwrap();
    // the lines are not all broken: the valid path is what is being compared
    let valid = valid.get();
    assert!(
        valid > cases() / 5,
        "only {valid} of {} lines were valid",
        cases()
    );
}

#[test]
fn lines_the_one_pass_reader_leaves_keep_their_exact_errors() {
    let table = slot_fields();
    for (line, message) in [
        (r#"{"id": 1} x"#, "trailing characters at line 1 column 11"),
        (r#"{"id": "\uZZZZ"}"#, "invalid escape at line 1 column 14"),
        (
            r#"{"skip": "\ud800", "id": "\ud800"}"#,
            "unexpected end of hex escape",
        ),
        (r#"{"id": 1e999}"#, "outside the decimal range"),
        (r#"{"skip": 01}"#, "invalid number at line 1 column 11"),
    ] {
        let mut slots = Vec::new();
        let error = parse_into_slots(line, &table, &mut slots)
            .unwrap_err()
            .to_string();
        assert!(error.contains(message), "{line}: {error}");
    }
}

#[test]
fn values_nested_to_the_limit_read_as_the_exact_reader_reads_them() {
    let table = slot_fields();
    let fields = table.fields();
    for levels in [125, 126, 127, 128, 129] {
        let deep = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let deep_object = format!("{}1{}", r#"{"x":"#.repeat(levels), "}".repeat(levels));
        for line in [
            format!(r#"{{"skip": {deep}}}"#),
            format!(r#"{{"id": {deep}}}"#),
            format!(r#"{{"b": {{"x": {deep}}}}}"#),
            format!(r#"{{"b": {{"skip": {deep}}}}}"#),
            format!(r#"{{"b": {deep_object}}}"#),
        ] {
            let mut fast = Vec::new();
            let got = parse_into_slots(&line, &table, &mut fast);
            let mut exact = vec![None; fields.len()];
            let want = parse_into_slots_exact(line.as_bytes(), fields, &mut exact);
            assert_eq!(
                shown(got, &fast),
                shown(want, &exact),
                "{levels} levels: {line}"
            );
        }
    }
}

/// JSON number text: sign, integer part, fraction and exponent, each optional where JSON
/// allows, with digit runs from 1 to 30 long (short ones take the reader's short path).
fn json_number() -> impl Strategy<Value = String> {
    let digits = |max: usize| proptest::string::string_regex(&format!("[0-9]{{1,{max}}}")).unwrap();
    (
        any::<bool>(),
        prop_oneof![Just("0".to_string()), "[1-9][0-9]{0,29}"],
        proptest::option::of(digits(30)),
        proptest::option::of(("[eE][+-]?", digits(3))),
    )
        .prop_map(|(neg, int, fraction, exponent)| {
            let mut text = String::from(if neg { "-" } else { "" });
            text.push_str(&int);
            if let Some(f) = fraction {
                text.push('.');
                text.push_str(&f);
            }
            if let Some((e, d)) = exponent {
                text.push_str(&e);
                text.push_str(&d);
            }
            text
        })
}

#[test]
fn record_numbers_have_rust_decimals_exact_value_and_scale() {
    let table = SlotTable::new(vec![(Arc::from("n"), Want::All)]);
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    runner
        .run(&json_number(), |text| {
            let (neg, digits) = match text.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, text.as_str()),
            };
            let exact = if digits.contains(['e', 'E']) {
                rust_decimal::Decimal::from_scientific(digits).ok()
            } else {
                rust_decimal::Decimal::from_str_exact(digits).ok()
            }
            .map(|d| if neg { -d } else { d });
            let line = format!(r#"{{"n": {text}}}"#);
            let mut slots = Vec::new();
            let in_slot = parse_into_slots(&line, &table, &mut slots).ok();
            let in_slot = in_slot.and_then(|()| slots.first().cloned().flatten());
            let whole = sluice::value::parse_record(&line).ok();
            let whole = whole.as_ref().and_then(|r| r.get_key("n")).cloned();
            for read in [in_slot, whole] {
                match (read, exact) {
                    (Some(Value::Number(got)), Some(want)) => {
                        prop_assert_eq!(got.to_string(), want.to_string(), "{}", text);
                        prop_assert_eq!(got.is_sign_negative(), want.is_sign_negative());
                    }
                    (None, None) => {}
                    (got, want) => prop_assert!(false, "{text}: read {got:?}, want {want:?}"),
                }
            }
            Ok(())
        })
        .unwrap();
}
