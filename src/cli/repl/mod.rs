//! `sluice repl`: write and test formulas against sample records.

mod helper;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use super::eval::DEFAULT_STORE;
use super::{EXIT_COMPILE, EXIT_OK};
use crate::compile::{compile, CompileOptions};
use crate::connections::file::CsvSource;
use crate::diagnostics::{render, Diag, Report};
use crate::driver::Driver;
use crate::runtime::{Ctx, Lookups};
use crate::stdlib;
use crate::store::lookups::StoreLookups;
use crate::store::Store;
use crate::transform::connector_file::ConnectorFile;
use crate::transform::{MappingKind, Transform};
use crate::value::Value;
use helper::{Continuation, Fed, ReplHelper, COMMANDS, CONTINUATION_HINT};

/// Arguments of `sluice repl`.
#[derive(Debug, Args)]
pub struct ReplArgs {
    /// Sample records: NDJSON, or CSV by extension.
    #[arg(long, value_name = "SAMPLES")]
    input: Option<PathBuf>,
    /// A connector: its schema types data(), and :mappings / :conditions use it.
    #[arg(long, value_name = "FILE")]
    connector: Option<PathBuf>,
    /// The store used by lookups.
    #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// now() for the session, RFC 3339.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The default time zone (default: the connector's `zone`, else UTC).
    #[arg(long, value_name = "TZ")]
    tz: Option<String>,
}

/// The state of a REPL session: samples, the current record, the connector.
pub struct Session {
    samples: Vec<Sample>,
    current: usize,
    connector: Option<(ConnectorFile, Transform)>,
    options: CompileOptions,
    lookups: Option<StoreLookups>,
    driver: Driver,
    now: DateTime<FixedOffset>,
    tz: chrono_tz::Tz,
    color: bool,
}

/// What one input produced: text for stdout and diagnostics for stderr.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    /// Normal output.
    pub out: String,
    /// Rendered diagnostics.
    pub err: String,
    /// The session should end.
    pub quit: bool,
}

impl Reply {
    fn out(text: impl Into<String>) -> Reply {
        Reply {
            out: text.into(),
            ..Reply::default()
        }
    }

    fn err(text: impl Into<String>) -> Reply {
        Reply {
            err: text.into(),
            ..Reply::default()
        }
    }
}

impl Session {
    /// A session over `samples`, with an optional connector.
    pub fn new(
        samples: Vec<Sample>,
        connector: Option<(ConnectorFile, Transform)>,
        store: &Path,
        now: DateTime<FixedOffset>,
        tz: Option<chrono_tz::Tz>,
        color: bool,
    ) -> Self {
        let tz = match &connector {
            Some((f, _)) => f.connector.zone_or(tz),
            None => tz.unwrap_or(chrono_tz::Tz::UTC),
        };
        let options = CompileOptions {
            schema: connector
                .as_ref()
                .and_then(|(f, _)| f.connector.inbound_schema()),
            ..CompileOptions::default()
        };
        Session {
            samples,
            current: 0,
            connector,
            options,
            lookups: Store::open_existing(store).ok().map(StoreLookups::new),
            driver: Driver::new(),
            now,
            tz,
            color,
        }
    }

    fn record(&self) -> Value {
        self.samples
            .get(self.current)
            .map(|s| s.record.clone())
            .unwrap_or_else(|| Value::object(Default::default()))
    }

    /// Field names for completion: the current record's and the schema's.
    pub fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.samples.get(self.current).map(|s| &s.record) {
            Some(Value::Object(map)) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        };
        if let Some(schema) = &self.options.schema {
            for k in schema.fields.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        names
    }

    fn render(&self, source: &str, diags: Vec<Diag>) -> String {
        render(
            &Report {
                source_name: "input".to_string(),
                source: source.to_string(),
                diags,
            },
            self.color,
        )
    }

    fn eval_on(&mut self, text: &str, record: &Value) -> Result<Value, String> {
        let compiled = compile(text, &self.options).map_err(|d| self.render(text, d))?;
        let ctx = session_ctx(record, self.now, self.tz, self.lookups.as_ref());
        self.driver
            .eval(&compiled.ir, &ctx)
            .map_err(|e| self.render(text, vec![e.to_diag()]))
    }

    /// Handles one input: a command or a formula.
    pub fn handle(&mut self, input: &str) -> Reply {
        let line = input.trim();
        if line.is_empty() {
            return Reply::default();
        }
        if let Some(command) = line.strip_prefix(':') {
            let (name, arg) = command
                .split_once(char::is_whitespace)
                .unwrap_or((command, ""));
            return self.command(name, arg.trim());
        }
        let record = self.record();
        match self.eval_on(input, &record) {
            Ok(v) => Reply::out(format!("{} : {}\n", v.to_json(), v.type_name())),
            Err(e) => Reply::err(e),
        }
    }

    fn position(&self) -> String {
        if self.samples.is_empty() {
            "no sample records (use --input or :load FILE); formulas run against {}\n".to_string()
        } else {
            format!(
                "record {} of {} (input line {})\n",
                self.current + 1,
                self.samples.len(),
                self.samples.get(self.current).map_or(0, |s| s.line)
            )
        }
    }

    fn command(&mut self, name: &str, arg: &str) -> Reply {
        match name {
            "quit" | "q" | "exit" => Reply {
                quit: true,
                ..Reply::default()
            },
            "next" | "n" => {
                if self.current + 1 < self.samples.len() {
                    self.current += 1;
                }
                Reply::out(format!("{}{}\n", self.position(), self.record().to_json()))
            }
            "prev" | "p" => {
                self.current = self.current.saturating_sub(1);
                Reply::out(format!("{}{}\n", self.position(), self.record().to_json()))
            }
            "record" | "r" => {
                if !arg.is_empty() {
                    match arg.parse::<usize>() {
                        Ok(n) if n >= 1 && n <= self.samples.len() => self.current = n - 1,
                        _ => {
                            return Reply::err(format!(
                                "no record {arg}: there are {} (1-based)\n",
                                self.samples.len()
                            ))
                        }
                    }
                }
                Reply::out(format!("{}{}\n", self.position(), self.record().to_json()))
            }
            "load" => match load_samples(Path::new(arg), self.options.schema.clone()) {
                Ok(samples) => {
                    self.samples = samples;
                    self.current = 0;
                    Reply::out(format!(
                        "loaded {} records from {arg}\n",
                        self.samples.len()
                    ))
                }
                Err(e) => Reply::err(format!("{e}\n")),
            },
            "help" | "h" => Reply::out(help(arg)),
            "type" | "t" => match compile(arg, &self.options) {
                Ok(f) => Reply::out(format!("{}\n", f.ir.ty)),
                Err(d) => Reply::err(self.render(arg, d)),
            },
            "ir" => match compile(arg, &self.options) {
                Ok(f) => Reply::out(f.ir.dump()),
                Err(d) => Reply::err(self.render(arg, d)),
            },
            "clif" => match compile(arg, &self.options) {
                Ok(f) => {
                    let transform = std::sync::Arc::new(Transform::single(arg, f.ir));
                    let reply = match crate::jit::JitTransform::compile_with_clif(transform) {
                        Ok(jit) => Reply::out(format!(
                            "{}; {} bytes of machine code, compiled in {:.2} ms\n",
                            jit.clif.as_deref().unwrap_or_default(),
                            jit.code_bytes,
                            jit.compile_time.as_secs_f64() * 1000.0
                        )),
                        Err(e) => Reply::err(format!("{e}\n")),
                    };
                    reply
                }
                Err(d) => Reply::err(self.render(arg, d)),
            },
            "all" | "a" => {
                let mut reply = Reply::default();
                for (i, sample) in self.samples.clone().iter().enumerate() {
                    let at = format!("{} (line {})", i + 1, sample.line);
                    match self.eval_on(arg, &sample.record) {
                        Ok(v) => reply.out.push_str(&format!("{at}: {}\n", v.to_json())),
                        Err(e) => {
                            reply.out.push_str(&format!("{at}: error\n"));
                            reply.err.push_str(&e);
                        }
                    }
                }
                reply
            }
            "mappings" | "m" => self.mappings(),
            "conditions" | "c" => self.conditions(),
            other => Reply::err(format!(
                "unknown command :{other}; :help lists the commands\n"
            )),
        }
    }

    fn mappings(&mut self) -> Reply {
        let Some((_, transform)) = &self.connector else {
            return Reply::err("no connector: start with --connector FILE\n");
        };
        let record = self.record();
        let mut reply = Reply::default();
        let ctx = session_ctx(&record, self.now, self.tz, self.lookups.as_ref());
        for m in &transform.mappings {
            let result = match &m.kind {
                MappingKind::Field(p) => Ok(p.read(&record)),
                MappingKind::Raw(v) => Ok(v.clone()),
                MappingKind::Formula(f) => self
                    .driver
                    .eval(&f.ir, &ctx)
                    .map_err(|e| (f.source.clone(), e)),
            };
            match result {
                Ok(v) => reply
                    .out
                    .push_str(&format!("{} = {}\n", m.target, v.to_json())),
                Err((source, e)) => {
                    reply
                        .out
                        .push_str(&format!("{} = error {}\n", m.target, e.code.id));
                    reply.err.push_str(&render(
                        &Report {
                            source_name: format!("mapping {}", m.target),
                            source,
                            diags: vec![e.to_diag()],
                        },
                        self.color,
                    ));
                }
            }
        }
        reply
    }

    fn conditions(&mut self) -> Reply {
        let Some((_, transform)) = &self.connector else {
            return Reply::err("no connector: start with --connector FILE\n");
        };
        let record = self.record();
        let ctx = session_ctx(&record, self.now, self.tz, self.lookups.as_ref());
        let mut reply = Reply::default();
        if transform.conditions.is_empty() {
            reply
                .out
                .push_str("the connector has no conditions: every record syncs\n");
        }
        for (i, c) in transform.conditions.iter().enumerate() {
            let verdict = match self.driver.eval(&c.ir, &ctx) {
                Ok(Value::Bool(true)) => "pass".to_string(),
                Ok(Value::Bool(false)) => "FAIL".to_string(),
                Ok(Value::Null) => "FAIL (null)".to_string(),
                Ok(other) => format!("error: not boolean ({})", other.type_name()),
                Err(e) => format!("error {}: {}", e.code.id, e.message),
            };
            reply
                .out
                .push_str(&format!("{}. {} : {verdict}\n", i + 1, c.source));
        }
        reply
    }
}

/// The evaluation context of the REPL: the current record, the session's `now` and zone,
/// the store when one is open, default limits.
fn session_ctx<'a>(
    record: &'a Value,
    now: DateTime<FixedOffset>,
    tz: chrono_tz::Tz,
    lookups: Option<&'a StoreLookups>,
) -> Ctx<'a> {
    let mut ctx = Ctx::new(record);
    ctx.now = now;
    ctx.tz = tz;
    ctx.lookups = lookups.map(|l| l as &dyn Lookups);
    ctx
}

fn help(arg: &str) -> String {
    if arg.is_empty() {
        let mut out = String::from(
            "Type a formula to evaluate it against the current record.\n\nCommands:\n",
        );
        for (c, doc) in COMMANDS {
            out.push_str(&format!("  {c:<12} {doc}\n"));
        }
        let names: Vec<&str> = stdlib::all().map(|f| f.name).collect();
        out.push_str(&format!(
            "\nFunctions ({}): {}\n",
            names.len(),
            names.join(", ")
        ));
        return out;
    }
    match stdlib::lookup(arg) {
        Some(f) => super::functions::describe(f),
        None => match COMMANDS
            .iter()
            .find(|(c, _)| c.trim_start_matches(':') == arg.trim_start_matches(':'))
        {
            Some((c, doc)) => format!("{c}: {doc}\n"),
            None => format!("no function or command named '{arg}'\n"),
        },
    }
}

/// A sample record and the input line it starts on.
#[derive(Debug, Clone)]
pub struct Sample {
    /// 1-based line in the sample file.
    pub line: u64,
    /// The record.
    pub record: Value,
}

/// Reads sample records: NDJSON, or CSV by extension (typed by the schema). Records that
/// cannot be read are skipped and reported on stderr.
pub fn load_samples(
    path: &Path,
    schema: Option<crate::value::Schema>,
) -> Result<Vec<Sample>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.display();
    let mut records = Vec::new();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        for r in CsvSource::new(bytes.as_slice(), schema, 0) {
            let r = r.map_err(|e| e.to_string())?;
            match r.record {
                Ok(record) => records.push(Sample {
                    line: r.line,
                    record,
                }),
                Err(e) => eprintln!("skipped {name}:{}: {e}", r.line),
            }
        }
    } else {
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match std::str::from_utf8(line)
                .map_err(|e| e.to_string())
                .and_then(|t| crate::value::parse_record(t).map_err(|e| e.to_string()))
            {
                Ok(record) => records.push(Sample {
                    line: i as u64 + 1,
                    record,
                }),
                Err(e) => eprintln!("skipped {name}:{}: {e}", i + 1),
            }
        }
    }
    Ok(records)
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("SLUICE_HISTORY")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".sluice_history")))
}

/// Runs `sluice repl`.
pub fn run(args: ReplArgs) -> i32 {
    let now = match args.now.as_deref().map(super::eval::parse_now).transpose() {
        Ok(n) => n.unwrap_or_else(|| Utc::now().fixed_offset()),
        Err(d) => {
            super::report_plain(d);
            return EXIT_COMPILE;
        }
    };
    let tz = match args.tz.as_deref().map(super::eval::parse_tz).transpose() {
        Ok(tz) => tz,
        Err(d) => {
            super::report_plain(d);
            return EXIT_COMPILE;
        }
    };
    let connector = match &args.connector {
        Some(path) => match super::check::load_and_compile(path, &crate::limits::Limits::default())
        {
            Some(c) => Some((c.file, c.transform)),
            None => return EXIT_COMPILE,
        },
        None => None,
    };
    let schema = connector
        .as_ref()
        .and_then(|(f, _)| f.connector.inbound_schema());
    let sample_path = args
        .input
        .clone()
        .or_else(|| connector.as_ref().and_then(|(f, _)| f.sample_path()));
    let samples = match &sample_path {
        Some(path) => match load_samples(path, schema) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_COMPILE;
            }
        },
        None => Vec::new(),
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut session = Session::new(
        samples,
        connector,
        &args.store,
        now,
        tz,
        terminal && std::env::var_os("NO_COLOR").is_none(),
    );
    if terminal {
        interactive(&mut session)
    } else {
        piped(&mut session)
    }
}

/// Lines from a pipe: each formula (continued over lines while brackets are open) gives one
/// result line on stdout; diagnostics go to stderr.
fn piped(session: &mut Session) -> i32 {
    let stdin = std::io::stdin();
    let mut lines = Continuation::default();
    let mut handle = |input: &str| {
        let reply = session.handle(input);
        print!("{}", reply.out);
        eprint!("{}", reply.err);
        reply.quit
    };
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if let Fed::Input(input) = lines.feed(&line) {
            if handle(&input) {
                return EXIT_OK;
            }
        }
    }
    let rest = lines.take();
    if !rest.trim().is_empty() {
        handle(&rest);
    }
    EXIT_OK
}

fn interactive(session: &mut Session) -> i32 {
    let config = Config::builder().auto_add_history(true).build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return EXIT_COMPILE;
        }
    };
    editor.set_helper(Some(ReplHelper::default()));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!("sluice repl: type a formula, :help for help, Ctrl-D to leave");
    print!("{}", session.position());
    let mut lines = Continuation::default();
    loop {
        if let Some(h) = editor.helper() {
            *h.fields.borrow_mut() = session.field_names();
        }
        match editor.readline(lines.prompt()) {
            Ok(line) => match lines.feed(&line) {
                Fed::Input(input) => {
                    let reply = session.handle(&input);
                    print!("{}", reply.out);
                    eprint!("{}", reply.err);
                    if reply.quit {
                        break;
                    }
                }
                Fed::More { first: true } => println!("{CONTINUATION_HINT}"),
                Fed::More { first: false } | Fed::Nothing => {}
            },
            Err(ReadlineError::Interrupted) => {
                lines.take();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    EXIT_OK
}
