//! Lookups against a store of 1 000 000 records: an equality lookup must stay under 50 µs.
//! The store is built once under `target/bench-data/` and reused by later runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sluice::runtime::Lookups;
use sluice::store::lookups::StoreLookups;
use sluice::store::Store;
use sluice::value::{parse_record, Value};

const RECORDS: usize = 1_000_000;
const BATCH: usize = 100_000;

fn store_path() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store-1m.db");
    if let Ok(store) = Store::open_existing(&path) {
        if store.types().unwrap() == vec![("fsmcustomer".to_string(), RECORDS as i64)] {
            return path;
        }
    }
    let _ = std::fs::remove_file(&path);
    let mut store = Store::open_or_create(&path).unwrap();
    let started = std::time::Instant::now();
    for batch in 0..RECORDS / BATCH {
        let records: Vec<Value> = (batch * BATCH..(batch + 1) * BATCH)
            .map(|i| {
                parse_record(&format!(
                    r#"{{"customer_id": "FSM-{i}", "erp_id": "C{i:07}", "name": "Customer {i} GmbH", "city": "City {}"}}"#,
                    i % 1000
                ))
                .unwrap()
            })
            .collect();
        store
            .load("fsmcustomer", &records, None, chrono::Utc::now())
            .unwrap();
    }
    eprintln!(
        "built a store of {RECORDS} records in {:.1?}",
        started.elapsed()
    );
    path
}

fn lookups(c: &mut Criterion) {
    let path = store_path();
    let store = Store::open_existing(&path).unwrap();
    let mut i: usize = 0;
    c.bench_function("store_1m/latest_equal_uncached", |b| {
        b.iter(|| {
            i = (i + 7919) % RECORDS;
            let key = Value::string(format!("C{i:07}"));
            let found = store
                .latest_equal("fsmcustomer", "erp_id", black_box(&key))
                .unwrap();
            assert!(found.is_some());
        })
    });
    let cached = StoreLookups::new(Store::open_existing(&path).unwrap());
    let key = Value::str("C0500000");
    c.bench_function("store_1m/latest_equal_cached", |b| {
        b.iter(|| {
            cached
                .latest_equal("fsmcustomer", "erp_id", black_box(&key))
                .unwrap()
        })
    });
    c.bench_function("store_1m/get_entity_data_city", |b| {
        let mut filter = sluice::value::Map::default();
        filter.insert("city".into(), Value::str("City 7"));
        b.iter(|| {
            store
                .all_matching("fsmcustomer", black_box(&filter))
                .unwrap()
                .len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = lookups
}
criterion_main!(benches);
