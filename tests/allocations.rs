//! A worker's steady state allocates nothing: reading a record into its kept slots, mapping
//! it (with the interpreter and with native code) and appending its output line, on the
//! bench connector's records. The whole binary counts allocations, so it holds this one
//! test and nothing runs beside it.

use std::alloc::System;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use sluice::driver::Driver;
use sluice::limits::Limits;
use sluice::runtime::Ctx;
use sluice::transform::connector_file::ConnectorFile;
use sluice::transform::{Transform, Verdict};
use sluice::value::Value;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Reads, maps and writes `lines` as a worker does, with its buffers; how many were mapped.
fn run(
    (transform, native, prefixes): (&Transform, Option<&sluice::native::Native>, &[String]),
    lines: &[&str],
    (slots, driver, out): (&mut Vec<Option<Value>>, &mut Driver, &mut String),
) -> usize {
    let limits = Limits::default();
    let mut mapped = 0;
    for line in lines {
        let read = transform.read_line(line.as_bytes(), &limits, chrono_tz::UTC, slots);
        assert!(matches!(read, Ok(None)), "{line}: {read:?}");
        let mut ctx = Ctx::new(&Value::Null);
        ctx.slots = Some(slots.as_slice());
        if let Verdict::Mapped = driver.apply(transform, native, &ctx) {
            Transform::write_line(prefixes, driver.values(), out);
            mapped += 1;
        }
    }
    mapped
}

#[test]
fn a_worker_allocates_nothing_per_record_in_steady_state() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let records = Command::new("python3")
        .arg(root.join("benches/gen_records.py"))
        .arg("1200")
        .output()
        .expect("python3 runs benches/gen_records.py");
    let records = String::from_utf8(records.stdout).unwrap();
    let lines: Vec<&str> = records.lines().collect();
    assert_eq!(lines.len(), 1200);
    let file = ConnectorFile::load(&root.join("benches/bench_connector.toml")).unwrap();
    let transform = Arc::new(Transform::compile(&file, &Limits::default()).unwrap());
    assert!(
        transform.slot_fields.is_some(),
        "the bench connector reads slots"
    );
    let native = sluice::native::compile(Arc::clone(&transform)).ok();
    #[cfg(feature = "jit")]
    assert!(native.is_some(), "the JIT compiles the bench connector");
    let prefixes = transform.target_prefixes();
    for native in [None, native.as_ref()] {
        let warm_up = 200;
        let (mut slots, mut driver) = (Vec::new(), Driver::new());
        let mut out = String::with_capacity(1 << 20);
        let compiled = (transform.as_ref(), native, prefixes.as_slice());
        let buffers = (&mut slots, &mut driver, &mut out);
        run(compiled, &lines[..warm_up], buffers);
        out.clear();
        let region = Region::new(GLOBAL);
        let buffers = (&mut slots, &mut driver, &mut out);
        let mapped = run(compiled, &lines[warm_up..], buffers);
        let change = region.change();
        assert!(mapped > 800, "{mapped} records mapped");
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "{} records ({}) allocated {change:?}",
            lines.len() - warm_up,
            if native.is_some() {
                "native"
            } else {
                "interpreter"
            },
        );
    }
}
