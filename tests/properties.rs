//! Properties of the front end: printing round-trips, and no input makes it panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use rust_decimal::Decimal;
use sluice::limits::Limits;
use sluice::syntax::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use sluice::syntax::{parse, print, Span};

const OPS: [BinaryOp; 14] = [
    BinaryOp::Coalesce,
    BinaryOp::Or,
    BinaryOp::And,
    BinaryOp::Eq,
    BinaryOp::NotEq,
    BinaryOp::Lt,
    BinaryOp::LtEq,
    BinaryOp::Gt,
    BinaryOp::GtEq,
    BinaryOp::Concat,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
];

fn node(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn plain_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,8}".prop_filter("not a keyword", |s| {
        sluice::syntax::lexer::keyword(s).is_none()
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(node(ExprKind::Null)),
        any::<bool>().prop_map(|b| node(ExprKind::Bool(b))),
        (0u64..u64::MAX, 0u32..12)
            .prop_map(|(m, s)| node(ExprKind::Number(Decimal::new(m as i64 & i64::MAX, s)))),
        ".{0,8}".prop_map(|s| node(ExprKind::Str(s))),
        ".{1,8}".prop_map(|s| node(ExprKind::Field(s))),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| node(ExprKind::Array(v))),
            prop::collection::vec((inner.clone(), inner.clone()), 1..3)
                .prop_map(|v| node(ExprKind::Object(v))),
            (
                prop_oneof![
                    plain_name(),
                    Just("and".to_string()),
                    Just("or".to_string())
                ],
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(name, args)| node(ExprKind::Call {
                    name,
                    name_span: Span::default(),
                    args
                })),
            (
                prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Not)],
                inner.clone()
            )
                .prop_map(|(op, e)| node(ExprKind::Unary(op, Box::new(e)))),
            (0..OPS.len(), inner.clone(), inner.clone())
                .prop_map(|(i, a, b)| node(ExprKind::Binary(OPS[i], Box::new(a), Box::new(b)))),
            (inner.clone(), plain_name()).prop_map(|(e, k)| node(ExprKind::Member(Box::new(e), k))),
            (inner.clone(), inner)
                .prop_map(|(a, b)| node(ExprKind::Index(Box::new(a), Box::new(b)))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printed_ast_reparses_to_the_same_ast(e in expr()) {
        let text = print(&e);
        let parsed = parse(&text, &Limits::default())
            .unwrap_or_else(|errs| panic!("printed text does not parse: {text}\n{errs:?}"));
        prop_assert_eq!(parsed.without_spans(), e.without_spans(), "text: {}", text);
        prop_assert_eq!(print(&parsed), text);
    }

    #[test]
    fn any_text_compiles_or_reports_without_panic(text in ".{0,80}") {
        let _ = sluice::compile(&text, &Default::default());
    }

    #[test]
    fn token_soup_compiles_or_reports_without_panic(
        parts in prop::collection::vec(prop_oneof![
            Just("("), Just(")"), Just("["), Just("]"), Just(","), Just("=>"), Just("??"),
            Just("and"), Just("not"), Just("-"), Just("+"), Just("&"), Just("="), Just("<"),
            Just("1"), Just("'s'"), Just("$f"), Just("concat"), Just("if"), Just("."), Just("x"),
            Just("null"), Just("1/0"), Just("data('a')"),
        ], 0..30)
    ) {
        let text = parts.join(" ");
        if let Ok(f) = sluice::compile(&text, &Default::default()) {
            let record = sluice::value::parse_record(r#"{"a": 1, "f": "t"}"#).unwrap();
            let ctx = sluice::runtime::Ctx::new(&record);
            let _ = sluice::interp::Interpreter::new().eval(&f.ir, &ctx);
        }
    }
}

/// The JSON string literal of `s` as Sluice wrote it char by char before the run-based
/// writer: the reference the writer must match byte for byte.
fn json_string_char_by_char(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The output writer's string escaping is the same bytes as before, for any text
    /// (control characters, quotes, backslashes, non-ASCII), and what it writes is JSON
    /// that reads back as the text.
    #[test]
    fn json_strings_are_written_as_before_and_read_back(s in "(\\PC|[\\x00-\\x1f\"\\\\é€😀])*") {
        let mut out = String::new();
        sluice::value::write_json_string(&s, &mut out);
        prop_assert_eq!(&out, &json_string_char_by_char(&s));
        let back: String = serde_json::from_str(&out).unwrap();
        prop_assert_eq!(back, s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Numbers are written as `Decimal`'s Display writes them — the scale kept, zeros,
    /// negative zero and mantissas past 64 bits included.
    #[test]
    fn decimals_are_written_as_display_writes_them(
        mantissa in prop_oneof![
            any::<i64>().prop_map(i128::from),
            Just(0i128),
            (-(1i128 << 95)..(1i128 << 95)),
        ],
        scale in 0u32..=28,
        negative_zero in any::<bool>(),
    ) {
        let mut n = rust_decimal::Decimal::from_i128_with_scale(mantissa, scale);
        if mantissa == 0 && negative_zero {
            n.set_sign_negative(true);
        }
        let mut out = String::new();
        sluice::value::write_decimal(&n, &mut out);
        prop_assert_eq!(out, n.to_string());
    }
}
