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
            let first = codes::ALL.first().map_or("", |c| c.id);
            let last = codes::ALL.last().map_or("", |c| c.id);
            let hint =
                crate::diagnostics::did_you_mean(&args.code, codes::ALL.iter().map(|c| c.id))
                    .map(|c| format!("; did you mean {c}?"))
                    .unwrap_or_default();
            eprintln!(
                "error: no such error code '{}'{hint}\n  codes run from {first} to {last} in ranges: \
                 E0xx syntax, E1xx types, E2xx functions, E3xx runtime, E5xx input, \
                 E6xx connectors, E7xx the store, E8xx `sluice serve`; `docs/errors.md` lists them all",
                args.code
            );
            EXIT_COMPILE
        }
    }
}
