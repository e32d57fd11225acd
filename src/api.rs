//! The embedding API: compile a formula or a whole connector once into a [`Program`], then
//! apply it to many records, from any number of threads, with an explicit [`Context`].
//!
//! ```
//! use sluice::{Context, Output, Program};
//!
//! let program = Program::compile("concat(data('first'), ' ', upper(data('last')))")?;
//! let ctx = Context::at("2024-05-01T12:00:00Z")?;
//! let out = program.execute(&serde_json::json!({"first": "Ada", "last": "Lovelace"}), &ctx)?;
//! assert_eq!(out, Output::Mapped(serde_json::json!({"result": "Ada LOVELACE"}).as_object().unwrap().clone()));
//! # Ok::<(), sluice::Error>(())
//! ```

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::diagnostics::{codes, render_plain, Diag, Report};
use crate::interp::Interpreter;
use crate::runtime::{Ctx, EvalError};
use crate::transform::connector::{Connector, ConnectorFile};
use crate::transform::source::parse_line;
use crate::transform::{Outcome, Transform};
use crate::value::{value_from_json, Map, Value};

pub use crate::limits::Limits;
pub use crate::native::Engine;

/// A compiled formula or connector: its conditions and mappings as typed IR, and native
/// code when the engine asks for it. Cheap to clone and to share between threads.
///
/// ```
/// let program = sluice::Program::compile("1 + 2")?;
/// let worker = program.clone(); // shares the compiled code
/// std::thread::spawn(move || worker.targets().count()).join().unwrap();
/// # Ok::<(), sluice::Error>(())
/// ```
#[derive(Clone)]
pub struct Program {
    transform: Arc<Transform>,
    jit: Option<Arc<crate::native::Native>>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("targets", &self.targets().collect::<Vec<_>>())
            .field("native", &self.jit.is_some())
            .finish()
    }
}

/// How to compile: the schema of the records, the limits, the engine.
///
/// ```
/// let options = sluice::Options {
///     schema: vec![("Qty".into(), "number".into())],
///     ..Default::default()
/// };
/// let program = sluice::Program::compile_with("data('Qty') * 2", &options)?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Field name → type (`string`, `number`, `boolean`, `date`, `datetime`, `array`,
    /// `object`, `any`) of the records; makes checks static and typed fields conform.
    pub schema: Vec<(String, String)>,
    /// Resource limits.
    pub limits: Limits,
    /// `Interp`, `Jit`, or `Auto` (the JIT when built with the `jit` feature and it
    /// compiles at least one formula natively, else the interpreter).
    pub engine: Engine,
}

/// One output field of a connector built in code: copied, static, or computed.
///
/// ```
/// use sluice::{Mapping, Program};
/// let program = Program::from_mappings(
///     &["data('Type') = 'C'"],
///     &[("id", Mapping::Field("Code")), ("source", Mapping::Raw("SAP".into())), ("name", Mapping::Formula("proper(data('Name'))"))],
///     &Default::default(),
/// )?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum Mapping<'a> {
    /// Copy this source field (a path is allowed).
    Field(&'a str),
    /// A static value.
    Raw(serde_json::Value),
    /// A formula.
    Formula(&'a str),
}

/// What an evaluation sees besides the record: the instant of `now()`, the time zone,
/// lookups into Connect Objects, limits. Nothing is read from the clock or the disk.
///
/// ```
/// let ctx = sluice::Context::at("2024-05-01T12:00:00+02:00")?.with_zone("Europe/Berlin")?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    /// `now()`.
    pub now: DateTime<FixedOffset>,
    /// The default time zone (`today()`, local date times).
    pub zone: Tz,
    /// Lookups (`vlookup`, `findvalue` over stored objects, ...); none: they fail (E307).
    pub lookups: Option<Arc<dyn ObjectLookups>>,
    /// Resource limits at run time.
    pub limits: Limits,
}

/// Connect Object lookups an embedder provides (for example over its own database).
///
/// ```
/// struct NoObjects;
/// impl sluice::ObjectLookups for NoObjects {
///     fn latest_equal(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<Option<serde_json::Value>, String> { Ok(None) }
///     fn oldest_containing(&self, _: &str, _: &str, _: &str) -> Result<Option<serde_json::Value>, String> { Ok(None) }
///     fn all_matching(&self, _: &str, _: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<serde_json::Value>, String> { Ok(vec![]) }
/// }
/// let mut ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
/// ctx.lookups = Some(std::sync::Arc::new(NoObjects));
/// # Ok::<(), sluice::Error>(())
/// ```
pub trait ObjectLookups: Send + Sync {
    /// The most recently updated object of type `object` whose `field` equals `value`.
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, String>;
    /// The least recently updated object whose text `field` contains `text`
    /// (case-insensitive).
    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<serde_json::Value>, String>;
    /// Every object matching every pair of `filter`, most recent first.
    fn all_matching(
        &self,
        object: &str,
        filter: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<serde_json::Value>, String>;
}

/// What a program made of one record.
///
/// ```
/// let program = sluice::Program::from_mappings(&["data('ok')"], &[("x", sluice::Mapping::Field("x"))], &Default::default())?;
/// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
/// assert_eq!(program.execute(&serde_json::json!({"ok": false}), &ctx)?, sluice::Output::Filtered { condition: 0 });
/// # Ok::<(), sluice::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The output fields, in mapping order.
    Mapped(serde_json::Map<String, serde_json::Value>),
    /// Condition `condition` (0-based) did not hold.
    Filtered {
        /// Which condition.
        condition: usize,
    },
}

/// A compile or run-time error: its code (`sluice explain CODE`), message, where it is,
/// and the diagnostic rendered as text.
///
/// ```
/// let err = sluice::Program::compile("'a' * 2").err().unwrap();
/// assert_eq!(err.code, "E101");
/// assert_eq!(err.span, Some(0..3));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", .0.code, .0.message)]
pub struct Error(Box<ErrorDetail>);

/// What an [`Error`] says (an `Error` dereferences to it).
///
/// ```
/// let err = sluice::Program::compile("1 +").err().unwrap();
/// let detail: &sluice::ErrorDetail = &err;
/// assert_eq!(detail.code, "E005");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    /// The error code, such as `E101`.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The byte range in the formula, when known.
    pub span: Option<Range<usize>>,
    /// The mapping target whose formula failed.
    pub target: Option<String>,
    /// The condition (0-based) that failed.
    pub condition: Option<usize>,
    /// Every diagnostic, rendered as text (compile errors may hold several).
    pub rendered: String,
}

impl std::ops::Deref for Error {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl Error {
    fn from_diags(source_name: &str, source: &str, diags: Vec<Diag>) -> Error {
        let first = diags
            .first()
            .cloned()
            .unwrap_or_else(|| Diag::new(codes::E004_UNEXPECTED_TOKEN, "invalid formula"));
        Error(Box::new(ErrorDetail {
            code: first.code.id,
            message: first.message.clone(),
            span: first.labels.first().map(|(s, _)| s.start..s.end),
            target: None,
            condition: None,
            rendered: render_plain(&Report {
                source_name: source_name.to_string(),
                source: source.to_string(),
                diags,
            }),
        }))
    }

    fn input(code: crate::diagnostics::Code, message: String) -> Error {
        Error(Box::new(ErrorDetail {
            code: code.id,
            rendered: format!("{}: {message}", code.id),
            message,
            span: None,
            target: None,
            condition: None,
        }))
    }
}

impl Program {
    /// Compiles one formula; its value is the output field `result`.
    ///
    /// ```
    /// let program = sluice::Program::compile("round(2.345, 2)")?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn compile(formula: &str) -> Result<Program, Error> {
        Program::compile_with(formula, &Options::default())
    }

    /// Compiles one formula with options.
    ///
    /// ```
    /// let options = sluice::Options { engine: sluice::Engine::Interp, ..Default::default() };
    /// let program = sluice::Program::compile_with("today()", &options)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn compile_with(formula: &str, options: &Options) -> Result<Program, Error> {
        Program::from_mappings(&[], &[("result", Mapping::Formula(formula))], options)
    }

    /// Compiles conditions and mappings given in code.
    ///
    /// ```
    /// let program = sluice::Program::from_mappings(&[], &[("total", sluice::Mapping::Formula("data('q') * data('p')"))], &Default::default())?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn from_mappings(
        conditions: &[&str],
        mappings: &[(&str, Mapping)],
        options: &Options,
    ) -> Result<Program, Error> {
        let mut object = crate::transform::connector::ObjectSchema::default();
        for (field, ty) in &options.schema {
            object.fields.insert(field.clone(), ty.clone());
        }
        let mut objects = indexmap::IndexMap::new();
        if !options.schema.is_empty() {
            objects.insert("input".to_string(), object);
        }
        let side = |object: Option<&str>| crate::transform::connector::Side {
            system: "ndjson".to_string(),
            active: true,
            object: object.map(str::to_string),
            entity: None,
            query_filter: None,
            primary_key: None,
            credentials: Default::default(),
            connection: None,
            path: None,
        };
        let connector = Connector {
            name: "program".to_string(),
            description: None,
            conditions: conditions.iter().map(|c| c.to_string()).collect(),
            inbound: side(Some("input")),
            outbound: side(None),
            sync: Default::default(),
            mappings: mappings
                .iter()
                .map(|(target, m)| crate::transform::connector::Mapping {
                    target: target.to_string(),
                    field: match m {
                        Mapping::Field(f) => Some(f.to_string()),
                        _ => None,
                    },
                    raw: match m {
                        Mapping::Raw(v) => Some(v.clone()),
                        _ => None,
                    },
                    formula: match m {
                        Mapping::Formula(f) => Some(f.to_string()),
                        _ => None,
                    },
                })
                .collect(),
            objects,
            zone: None,
            store: None,
            reverse: None,
            back_of: None,
        };
        let file = ConnectorFile {
            path: "program".to_string(),
            text: String::new(),
            connector,
        };
        Program::from_file(&file, options)
    }

    /// Compiles a connector written as TOML.
    ///
    /// ```
    /// let text = std::fs::read_to_string("examples/customers.toml").unwrap();
    /// let program = sluice::Program::from_toml(&text, &Default::default())?;
    /// assert_eq!(program.targets().next(), Some("erp_id"));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn from_toml(text: &str, options: &Options) -> Result<Program, Error> {
        Program::from_text(text, false, options)
    }

    /// Compiles a connector written as JSON (the structure `sluice export` prints).
    ///
    /// ```
    /// let json = r#"{"name": "n", "inbound": {"type": "ndjson"}, "outbound": {"type": "ndjson"},
    ///   "mappings": [{"target": "id", "field": "Code"}]}"#;
    /// let program = sluice::Program::from_json(json, &Default::default())?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn from_json(text: &str, options: &Options) -> Result<Program, Error> {
        Program::from_text(text, true, options)
    }

    fn from_text(text: &str, is_json: bool, options: &Options) -> Result<Program, Error> {
        let file = ConnectorFile::from_text("connector", text, is_json)
            .map_err(|problems| problems_error(text, &problems))?;
        Program::from_file(&file, options)
    }

    fn from_file(file: &ConnectorFile, options: &Options) -> Result<Program, Error> {
        let transform = Transform::compile(file, &options.limits)
            .map_err(|problems| problems_error(&file.text, &problems))?;
        let transform = Arc::new(transform);
        let jit = match options.engine {
            Engine::Interp => None,
            Engine::Auto if !cfg!(feature = "jit") => None,
            Engine::Jit | Engine::Auto => Some(Arc::new(
                crate::native::compile(Arc::clone(&transform))
                    .map_err(|e| Error::input(codes::E312_JIT, e.to_string()))?,
            ))
            .filter(|n| options.engine == Engine::Jit || crate::native::compiles_anything(n)),
        };
        Ok(Program { transform, jit })
    }

    /// The output fields, in order.
    ///
    /// ```
    /// let program = sluice::Program::compile("1")?;
    /// assert_eq!(program.targets().collect::<Vec<_>>(), ["result"]);
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.transform.mappings.iter().map(|m| &*m.target)
    }

    /// Applies the program to a record (a JSON object).
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a') + 1")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// let out = program.execute(&serde_json::json!({"a": 0.5}), &ctx)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute(&self, record: &serde_json::Value, ctx: &Context) -> Result<Output, Error> {
        let mut record = value_from_json(record, "record")
            .map_err(|e| Error::input(codes::E503_RECORD_NUMBER, e.to_string()))?;
        if !matches!(record, Value::Object(_)) {
            return Err(Error::input(
                codes::E502_RECORD_NOT_OBJECT,
                format!(
                    "a record must be a JSON object, found {}",
                    record.type_name()
                ),
            ));
        }
        self.transform
            .conform_record(&mut record, ctx.zone)
            .map_err(|e| Error::input(e.code, e.message))?;
        self.apply(&record, None, ctx)
    }

    /// Applies the program to a map of fields.
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a')")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// let mut fields = serde_json::Map::new();
    /// fields.insert("a".into(), "x".into());
    /// program.execute_map(&fields, &ctx)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute_map(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
        ctx: &Context,
    ) -> Result<Output, Error> {
        self.execute(&serde_json::Value::Object(fields.clone()), ctx)
    }

    /// Applies the program to one NDJSON line (raw bytes): only the fields the program
    /// reads are parsed, under the record limits of the context.
    ///
    /// ```
    /// let program = sluice::Program::compile("upper(data('a'))")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// program.execute_ndjson(br#"{"a": "x", "big": [1, 2, 3]}"#, &ctx)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute_ndjson(&self, line: &[u8], ctx: &Context) -> Result<Output, Error> {
        let mut slots = Vec::new();
        let parsed = parse_line(
            line,
            &ctx.limits,
            self.transform.input_fields.as_deref(),
            self.transform.slot_fields.as_deref(),
            &mut slots,
        )
        .and_then(|record| match record {
            Some(mut v) => self
                .transform
                .conform_record(&mut v, ctx.zone)
                .map(|()| Some(v)),
            None => self
                .transform
                .conform_slots(&mut slots, ctx.zone)
                .map(|()| None),
        })
        .map_err(|e| Error::input(e.code, e.message))?;
        match parsed {
            Some(record) => self.apply(&record, None, ctx),
            None => self.apply(&Value::Null, Some(&slots), ctx),
        }
    }

    fn apply(
        &self,
        record: &Value,
        slots: Option<&[Option<Value>]>,
        context: &Context,
    ) -> Result<Output, Error> {
        let adapter = context.lookups.as_deref().map(LookupsAdapter);
        let ctx = Ctx {
            record,
            now: context.now,
            tz: context.zone,
            lookups: adapter.as_ref().map(|a| a as &dyn crate::runtime::Lookups),
            slots,
            limits: context.limits,
        };
        let mut interp = Interpreter::new();
        let outcome = match &self.jit {
            Some(jit) => jit.apply(&mut interp, &ctx),
            None => self.transform.apply(&mut interp, &ctx),
        };
        match outcome {
            Outcome::Mapped(values) => Ok(Output::Mapped(
                self.targets()
                    .zip(values)
                    .map(|(t, v)| (t.to_string(), to_json(&v)))
                    .collect(),
            )),
            Outcome::Filtered(condition) => Ok(Output::Filtered { condition }),
            Outcome::Failed {
                target,
                condition,
                error,
            } => {
                let source = self
                    .transform
                    .failed_formula(target.as_deref(), condition)
                    .map_or("", |(_, f)| f.source.as_str());
                let mut err = Error::from_diags("formula", source, vec![error.to_diag()]);
                err.0.target = target.map(|t| t.to_string());
                err.0.condition = condition;
                Err(err)
            }
        }
    }
}

impl Context {
    /// A context whose `now()` is the RFC 3339 instant `now`, in UTC, without lookups.
    ///
    /// ```
    /// let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn at(now: &str) -> Result<Context, Error> {
        let now = DateTime::parse_from_rfc3339(now)
            .map_err(|e| Error::input(codes::E504_INVALID_NOW, format!("`{now}`: {e}")))?;
        Ok(Context {
            now,
            zone: Tz::UTC,
            lookups: None,
            limits: Limits::default(),
        })
    }

    /// The same context in the IANA time zone `zone`.
    ///
    /// ```
    /// let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?.with_zone("America/New_York")?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn with_zone(mut self, zone: &str) -> Result<Context, Error> {
        self.zone = zone.parse().map_err(|_| {
            Error::input(
                codes::E505_UNKNOWN_TIMEZONE,
                format!("unknown time zone `{zone}`"),
            )
        })?;
        Ok(self)
    }
}

fn problems_error(text: &str, problems: &[crate::transform::connector::ConnectorProblem]) -> Error {
    let first = problems.first();
    Error(Box::new(ErrorDetail {
        code: first.map_or(codes::E601_CONNECTOR_SYNTAX.id, |p| p.diag.code.id),
        message: first.map_or_else(String::new, |p| p.diag.message.clone()),
        span: first
            .and_then(|p| p.diag.labels.first())
            .map(|(s, _)| s.start..s.end),
        target: None,
        condition: None,
        rendered: problems
            .iter()
            .map(|p| {
                p.render(if text.is_empty() {
                    "program"
                } else {
                    "connector"
                })
            })
            .collect(),
    }))
}

/// A value as JSON (numbers exactly as they are).
fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
        other => serde_json::from_str(&other.to_json()).unwrap_or(serde_json::Value::Null),
    }
}

/// An embedder's [`ObjectLookups`] as the runtime's lookups.
struct LookupsAdapter<'a>(&'a dyn ObjectLookups);

fn lookup_error(message: String) -> EvalError {
    EvalError::new(codes::E307_LOOKUP, message)
}

fn from_json(value: serde_json::Value) -> Result<Value, EvalError> {
    value_from_json(&value, "lookup").map_err(|e| lookup_error(e.to_string()))
}

impl crate::runtime::Lookups for LookupsAdapter<'_> {
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, EvalError> {
        self.0
            .latest_equal(object, field, &to_json(value))
            .map_err(lookup_error)?
            .map(from_json)
            .transpose()
    }

    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, EvalError> {
        self.0
            .oldest_containing(object, field, text)
            .map_err(lookup_error)?
            .map(from_json)
            .transpose()
    }

    fn all_matching(&self, object: &str, filter: &Map) -> Result<Vec<Value>, EvalError> {
        let filter = filter
            .iter()
            .map(|(k, v)| (k.to_string(), to_json(v)))
            .collect();
        self.0
            .all_matching(object, &filter)
            .map_err(lookup_error)?
            .into_iter()
            .map(from_json)
            .collect()
    }
}
