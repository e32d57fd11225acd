//! Front-end and interpreter benchmarks: parse+check of a 40-node formula, and the
//! interpreter's time per evaluation on three formulas of different shape.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sluice::interp::Interpreter;
use sluice::runtime::Ctx;
use sluice::value::parse_record;

/// 40 nodes: calls, operators, fields, literals.
const FORTY_NODES: &str = "if(data('CardType') = 'C' and not isblank(data('CardName')), \
    concat(data('CardName'), ' (', data('CardCode'), ')'), \
    coalesce(data('Alias'), 'n/a')) & ' ' & \
    iferror(tostring(data('Balance') * 1.19 + data('Fee') - 2 / 4 / 8), '-')";

const FORMULAS: [(&str, &str); 3] = [
    ("field_concat", "concat(data('firstName'), ' ', data('lastName'))"),
    ("numeric", "($Price * $Qty - $Discount) * (1 + $TaxRate) / 100"),
    (
        "conditional_lookup",
        "if($Type = 'C' and $Balance > 1000, findvalue($Contacts, ['Type' => 'Primary'], 'Email', 'none'), coalesce($Alias, 'n/a'))",
    ),
];

const RECORD: &str = r#"{"firstName": "Ada", "lastName": "Lovelace", "Price": 19.99, "Qty": 3,
  "Discount": 1.50, "TaxRate": 0.19, "Type": "C", "Balance": 2500.00, "Alias": null,
  "CardType": "C", "CardName": "Acme", "CardCode": "C001", "Fee": 2,
  "Contacts": [{"Type": "Other", "Email": "o@x.io"}, {"Type": "Primary", "Email": "p@x.io"}]}"#;

fn front_end(c: &mut Criterion) {
    let compiled = sluice::compile(FORTY_NODES, &Default::default()).unwrap();
    assert_eq!(compiled.ast.node_count(), 40);
    c.bench_function("parse_check_40_nodes", |b| {
        b.iter(|| sluice::compile(black_box(FORTY_NODES), &Default::default()).unwrap())
    });
}

fn interpreter(c: &mut Criterion) {
    let record = parse_record(RECORD).unwrap();
    let ctx = Ctx::new(&record);
    let mut group = c.benchmark_group("interp");
    for (name, text) in FORMULAS {
        let compiled = sluice::compile(text, &Default::default()).unwrap();
        let mut interp = Interpreter::new();
        interp.eval(&compiled.ir, &ctx).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| interp.eval(black_box(&compiled.ir), &ctx).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, front_end, interpreter);
criterion_main!(benches);
