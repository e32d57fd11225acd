//! Records per second through REST connections, side by side with the same run over
//! NDJSON files: the release `sluice` binary against the test suite's stand-in servers
//! (in this process, on 127.0.0.1, keep-alive). `cargo bench --bench http [-- RECORDS]`.
//! With `SLUICE_BEFORE=PATH` (an earlier build of `sluice`), each run is timed with both
//! binaries, alternately, and the table gets their ratio: before and after, side by side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/stubs.rs"]
mod stubs;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const MAPPINGS: &str = r#"
[[mappings]]
target = "erp_id"
formula = "concat('E', data('n'))"

[[mappings]]
target = "name"
formula = "concat('Customer ', data('n'))"

[[mappings]]
target = "updated"
field = "updated"
"#;

fn connector(inbound: &str, outbound: &str) -> String {
    format!("name = \"bench\"\n\n{inbound}\n\n{outbound}\n{MAPPINGS}")
}

/// Runs `sluice` in `dir` three times (the stand-ins are reset by `reset`), best wall time.
fn best_of(sluice: &Path, dir: &Path, args: &[&str], mut reset: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        reset();
        let _ = std::fs::remove_file(dir.join("sluice.db"));
        let started = Instant::now();
        let out = std::process::Command::new(sluice)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        best = best.min(seconds);
    }
    best
}

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("sluice-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lines: String = (1..=records)
        .map(|n| format!("{{\"n\":{n},\"updated\":\"2024-01-{:02}\"}}\n", n % 28 + 1))
        .collect();
    std::fs::write(dir.join("in.ndjson"), lines).unwrap();
    let pager = Arc::new(Mutex::new(stubs::Pager {
        style: "skip".into(),
        count: records,
        ..Default::default()
    }));
    let source = stubs::pager(&pager);
    let fsm = Arc::new(Mutex::new(stubs::Fsm::default()));
    let sink = stubs::fsm(&fsm);
    let reset_fsm = || *fsm.lock().unwrap() = stubs::Fsm::default();

    let ndjson_in = "[inbound]\ntype = \"ndjson\"";
    let http_in = format!(
        "[inbound]\ntype = \"Shopware\"\nentity = \"items\"\n\n[inbound.connection]\nurl = \"{}/v1\"\nrecords = \"data.items\"\npaging = \"skip\"\npage_size_param = \"limit\"\npage_size = 1000",
        source.base
    );
    let store_out = "[outbound]\ntype = \"store\"\nobject = \"customer\"\nprimary_key = \"erp_id\"";
    let http_out = |write: &str| {
        format!(
            "[outbound]\ntype = \"Fentu-FSM\"\nentity = \"customers\"\nprimary_key = \"erp_id\"\n\n[outbound.connection]\nurl = \"{}/api\"\nrecords = \"data\"\nconcurrency = 8\n{write}",
            sink.base
        )
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "ndjson file → ndjson file",
            connector(ndjson_in, store_out),
            vec!["--input", "in.ndjson", "--output", "out.ndjson"],
        ),
        (
            "ndjson file → store",
            connector(ndjson_in, store_out),
            vec!["--input", "in.ndjson"],
        ),
        (
            "REST pages (1000/page) → ndjson file",
            connector(&http_in, store_out),
            vec!["--output", "out.ndjson"],
        ),
        (
            "REST pages (1000/page) → store",
            connector(&http_in, store_out),
            vec![],
        ),
        (
            "ndjson file → REST PUT by key (8 in flight)",
            connector(
                ndjson_in,
                &http_out("write = \"put\"\npath = \"customers/by-erp/{erp_id}\""),
            ),
            vec!["--input", "in.ndjson"],
        ),
        (
            "ndjson file → REST upsert: lookup + POST (8 in flight)",
            connector(ndjson_in, &http_out("")),
            vec!["--input", "in.ndjson"],
        ),
        (
            "ndjson file → REST batch endpoint (200/request)",
            connector(
                ndjson_in,
                &http_out("batch_path = \"customers/batch\"\nbatch_size = 200"),
            ),
            vec!["--input", "in.ndjson"],
        ),
        (
            "REST pages → REST batch endpoint",
            connector(
                &http_in,
                &http_out("batch_path = \"customers/batch\"\nbatch_size = 200"),
            ),
            vec![],
        ),
    ];
    let sluice = Path::new(env!("CARGO_BIN_EXE_sluice"));
    let before = std::env::var_os("SLUICE_BEFORE").map(std::path::PathBuf::from);
    println!("{records} records, best of 3 runs each, release binary, stand-ins in this process\n");
    println!(
        "{:<58} {:>12} {:>14} {:>12} {:>8}",
        "run",
        "records/s",
        "vs ndjson→ndjson",
        before.as_ref().map_or("", |_| "before"),
        before.as_ref().map_or("", |_| "ratio")
    );
    let mut floor = None;
    for (name, text, extra) in cases {
        std::fs::write(dir.join("c.toml"), &text).unwrap();
        let mut args = vec!["run", "c.toml"];
        args.extend(extra);
        let earlier = before
            .as_deref()
            .map(|b| records as f64 / best_of(b, &dir, &args, reset_fsm));
        let seconds = best_of(sluice, &dir, &args, reset_fsm);
        let rate = records as f64 / seconds;
        let base = *floor.get_or_insert(rate);
        let versus = earlier.map_or(String::new(), |e| format!("{e:>12.0} {:>7.2}×", rate / e));
        println!("{name:<58} {rate:>12.0} {:>13.2}× {versus}", rate / base);
        if name.contains("REST") && name.contains("→ REST") || name.contains("→ REST") {
            let s = fsm.lock().unwrap();
            assert_eq!(s.customers.len(), records, "{name}: every record delivered");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
