//! `sluice review`: the conflicts waiting for a person, and their decisions.

use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, Subcommand};

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::store::sync::{Decision, ReviewFilter};
use crate::store::Store;

/// Arguments of `sluice review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: ReviewCommand,
    /// The store: an SQLite file, or a postgres:// URL (default: $SLUICE_STORE, else sluice.db).
    #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE, global = true)]
    store: PathBuf,
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// List pending conflicts (one JSON object per line).
    List {
        /// Include accepted, rejected and lost ones.
        #[arg(long, conflicts_with = "lost")]
        all: bool,
        /// Only the records that lost a conflict (fentu_wins, most_recent): the stored
        /// record differed and the rule kept it.
        #[arg(long)]
        lost: bool,
    },
    /// Apply the incoming record of a conflict (a pending one, or one that was lost).
    Accept {
        /// The review id.
        id: i64,
    },
    /// Keep the stored record and close the conflict.
    Reject {
        /// The review id.
        id: i64,
    },
}

/// The reviews `sluice review list` shows for its flags.
fn which(all: bool, lost: bool) -> ReviewFilter {
    match (all, lost) {
        (true, _) => ReviewFilter::All,
        (false, true) => ReviewFilter::Lost,
        (false, false) => ReviewFilter::Pending,
    }
}

/// Runs `sluice review`.
pub fn run_review(args: ReviewArgs) -> i32 {
    let mut store = match Store::open_existing(&args.store) {
        Ok(s) => s,
        Err(e) => {
            report_plain(e.to_diag());
            return EXIT_RUNTIME;
        }
    };
    let result = match args.command {
        ReviewCommand::List { all, lost } => store.reviews(which(all, lost)).map(|reviews| {
            for r in reviews {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            }
            true
        }),
        ReviewCommand::Accept { id } => store.decide_review(id, &Decision::Take, Utc::now()),
        ReviewCommand::Reject { id } => store.decide_review(id, &Decision::Keep, Utc::now()),
    };
    match result {
        Ok(true) => EXIT_OK,
        Ok(false) => {
            eprintln!("error: no pending review with that id");
            EXIT_COMPILE
        }
        Err(e) => {
            report_plain(e.to_diag());
            EXIT_RUNTIME
        }
    }
}
