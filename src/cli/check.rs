//! `sluice check CONNECTOR` and `sluice export CONNECTOR`.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_COMPILE, EXIT_OK};
use crate::transform::connector::ConnectorProblem;
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;

/// Arguments naming a connector file.
#[derive(Debug, Args)]
pub struct ConnectorArg {
    /// The connector file (TOML, or JSON by extension).
    connector: PathBuf,
}

/// A connector compiled: its file and transform, and the way back of a bidirectional one.
pub struct Compiled {
    /// The connector file.
    pub file: ConnectorFile,
    /// Its conditions and mappings.
    pub transform: Transform,
    /// The way back (`[reverse]`) as a file of its own, compiled.
    pub reverse: Option<(ConnectorFile, Transform)>,
}

/// Loads and compiles a connector (and its way back), printing every problem; `None` when
/// there were any.
pub fn load_and_compile(
    path: &std::path::Path,
    limits: &crate::limits::Limits,
) -> Option<Compiled> {
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
    let reverse = match file.reverse_file() {
        Some(reverse) => match Transform::compile(&reverse, limits) {
            Ok(compiled) => Some((reverse, compiled)),
            Err(problems) => {
                print_problems(&reverse.path, &problems);
                return None;
            }
        },
        None => None,
    };
    Some(Compiled {
        file,
        transform,
        reverse,
    })
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
        Some(Compiled {
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
