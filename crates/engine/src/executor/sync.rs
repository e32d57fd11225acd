//! One sync: a connector's way in, then — for a bidirectional connector whose way in ran to
//! its end into the store — its way back; alone, as this worker's share of a partitioned
//! run, or as one occurrence (slot) of a schedule. `sluice run` and `sluice serve` both
//! come here, so the rules of the way back are written once.

use std::sync::Arc;
#[cfg(feature = "postgres")]
use std::time::Duration;

use crate::diagnostics::Diag;
use crate::executor::run::{run, RunOptions, RunReport};
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;

/// A connector ready to sync.
pub struct Syncable<'a> {
    /// The connector.
    pub file: &'a ConnectorFile,
    /// Its compiled transform.
    pub transform: &'a Arc<Transform>,
    /// Its way back (a bidirectional connector's `[reverse]`), with the options of that run.
    pub back: Option<(&'a ConnectorFile, &'a Arc<Transform>, RunOptions)>,
}

/// How this worker shares the run with others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharing {
    /// It runs alone.
    Alone,
    /// Partitions of the input (or of a paged API), claimed one after another through the
    /// PostgreSQL store, each held under a lease.
    #[cfg(feature = "postgres")]
    Partitions {
        /// How many partitions.
        count: u64,
        /// How long a claim lasts without a heartbeat.
        lease: Duration,
    },
    /// One scheduled occurrence, run by one worker of all those asked.
    #[cfg(feature = "postgres")]
    Slot {
        /// The occurrence's name.
        slot: String,
        /// How long a claim lasts without a heartbeat.
        lease: Duration,
    },
}

impl Sharing {
    /// How the runs of `connector` share their work when the command line does not say:
    /// by its `[sync] partitions` (under its `lease`), else alone.
    pub fn of(connector: &crate::transform::connector::Connector) -> Result<Sharing, Diag> {
        match connector.sync.partitions {
            None => Ok(Sharing::Alone),
            #[cfg(feature = "postgres")]
            Some(count) => Ok(Sharing::Partitions {
                count,
                lease: connector.sync.lease(),
            }),
            #[cfg(not(feature = "postgres"))]
            Some(_) => Err(Diag::new(
                crate::diagnostics::codes::E610_INVALID_SETTING,
                "[sync] partitions needs a PostgreSQL store, and this build of Sluice has no PostgreSQL support (feature `postgres`)",
            )),
        }
    }
}

/// What a sync did.
#[derive(Debug)]
pub enum Synced {
    /// The way in ran, and the way back when there is one and the way in allowed it.
    Ran {
        /// The way in.
        forward: Box<RunReport>,
        /// The way back.
        back: Option<Box<RunReport>>,
    },
    /// This worker's share of a partitioned run.
    #[cfg(feature = "postgres")]
    Partitions(Box<crate::executor::workers::SharedRun>),
    /// Another worker (named) runs this slot.
    SlotHeld(String),
    /// This slot was run already.
    SlotDone,
}

/// Syncs `connector` under `opts`, shared with other workers as `sharing` says.
pub fn sync(connector: &Syncable, opts: &RunOptions, sharing: &Sharing) -> Result<Synced, Diag> {
    match sharing {
        Sharing::Alone => {
            let (forward, back) = both_ways(connector, opts)?;
            Ok(Synced::Ran {
                forward: Box::new(forward),
                back: back.map(Box::new),
            })
        }
        #[cfg(feature = "postgres")]
        Sharing::Partitions { count, lease } => {
            let shared = crate::executor::workers::run_partitioned(
                connector.file,
                connector.transform,
                opts,
                ((*count).max(1), *lease),
            )?;
            Ok(Synced::Partitions(Box::new(shared)))
        }
        #[cfg(feature = "postgres")]
        Sharing::Slot { slot, lease } => {
            use crate::executor::workers::SlotOutcome;
            match crate::executor::workers::run_slot(
                connector.file,
                connector.transform,
                opts,
                (slot, *lease),
            )? {
                SlotOutcome::Ran(forward) => Ok(Synced::Ran {
                    forward,
                    back: None,
                }),
                SlotOutcome::Held(owner) => Ok(Synced::SlotHeld(owner)),
                SlotOutcome::Done => Ok(Synced::SlotDone),
            }
        }
    }
}

/// The way in, then the way back when there is one and the way in allowed it: a sync alone.
pub fn both_ways(
    connector: &Syncable,
    opts: &RunOptions,
) -> Result<(RunReport, Option<RunReport>), Diag> {
    let forward = run(connector.file, connector.transform, opts)?;
    let back = way_back(connector, opts, &forward)?;
    Ok((forward, back))
}

/// The way back, when the connector has one and the way in ran to its end into the store:
/// not after a signal stopped it, not when it wrote to an output instead of the store, not
/// when it only retried dead letters.
fn way_back(
    connector: &Syncable,
    opts: &RunOptions,
    forward: &RunReport,
) -> Result<Option<RunReport>, Diag> {
    let Some((file, transform, back_opts)) = &connector.back else {
        return Ok(None);
    };
    if forward.stopped_by.is_some() || opts.output.is_some() || opts.retry_dead_letters {
        return Ok(None);
    }
    let back_opts = RunOptions {
        input: None,
        output: None,
        from_start: false,
        retry_dead_letters: false,
        partition: None,
        ..back_opts.clone()
    };
    run(file, transform, &back_opts).map(Some)
}
