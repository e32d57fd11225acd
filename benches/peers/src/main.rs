//! Runs a VRL program over NDJSON records held in memory and prints the transform time in
//! ns per record (best of 3 passes), for `benches/peers.sh`.
//!
//! Usage: sluice-peers PROGRAM.vrl RECORDS.ndjson
use std::collections::BTreeMap;
use std::time::Instant;

use vrl::compiler::{state::RuntimeState, Context, TargetValue, TimeZone};
use vrl::value::{Secrets, Value};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let source = std::fs::read_to_string(&args[1]).expect("program");
    let text = std::fs::read_to_string(&args[2]).expect("records");
    let records: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("record"))
        .collect();
    let fns = vrl::stdlib::all();
    let program = match vrl::compiler::compile(&source, &fns) {
        Ok(r) => r.program,
        Err(e) => panic!("VRL program does not compile: {e:?}"),
    };
    let timezone = TimeZone::default();
    let mut best = u128::MAX;
    let mut mapped = 0;
    for _ in 0..3 {
        let started = Instant::now();
        mapped = 0;
        for r in &records {
            let mut target = TargetValue {
                value: r.clone(),
                metadata: Value::Object(BTreeMap::new()),
                secrets: Secrets::default(),
            };
            let mut state = RuntimeState::default();
            let mut ctx = Context::new(&mut target, &mut state, &timezone);
            if program.resolve(&mut ctx).is_ok() {
                mapped += 1;
            }
        }
        best = best.min(started.elapsed().as_nanos());
    }
    // VRL transforms an owned event: the clone of the input above is part of its cost, but
    // report it too, so that the comparison can also be made without it.
    let mut clone_best = u128::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for r in &records {
            std::hint::black_box(r.clone());
        }
        clone_best = clone_best.min(started.elapsed().as_nanos());
    }
    let n = records.len() as f64;
    println!(
        "{{\"records\":{},\"mapped\":{mapped},\"ns_per_record\":{:.1},\"clone_ns_per_record\":{:.1}}}",
        records.len(),
        best as f64 / n,
        clone_best as f64 / n
    );
}
