//! `sluice eval`: one formula, one record, one line of JSON.

use std::io::Read;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use clap::Args;

use super::{report, report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::compile::{compile, CompileOptions};
use crate::diagnostics::{codes, Diag, Report};
use crate::executor::lookups::StoreLookups;
use crate::executor::store::Store;
use crate::interp::Interpreter;
use crate::jit::JitTransform;
use crate::runtime::{Ctx, Lookups};
use crate::transform::{Outcome as TransformOutcome, Transform};
use crate::value::{parse_record, JsonError, Value};

/// The store used when no --store is given.
pub const DEFAULT_STORE: &str = "sluice.db";

/// Arguments of `sluice eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The record as JSON, or @FILE to read it from a file (@- for stdin).
    #[arg(long, value_name = "JSON_OR_@FILE")]
    record: Option<String>,
    /// The Connect Object store used by lookups: an SQLite file or a postgres:// URL.
    #[arg(long, value_name = "DB", env = "SLUICE_STORE")]
    store: Option<String>,
    /// The instant now() returns, RFC 3339 (default: the current time).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The default time zone (IANA name; default UTC).
    #[arg(long, value_name = "TZ")]
    tz: Option<String>,
    /// Set a resource limit, e.g. --limit steps=10000 (repeatable).
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
    /// The engine (auto: the interpreter, for a one-off evaluation).
    #[arg(long, value_enum, default_value_t = super::Engine::Auto)]
    engine: super::Engine,
    /// The formula (one starting with `-`, such as `-round(2.5)`, is taken as it is).
    #[arg(allow_hyphen_values = true)]
    formula: String,
}

/// Runs `sluice eval`.
pub fn run(args: EvalArgs) -> i32 {
    let settings = match Settings::from_args(&args) {
        Ok(s) => s,
        Err(diag) => {
            report_plain(diag);
            return EXIT_COMPILE;
        }
    };
    let outcome = evaluate(&args.formula, &settings);
    if let Some(line) = &outcome.stdout {
        println!("{line}");
    }
    if let Some(diags) = &outcome.report {
        report(diags);
    }
    outcome.exit
}

/// What `sluice eval` prints and returns.
pub struct Outcome {
    /// The exit code.
    pub exit: i32,
    /// The JSON line for stdout, on success.
    pub stdout: Option<String>,
    /// The diagnostics for stderr, on failure.
    pub report: Option<Report>,
}

/// Compiles and evaluates `formula` against the settings' record.
pub fn evaluate(formula: &str, settings: &Settings) -> Outcome {
    let failure = |exit, diags| Outcome {
        exit,
        stdout: None,
        report: Some(Report {
            source_name: "formula".to_string(),
            source: formula.to_string(),
            diags,
        }),
    };
    let options = CompileOptions {
        limits: settings.limits,
        ..CompileOptions::default()
    };
    let compiled = match compile(formula, &options) {
        Ok(f) => f,
        Err(diags) => return failure(EXIT_COMPILE, diags),
    };
    let lookups = match settings.open_store() {
        Ok(l) => l,
        Err(diag) => return failure(EXIT_COMPILE, vec![diag]),
    };
    let mut ctx = Ctx::new(&settings.record);
    ctx.now = settings.now;
    ctx.tz = settings.tz;
    ctx.lookups = lookups.as_ref().map(|l| l as &dyn Lookups);
    ctx.limits = settings.limits;
    let result = match settings.engine {
        super::Engine::Jit => {
            let transform = std::sync::Arc::new(Transform::single(formula, compiled.ir));
            let outcome = match JitTransform::compile(transform) {
                Ok(jit) => jit.apply(&mut Interpreter::new(), &ctx),
                Err(e) => {
                    return failure(
                        EXIT_RUNTIME,
                        vec![Diag::new(codes::E312_JIT, e.to_string())],
                    );
                }
            };
            match outcome {
                TransformOutcome::Mapped(mut values) => Ok(values.pop().unwrap_or(Value::Null)),
                TransformOutcome::Failed { error, .. } => Err(error),
                TransformOutcome::Filtered(_) => Ok(Value::Null),
            }
        }
        _ => Interpreter::new().eval(&compiled.ir, &ctx),
    };
    match result {
        Ok(value) => Outcome {
            exit: EXIT_OK,
            stdout: Some(value.to_json()),
            report: None,
        },
        Err(err) => failure(EXIT_RUNTIME, vec![err.to_diag()]),
    }
}

/// The evaluation settings read from the command line.
pub struct Settings {
    /// The record.
    pub record: Value,
    /// now()
    pub now: DateTime<FixedOffset>,
    /// The default time zone.
    pub tz: Tz,
    /// The store: an explicit path must exist; without one, `sluice.db` is used when present.
    pub store: Option<PathBuf>,
    /// Resource limits.
    pub limits: crate::limits::Limits,
    /// The engine.
    pub engine: super::Engine,
}

impl Settings {
    /// Settings for `record` with a fixed clock and zone.
    pub fn new(record: Value, now: DateTime<FixedOffset>, tz: Tz) -> Self {
        Settings {
            record,
            now,
            tz,
            store: None,
            limits: crate::limits::Limits::default(),
            engine: super::Engine::Interp,
        }
    }

    /// Opens the store for lookups: the explicit one (which must exist), else `sluice.db`
    /// in the working directory when it exists, else none.
    pub fn open_store(&self) -> Result<Option<StoreLookups>, Diag> {
        let path = match &self.store {
            Some(p) => p.clone(),
            None => {
                let default = PathBuf::from(DEFAULT_STORE);
                if !default.exists() {
                    return Ok(None);
                }
                default
            }
        };
        Store::open_existing(&path)
            .map(|s| Some(StoreLookups::new(s)))
            .map_err(|e| e.to_diag())
    }

    fn from_args(args: &EvalArgs) -> Result<Settings, Diag> {
        let record = match &args.record {
            None => Value::object(Default::default()),
            Some(text) => read_record(text)?,
        };
        let now = match &args.now {
            None => Utc::now().fixed_offset(),
            Some(text) => parse_now(text)?,
        };
        let tz = match &args.tz {
            None => Tz::UTC,
            Some(name) => parse_tz(name)?,
        };
        let limits =
            crate::limits::Limits::from_settings(&args.limits).map_err(|e| Diag::from(&e))?;
        Ok(Settings {
            record,
            now,
            tz,
            store: args.store.as_ref().map(PathBuf::from),
            limits,
            engine: args.engine,
        })
    }
}

/// Parses `--now`.
pub fn parse_now(text: &str) -> Result<DateTime<FixedOffset>, Diag> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        Diag::new(
            codes::E504_INVALID_NOW,
            format!("--now '{text}' is not an RFC 3339 instant: {e}"),
        )
        .help("for example 2024-05-01T12:00:00Z")
    })
}

/// Parses `--tz`.
pub fn parse_tz(name: &str) -> Result<Tz, Diag> {
    name.parse::<Tz>().map_err(|_| {
        Diag::new(
            codes::E505_UNKNOWN_TIMEZONE,
            format!("unknown time zone '{name}'"),
        )
        .help("use an IANA name such as Europe/Berlin, or UTC")
    })
}

/// Reads `--record`: inline JSON, `@FILE`, or `@-` for stdin.
pub fn read_record(arg: &str) -> Result<Value, Diag> {
    let text = match arg.strip_prefix('@') {
        Some("-") => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .map_err(|e| Diag::new(codes::E506_READ_FILE, format!("cannot read stdin: {e}")))?;
            buf
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Diag::new(codes::E506_READ_FILE, format!("cannot read {path}: {e}")))?,
        None => arg.to_string(),
    };
    parse_record(&text).map_err(|e| record_diag(&e))
}

/// A record error as a diagnostic.
pub fn record_diag(err: &JsonError) -> Diag {
    let code = match err {
        JsonError::Syntax { .. } => codes::E501_RECORD_JSON,
        JsonError::NotAnObject { .. } => codes::E502_RECORD_NOT_OBJECT,
        JsonError::NumberOutOfRange { .. } => codes::E503_RECORD_NUMBER,
    };
    Diag::new(code, format!("record: {err}"))
}
