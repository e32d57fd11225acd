//! `sluice test`: a dry run over sample records that explains each one.

use std::path::PathBuf;

use clap::Args;

use super::eval::DEFAULT_STORE;
use super::run::{now_of, prepare, zone_of};
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::connections::kind::Opening;
use crate::connections::registry::open_source;
use crate::diagnostics::{render_plain, Report};
use crate::driver::Driver;
use crate::executor::prepare::Prepared;
use crate::executor::run::key_problem;
use crate::runtime::Ctx;
use crate::seams::ReadSettings;
use crate::store::Store;
use crate::transform::Outcome;

/// Arguments of `sluice test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The connector file.
    connector: PathBuf,
    /// Sample records: NDJSON, or CSV by extension (default: the file a `# sample: FILE`
    /// line at the top of the connector names, relative to it).
    #[arg(long, value_name = "FILE")]
    sample: Option<String>,
    /// The store used by lookups (read only).
    #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// now() for the test, RFC 3339.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The default time zone (default: the connector's `zone`, else UTC).
    #[arg(long, value_name = "TZ")]
    tz: Option<String>,
    /// Set a resource limit, e.g. --limit steps=10000 (repeatable).
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
}

/// Runs `sluice test`: a dry run that explains each record.
pub fn run_test(args: TestArgs) -> i32 {
    let (
        limits,
        Prepared {
            file, transform, ..
        },
    ) = match prepare(&args.connector, &args.limits) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let now = match now_of(args.now.as_deref()) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let tz = match zone_of(&file, args.tz.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let all_fields = crate::transform::Transform {
        input_fields: None,
        slot_fields: None,
        ..transform
    };
    let settings = ReadSettings {
        transform: &all_fields,
        limits,
        schema: file.connector.inbound_schema(),
        commit_every: crate::executor::run::DEFAULT_BATCH as u64,
        follow: None,
    };
    let Some(sample) = args
        .sample
        .clone()
        .or_else(|| file.sample_path().map(|p| p.display().to_string()))
    else {
        eprintln!(
            "error: no sample records: give --sample FILE, or name them in a `# sample: FILE` line at the top of {}",
            args.connector.display()
        );
        return EXIT_COMPILE;
    };
    let stop = std::sync::Arc::default();
    let opening = Opening {
        connector: &file.connector,
        input: Some(&sample),
        output: None,
        store: &args.store,
        retry: None,
        part: None,
        stop: &stop,
    };
    let records = match open_source(&opening).and_then(|mut source| source.open(None, &settings)) {
        Ok(reading) => reading.into_records(&settings),
        Err(d) => {
            report_plain(d);
            return EXIT_RUNTIME;
        }
    };
    let lookups = Store::open_existing(&args.store)
        .ok()
        .map(crate::store::lookups::StoreLookups::new);
    let mut driver = Driver::new();
    let (mut mapped, mut filtered, mut failed) = (0, 0, 0);
    let mut records = records;
    while let Some(item) = records.next_record() {
        let rec = match item {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", sample);
                return EXIT_RUNTIME;
            }
        };
        let record = match rec
            .record
            .and_then(|mut v| all_fields.conform_record(&mut v, tz).map(|()| v))
        {
            Ok(v) => v,
            Err(reason) => {
                failed += 1;
                println!("line {}: FAILED to read: {reason}", rec.line);
                continue;
            }
        };
        println!("line {}: {}", rec.line, record.to_json());
        let ctx = Ctx {
            record: &record,
            now,
            tz,
            lookups: lookups.as_ref().map(|l| l as &dyn crate::runtime::Lookups),
            slots: None,
            limits,
        };
        match driver.outcome(&all_fields, None, &ctx) {
            Outcome::Mapped(values) => {
                let out = all_fields.record_of(values);
                println!("  => {}", out.to_json());
                let problem = file
                    .connector
                    .outbound
                    .primary_key
                    .as_deref()
                    .and_then(|key| key_problem(&out, key));
                match problem {
                    Some(problem) => {
                        failed += 1;
                        println!(
                            "  FAILED: {problem} (a store-bound run sends it to the dead letters)"
                        );
                    }
                    None => mapped += 1,
                }
            }
            Outcome::Filtered(i) => {
                filtered += 1;
                let source = all_fields
                    .conditions
                    .get(i)
                    .map_or("", |c| c.source.as_str());
                println!("  filtered out by condition {}: {source}", i + 1);
            }
            Outcome::Failed {
                target,
                condition,
                error,
            } => {
                failed += 1;
                let place = match (&target, condition) {
                    (Some(t), _) => format!("mapping `{t}`"),
                    (None, Some(c)) => format!("condition {}", c + 1),
                    _ => "record".to_string(),
                };
                println!("  FAILED in {place}:");
                let rendered = match all_fields.failed_formula(target.as_deref(), condition) {
                    Some((at, f)) => {
                        file.render_formula(at, f.offset, &f.source, vec![error.to_diag()])
                    }
                    None => render_plain(&Report {
                        source_name: place,
                        source: String::new(),
                        diags: vec![error.to_diag()],
                    }),
                };
                for line in rendered.lines() {
                    println!("    {line}");
                }
            }
        }
    }
    println!("{mapped} mapped, {filtered} filtered, {failed} failed (dry run: nothing written)");
    EXIT_OK
}
