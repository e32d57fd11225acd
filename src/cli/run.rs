//! `sluice run`: a connector over its input, alone or as one worker of a shared run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

use chrono::Utc;
use clap::Args;

use super::check::load_and_compile;
use super::eval::{parse_now, parse_tz, DEFAULT_STORE};
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::executor::prepare::Prepared;
use crate::executor::run::{RunOptions, DEFAULT_BATCH};
use crate::executor::sync::{sync, Sharing, Syncable, Synced};
use crate::transform::connector_file::ConnectorFile;

/// Arguments of `sluice run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The connector file.
    connector: PathBuf,
    /// Input records: an NDJSON file, a .csv file, or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    input: Option<String>,
    /// Write mapped records as NDJSON to FILE or - (stdout) instead of the store.
    #[arg(long, value_name = "FILE|-")]
    output: Option<String>,
    /// The store: an SQLite file, or a postgres:// URL (default: the connector's
    /// `[store] url`, else $SLUICE_STORE, else sluice.db).
    #[arg(long, value_name = "DB")]
    store: Option<PathBuf>,
    /// The dead-letter file (default: `<connector name>.dead.ndjson`).
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,
    /// Replay the dead letters instead of reading the input.
    #[arg(long)]
    retry_dead_letters: bool,
    /// Ignore the checkpoint and read the input from its start.
    #[arg(long)]
    from_start: bool,
    /// Records per store transaction.
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    batch: usize,
    /// The runs of this connector the store keeps (older records are pruned).
    #[arg(long, value_name = "N", default_value_t = crate::executor::run::DEFAULT_KEEP_RUNS)]
    keep_runs: u64,
    /// now() for the whole run, RFC 3339 (default: the time the run starts).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The default time zone (default: the connector's `zone`, else UTC).
    #[arg(long, value_name = "TZ")]
    tz: Option<String>,
    /// Set a resource limit, e.g. --limit steps=10000 (repeatable; see `sluice explain E311`).
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
    /// The engine (auto: native code for stdin and inputs of 1 MiB or more when it compiles any formula, else the interpreter).
    #[arg(long, value_enum, default_value_t = crate::native::Engine::Auto)]
    engine: crate::native::Engine,
    /// Be one worker of a partitioned run: the --input file is cut into N partitions (a
    /// paged API source without --input: partitions of N pages, added until its end is
    /// found) that every worker started with the same command (on any machine) claims
    /// from the PostgreSQL store until all are done.
    #[arg(long, value_name = "N")]
    partitions: Option<u64>,
    /// Run the scheduled occurrence SLOT (e.g. 2026-11-24T02:00) unless another worker
    /// runs or ran it: of all the workers given the same slot, one runs it (PostgreSQL).
    #[arg(long, value_name = "SLOT")]
    slot: Option<String>,
    /// How long a worker's claim on a partition or a slot lasts without a commit or a
    /// heartbeat (250ms, 30s, 2m); a worker that dies loses its claims after it.
    /// (default: the connector's `[sync] lease`, else 30s)
    #[arg(long, value_name = "DURATION")]
    lease: Option<String>,
    /// Follow the inbound message stream: keep reading when it has nothing new, storing
    /// each message as it arrives, until SIGTERM or Ctrl-C.
    #[arg(long)]
    follow: bool,
}

/// Runs `sluice run`.
pub fn run_run(args: RunArgs) -> i32 {
    let (
        limits,
        Prepared {
            file,
            transform,
            reverse,
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
    let store = match store_of(args.store.clone(), &file) {
        Ok(store) => store,
        Err(diag) => {
            report_plain(diag);
            return EXIT_RUNTIME;
        }
    };
    let sharing = match sharing_of(&args, &file.connector) {
        Ok(sharing) => sharing,
        Err(diag) => {
            report_plain(diag);
            return EXIT_COMPILE;
        }
    };
    let slot = args.slot.clone().unwrap_or_default();
    let args_follow = args.follow;
    let stop = Arc::new(AtomicUsize::new(0));
    for signal in [SIGTERM, SIGINT] {
        if let Err(e) =
            signal_hook::flag::register_usize(signal, Arc::clone(&stop), signal as usize)
        {
            eprintln!("warning: cannot handle signal {signal}: {e}; it will stop the run at once");
        }
    }
    let options = RunOptions {
        limits,
        engine: args.engine,
        input: args.input.or_else(|| file.inbound_path()),
        output: args.output,
        store,
        dead_letter: args.dead_letter,
        retry_dead_letters: args.retry_dead_letters,
        from_start: args.from_start,
        batch: args.batch.max(1),
        progress: std::io::stderr().is_terminal(),
        now,
        tz,
        stop,
        partition: None,
        keep_runs: args.keep_runs,
        follow: args_follow.then(Arc::default),
        live: None,
    };
    let transform = Arc::new(transform);
    let reverse = reverse.map(|(file, transform)| (file, Arc::new(transform)));
    // the way back's own dead letters go to its default file (the engine clears the input)
    let back_options = RunOptions {
        dead_letter: None,
        follow: None,
        ..options.clone()
    };
    let syncable = Syncable {
        file: &file,
        transform: &transform,
        back: reverse
            .as_ref()
            .map(|(file, transform)| (file, transform, back_options)),
    };
    let result = match sync(&syncable, &options, &sharing) {
        Ok(Synced::Ran { forward, back }) => {
            if let Some(back) = back {
                eprintln!("{}", back.summary());
            }
            Ok(*forward)
        }
        Ok(Synced::Partitions(shared)) => {
            return partitions_done(shared.finished, shared.all_done, &options);
        }
        Ok(Synced::SlotHeld(owner)) => {
            eprintln!(
                "slot {slot} of `{}` is being run by {owner}: nothing to do",
                file.connector.name
            );
            return EXIT_OK;
        }
        Ok(Synced::SlotDone) => {
            eprintln!(
                "slot {slot} of `{}` was run already: nothing to do",
                file.connector.name
            );
            return EXIT_OK;
        }
        Err(diag) => Err(diag),
    };
    match result {
        Ok(report) => {
            match report.resumed_after_line {
                Some(line) if report.metrics.noop => eprintln!(
                    "nothing new: the input has no records after line {line}, where the last run ended"
                ),
                Some(line) => eprintln!("resumed from the checkpoint after input line {line}"),
                None => {}
            }
            eprintln!("{}", report.summary());
            if let Some(line) = report.incomplete_line {
                eprintln!(
                    "line {line} is not complete yet (no line break at the end of the file); \
                     it is read by the next run once it is"
                );
            }
            match report.stopped_by {
                // a signal is how a run that follows a stream ends: all it read is stored
                Some(_) if args_follow => EXIT_OK,
                Some(signal) => {
                    let name = if signal == SIGINT as usize {
                        "SIGINT"
                    } else {
                        "SIGTERM"
                    };
                    let resume = match report.checkpoint_line {
                        Some(line) => format!(
                            "the checkpoint is at line {line}; run the same command to resume"
                        ),
                        None => "the output holds the records read so far, each whole; this \
                                 input keeps no checkpoint, so run it again from the start"
                            .to_string(),
                    };
                    report_plain(crate::diagnostics::Diag::new(
                        crate::diagnostics::codes::E613_STOPPED,
                        format!("stopped by {name}: {resume}"),
                    ));
                    128 + i32::try_from(signal).unwrap_or(15)
                }
                None => EXIT_OK,
            }
        }
        Err(diag) if diag.code == crate::diagnostics::codes::E613_STOPPED => {
            // stopped while a request waited to be retried: nothing of the batch in hand
            // was committed, and the checkpoint is where the last commit left it
            let signal = options.stop.load(std::sync::atomic::Ordering::SeqCst);
            report_plain(diag);
            128 + i32::try_from(signal).unwrap_or(15)
        }
        Err(diag) => {
            report_plain(diag);
            EXIT_RUNTIME
        }
    }
}

/// How this run shares its work: `--partitions N`, `--slot SLOT` (each under `--lease`),
/// else the connector's `[sync] partitions` for a store-bound run of a file or an API
/// (not `--output`, stdin or a retry of dead letters), else alone.
fn sharing_of(
    args: &RunArgs,
    connector: &crate::transform::connector::Connector,
) -> Result<Sharing, crate::diagnostics::Diag> {
    let lease = || match &args.lease {
        Some(text) => lease_of(text),
        None => Ok(connector.sync.lease()),
    };
    if let Some(count) = args.partitions {
        return Ok(Sharing::Partitions {
            count,
            lease: lease()?,
        });
    }
    if let Some(slot) = &args.slot {
        return Ok(Sharing::Slot {
            slot: slot.clone(),
            lease: lease()?,
        });
    }
    let store_bound = args.output.is_none()
        && args.input.as_deref().is_none_or(|i| i != "-")
        && !args.retry_dead_letters;
    match (store_bound, Sharing::of(connector)?) {
        (true, Sharing::Partitions { count, .. }) => Ok(Sharing::Partitions {
            count,
            lease: lease()?,
        }),
        _ => Ok(Sharing::Alone),
    }
}

/// The end of this worker's share of a partitioned run: its exit code.
fn partitions_done(finished: usize, all_done: bool, options: &RunOptions) -> i32 {
    if all_done {
        eprintln!("this worker finished {finished} partition(s); every partition is done");
        return EXIT_OK;
    }
    report_plain(crate::diagnostics::Diag::new(
        crate::diagnostics::codes::E613_STOPPED,
        format!(
            "stopped by a signal after finishing {finished} partition(s); the partition in \
             hand keeps its checkpoint, and any worker finishes it"
        ),
    ));
    128 + i32::try_from(options.stop.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(15)
}

/// `--lease` as a duration.
fn lease_of(text: &str) -> Result<std::time::Duration, crate::diagnostics::Diag> {
    crate::transform::connection::parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            crate::diagnostics::Diag::new(
                crate::diagnostics::codes::E610_INVALID_SETTING,
                format!("--lease `{text}` is not a duration such as 30s"),
            )
        })
}

/// The store of a run: `--store`, else the connector's `[store] url`, else
/// `$SLUICE_STORE`, else `sluice.db`.
fn store_of(
    flag: Option<PathBuf>,
    file: &ConnectorFile,
) -> Result<PathBuf, crate::diagnostics::Diag> {
    if let Some(path) = flag {
        return Ok(path);
    }
    if let Some(settings) = &file.connector.store {
        return settings.resolve().map(PathBuf::from);
    }
    Ok(std::env::var_os("SLUICE_STORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)))
}

/// Parses the `--limit` settings and compiles the connector under them; the exit code
/// when either fails (the problem is already reported).
pub(super) fn prepare(
    connector: &std::path::Path,
    settings: &[String],
) -> Result<(crate::limits::Limits, Prepared), i32> {
    let limits = crate::limits::Limits::from_settings(settings).map_err(|e| {
        report_plain(crate::diagnostics::Diag::from(&e));
        EXIT_COMPILE
    })?;
    let compiled = load_and_compile(connector, &limits).ok_or(EXIT_COMPILE)?;
    Ok((limits, compiled))
}

/// `--now`, or the current time; the exit code when it does not parse (reported).
pub(super) fn now_of(arg: Option<&str>) -> Result<chrono::DateTime<chrono::FixedOffset>, i32> {
    match arg.map(parse_now).transpose() {
        Ok(n) => Ok(n.unwrap_or_else(|| Utc::now().fixed_offset())),
        Err(d) => {
            report_plain(d);
            Err(EXIT_COMPILE)
        }
    }
}

/// The zone of a run: `--tz`, else the connector's `zone`, else UTC; the exit code when
/// `--tz` does not name a zone (reported).
pub(super) fn zone_of(file: &ConnectorFile, arg: Option<&str>) -> Result<chrono_tz::Tz, i32> {
    match arg.map(parse_tz).transpose() {
        Ok(tz) => Ok(file.connector.zone_or(tz)),
        Err(d) => {
            report_plain(d);
            Err(EXIT_COMPILE)
        }
    }
}
