//! `GET /metrics`: the connectors' counters and gauges in Prometheus' text format
//! (version 0.0.4), one family after the other, each with its HELP and TYPE lines.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::state::{Entry, Registry};
use super::Server;

/// One metric family: name, type, help, and how an entry gives its samples
/// (extra labels, value).
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: fn(&Entry, &Registry, &Context) -> Vec<(String, f64)>,
}

/// What the samples need beyond the registry.
struct Context {
    now: DateTime<Utc>,
    /// Per connector: bytes of its source file not read yet, and its dead letters.
    lag_bytes: std::collections::HashMap<String, f64>,
    dead_letters: std::collections::HashMap<String, f64>,
}

fn one(value: f64) -> Vec<(String, f64)> {
    vec![(String::new(), value)]
}

fn last_run<'a>(entry: &Entry, registry: &'a Registry) -> Option<&'a super::state::RunInfo> {
    entry.last_run.and_then(|id| registry.runs.get(&id))
}

const FAMILIES: &[Family] = &[
    Family { name: "sluice_records_read_total", kind: "counter", help: "Records read by the connector's runs since the server started.", samples: |e, _, _| one(e.totals.counts.read as f64) },
    Family { name: "sluice_records_written_total", kind: "counter", help: "Records written.", samples: |e, _, _| one(e.totals.counts.written as f64) },
    Family { name: "sluice_records_filtered_total", kind: "counter", help: "Records filtered out by a condition.", samples: |e, _, _| one(e.totals.counts.filtered as f64) },
    Family { name: "sluice_records_failed_total", kind: "counter", help: "Records sent to the dead letters.", samples: |e, _, _| one(e.totals.counts.failed as f64) },
    Family { name: "sluice_runs_total", kind: "counter", help: "Runs by how they ended.", samples: |e, _, _| vec![
        ("status=\"succeeded\"".into(), e.totals.runs_succeeded as f64),
        ("status=\"failed\"".into(), e.totals.runs_failed as f64),
        ("status=\"stopped\"".into(), e.totals.runs_stopped as f64),
        ("status=\"skipped\"".into(), e.totals.runs_skipped as f64),
    ] },
    Family { name: "sluice_run_duration_seconds_total", kind: "counter", help: "Seconds spent in runs.", samples: |e, _, _| one(e.totals.run_seconds) },
    Family { name: "sluice_last_run_duration_seconds", kind: "gauge", help: "Wall time of the last finished run.", samples: |e, r, _| last_run(e, r).map_or_else(Vec::new, |run| one(run.seconds)) },
    Family { name: "sluice_error_rate", kind: "gauge", help: "Failed / read of the last finished run.", samples: |e, r, _| last_run(e, r).map_or_else(Vec::new, |run| one(run.error_rate)) },
    Family { name: "sluice_error_rate_total", kind: "gauge", help: "Failed / read over every run since the server started.", samples: |e, _, _| {
        let c = &e.totals.counts;
        one(if c.read == 0 { 0.0 } else { c.failed as f64 / c.read as f64 })
    } },
    Family { name: "sluice_transform_latency_microseconds", kind: "gauge", help: "Transform latency per record in the last run that read records, by quantile.", samples: |e, r, _| {
        let Some(run) = e.last_reading_run.and_then(|id| r.runs.get(&id)) else { return Vec::new() };
        [("0.5", run.p50_us), ("0.95", run.p95_us), ("0.99", run.p99_us)]
            .into_iter()
            .filter_map(|(q, v)| v.map(|v| (format!("quantile=\"{q}\""), v)))
            .collect()
    } },
    Family { name: "sluice_lag_seconds", kind: "gauge", help: "Seconds since the connector's last successful run ended (how far behind the source it may be).", samples: |e, _, c| {
        e.last_success.map_or_else(Vec::new, |t| one((c.now - t).num_milliseconds() as f64 / 1000.0))
    } },
    Family { name: "sluice_lag_bytes", kind: "gauge", help: "Bytes of the connector's source file not read yet.", samples: |e, _, c| {
        c.lag_bytes.get(e.loaded.name()).map_or_else(Vec::new, |b| one(*b))
    } },
    Family { name: "sluice_dead_letters", kind: "gauge", help: "Dead letters kept in the store.", samples: |e, _, c| {
        c.dead_letters.get(e.loaded.name()).map_or_else(Vec::new, |n| one(*n))
    } },
    Family { name: "sluice_connector_active", kind: "gauge", help: "1 when the connector is active.", samples: |e, _, _| one(if e.loaded.active() { 1.0 } else { 0.0 }) },
    Family { name: "sluice_connector_running", kind: "gauge", help: "1 while a run of the connector is in progress.", samples: |e, _, _| one(if e.running.is_some() { 1.0 } else { 0.0 }) },
    Family { name: "sluice_connector_failing", kind: "gauge", help: "1 while the connector's runs keep failing (it retries with backoff up to 5 minutes apart; the reason is on the page and in /connectors).", samples: |e, _, _| one(if e.failing.is_some() { 1.0 } else { 0.0 }) },
    Family { name: "sluice_connector_failures_in_a_row", kind: "gauge", help: "Failed runs in a row (retried with backoff).", samples: |e, _, _| one(e.failures as f64) },
    Family { name: "sluice_connector_reload_failed", kind: "gauge", help: "1 when the connector's file changed but does not pass `sluice check` (the earlier version runs).", samples: |e, _, _| one(if e.reload_error.is_some() { 1.0 } else { 0.0 }) },
];

/// A label value escaped as the text format wants.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics page.
pub fn render(server: &Server, now: DateTime<Utc>) -> String {
    let names: Vec<(String, Option<String>)> = server
        .lock()
        .connectors
        .values()
        .map(|e| (e.loaded.name().to_string(), e.loaded.file.inbound_path()))
        .collect();
    let mut context = Context {
        now,
        lag_bytes: Default::default(),
        dead_letters: Default::default(),
    };
    server.with_reader(|store| {
        for (name, path) in &names {
            if let Ok(count) = store.dead_letter_count(name) {
                context.dead_letters.insert(name.clone(), count as f64);
            }
            let Some(path) = path else { continue };
            let Ok(key) = std::fs::canonicalize(path) else {
                continue;
            };
            let Ok(size) = std::fs::metadata(&key).map(|m| m.len()) else {
                continue;
            };
            let read = store
                .checkpoint(name, &key.display().to_string())
                .ok()
                .flatten()
                .map_or(0, |c| c.byte_offset);
            context
                .lag_bytes
                .insert(name.clone(), size.saturating_sub(read) as f64);
        }
    });
    let registry = server.lock();
    let mut out = String::new();
    for family in FAMILIES {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for entry in registry.connectors.values() {
            let connector = escape(entry.loaded.name());
            for (labels, value) in (family.samples)(entry, &registry, &context) {
                let extra = if labels.is_empty() {
                    String::new()
                } else {
                    format!(",{labels}")
                };
                let _ = writeln!(
                    out,
                    "{}{{connector=\"{connector}\"{extra}}} {value}",
                    family.name
                );
            }
        }
    }
    let _ = writeln!(out, "# HELP sluice_broken_connector_files Connector files that do not pass `sluice check` and are not served.");
    let _ = writeln!(out, "# TYPE sluice_broken_connector_files gauge");
    let _ = writeln!(
        out,
        "sluice_broken_connector_files {}",
        registry.broken.len()
    );
    out
}
