//! `sluice explain CODE`: the page of an error code.

use clap::Args;

use super::{EXIT_COMPILE, EXIT_OK};
use crate::diagnostics::codes;

/// Arguments of `sluice explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code, e.g. E101.
    code: String,
}

/// Runs `sluice explain`.
pub fn run(args: ExplainArgs) -> i32 {
    match codes::lookup(&args.code) {
        Some(code) => {
            println!("{}: {}\n\n{}", code.id, code.title, code.explanation);
            EXIT_OK
        }
        None => {
            eprintln!(
                "error: no such error code '{}'; codes run from E001 to E599, e.g. E101",
                args.code
            );
            EXIT_COMPILE
        }
    }
}
