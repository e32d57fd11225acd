//! The JIT against the interpreter on random well-typed formulas and random records: same
//! values (to the digit and scale) and same errors (code, message, span).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use proptest::prelude::*;
use sluice::compile::{compile, CompileOptions};
use sluice::interp::Interpreter;
use sluice::jit::JitTransform;
use sluice::runtime::Ctx;
use sluice::transform::{CompiledFormula, CompiledMapping, MappingKind, Outcome, Transform};
use sluice::types::{Schema, TypeSet};
use sluice::value::parse_record;

fn num_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("$a".to_string()),
        Just("$b".to_string()),
        Just("$c".to_string()),
        Just("$n".to_string()),
        Just("$s".to_string()),
        Just("$big".to_string()),
        (0i64..1000, 0u32..4).prop_map(|(m, s)| rust_decimal::Decimal::new(m, s).to_string()),
        Just("null".to_string()),
        Just("0".to_string()),
        Just("9223372036854775807".to_string()),
        prop_oneof![
            Just("1"),
            Just("10"),
            Just("100"),
            Just("1000"),
            Just("1e18"),
            Just("0.05")
        ]
        .prop_map(str::to_string),
        prop_oneof![
            Just("number($a)"),
            Just("number($s)"),
            Just("number($n)"),
            Just("number($flag)")
        ]
        .prop_map(str::to_string),
        (-99_999i64..99_999, 0u32..6)
            .prop_map(|(m, s)| rust_decimal::Decimal::new(m, s).to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop_oneof![Just("+"), Just("-"), Just("*"), Just("/")],
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (
                inner.clone(),
                prop_oneof![
                    (-3i64..6).prop_map(|d| d.to_string()),
                    Just("19".to_string()),
                    Just("1.5".to_string()),
                    Just("-0.5".to_string()),
                    Just("$a".to_string()),
                ],
                prop_oneof![
                    Just("half_up"),
                    Just("half_even"),
                    Just("floor"),
                    Just("ceiling"),
                    Just("down"),
                    Just("up")
                ]
            )
                .prop_map(|(a, d, m)| format!("round({a}, {d}, '{m}')")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} ?? {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("iferror({a}, {b})")),
            (bool_expr_leaf(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("if({c}, {a}, {b})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("mod({a}, {b})")),
            (
                inner.clone(),
                prop_oneof![
                    Just("floor"),
                    Just("ceiling"),
                    Just("roundup"),
                    Just("rounddown")
                ],
                prop_oneof![Just(""), Just(", 1"), Just(", -1"), Just(", 0.5")],
            )
                .prop_map(|(a, f, d)| format!("{f}({a}{d})")),
            (
                inner.clone(),
                inner.clone(),
                prop_oneof![
                    Just("min"),
                    Just("max"),
                    Just("mround"),
                    Just("quotient"),
                    Just("power"),
                    Just("log")
                ]
            )
                .prop_map(|(a, b, f)| format!("{f}({a}, {b})")),
            (
                inner.clone(),
                prop_oneof![Just("sqrt"), Just("exp"), Just("ln"), Just("log")]
            )
                .prop_map(|(a, f)| format!("{f}({a})")),
        ]
    })
}

fn bool_expr_leaf() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("$a"), Just("$b"), Just("$n"), Just("$s"), Just("1.5")],
        prop_oneof![
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">="),
            Just("="),
            Just("!=")
        ],
        prop_oneof![Just("$c"), Just("2"), Just("null"), Just("$big")],
    )
        .prop_map(|(a, op, b)| format!("{a} {op} {b}"))
}

fn bool_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        bool_expr_leaf(),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("$flag".to_string())
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop_oneof![Just("and"), Just("or")],
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (-100_000i64..100_000, 0u32..5)
            .prop_map(|(m, s)| rust_decimal::Decimal::new(m, s).to_string()),
        Just("0".to_string()),
        Just("-0.0".to_string()),
        Just("79228162514264337593543950335".to_string()),
        Just("0.0000000000000000000000000001".to_string()),
        // the edges of a number read in place from its slot: the largest mantissa that
        // fits an i64, one past it, one with the high word set, a negative zero of places
        Just("922337203685477.5807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-0.000".to_string()),
        Just("\"7\"".to_string()),
        Just("null".to_string()),
    ]
}

fn record() -> impl Strategy<Value = String> {
    (decimal_text(), decimal_text(), decimal_text(), prop_oneof![Just("true"), Just("false"), Just("null"), Just("\"yes\"")])
        .prop_map(|(a, b, c, flag)| {
            format!(r#"{{"a": {a}, "b": {b}, "c": {c}, "n": null, "s": "text", "big": 12345678901234567890123.5, "flag": {flag}}}"#)
        })
}

fn formula(text: &str, options: &CompileOptions) -> CompiledFormula {
    let f = compile(text, options)
        .unwrap_or_else(|e| panic!("generated formula does not compile: {text}: {e:?}"));
    CompiledFormula {
        source: text.to_string(),
        offset: None,
        ir: f.ir,
    }
}

/// A transform of one formula mapping, `m`.
fn single_mapping(text: &str, options: &CompileOptions) -> Arc<Transform> {
    Arc::new(Transform {
        conditions: Vec::new(),
        mappings: vec![CompiledMapping {
            target: Arc::from("m"),
            kind: MappingKind::Formula(formula(text, options)),
        }],
        input_fields: None,
        slot_fields: None,
        conformed: Vec::new(),
        slot_types: Vec::new(),
    })
}

/// Compile options with a schema of these fields and types.
fn schema_options(fields: &[(&str, TypeSet)]) -> CompileOptions {
    CompileOptions {
        schema: Some(Schema::new(fields.iter().map(|(f, t)| (f.to_string(), *t)))),
        ..CompileOptions::default()
    }
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Mapped(x), Outcome::Mapped(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_json() == q.to_json() && p.type_name() == q.type_name())
        }
        (Outcome::Filtered(x), Outcome::Filtered(y)) => x == y,
        (
            Outcome::Failed {
                target: t1,
                condition: c1,
                error: e1,
            },
            Outcome::Failed {
                target: t2,
                condition: c2,
                error: e2,
            },
        ) => {
            t1 == t2
                && c1 == c2
                && e1.code == e2.code
                && e1.message == e2.message
                && e1.span == e2.span
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn jit_equals_interpreter(
        condition in bool_expr(),
        numbers in prop::collection::vec(num_expr(), 1..4),
        flag in bool_expr(),
        records in prop::collection::vec(record(), 1..4),
        typed in any::<bool>(),
    ) {
        let schema = typed.then(|| {
            Schema::new(
                [("a", TypeSet::NUMBER), ("b", TypeSet::NUMBER), ("c", TypeSet::NUMBER), ("big", TypeSet::NUMBER), ("n", TypeSet::ANY), ("s", TypeSet::ANY), ("flag", TypeSet::ANY)]
                    .iter()
                    .map(|(f, t)| (f.to_string(), *t)),
            )
        });
        let options = CompileOptions { schema, ..CompileOptions::default() };
        let mut mappings: Vec<CompiledMapping> = numbers
            .iter()
            .enumerate()
            .map(|(i, text)| CompiledMapping { target: Arc::from(format!("m{i}").as_str()), kind: MappingKind::Formula(formula(text, &options)) })
            .collect();
        mappings.push(CompiledMapping { target: Arc::from("flag"), kind: MappingKind::Formula(formula(&flag, &options)) });
        let transform = Arc::new(Transform {
            conditions: vec![formula(&condition, &options)],
            mappings,
            input_fields: None,
            slot_fields: None,
            conformed: Vec::new(),
            slot_types: Vec::new(),
        });
        let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
        for r in &records {
            let record = parse_record(r).unwrap();
            let ctx = Ctx::new(&record);
            let by_interp = transform.apply(&mut Interpreter::new(), &ctx);
            let by_jit = jit.apply(&mut Interpreter::new(), &ctx);
            prop_assert!(same(&by_interp, &by_jit), "record {}\ncondition {}\nmappings {:?} / {}\ninterp {:?}\njit {:?}", r, condition, numbers, flag, by_interp, by_jit);
        }
    }
}

/// Found by `jit_equals_interpreter`: the two engines worded the error of a non-boolean
/// condition differently.
#[test]
fn condition_not_boolean_message_is_the_same_in_both_engines() {
    let options = CompileOptions::default();
    let transform = Arc::new(Transform {
        conditions: vec![formula("$flag", &options)],
        mappings: vec![],
        input_fields: None,
        slot_fields: None,
        conformed: Vec::new(),
        slot_types: Vec::new(),
    });
    let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
    let record = parse_record(r#"{"flag": "yes"}"#).unwrap();
    let ctx = Ctx::new(&record);
    let by_interp = transform.apply(&mut Interpreter::new(), &ctx);
    let by_jit = jit.apply(&mut Interpreter::new(), &ctx);
    assert!(same(&by_interp, &by_jit), "{by_interp:?} / {by_jit:?}");
    assert!(matches!(
        by_jit,
        Outcome::Failed {
            condition: Some(0),
            ..
        }
    ));
}

/// Found by a user: compiled nodes counted no steps, so under `--limit steps=5` the JIT
/// returned 6 where the interpreter stops with E311. Every step limit, both engines agree.
#[test]
fn step_limit_is_enforced_exactly_under_the_jit() {
    let formula = "if(data('a') > 0, data('a') + data('a') + data('a'), 0) + data('a') + data('a')";
    let record = sluice::Value::parse_json(r#"{"a": 1}"#).unwrap();
    for steps in 1..=16 {
        let mut outcomes = Vec::new();
        for engine in [sluice::Engine::Interp, sluice::Engine::Jit] {
            let mut options = api_options(engine, &[]);
            options.limits.max_steps = steps;
            let program = sluice::Program::compile_with(formula, &options).unwrap();
            let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
            outcomes.push(
                program
                    .execute(&record, &ctx)
                    .map_err(|e| (e.code, e.span.clone())),
            );
        }
        assert_eq!(outcomes[0], outcomes[1], "steps={steps}");
    }
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .args([
            "eval",
            "--engine",
            "jit",
            "--limit",
            "steps=5",
            "--record",
            r#"{"a": 1}"#,
            "$a+$a+$a+$a+$a+$a",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E311"));
}

/// Text, boolean and date formulas (the JIT falls back on most of them, node by node).
fn other_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("upper($s) & '-' & $a".to_string()),
        Just("if($flag = true, $s, 'no')".to_string()),
        Just("$s < 'u'".to_string()),
        Just("$s = 'text' and $a > 0".to_string()),
        Just("dateadd($d, 1, 'day')".to_string()),
        Just("$d > date(2024, 1, 1)".to_string()),
        Just("coalesce($n, $s)".to_string()),
        Just("iferror(number($s), -1)".to_string()),
        Just("isblank($n) or isnull($s)".to_string()),
        Just("text(round($a, 2))".to_string()),
        Just("text($a * 2 - $b)".to_string()),
        Just("text(number($s) + 1)".to_string()),
        Just("switch($s, 'text', 1, 2)".to_string()),
    ]
}

/// Values of any type chosen and compared as they are (the JIT passes them on without
/// converting): fields and constants of every kind, coalesce, ??, if, ifs, switch; text,
/// date, boolean and mixed comparisons, isblank, isnull.
fn value_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("$s".to_string()),
        Just("$a".to_string()),
        Just("$d".to_string()),
        Just("$n".to_string()),
        Just("$flag".to_string()),
        Just("$missing".to_string()),
        Just("'text'".to_string()),
        Just("'u'".to_string()),
        Just("''".to_string()),
        Just("' '".to_string()),
        Just("1".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("date(2024, 5, 1)".to_string()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        let test = (
            inner.clone(),
            prop_oneof![
                Just("="),
                Just("!="),
                Just("<"),
                Just("<="),
                Just(">"),
                Just(">=")
            ],
            inner.clone(),
        )
            .prop_map(|(a, op, b)| format!("({a} {op} {b})"));
        let test = prop_oneof![
            test,
            inner.clone().prop_map(|a| format!("isblank({a})")),
            inner.clone().prop_map(|a| format!("isnull({a})")),
            Just("$flag".to_string()),
        ];
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} ?? {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("iferror({a}, {b})")),
            (test.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("if({c}, {a}, {b})")),
            (test.clone(), inner.clone()).prop_map(|(c, a)| format!("if({c}, {a})")),
            (
                test.clone(),
                inner.clone(),
                test.clone(),
                inner.clone(),
                prop::option::of(inner.clone())
            )
                .prop_map(|(c1, a, c2, b, d)| match d {
                    Some(d) => format!("ifs({c1}, {a}, {c2}, {b}, {d})"),
                    None => format!("ifs({c1}, {a}, {c2}, {b})"),
                }),
            (
                inner.clone(),
                inner.clone(),
                inner.clone(),
                prop::option::of(inner.clone())
            )
                .prop_map(|(x, k, v, d)| match d {
                    Some(d) => format!("switch({x}, {k}, {v}, {d})"),
                    None => format!("switch({x}, {k}, {v})"),
                }),
            test,
        ]
    })
}

/// One mapping of a generated connector: a field copy, a static value, or a formula.
fn mapping() -> impl Strategy<Value = sluice::Mapping<'static>> {
    prop_oneof![
        prop_oneof![Just("a"), Just("s"), Just("d"), Just("missing")]
            .prop_map(sluice::Mapping::Field),
        Just(sluice::Mapping::Raw(
            sluice::Value::parse_json(r#"{"k": [1, 2.50]}"#).unwrap()
        )),
        num_expr().prop_map(|f| sluice::Mapping::Formula(Box::leak(f.into_boxed_str()))),
        other_expr().prop_map(|f| sluice::Mapping::Formula(Box::leak(f.into_boxed_str()))),
        value_expr().prop_map(|f| sluice::Mapping::Formula(Box::leak(f.into_boxed_str()))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The whole path an embedder or a run takes: a connector compiled with slots (field,
    /// raw and formula mappings), records given as raw NDJSON (only the read fields parsed,
    /// declared types enforced), step limits default or small, text/date/boolean values.
    #[test]
    fn jit_equals_interpreter_on_slot_bound_connectors(
        condition in prop_oneof![bool_expr(), value_expr().prop_map(|v| format!("isnull({v}) or {v} = 'text' or {v} > 0"))],
        mappings in prop::collection::vec(mapping(), 1..5),
        records in prop::collection::vec(record(), 1..4),
        typed in any::<bool>(),
        steps in prop_oneof![Just(1_000_000u64), 1u64..40],
    ) {
        use sluice::FieldType::{Boolean, Date, Number};
        let schema: Vec<(String, sluice::FieldType)> = if typed {
            [("a", Number), ("b", Number), ("c", Number), ("big", Number), ("d", Date), ("s", sluice::FieldType::String), ("flag", Boolean)]
                .iter()
                .map(|(f, t)| (f.to_string(), *t))
                .collect()
        } else {
            Vec::new()
        };
        let named: Vec<(String, sluice::Mapping)> = mappings
            .into_iter()
            .enumerate()
            .map(|(i, m)| (format!("m{i}"), m))
            .collect();
        let named: Vec<(&str, sluice::Mapping)> = named.iter().map(|(t, m)| (t.as_str(), m.clone())).collect();
        let program = |engine| {
            sluice::Program::from_mappings(
                &[condition.as_str()],
                &named,
                &{
                    let mut options = api_options(engine, &[]);
                    options.schema = schema.clone();
                    options.limits.max_steps = steps;
                    options
                },
            )
        };
        let (interp, jit) = match (program(sluice::Engine::Interp), program(sluice::Engine::Jit)) {
            (Ok(i), Ok(j)) => (i, j),
            (Err(a), Err(b)) => {
                prop_assert_eq!(a.code, b.code);
                return Ok(());
            }
            (a, b) => panic!("one engine compiled and the other did not: {a:?} / {b:?}"),
        };
        let ctx = sluice::Context::at("2024-05-01T12:00:00Z").unwrap();
        for r in &records {
            let r = r.replace("\"n\": null", "\"n\": null, \"d\": \"2024-05-01\"");
            let a = interp.execute_ndjson(r.as_bytes(), &ctx);
            let b = jit.execute_ndjson(r.as_bytes(), &ctx);
            let key = |o: &Result<sluice::Output, sluice::Error>| match o {
                Ok(out) => Ok(format!("{out:?}")),
                Err(e) => Err((e.code, e.message.clone(), e.span.clone(), e.target.clone())),
            };
            prop_assert_eq!(key(&a), key(&b), "record {}\ncondition {}\nmappings {:?}", r, condition, named);
        }
    }
}

/// `round(a / b, d)` runs as one native step (the exact quotient rarely fits the unboxed
/// form): same values and errors as the interpreter, null and division by zero included.
#[test]
fn rounded_division_is_native_and_exact() {
    let options = |engine| api_options(engine, &["a", "b"]);
    let formulas = [
        "round(data('a') / data('b'), 2)",
        "round(data('a') / data('b'), 4, 'half_even')",
        "round((data('a') - 1) / data('b'), 0, 'floor') * 2",
        "round(data('a') / data('b'), -1)",
    ];
    let records = [
        r#"{"a": 10, "b": 3}"#,
        r#"{"a": 2, "b": 3}"#,
        r#"{"a": -7.5, "b": 4}"#,
        r#"{"a": 1, "b": 0}"#,
        r#"{"a": null, "b": 0}"#,
        r#"{"a": 79228162514264337593543950335, "b": 0.5}"#,
    ]
    .map(|r| sluice::Value::parse_json(r).unwrap());
    let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    for formula in formulas {
        let interp =
            sluice::Program::compile_with(formula, &options(sluice::Engine::Interp)).unwrap();
        let jit = sluice::Program::compile_with(formula, &options(sluice::Engine::Jit)).unwrap();
        for record in &records {
            let a = interp
                .execute(record, &ctx)
                .map_err(|e| (e.code, e.span.clone()));
            let b = jit
                .execute(record, &ctx)
                .map_err(|e| (e.code, e.span.clone()));
            assert_eq!(a, b, "{formula} on {}", record.to_json());
        }
    }
}

/// A native step that fails (an overflow, a wrong kind of value, mod by zero) or whose
/// result does not fit the unboxed form (an intermediate of 27 digits) is
/// evaluated by the interpreter for that node only: the answer or the error is the
/// interpreter's, and no formula is evaluated whole.
#[test]
fn a_failing_native_step_is_redone_for_that_node_not_the_formula() {
    let options = schema_options(&[
        ("a", TypeSet::NUMBER),
        ("b", TypeSet::NUMBER),
        ("s", TypeSet::ANY),
    ]);
    let cases = [
        ("($a * $a * $a) + 1", r#"{"a": 10000000000, "b": 0}"#),
        (
            "round($a * $a * $a / 1000000000 / 1000000000, 2) + 1",
            r#"{"a": 1000000000, "b": 1}"#,
        ),
        ("$a + $s * 2", r#"{"a": 1, "b": 1, "s": "x"}"#),
        ("mod($a, $b) - 1", r#"{"a": 5, "b": 0}"#),
    ];
    for (text, record) in cases {
        let transform = single_mapping(text, &options);
        let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
        assert_eq!(jit.native_formulas, 1, "{text} compiles natively");
        let record = parse_record(record).unwrap();
        let ctx = Ctx::new(&record);
        let a = transform.apply(&mut Interpreter::new(), &ctx);
        let b = jit.apply(&mut Interpreter::new(), &ctx);
        assert!(same(&a, &b), "{text}: {a:?} / {b:?}");
        assert_eq!(jit.whole_formula_runs(), 0, "{text} was evaluated whole");
    }
    // a result that does not fit the unboxed form even at the root is evaluated whole,
    // and counted
    let transform = single_mapping("($a / 4) + 1", &options);
    let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
    let record = parse_record(r#"{"a": 79228162514264337593543950335}"#).unwrap();
    let ctx = Ctx::new(&record);
    let (a, b) = (
        transform.apply(&mut Interpreter::new(), &ctx),
        jit.apply(&mut Interpreter::new(), &ctx),
    );
    assert!(same(&a, &b), "{a:?} / {b:?}");
    assert_eq!(jit.whole_formula_runs(), 1);
}

/// A native condition or mapping that the interpreter evaluates whole after all is counted
/// once a record, by the helper that evaluates it; a formula the interpreter always
/// evaluates (or whose calls compiled code makes directly) is not counted.
#[test]
fn only_native_formulas_that_fall_back_whole_are_counted() {
    let options = schema_options(&[("a", TypeSet::NUMBER), ("s", TypeSet::ANY)]);
    let mapping = |target: &str, text: &str| CompiledMapping {
        target: Arc::from(target),
        kind: MappingKind::Formula(formula(text, &options)),
    };
    let transform = Arc::new(Transform {
        conditions: vec![
            formula("$a > 1", &options),
            formula("contains(lower($s), 'x')", &options),
        ],
        mappings: vec![mapping("q", "($a / 4) + 1"), mapping("l", "lower($s)")],
        input_fields: None,
        slot_fields: None,
        conformed: Vec::new(),
        slot_types: Vec::new(),
    });
    let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
    assert_eq!((jit.native_formulas, jit.interpreted_formulas), (2, 2));
    // a mantissa no unboxed number holds: the condition and the quotient fall back whole
    let record = parse_record(r#"{"a": 79228162514264337593543950335, "s": "X"}"#).unwrap();
    let ctx = Ctx::new(&record);
    for runs in 1..=2 {
        let by_interp = transform.apply(&mut Interpreter::new(), &ctx);
        let by_jit = jit.apply(&mut Interpreter::new(), &ctx);
        assert!(same(&by_interp, &by_jit), "{by_interp:?} / {by_jit:?}");
        assert!(matches!(by_jit, Outcome::Mapped(_)), "{by_jit:?}");
        assert_eq!(jit.whole_formula_runs(), 2 * runs);
    }
    // numbers that fit: nothing falls back
    let record = parse_record(r#"{"a": 8, "s": "X"}"#).unwrap();
    jit.apply(&mut Interpreter::new(), &Ctx::new(&record));
    assert_eq!(jit.whole_formula_runs(), 4);
}

/// A division by a constant whose quotients terminate (2^x·5^y, any places, either sign) is
/// computed natively; every dividend of a grid (signs, scales, zero, 19 digits) gives the
/// interpreter's value, digit for digit and scale for scale, and so do the divisors whose
/// quotients do not terminate (a root divided in integer arithmetic) and zero (evaluated
/// whole for the interpreter's error).
#[test]
fn exact_division_matches_the_interpreter_digit_for_digit() {
    let options = CompileOptions {
        schema: Some(Schema::new([("a".to_string(), TypeSet::NUMBER)])),
        ..CompileOptions::default()
    };
    let dividends = [
        "0",
        "1",
        "-1",
        "7",
        "10",
        "12.50",
        "1.005",
        "-3.75",
        "1200",
        "99999.99",
        "0.001",
        "123456789012",
        "9223372036854775807",
        "-40",
        "2.000",
        "0.0000000001",
    ];
    let terminating = [
        "1", "2", "4", "8", "5", "25", "125", "10", "20", "40", "50", "64", "0.5", "0.25", "0.2",
        "0.04", "-8", "-0.125", "1024", "3125", "0.00001", "2.50", "1000", "0.1",
    ];
    let not_terminating = ["3", "6", "7", "12", "1.5", "0"];
    for (divisors, native) in [(&terminating[..], 1), (&not_terminating[..], 1)] {
        for b in divisors {
            let text = format!("$a / {b}");
            let transform = single_mapping(&text, &options);
            let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
            assert_eq!(jit.native_formulas, native, "{text}");
            for a in dividends {
                let record = parse_record(&format!(r#"{{"a": {a}}}"#)).unwrap();
                let ctx = Ctx::new(&record);
                let x = transform.apply(&mut Interpreter::new(), &ctx);
                let y = jit.apply(&mut Interpreter::new(), &ctx);
                assert!(same(&x, &y), "{a} / {b}: {x:?} / {y:?}");
            }
        }
    }
}

/// Regression: `1 + 0.0` is 1 in rust_decimal (a zero operand keeps the other's scale); the
/// inline addition at a common scale gave 1.0.
#[test]
fn adding_a_zero_of_more_places_keeps_the_other_operands_scale() {
    let options = |engine| api_options(engine, &["a", "z"]);
    let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
    let record = sluice::Value::parse_json(r#"{"a": 1, "z": 0.00}"#).unwrap();
    for formula in ["$a + $z", "$z + $a", "$a - $z", "$z - $a", "1 + abs($z)"] {
        let run = |engine| {
            let program = sluice::Program::compile_with(formula, &options(engine)).unwrap();
            format!("{:?}", program.execute(&record, &ctx).unwrap())
        };
        assert_eq!(
            run(sluice::Engine::Interp),
            run(sluice::Engine::Jit),
            "{formula}"
        );
    }
}

/// API options for `engine`, with `numbers` declared as number fields.
fn api_options(engine: sluice::Engine, numbers: &[&str]) -> sluice::Options {
    let mut options = sluice::Options::default();
    options.engine = engine;
    options.schema = numbers
        .iter()
        .map(|n| (n.to_string(), sluice::FieldType::Number))
        .collect();
    options
}

/// Regression (issue 25): a number or boolean chosen by `ifs`/`switch`/`if` among
/// constants was evaluated whole by the interpreter, because a numeric root went native only
/// when it was computed; it is now passed on unboxed, with the interpreter's values.
#[test]
fn ifs_returning_constants_of_any_type_is_native() {
    let options = schema_options(&[("net", TypeSet::NUMBER), ("kind", TypeSet::STRING)]);
    let formulas = [
        "ifs($net >= 750, 3, $net >= 250, 2, 1)",
        "ifs($net >= 750, 'high', $net >= 250, 2.50, true)",
        "switch($kind, 'a', 1, 'b', 2.5)",
        "ifs($net >= 750, true, $net >= 250, false)",
        "if($net > 0, $net, 0)",
    ];
    let records = [
        r#"{"net": 800, "kind": "a"}"#,
        r#"{"net": 300, "kind": "b"}"#,
        r#"{"net": -1, "kind": "c"}"#,
        r#"{"net": null, "kind": null}"#,
    ];
    for text in formulas {
        let whole = native_and_like_the_interpreter(text, &options, &records);
        assert_eq!(whole, 0, "{text} was evaluated whole");
    }
}

/// `round(a / b * k, d)` (a percentage of a ratio) runs as one native step, not through
/// the interpreter: the same value, scale and error as the interpreter's on a grid of
/// signs, scales, zeros and nulls, in every rounding mode.
#[test]
fn a_rounded_percentage_of_a_ratio_is_native_and_exact() {
    let options = schema_options(&[("a", TypeSet::NUMBER), ("b", TypeSet::NUMBER)]);
    let formulas = [
        "round(($a - $b) / $a * 100, 1)",
        "round(100 * ($a / $b), 2)",
        "round($a / $b * 0.5, 0, 'half_even')",
        "round($a / $b * -3, 4, 'floor')",
        "round($a / $b * 1000, -1, 'ceiling')",
        "if($a > 0, round(($a - $b) / $a * 100, 1), 0)",
    ];
    let numbers = [
        "0",
        "1",
        "-1",
        "3",
        "7",
        "0.5",
        "-2.25",
        "1234.56",
        "0.0001",
        "999999999999999999",
        "-79228162514264337593543950335",
        "null",
    ];
    let records: Vec<String> = numbers
        .iter()
        .flat_map(|a| numbers.map(|b| format!(r#"{{"a": {a}, "b": {b}}}"#)))
        .collect();
    for text in formulas {
        // a division by zero or an overflow bails and is evaluated whole, as at any root
        native_and_like_the_interpreter(text, &options, &records);
    }
}

/// Compiles the one-mapping `text` natively and checks it gives the interpreter's outcome
/// on every record; how many records the formula was evaluated whole for.
fn native_and_like_the_interpreter(
    text: &str,
    options: &CompileOptions,
    records: &[impl AsRef<str>],
) -> u64 {
    compiled_like_the_interpreter(text, options, records, 1)
}

/// Compiles the one-mapping `text` with the JIT, checks how many formulas it compiled
/// (`native`: 1, or 0 for a root only called directly) and that it gives the interpreter's
/// outcome on every record; how many records the formula was evaluated whole for.
fn compiled_like_the_interpreter(
    text: &str,
    options: &CompileOptions,
    records: &[impl AsRef<str>],
    native: usize,
) -> u64 {
    let transform = single_mapping(text, options);
    let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
    assert_eq!(
        jit.native_formulas, native,
        "{text}: formulas compiled natively"
    );
    for record in records {
        let record = parse_record(record.as_ref()).unwrap();
        let ctx = Ctx::new(&record);
        let a = transform.apply(&mut Interpreter::new(), &ctx);
        let b = jit.apply(&mut Interpreter::new(), &ctx);
        assert!(
            same(&a, &b),
            "{text} on {}: {a:?} / {b:?}",
            record.to_json()
        );
    }
    jit.whole_formula_runs()
}

/// A root that is a tree of eager calls over fields and constants (`lower(trim(...))`,
/// `concat(...)`) is called directly by compiled code, not evaluated whole by the
/// interpreter (it is not compiled itself, so `auto` still leaves a transform of only such
/// roots to the interpreter): the same values, the same errors with their spans (a failing call is
/// evaluated again by the interpreter for its error), and under every step budget the same
/// E311 where the interpreter stops (the direct call runs only when the tree's nodes fit).
#[test]
fn eager_text_calls_are_called_directly_and_keep_errors_and_step_limits() {
    let formulas = [
        "lower(trim(data('email')))",
        "concat(data('first'), ' ', upper(data('last')))",
        "left(data('first'), 2)",
        "concat(data('first'), data('missing'))",
        "left(data('first'), data('n'))",
    ];
    let records = [
        r#"{"email": "  A@B.C ", "first": "ada", "last": "lovelace", "n": 1}"#,
        r#"{"email": null, "first": null, "last": "x", "n": -1}"#,
        r#"{"email": 5, "first": "é日本", "last": "ß", "n": "two"}"#,
    ];
    // Only the direct call counts the records it hands back to the interpreter whole (the
    // interpreter's own root does not), once each: trim(5) (E301, its span the inner
    // call's), left() by -1 (E306) and by "two" (E301).
    let whole: Vec<u64> = formulas
        .iter()
        .map(|text| compiled_like_the_interpreter(text, &CompileOptions::default(), &records, 0))
        .collect();
    assert_eq!(whole, [1, 0, 0, 0, 2], "{formulas:?}");
    let record = sluice::Value::parse_json(records[0]).unwrap();
    for steps in 1..=6 {
        let mut outcomes = Vec::new();
        for engine in [sluice::Engine::Interp, sluice::Engine::Jit] {
            let mut options = api_options(engine, &[]);
            options.limits.max_steps = steps;
            let program = sluice::Program::compile_with(
                "concat(data('first'), ' ', upper(data('last')))",
                &options,
            )
            .unwrap();
            let ctx = sluice::Context::at("2024-05-01T00:00:00Z").unwrap();
            outcomes.push(
                program
                    .execute(&record, &ctx)
                    .map(|v| v.to_json())
                    .map_err(|e| (e.code, e.span.clone())),
            );
        }
        assert_eq!(outcomes[0], outcomes[1], "steps={steps}");
        assert_eq!(outcomes[0].is_ok(), steps >= 5, "steps={steps}");
    }
}

/// A mapping that is a division whose quotient may not fit the unboxed form (`price /
/// qty`) is native: compiled code divides in integer arithmetic and writes the quotient,
/// digit for digit the interpreter's. Nulls give null; a division by zero, an overflow and
/// operands that are not numbers are evaluated whole by the interpreter, for its error.
#[test]
fn a_division_root_is_native_and_gives_the_interpreters_quotient() {
    let options = CompileOptions::default();
    let exact = [
        r#"{"a": 971.97, "b": 18}"#,
        r#"{"a": 1, "b": 3}"#,
        r#"{"a": -2, "b": 3.0}"#,
        r#"{"a": 0, "b": 7}"#,
        r#"{"a": 1.50, "b": 1.5}"#,
        r#"{"a": 7, "b": 0.0000000000000000000000000007}"#,
        r#"{"a": 1, "b": 4294967311}"#,
        r#"{"a": null, "b": 3}"#,
        r#"{"a": 3, "b": null}"#,
    ];
    for text in ["data('a') / data('b')", "data('a') / 3"] {
        let whole = compiled_like_the_interpreter(text, &options, &exact, 1);
        assert_eq!(whole, 0, "{text}: no record of these is evaluated whole");
    }
    // 7 / 7e-28 rounded is 10^28, past what an unboxed number holds: evaluated whole
    let rounded = "round(data('a') / data('b'), 2)";
    assert_eq!(
        compiled_like_the_interpreter(rounded, &options, &exact, 1),
        1
    );
    let failing = [
        r#"{"a": 5, "b": 0}"#,
        r#"{"a": "x", "b": 2}"#,
        r#"{"a": 123456789012345678901234567, "b": 7}"#,
        r#"{"a": 9223372036854775807, "b": 0.0000000000000000000000000001}"#,
    ];
    let whole = compiled_like_the_interpreter("data('a') / data('b')", &options, &failing, 1);
    // each of them once: the zero divisor, the text, the dividend past 64 bits, the overflow
    assert_eq!(whole, 4);
}

/// Native code writes a number in place only over a value with nothing to drop: an output
/// buffer an embedder hands in holding shared values gets them released (their count back
/// to one), and the numbers written are the interpreter's, on slot-bound fields read in
/// place, for both signs and for a field that is not a number; a quotient too, written
/// into the number its output holds, and a division by zero fails as the interpreter's.
#[test]
fn a_number_written_in_place_releases_what_the_output_held() {
    use sluice::limits::Limits;
    use sluice::transform::connector_file::ConnectorFile;
    use sluice::transform::Verdict;
    use sluice::value::Value;
    let text = r#"
name = "in_place"
[inbound]
type = "ndjson"
[outbound]
type = "ndjson"
[[mappings]]
target = "net"
formula = "data('price') * data('qty')"
[[mappings]]
target = "half"
formula = "data('price') - data('qty') / 2"
[[mappings]]
target = "per"
formula = "data('price') / data('qty')"
"#;
    let file = ConnectorFile::from_text("in_place.toml", text, false).unwrap();
    let transform = Arc::new(Transform::compile(&file, &Limits::default()).unwrap());
    assert!(
        transform.slot_fields.is_some(),
        "the fields are read into slots"
    );
    let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
    let held = Arc::new(vec![Value::Null]);
    let mut outs = vec![Value::Array(Arc::clone(&held)); 3];
    let mut interp = Interpreter::new();
    for line in [
        r#"{"price": 12.50, "qty": 3}"#,
        r#"{"price": -0.75, "qty": 4}"#,
        r#"{"price": "12.5", "qty": 4}"#,
        r#"{"price": 922337203685477.5807, "qty": 1}"#,
        r#"{"price": 10, "qty": 7}"#,
        r#"{"price": 10, "qty": 0}"#,
        r#"{"price": -1, "qty": 3}"#,
    ] {
        let mut slots = Vec::new();
        let read = transform.read_line(
            line.as_bytes(),
            &Limits::default(),
            chrono_tz::UTC,
            &mut slots,
        );
        assert!(matches!(read, Ok(None)), "{line}: {read:?}");
        let mut ctx = Ctx::new(&Value::Null);
        ctx.slots = Some(slots.as_slice());
        let mut want = Vec::new();
        let expected = transform.apply_into(&mut interp, &ctx, &mut want);
        let got = jit.apply_into(&mut interp, &ctx, &mut outs);
        assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{line}");
        if matches!(got, Verdict::Mapped) {
            let shown = |v: &[Value]| {
                v.iter()
                    .map(|v| (v.to_json(), v.type_name()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(shown(&outs), shown(&want), "{line}");
        }
    }
    assert_eq!(
        Arc::strong_count(&held),
        1,
        "the output's old values were dropped"
    );
}
