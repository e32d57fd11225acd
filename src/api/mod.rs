//! The embedding API: compile a formula or a whole connector once into a [`Program`], then
//! apply it to many records, from any number of threads, with an explicit [`Context`].
//!
//! ```
//! use sluice::{Context, Output, Program, Value};
//!
//! let program = Program::compile("concat(data('first'), ' ', upper(data('last')))")?;
//! let ctx = Context::at("2024-05-01T12:00:00Z")?;
//! let record = Value::parse_json(r#"{"first": "Ada", "last": "Lovelace"}"#)?;
//! let out = program.execute(&record, &ctx)?;
//! assert_eq!(out.to_json().as_deref(), Some(r#"{"result":"Ada LOVELACE"}"#));
//! # Ok::<(), sluice::Error>(())
//! ```

mod context;
mod error;
mod functions;
mod schema;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::diagnostics::codes;
use crate::driver::{Driver, Workload};
use crate::runtime::Ctx;
use crate::transform::connector::Connector;
use crate::transform::connector_file::ConnectorFile;
use crate::transform::{Outcome, Transform};
use crate::value::{Map, Value};

pub use crate::limits::Limits;
pub use crate::native::Engine;
pub use context::{Context, ObjectLookups};
pub use error::{Error, ErrorDetail, ErrorKind};
pub use functions::{functions, FunctionInfo, Functions, HostFunction};
pub use schema::FieldType;

/// The message a caught panic carries (`no message` when it is not text).
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// What a caught panic of host code says.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    format!("panicked: {}", panic_text(panic))
}

/// What a program made of one record, before it takes the API's shape.
enum Evaluated {
    /// The values of the mappings, in order.
    Mapped(Vec<Value>),
    /// Condition N (from 1) did not hold.
    Filtered(usize),
}

/// What [`Program::write_ndjson`] did with a record.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// It appended the output record.
    Record,
    /// Condition `condition` (counted from 1) did not hold; nothing was appended.
    Filtered {
        /// Which condition.
        condition: usize,
    },
}

/// What evaluating a record needs and can keep for the next one on the same thread: the
/// driver (the interpreter's stack, the mapped values), the slots of the fields read.
#[derive(Default)]
struct Scratch {
    driver: Driver,
    slots: Vec<Option<Value>>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// How many records a program with [`Engine::Auto`] evaluates with the interpreter before
/// it compiles native code (about 5 ms of Cranelift, worth it only for a stream); the same
/// rule as `sluice run`'s (`Engine::wants_native`).
pub use crate::driver::AUTO_NATIVE_AFTER;

/// A compiled formula or connector: its conditions and mappings as typed IR, and native
/// code when the engine asks for it. Cheap to clone and to share between threads (clones
/// share the compiled code and the record count of [`Engine::Auto`]).
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
    limits: Limits,
    engine: Engine,
    /// Native code once decided: `Some(None)` means the interpreter for good.
    native: Arc<OnceLock<Option<Arc<crate::native::Native>>>>,
    /// Records evaluated so far (for [`Engine::Auto`]).
    evaluated: Arc<AtomicU64>,
    /// One formula (`compile`), whose errors name it `formula`.
    single: bool,
    /// Each target as the JSON text that starts its field in an output line.
    prefixes: Arc<[String]>,
}

/// The name a single formula's diagnostics give their source.
const FORMULA: &str = "formula";

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("targets", &self.targets().collect::<Vec<_>>())
            .field("engine", &self.engine)
            .field("native", &self.is_native())
            .finish()
    }
}

/// How to compile: the schema of the records, the limits, the engine, added functions.
///
/// ```
/// let mut options = sluice::Options::default();
/// options.schema = vec![("Qty".into(), sluice::FieldType::Number)];
/// options.engine = sluice::Engine::Interp;
/// let program = sluice::Program::compile_with("data('Qty') * 2", &options)?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Field name and type of the records; makes checks static and typed fields conform.
    pub schema: Vec<(String, FieldType)>,
    /// Resource limits, at compile time and for every evaluation of the program.
    pub limits: Limits,
    /// `Interp`, `Jit`, or `Auto`: the interpreter for the first [`AUTO_NATIVE_AFTER`]
    /// records, then native code if the `jit` feature is built and compiles at least one
    /// formula natively ([`Program::compile_native`] decides at once).
    pub engine: Engine,
    /// Functions the host adds to the language.
    pub functions: Functions,
}

/// One output field of a connector built in code: copied, static, or computed.
///
/// ```
/// use sluice::{Mapping, Program, Value};
/// let program = Program::from_mappings(
///     &["data('Type') = 'C'"],
///     &[("id", Mapping::Field("Code")), ("source", Mapping::Raw(Value::str("SAP"))), ("name", Mapping::Formula("proper(data('Name'))"))],
///     &Default::default(),
/// )?;
/// # Ok::<(), sluice::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Mapping<'a> {
    /// Copy this source field (a path is allowed).
    Field(&'a str),
    /// A static value.
    Raw(Value),
    /// A formula.
    Formula(&'a str),
}

/// What a program made of one record.
///
/// ```
/// let program = sluice::Program::from_mappings(&["data('ok')"], &[("x", sluice::Mapping::Field("x"))], &Default::default())?;
/// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
/// assert_eq!(program.execute_ndjson(br#"{"ok": false}"#, &ctx)?, sluice::Output::Filtered { condition: 1 });
/// # Ok::<(), sluice::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The output fields, in mapping order.
    Mapped(Map),
    /// Condition `condition` (counted from 1) did not hold.
    Filtered {
        /// Which condition.
        condition: usize,
    },
}

impl Output {
    /// The output record as one line of JSON (numbers exactly, fields in mapping order);
    /// `None` when the record was filtered out.
    pub fn to_json(&self) -> Option<String> {
        let Output::Mapped(fields) = self else {
            return None;
        };
        let mut out = String::with_capacity(16 * fields.len() + 2);
        crate::value::write_json_object(fields, &mut out);
        Some(out)
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
    /// let mut options = sluice::Options::default();
    /// options.engine = sluice::Engine::Interp;
    /// let program = sluice::Program::compile_with("today()", &options)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn compile_with(formula: &str, options: &Options) -> Result<Program, Error> {
        let mut program =
            Program::from_mappings(&[], &[("result", Mapping::Formula(formula))], options)
                .map_err(|e| e.in_formula(FORMULA, formula))?;
        program.single = true;
        Ok(program)
    }

    /// Compiles conditions and mappings given in code. Spans of their errors are in the
    /// formula's own text.
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
            object.fields.insert(field.clone(), ty.name().to_string());
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
            table: None,
            stream: None,
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

    /// Compiles a connector written as TOML; spans of its errors are in `text`.
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
            .map_err(|problems| Error::from_problems(text, None, &problems))?;
        Program::from_file(&file, options)
    }

    fn from_file(file: &ConnectorFile, options: &Options) -> Result<Program, Error> {
        let transform = Transform::compile_with(file, &options.limits, &options.functions.0)
            .map_err(|problems| {
                Error::from_problems(&file.text, Some(&file.connector), &problems)
            })?;
        let prefixes = Arc::from(transform.target_prefixes());
        let program = Program {
            transform: Arc::new(transform),
            limits: options.limits,
            engine: options.engine,
            native: Arc::new(OnceLock::new()),
            evaluated: Arc::new(AtomicU64::new(0)),
            single: false,
            prefixes,
        };
        match options.engine {
            Engine::Interp => {
                let _ = program.native.set(None);
            }
            Engine::Jit => {
                let native = crate::native::compile(Arc::clone(&program.transform))
                    .map_err(|e| Error::new(codes::E312_JIT, e.to_string()))?;
                let _ = program.native.set(Some(Arc::new(native)));
            }
            _ => {}
        }
        Ok(program)
    }

    /// Decides now whether this program runs as native code (for [`Engine::Auto`], which
    /// otherwise decides after [`AUTO_NATIVE_AFTER`] records); whether it does. Without the
    /// `jit` feature, or when no formula compiles natively, it is the interpreter.
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a') * 2")?;
    /// let native = program.compile_native();
    /// assert_eq!(native, cfg!(feature = "jit"));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn compile_native(&self) -> bool {
        self.native
            .get_or_init(|| {
                crate::native::compile(Arc::clone(&self.transform))
                    .ok()
                    .filter(crate::native::compiles_anything)
                    .map(Arc::new)
            })
            .is_some()
    }

    /// Whether records are evaluated by native code now.
    pub fn is_native(&self) -> bool {
        matches!(self.native.get(), Some(Some(_)))
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

    /// The top-level fields of a record the program reads (a dotted name as written and by
    /// its first part: a record may hold either); `None` when a formula reads a field whose
    /// name it computes (`data(concat('a', x))`), so any field may be read.
    ///
    /// ```
    /// let program = sluice::Program::from_mappings(
    ///     &["data('Type') = 'C'"],
    ///     &[("id", sluice::Mapping::Field("Code")), ("city", sluice::Mapping::Formula("upper(data('address.city'))"))],
    ///     &Default::default(),
    /// )?;
    /// let mut fields = program.input_fields().unwrap();
    /// fields.sort_unstable();
    /// assert_eq!(fields, ["Code", "Type", "address", "address.city"]);
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn input_fields(&self) -> Option<Vec<&str>> {
        self.transform
            .input_fields
            .as_ref()
            .map(|fields| fields.iter().map(|f| &**f).collect())
    }

    /// Applies the program to a record (an object value).
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a') + 1")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// let out = program.execute(&sluice::Value::parse_json(r#"{"a": 0.5}"#)?, &ctx)?;
    /// assert_eq!(out.to_json().as_deref(), Some(r#"{"result":1.5}"#));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute(&self, record: &Value, ctx: &Context) -> Result<Output, Error> {
        if !matches!(record, Value::Object(_)) {
            return Err(Error::new(
                codes::E502_RECORD_NOT_OBJECT,
                format!(
                    "a record must be a JSON object, found {}",
                    record.type_name()
                ),
            ));
        }
        let mut record = record.clone();
        self.transform
            .conform_record(&mut record, ctx.zone)
            .map_err(|e| Error::new(e.code, e.message))?;
        self.apply(&record, None, ctx, &mut Driver::new())
            .map(|e| self.output(e))
    }

    /// Applies the program to a record given as a `serde_json` value (its numbers are as
    /// exact as the host's `serde_json` keeps them; [`Program::execute_ndjson`] reads text
    /// exactly).
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a') * 2")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// let out = program.execute_json(&serde_json::json!({"a": 21}), &ctx)?;
    /// assert_eq!(out.to_json().as_deref(), Some(r#"{"result":42}"#));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute_json(&self, record: &serde_json::Value, ctx: &Context) -> Result<Output, Error> {
        self.execute(&Value::from_json_value(record)?, ctx)
    }

    /// Applies the program to one NDJSON line (raw bytes): only the fields the program
    /// reads are parsed, numbers exactly, under the program's limits.
    ///
    /// ```
    /// let program = sluice::Program::compile("upper(data('a'))")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// program.execute_ndjson(br#"{"a": "x", "big": [1, 2, 3]}"#, &ctx)?;
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn execute_ndjson(&self, line: &[u8], ctx: &Context) -> Result<Output, Error> {
        self.evaluate_ndjson(line, ctx).map(|e| self.output(e))
    }

    /// Applies the program to one NDJSON line and appends the output record to `out` as
    /// one line of JSON (numbers exactly, fields in mapping order, `\n` at the end): the
    /// path of a runtime that streams NDJSON, as fast as `sluice run` per record (no map is
    /// built). Nothing is appended for a record a condition filtered out.
    ///
    /// ```
    /// let program = sluice::Program::compile("data('a') * 2")?;
    /// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
    /// let mut out = String::new();
    /// let written = program.write_ndjson(br#"{"a": 1.5}"#, &ctx, &mut out)?;
    /// assert_eq!((written, out.as_str()), (sluice::Written::Record, "{\"result\":3.0}\n"));
    /// # Ok::<(), sluice::Error>(())
    /// ```
    pub fn write_ndjson(
        &self,
        line: &[u8],
        ctx: &Context,
        out: &mut String,
    ) -> Result<Written, Error> {
        match self.evaluate_ndjson(line, ctx)? {
            Evaluated::Filtered(condition) => Ok(Written::Filtered { condition }),
            Evaluated::Mapped(values) => {
                Transform::write_line(&self.prefixes, &values, out);
                Ok(Written::Record)
            }
        }
    }

    fn evaluate_ndjson(&self, line: &[u8], ctx: &Context) -> Result<Evaluated, Error> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.ndjson_with(line, ctx, &mut scratch),
            // a host function evaluating another record from inside this one
            Err(_) => self.ndjson_with(line, ctx, &mut Scratch::default()),
        })
    }

    fn ndjson_with(
        &self,
        line: &[u8],
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> Result<Evaluated, Error> {
        let Scratch { driver, slots } = scratch;
        let parsed = self
            .transform
            .read_line(line, &self.limits, ctx.zone, slots)
            .map_err(|e| Error::new(e.code, e.message))?;
        match parsed {
            Some(record) => self.apply(&record, None, ctx, driver),
            None => self.apply(&Value::Null, Some(slots), ctx, driver),
        }
    }

    /// Native code, when this program uses it for the next record.
    fn native(&self) -> Option<&crate::native::Native> {
        if self.engine == Engine::Auto
            && self.native.get().is_none()
            && self.engine.wants_native(Workload {
                evaluated: self.evaluated.fetch_add(1, Ordering::Relaxed),
                ..Workload::default()
            })
        {
            self.compile_native();
        }
        self.native.get().and_then(Option::as_deref)
    }

    /// The output of an evaluation, as fields.
    fn output(&self, evaluated: Evaluated) -> Output {
        match evaluated {
            Evaluated::Mapped(values) => Output::Mapped(
                self.transform
                    .mappings
                    .iter()
                    .map(|m| Arc::clone(&m.target))
                    .zip(values)
                    .collect(),
            ),
            Evaluated::Filtered(condition) => Output::Filtered { condition },
        }
    }

    fn apply(
        &self,
        record: &Value,
        slots: Option<&[Option<Value>]>,
        context: &Context,
        driver: &mut Driver,
    ) -> Result<Evaluated, Error> {
        let adapter = context.lookups.as_deref().map(context::LookupsAdapter);
        let ctx = Ctx {
            record,
            now: context.now,
            tz: context.zone,
            lookups: adapter.as_ref().map(|a| a as &dyn crate::runtime::Lookups),
            slots,
            limits: self.limits,
        };
        let outcome = driver.outcome(&self.transform, self.native(), &ctx);
        match outcome {
            Outcome::Mapped(values) => Ok(Evaluated::Mapped(values)),
            Outcome::Filtered(condition) => Ok(Evaluated::Filtered(condition + 1)),
            Outcome::Failed {
                target,
                condition,
                error,
            } => {
                let (source, offset) = self
                    .transform
                    .failed_formula(target.as_deref(), condition)
                    .map_or(("", None), |(_, f)| (f.source.as_str(), f.offset));
                let name = match self.single {
                    true => FORMULA,
                    false => target.as_deref().unwrap_or("condition"),
                };
                Err(
                    Error::from_diags(name, source, offset, vec![error.to_diag()])
                        .at(target.map(|t| t.to_string()), condition),
                )
            }
        }
    }
}
