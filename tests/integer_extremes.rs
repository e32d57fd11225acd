//! Every integer argument a formula controls is checked: each function of the library is
//! called with each of its number arguments at `i64::MIN`, `i64::MAX` and beyond, under the
//! interpreter and the JIT, in the debug build the tests run (where an unchecked overflow
//! panics): the answer is a value or an error, never a panic. The largest decimal and huge
//! fractions too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sluice::compile::{compile, CompileOptions};
use sluice::interp::Interpreter;
use sluice::jit::JitTransform;
use sluice::runtime::Ctx;
use sluice::transform::{CompiledFormula, CompiledMapping, MappingKind, Transform};
use sluice::types::TypeSet;
use sluice::value::parse_record;

const EXTREMES: [&str; 8] = [
    "-9223372036854775808",
    "9223372036854775807",
    "-9223372036854775809",
    "100000000000000000000",
    "-100000000000000000000",
    // the largest decimal, and a huge fraction: found by the JIT property test, where
    // power(79228162514264337593543950335, 12345678901234567890123.5) panicked in dashu
    "79228162514264337593543950335",
    "12345678901234567890123.5",
    "-12345678901234567890123.5",
];

/// Text arguments to try until the call compiles (options are checked when literal).
const TEXTS: [&str; 10] = [
    "'2024-01-02'",
    "'day'",
    "'half_up'",
    "'UTC'",
    "'sha256'",
    "'Y'",
    "'0.00'",
    "'a'",
    "'x'",
    "','",
];

fn sample(ty: TypeSet, text: &str) -> String {
    if ty.contains(TypeSet::NUMBER) {
        "2".to_string()
    } else if ty.contains(TypeSet::STRING) {
        text.to_string()
    } else if ty.contains(TypeSet::ARRAY) {
        "[1, 2]".to_string()
    } else if ty.contains(TypeSet::BOOLEAN) {
        "true".to_string()
    } else if ty.contains(TypeSet::DATE) || ty.contains(TypeSet::DATETIME) {
        "date(2024, 1, 2)".to_string()
    } else {
        "2".to_string()
    }
}

fn transform_of(text: &str) -> Option<Arc<Transform>> {
    let compiled = compile(text, &CompileOptions::default()).ok()?;
    Some(Arc::new(Transform {
        conditions: Vec::new(),
        mappings: vec![CompiledMapping {
            target: Arc::from("m"),
            kind: MappingKind::Formula(CompiledFormula {
                source: text.to_string(),
                offset: None,
                ir: compiled.ir,
            }),
        }],
        input_fields: None,
        slot_fields: None,
        conformed: Vec::new(),
        slot_types: Vec::new(),
    }))
}

#[test]
fn every_number_argument_at_the_integer_extremes_is_a_value_or_an_error() {
    let record = parse_record("{}").unwrap();
    let mut called = 0;
    for function in sluice::stdlib::all() {
        for (i, param) in function.params.iter().enumerate() {
            if !param.ty.contains(TypeSet::NUMBER) {
                continue;
            }
            for extreme in EXTREMES {
                let Some((text, transform)) = TEXTS.iter().find_map(|t| {
                    let args: Vec<String> = function
                        .params
                        .iter()
                        .enumerate()
                        .map(|(j, p)| {
                            if j == i {
                                extreme.to_string()
                            } else {
                                sample(p.ty, t)
                            }
                        })
                        .collect();
                    let text = format!("{}({})", function.name, args.join(", "));
                    transform_of(&text).map(|tr| (text, tr))
                }) else {
                    continue;
                };
                let ctx = Ctx::new(&record);
                let _ = transform.apply(&mut Interpreter::new(), &ctx);
                let jit = JitTransform::compile(Arc::clone(&transform))
                    .unwrap_or_else(|e| panic!("{text}: the JIT refused it: {e:?}"));
                let _ = jit.apply(&mut Interpreter::new(), &ctx);
                called += 1;
            }
        }
    }
    assert!(called > 150, "only {called} calls compiled");
}
