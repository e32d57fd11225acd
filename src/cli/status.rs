//! `sluice status`: the last runs of the connectors, from the store.

use std::path::PathBuf;

use clap::Args;

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::store::Store;
use crate::transform::connector_file::ConnectorFile;

/// Arguments of `sluice status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One connector: its file, or its name (default: all).
    connector: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// The store: an SQLite file, or a postgres:// URL (default: $SLUICE_STORE, else sluice.db).
    #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
}

/// Runs `sluice status`.
pub fn run_status(args: StatusArgs) -> i32 {
    let name = match args.connector.as_deref() {
        Some(arg) if std::path::Path::new(arg).is_file() => {
            match ConnectorFile::load(std::path::Path::new(arg)) {
                Ok(file) => Some(file.connector.name),
                Err(problems) => {
                    for p in &problems {
                        eprint!("{}", p.render(arg));
                    }
                    return EXIT_COMPILE;
                }
            }
        }
        other => other.map(str::to_string),
    };
    let runs = match Store::open_for_reading(&args.store).and_then(|s| s.last_runs(name.as_deref()))
    {
        Ok(r) => r,
        Err(e) => {
            report_plain(e.to_diag());
            return EXIT_RUNTIME;
        }
    };
    if args.json {
        match serde_json::to_string(&runs) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_RUNTIME;
            }
        }
        return EXIT_OK;
    }
    if runs.is_empty() {
        println!("no runs recorded");
    }
    for status in runs {
        let m = &status.run;
        let pct = |p: Option<f64>| p.map_or("-".to_string(), |v| format!("{v:.1} µs"));
        let segments = if m.segments > 1 {
            format!(" ({} segments: resumed after a stop or crash)", m.segments)
        } else {
            String::new()
        };
        println!(
            "{}\n  last sync  {} → {}{}{}{}\n  records    read {}, written {}, filtered {}, failed {}, queued {}, unchanged {}, lost a conflict {}\n  error rate {:.2}%\n  latency    p50 {}, p95 {}, p99 {}",
            m.connector,
            m.started_at,
            m.ended_at,
            if m.dry_run { " (dry run)" } else { "" },
            if m.stopped { " (stopped before the end; run it again to resume)" } else { "" },
            segments,
            m.counts.read,
            m.counts.written,
            m.counts.filtered,
            m.counts.failed,
            m.counts.queued,
            m.counts.unchanged,
            m.counts.lost,
            m.error_rate * 100.0,
            pct(m.p50_us),
            pct(m.p95_us),
            pct(m.p99_us)
        );
        if let Some(checked) = &status.last_checked {
            println!("  checked    {checked}: nothing new since");
        }
    }
    EXIT_OK
}
