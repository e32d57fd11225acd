//! Runs shared by several workers through a PostgreSQL store, without a coordinator:
//! `sluice run --partitions N` (this process claims partitions of the input one after
//! another until every one is done, waiting while others hold the last ones; a worker that
//! died loses its lease and its partition comes round again) and `sluice run --slot SLOT`
//! (of all the workers asked to run a scheduled occurrence, one does).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostics::{codes, Diag};
use crate::executor::partitions::{self, Claim};
use crate::executor::run::{run, RunOptions, RunReport};
use crate::executor::slots::{Heartbeat, SlotClaim};
use crate::seams::open_leases;
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;

/// How long a worker with nothing to claim waits before asking again.
const IDLE: Duration = Duration::from_millis(200);

/// What became of a run asked for a slot.
pub enum SlotOutcome {
    /// This worker ran it.
    Ran(Box<crate::executor::run::RunReport>),
    /// Another worker (named) is running it.
    Held(String),
    /// It was run already.
    Done,
}

/// Runs the connector for the scheduled occurrence `slot`, unless another worker runs or
/// ran it: a lease on (connector, slot), kept alive by a heartbeat while the run lasts.
pub fn run_slot(
    file: &ConnectorFile,
    transform: &Arc<Transform>,
    opts: &RunOptions,
    (slot, lease): (&str, Duration),
) -> Result<SlotOutcome, Diag> {
    let mut store = open_leases(&opts.store, "--slot")?;
    let connector = &file.connector.name;
    let owner = partitions::worker_name();
    match store.claim_slot(connector, slot, &owner, lease)? {
        SlotClaim::Held(other) => return Ok(SlotOutcome::Held(other)),
        SlotClaim::Done => return Ok(SlotOutcome::Done),
        SlotClaim::Mine => {}
    }
    let beating = store.reopen()?;
    let heartbeat = Heartbeat::start(
        beating,
        (connector.clone(), slot.to_string(), owner.clone()),
        lease,
        Arc::clone(&opts.stop),
    );
    let report = run(file, transform, opts)?;
    drop(heartbeat);
    if report.stopped_by.is_none() {
        store.finish_slot(connector, slot, &owner)?;
    }
    Ok(SlotOutcome::Ran(Box::new(report)))
}

/// The key and page size of the inbound side's paged API, which partitions of pages can
/// split: `skip` or `page` paging, where any page can be asked for by its number.
fn paged_source(file: &ConnectorFile, opts: &RunOptions) -> Result<(String, u64), Diag> {
    let side = &file.connector.inbound;
    let connection = match &side.connection {
        Some(c) if matches!(c.paging.as_str(), "skip" | "page") => c,
        _ => {
            return Err(Diag::new(
                codes::E610_INVALID_SETTING,
                "--partitions without --input needs an inbound [connection] with paging = \"skip\" or \"page\" (pages a worker can ask for by number)",
            ))
        }
    };
    Ok((
        paged_key(&file.connector.name, side, connection, opts)?,
        connection.page_size.unwrap_or(100),
    ))
}

/// The input key of a paged API source.
#[cfg(feature = "http")]
fn paged_key(
    connector_name: &str,
    side: &crate::transform::connector::Side,
    connection: &crate::transform::connection::Connection,
    opts: &RunOptions,
) -> Result<String, Diag> {
    let vault = crate::connections::http::oauth::Vault {
        store: opts.store.clone(),
        connector: connector_name.to_string(),
        side: "inbound".to_string(),
    };
    let client = crate::connections::http::client_of("inbound", side, &opts.stop, vault)?;
    let source = crate::connections::http::source::HttpSource::new(side, connection, client);
    Ok(crate::seams::Source::key(&source).to_string())
}

/// Without the `http` feature there is no paged API to partition.
#[cfg(not(feature = "http"))]
fn paged_key(
    _: &str,
    _: &crate::transform::connector::Side,
    _: &crate::transform::connection::Connection,
    _: &RunOptions,
) -> Result<String, Diag> {
    Err(Diag::new(
        codes::E610_INVALID_SETTING,
        "this build of Sluice has no REST connections (feature `http`)",
    ))
}

/// What one worker of a partitioned run did.
#[derive(Debug)]
pub struct SharedRun {
    /// Partitions it finished.
    pub finished: usize,
    /// Whether every partition is done.
    pub all_done: bool,
    /// Its partitions' runs as one report, when it ran any.
    pub report: Option<RunReport>,
}

/// Runs partitions of `opts.input` until all are done (or a signal stops this worker):
/// what this worker did; a diagnostic when the run cannot be partitioned or a partition
/// fails.
pub fn run_partitioned(
    file: &ConnectorFile,
    transform: &Arc<Transform>,
    opts: &RunOptions,
    (count, lease): (u64, Duration),
) -> Result<SharedRun, Diag> {
    let mut store = open_leases(&opts.store, "--partitions")?;
    if opts.output.is_some() || opts.input.as_deref() == Some("-") {
        return Err(Diag::new(
            codes::E610_INVALID_SETTING,
            "--partitions splits an --input file or a paged API source for a store-bound run (no --output, not stdin)",
        ));
    }
    let connector = &file.connector.name;
    let (key, per_partition) = match opts.input.as_deref() {
        Some(input) => {
            let key = std::fs::canonicalize(input)
                .map_err(|e| Diag::new(codes::E506_READ_FILE, format!("cannot open {input}: {e}")))?
                .display()
                .to_string();
            if opts.from_start {
                store.forget_partitions(connector, &key)?;
            }
            let cuts = partitions::split(std::path::Path::new(input), count).map_err(|e| {
                Diag::new(codes::E506_READ_FILE, format!("cannot read {input}: {e}"))
            })?;
            store.ensure_partitions(connector, &key, &cuts)?;
            (key, None)
        }
        None => {
            let (key, page_size) = paged_source(file, opts)?;
            if opts.from_start {
                store.forget_partitions(connector, &key)?;
            }
            (key, Some(count * page_size))
        }
    };
    let owner = partitions::worker_name();
    let mut shared = SharedRun {
        finished: 0,
        all_done: false,
        report: None,
    };
    loop {
        if opts.stop.load(Ordering::SeqCst) != 0 {
            return Ok(shared);
        }
        let claim = store.claim_partition(connector, &key, &owner, lease)?;
        if matches!(claim, Claim::Done | Claim::Wait)
            && per_partition.is_some()
            && store.extend_partitions(connector, &key, count)?
        {
            continue;
        }
        match claim {
            Claim::Done => {
                shared.all_done = true;
                return Ok(shared);
            }
            Claim::Wait => std::thread::sleep(IDLE),
            Claim::Partition(partition, held) => {
                let part_opts = RunOptions {
                    partition: Some((partition, held.clone())),
                    from_start: false,
                    ..opts.clone()
                };
                let report = match run(file, transform, &part_opts) {
                    Ok(report) => report,
                    Err(diag) if diag.code == codes::E707_LEASE_LOST => {
                        eprintln!("partition {}: {}", partition.part, diag.message);
                        continue;
                    }
                    Err(diag) => return Err(diag),
                };
                eprintln!(
                    "partition {} (bytes {}..{}, from line {}): {}",
                    partition.part,
                    partition.start,
                    partition.end,
                    partition.first_line,
                    report.summary()
                );
                let stopped = report.stopped_by.is_some();
                let short =
                    per_partition.is_some_and(|records| report.metrics.counts.read < records);
                shared.report = Some(match shared.report.take() {
                    Some(earlier) => earlier.merge(report),
                    None => report,
                });
                if stopped {
                    return Ok(shared);
                }
                if short {
                    // A short partition holds the end of the API's records.
                    store.mark_last_partition(&held)?;
                }
                if store.finish_partition(&held)? {
                    shared.finished += 1;
                }
            }
        }
    }
}
