//! A connector made ready to run, once for `sluice check`, `sluice run` and `sluice serve`:
//! loaded, compiled with its way back (`[reverse]`), and checked for what only the sync
//! engine asks — a side type that misspells a known one, a cron schedule that does not
//! parse.

use crate::connections::registry::type_problems;
use crate::diagnostics::{codes, Diag};
use crate::limits::Limits;
use crate::transform::connector::{ConnectorProblem, Frequency};
use crate::transform::connector_file::ConnectorFile;
use crate::transform::Transform;

/// A connector ready to run.
pub struct Prepared {
    /// The connector file.
    pub file: ConnectorFile,
    /// Its conditions and mappings.
    pub transform: Transform,
    /// The way back (`[reverse]`) as a file of its own, compiled.
    pub reverse: Option<(ConnectorFile, Transform)>,
}

/// Why a connector cannot run: the problems, and the file they are in (the connector's, or
/// its way back's).
pub struct Unprepared {
    /// The file the problems are in, as messages name it.
    pub path: String,
    /// Every problem found.
    pub problems: Vec<ConnectorProblem>,
}

/// Loads the connector at `path` and prepares it ([`prepare`]).
pub fn load(path: &std::path::Path, limits: &Limits) -> Result<Prepared, Unprepared> {
    let file = ConnectorFile::load(path).map_err(|problems| Unprepared {
        path: path.display().to_string(),
        problems,
    })?;
    prepare(file, limits)
}

/// Every problem `sluice check` finds in `text`, the connector file at `path` as an editor
/// holds it (saved or not): none when it prepares.
pub fn problems_in(
    path: &str,
    text: &str,
    is_json: bool,
    limits: &Limits,
) -> Vec<ConnectorProblem> {
    match ConnectorFile::from_text(path, text, is_json) {
        Ok(file) => prepare(file, limits)
            .err()
            .map_or_else(Vec::new, |u| u.problems),
        Err(problems) => problems,
    }
}

/// Compiles `file` and its way back, with the engine's own checks; every problem of the
/// first file that has any.
pub fn prepare(file: ConnectorFile, limits: &Limits) -> Result<Prepared, Unprepared> {
    let transform = compile(&file, limits).map_err(|problems| Unprepared {
        path: file.path.clone(),
        problems,
    })?;
    let reverse = match file.reverse_file() {
        Some(reverse) => match compile(&reverse, limits) {
            Ok(compiled) => Some((reverse, compiled)),
            Err(problems) => {
                return Err(Unprepared {
                    path: reverse.path,
                    problems,
                })
            }
        },
        None => None,
    };
    Ok(Prepared {
        file,
        transform,
        reverse,
    })
}

/// Compiles one file, with the engine's problems before the language's.
fn compile(file: &ConnectorFile, limits: &Limits) -> Result<Transform, Vec<ConnectorProblem>> {
    let mut problems = engine_problems(file);
    match Transform::compile(file, limits) {
        Ok(transform) if problems.is_empty() => Ok(transform),
        Ok(_) => Err(problems),
        Err(more) => {
            problems.extend(more);
            Err(problems)
        }
    }
}

/// What the sync engine cannot run: a side type that misspells a known one, a cron
/// schedule that does not parse.
pub fn engine_problems(file: &ConnectorFile) -> Vec<ConnectorProblem> {
    let mut problems = type_problems(file);
    if let Frequency::Cron { cron } = &file.connector.sync.frequency {
        if let Err(why) = cron_schedule(cron) {
            problems.push(ConnectorProblem {
                diag: Diag::new(codes::E610_INVALID_SETTING, format!("cron `{cron}` {why}")).help(
                    "five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"",
                ),
                line: file.line_of("cron"),
                rendered: None,
                formula: None,
            });
        }
    }
    problems
}

/// A five-field cron expression (minute hour day-of-month month day-of-week) as a
/// schedule, or why it is not one.
pub fn cron_schedule(expr: &str) -> Result<cron::Schedule, String> {
    let fields = expr.split_whitespace().count();
    if fields != 5 {
        return Err(format!("has {fields} fields, not five"));
    }
    format!("0 {expr}")
        .parse::<cron::Schedule>()
        .map_err(|e| format!("does not parse: {e}"))
}
