//! `sluice eval`: one formula, one record, one line of JSON.

use std::io::Read;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use clap::Args;

use super::{report, report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::diagnostics::{codes, Diag, Report};
use crate::interp::Interpreter;
use crate::runtime::Ctx;
use crate::value::{parse_record, JsonError, Value};
use crate::{compile, CompileOptions};

/// Arguments of `sluice eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The record as JSON, or @FILE to read it from a file (@- for stdin).
    #[arg(long, value_name = "JSON_OR_@FILE")]
    record: Option<String>,
    /// The Connect Object store (SQLite file) used by lookups.
    #[arg(long, value_name = "DB")]
    store: Option<String>,
    /// The instant now() returns, RFC 3339 (default: the current time).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The default time zone (IANA name; default UTC).
    #[arg(long, value_name = "TZ")]
    tz: Option<String>,
    /// The formula (put `--` before a formula that starts with `-`).
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
    let source = |diags| Report {
        source_name: "formula".to_string(),
        source: args.formula.clone(),
        diags,
    };
    let formula = match compile(&args.formula, &CompileOptions::default()) {
        Ok(f) => f,
        Err(diags) => {
            report(&source(diags));
            return EXIT_COMPILE;
        }
    };
    let mut ctx = Ctx::new(&settings.record);
    ctx.now = settings.now;
    ctx.tz = settings.tz;
    match Interpreter::new().eval(&formula.ir, &ctx) {
        Ok(value) => {
            println!("{}", value.to_json());
            EXIT_OK
        }
        Err(err) => {
            report(&source(vec![err.to_diag()]));
            EXIT_RUNTIME
        }
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
}

impl Settings {
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
        Ok(Settings { record, now, tz })
    }
}

/// Parses `--now`.
pub fn parse_now(text: &str) -> Result<DateTime<FixedOffset>, Diag> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        Diag::new(codes::E504_INVALID_NOW, format!("--now '{text}' is not an RFC 3339 instant: {e}"))
            .help("for example 2024-05-01T12:00:00Z")
    })
}

/// Parses `--tz`.
pub fn parse_tz(name: &str) -> Result<Tz, Diag> {
    name.parse::<Tz>().map_err(|_| {
        Diag::new(codes::E505_UNKNOWN_TIMEZONE, format!("unknown time zone '{name}'"))
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
