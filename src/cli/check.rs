//! `sluice check CONNECTOR` and `sluice export CONNECTOR`.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_COMPILE, EXIT_OK};
use crate::executor::prepare::{Prepared, Unprepared};
use crate::transform::connector::ConnectorProblem;
use crate::transform::connector_file::ConnectorFile;

/// Arguments naming a connector file.
#[derive(Debug, Args)]
pub struct ConnectorArg {
    /// The connector file (TOML, or JSON by extension).
    connector: PathBuf,
}

/// Loads and compiles a connector (and its way back) as a run would, printing every
/// problem; `None` when there were any.
pub fn load_and_compile(
    path: &std::path::Path,
    limits: &crate::limits::Limits,
) -> Option<Prepared> {
    match crate::executor::prepare::load(path, limits) {
        Ok(prepared) => Some(prepared),
        Err(Unprepared { path, problems }) => {
            print_problems(&path, &problems);
            None
        }
    }
}

fn print_problems(path: &str, problems: &[ConnectorProblem]) {
    for p in problems {
        eprint!("{}", p.render(path));
    }
    eprintln!(
        "{path}: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
}

/// Runs `sluice check`.
pub fn run_check(args: ConnectorArg) -> i32 {
    match load_and_compile(&args.connector, &crate::limits::Limits::default()) {
        Some(Prepared {
            file, transform, ..
        }) => {
            println!(
                "{}: ok ({} conditions, {} mappings)",
                file.path,
                transform.conditions.len(),
                transform.mappings.len()
            );
            EXIT_OK
        }
        None => EXIT_COMPILE,
    }
}

/// Runs `sluice export`: the connector as JSON, credentials redacted.
pub fn run_export(args: ConnectorArg) -> i32 {
    let file = match ConnectorFile::load(&args.connector) {
        Ok(f) => f,
        Err(problems) => {
            print_problems(&args.connector.display().to_string(), &problems);
            return EXIT_COMPILE;
        }
    };
    match serde_json::to_string_pretty(&file.connector.redacted()) {
        Ok(json) => {
            println!("{json}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot write the connector as JSON: {e}");
            EXIT_COMPILE
        }
    }
}
