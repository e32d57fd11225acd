//! `sluice check CONNECTOR` and `sluice export CONNECTOR`.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_COMPILE, EXIT_OK};
use crate::transform::connector::{ConnectorFile, ConnectorProblem};
use crate::transform::Transform;

/// Arguments naming a connector file.
#[derive(Debug, Args)]
pub struct ConnectorArg {
    /// The connector file (TOML, or JSON by extension).
    connector: PathBuf,
}

/// Loads and compiles a connector, printing every problem; `None` when there were any.
pub fn load_and_compile(
    path: &std::path::Path,
    limits: &crate::limits::Limits,
) -> Option<(ConnectorFile, Transform)> {
    let file = match ConnectorFile::load(path) {
        Ok(f) => f,
        Err(problems) => {
            print_problems(&path.display().to_string(), &problems);
            return None;
        }
    };
    let transform = match Transform::compile(&file, limits) {
        Ok(t) => t,
        Err(problems) => {
            print_problems(&file.path, &problems);
            return None;
        }
    };
    if let Some(reverse) = file.reverse_file() {
        if let Err(problems) = Transform::compile(&reverse, limits) {
            print_problems(&reverse.path, &problems);
            return None;
        }
    }
    Some((file, transform))
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
        Some((file, t)) => {
            println!(
                "{}: ok ({} conditions, {} mappings)",
                file.path,
                t.conditions.len(),
                t.mappings.len()
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
