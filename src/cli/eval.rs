//! `sluice eval`: one formula, one record, one line of JSON.

use std::io::Read;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use clap::Args;

use std::sync::{Arc, Mutex};

use super::{report, report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::diagnostics::{codes, Diag, Report};
use crate::runtime::Lookups;
use crate::store::lookups::StoreLookups;
use crate::store::Store;
use crate::value::{parse_record, JsonError, Value};
use crate::{Context, ErrorKind, ObjectLookups, Options, Output, Program};

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

/// Compiles and evaluates `formula` against the settings' record, through the embedding
/// API (so the golden files, which run this, test the API under both engines).
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
    let options = Options {
        limits: settings.limits,
        engine: match settings.engine {
            super::Engine::Jit => super::Engine::Jit,
            _ => super::Engine::Interp,
        },
        ..Options::default()
    };
    let program = match Program::compile_with(formula, &options) {
        Ok(program) => program,
        Err(e) if e.kind == ErrorKind::Engine => return failure(EXIT_RUNTIME, e.diags()),
        Err(e) => return failure(EXIT_COMPILE, e.diags()),
    };
    let mut ctx = Context::at_instant(settings.now);
    ctx.zone = settings.tz;
    match settings.open_store() {
        Ok(Some(lookups)) => ctx.lookups = Some(Arc::new(StoreAsLookups(Mutex::new(lookups)))),
        Ok(None) => {}
        Err(diag) => return failure(EXIT_COMPILE, vec![diag]),
    }
    match program.execute(&settings.record, &ctx) {
        Ok(Output::Mapped(fields)) => Outcome {
            exit: EXIT_OK,
            stdout: Some(fields.get("result").unwrap_or(&Value::Null).to_json()),
            report: None,
        },
        Ok(_) => Outcome {
            exit: EXIT_OK,
            stdout: Some(Value::Null.to_json()),
            report: None,
        },
        Err(e) => failure(EXIT_RUNTIME, e.diags()),
    }
}

/// The store's lookups as the API's: one evaluation at a time (a store connection is not
/// shared between threads), a failure's message kept (E307 either way).
struct StoreAsLookups(Mutex<StoreLookups>);

impl StoreAsLookups {
    fn with<T>(
        &self,
        call: impl FnOnce(&StoreLookups) -> Result<T, crate::runtime::EvalError>,
    ) -> Result<T, String> {
        let store = self.0.lock().map_err(|e| e.to_string())?;
        call(&store).map_err(|e| e.message.clone())
    }
}

impl ObjectLookups for StoreAsLookups {
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, String> {
        self.with(|s| s.latest_equal(object, field, value))
    }

    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, String> {
        self.with(|s| s.oldest_containing(object, field, text))
    }

    fn all_matching(&self, object: &str, filter: &crate::value::Map) -> Result<Vec<Value>, String> {
        self.with(|s| s.all_matching(object, filter))
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
