//! The numeric mapping of `benches/numeric_connector.toml` side by side on the same
//! records: hand-written Rust (rust_decimal on the same values), the interpreter and the
//! JIT; and the JIT's compile time for the 10-mapping connector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::{Decimal, RoundingStrategy};
use sluice::interp::Interpreter;
use sluice::jit::JitTransform;
use sluice::runtime::Ctx;
use sluice::transform::connector_file::ConnectorFile;
use sluice::transform::{Outcome, Transform};
use sluice::value::{parse_record, Value};

fn records() -> Vec<Value> {
    (0..1000u64)
        .map(|i| {
            let price = Decimal::new(((i * 7919) % 99_999 + 1) as i64, 2);
            let qty = (i * 31) % 40 + 1;
            let tax = ["0.19", "0.07", "0.00"][(i % 3) as usize];
            parse_record(&format!(
                r#"{{"price": {price}, "qty": {qty}, "tax_rate": {tax}, "credit_limit": {}}}"#,
                (i * 104_729) % 200_000
            ))
            .unwrap()
        })
        .collect()
}

fn round2(d: Decimal) -> Decimal {
    let mut rounded = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// The mapping written by hand.
fn hand_written(r: &Value) -> Vec<Value> {
    let num = |k: &str| match r.get_key(k) {
        Some(Value::Number(d)) => Some(*d),
        _ => None,
    };
    let (Some(price), Some(qty), Some(tax), Some(cl)) = (
        num("price"),
        num("qty"),
        num("tax_rate"),
        num("credit_limit"),
    ) else {
        return vec![Value::Null; 10];
    };
    let net = price * qty;
    let n = |d: Decimal| Value::Number(d);
    vec![
        n(net),
        n(round2(net * tax)),
        n(round2(net * (Decimal::ONE + tax))),
        n(price - (cl / Decimal::from(1000)).normalize()),
        n(round2(price * Decimal::new(95, 2))),
        n(Decimal::from(if net > Decimal::from(1000) {
            3
        } else if net > Decimal::from(100) {
            2
        } else {
            1
        })),
        Value::Bool(qty >= Decimal::from(20) && price > Decimal::from(100)),
        n(cl * Decimal::new(1, 2) + Decimal::from(5)),
        n(qty - Decimal::from(10)),
        n(price * Decimal::from(3) + qty * Decimal::from(2)),
    ]
}

fn transform() -> Transform {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/numeric_connector.toml"
    );
    let file = ConnectorFile::load(std::path::Path::new(path)).unwrap();
    Transform::compile(&file, &Default::default()).unwrap()
}

fn numeric(c: &mut Criterion) {
    let records = records();
    let transform = std::sync::Arc::new(transform());
    let jit = JitTransform::compile(std::sync::Arc::clone(&transform)).unwrap();
    let mut interp = Interpreter::new();
    for r in &records {
        let ctx = Ctx::new(r);
        let (Outcome::Mapped(a), Outcome::Mapped(b)) = (
            transform.apply(&mut interp, &ctx),
            jit.apply(&mut interp, &ctx),
        ) else {
            panic!("the numeric mapping maps every record")
        };
        let hand = hand_written(r);
        assert_eq!(
            a.iter().map(Value::to_json).collect::<Vec<_>>(),
            b.iter().map(Value::to_json).collect::<Vec<_>>()
        );
        assert_eq!(
            a.iter().map(Value::to_json).collect::<Vec<_>>(),
            hand.iter().map(Value::to_json).collect::<Vec<_>>()
        );
    }
    let mut group = c.benchmark_group("numeric_mapping_1000_records");
    group.bench_function("hand_written_rust", |b| {
        b.iter(|| {
            for r in &records {
                black_box(hand_written(black_box(r)));
            }
        })
    });
    group.bench_function("interpreter", |b| {
        b.iter(|| {
            for r in &records {
                black_box(transform.apply(&mut interp, &Ctx::new(black_box(r))));
            }
        })
    });
    group.bench_function("jit", |b| {
        b.iter(|| {
            for r in &records {
                black_box(jit.apply(&mut interp, &Ctx::new(black_box(r))));
            }
        })
    });
    group.finish();
    c.bench_function("jit_compile_10_mappings", |b| {
        b.iter(|| {
            JitTransform::compile(black_box(std::sync::Arc::clone(&transform)))
                .unwrap()
                .code_bytes
        })
    });
    eprintln!(
        "JIT code for the 10-mapping connector: {} bytes",
        jit.code_bytes
    );
}

criterion_group!(benches, numeric);
criterion_main!(benches);
