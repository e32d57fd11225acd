//! Connectors and their compiled transform: the connector model and its reference table,
//! how input records are read and checked against the declared schema, and the transform
//! itself: a connector compiled once — conditions and mappings as typed IR, field names
//! resolved at compile time, the set of input fields it reads. Below the JIT and the
//! executor, which both build on it.

pub mod conform;
pub mod connection;
pub mod connector;
mod connector_checks;
pub mod connector_file;
pub mod connector_parse;
pub mod connector_reference;
mod connector_shape;
mod credential;
mod problem;
pub mod source;
pub mod stream;
pub mod table;

use std::sync::Arc;

use self::conform::conform;
use self::connector::{ConnectorProblem, FormulaPlace};
use self::connector_file::ConnectorFile;
use self::source::ReadError;
use crate::compile::{compile, CompileOptions};
use crate::diagnostics::{codes, Diag};
use crate::interp::Interpreter;
use crate::ir::{Node, NodeKind};
use crate::runtime::{Ctx, EvalError};
use crate::stdlib::Reads;
use crate::value::{FieldPath, SlotTable, Step, Value, Want};
use crate::value::{Schema, TypeSet};

/// The error of a condition whose value is neither boolean nor null.
pub fn condition_not_boolean(found: &Value, span: crate::syntax::Span) -> EvalError {
    EvalError::type_mismatch(format!(
        "a condition must be boolean, found {}",
        found.type_name()
    ))
    .at(span)
}

/// A compiled formula with its source.
#[derive(Debug)]
pub struct CompiledFormula {
    /// The formula text.
    pub source: String,
    /// Where the formula text starts in its connector file, when written there verbatim.
    pub offset: Option<usize>,
    /// Its typed IR.
    pub ir: Node,
}

/// How one output field is produced.
#[derive(Debug)]
pub enum MappingKind {
    /// Copy a source field (or path).
    Field(FieldPath),
    /// A static value.
    Raw(Value),
    /// A formula.
    Formula(CompiledFormula),
}

/// One output field.
#[derive(Debug)]
pub struct CompiledMapping {
    /// The output field name.
    pub target: Arc<str>,
    /// How it is computed.
    pub kind: MappingKind,
}

/// What the transform made of one record.
#[derive(Debug)]
pub enum Outcome {
    /// The output values, one per mapping, in mapping order.
    Mapped(Vec<Value>),
    /// Condition `index` (0-based) did not hold.
    Filtered(usize),
    /// A condition (`target` None) or a mapping failed.
    Failed {
        /// The mapping target, or None for a condition.
        target: Option<Arc<str>>,
        /// Which condition, when a condition failed.
        condition: Option<usize>,
        /// The error.
        error: EvalError,
    },
}

/// What the transform made of one record whose output values went to a buffer
/// ([`Transform::apply_into`]).
#[derive(Debug)]
pub enum Verdict {
    /// The buffer holds the output values, one per mapping, in mapping order.
    Mapped,
    /// Condition `index` (0-based) did not hold.
    Filtered(usize),
    /// A condition (`target` None) or a mapping failed.
    Failed {
        /// The mapping target, or None for a condition.
        target: Option<Arc<str>>,
        /// Which condition, when a condition failed.
        condition: Option<usize>,
        /// The error.
        error: EvalError,
    },
}

impl Verdict {
    /// The [`Outcome`], with the buffer's values when mapped.
    pub fn with_values(self, values: Vec<Value>) -> Outcome {
        match self {
            Verdict::Mapped => Outcome::Mapped(values),
            Verdict::Filtered(i) => Outcome::Filtered(i),
            Verdict::Failed {
                target,
                condition,
                error,
            } => Outcome::Failed {
                target,
                condition,
                error,
            },
        }
    }
}

/// All conditions and mappings of a connector.
#[derive(Debug)]
pub struct Transform {
    /// Conditions, all of which must hold.
    pub conditions: Vec<CompiledFormula>,
    /// Mappings in output order.
    pub mappings: Vec<CompiledMapping>,
    /// The top-level input fields read; `None` when a formula reads fields by computed name.
    pub input_fields: Option<Vec<Arc<str>>>,
    /// The slot table: slot `i` holds top-level field `slot_fields.fields()[i].0` (only the
    /// parts the transform reads). `None` when the transform needs whole records.
    pub slot_fields: Option<SlotTable>,
    /// The declared fields (of the inbound object's schema) the transform reads, with
    /// their types: input values must conform to them. All declared fields when the
    /// transform reads fields by computed names.
    pub conformed: Vec<(Arc<str>, TypeSet)>,
    /// The declared type of each slot's field (`ANY` when undeclared).
    pub slot_types: Vec<TypeSet>,
}

impl Transform {
    /// Compiles every condition and mapping with the library's functions; every problem
    /// found is returned. Any side type compiles (which systems a sync can reach is the
    /// engine's question).
    pub fn compile(
        file: &ConnectorFile,
        limits: &crate::limits::Limits,
    ) -> Result<Transform, Vec<ConnectorProblem>> {
        Transform::compile_with(file, limits, &crate::stdlib::HostFunctions::default())
    }

    /// Compiles for an embedder: with the functions a host program registered besides the
    /// library's.
    pub fn compile_with(
        file: &ConnectorFile,
        limits: &crate::limits::Limits,
        host: &crate::stdlib::HostFunctions,
    ) -> Result<Transform, Vec<ConnectorProblem>> {
        let connector = &file.connector;
        let mut problems = connector.validate(file);
        let options = CompileOptions {
            schema: connector.inbound_schema(),
            limits: *limits,
            host: host.clone(),
        };
        let mut conditions = Vec::new();
        for (i, text) in connector.conditions.iter().enumerate() {
            let place = FormulaPlace::Condition(i);
            match compile_one(file, text, place, &options) {
                Ok(f) => {
                    if f.ir.ty.certainly_outside(TypeSet::BOOLEAN) {
                        problems.push(problem(
                            file,
                            text,
                            place,
                            vec![Diag::new(
                                codes::E103_CONDITION_NOT_BOOLEAN,
                                "this condition is never boolean",
                            )
                            .label(f.ir.span, format!("this is {}", f.ir.ty))
                            .help("compare it to get a boolean, e.g. data('Qty') > 0")],
                        ));
                    }
                    conditions.push(f);
                }
                Err(p) => problems.push(*p),
            }
        }
        let mut mappings = Vec::new();
        for (i, m) in connector.mappings.iter().enumerate() {
            let kind = match (&m.field, &m.raw, &m.formula) {
                (Some(field), None, None) => {
                    check_field(file, options.schema.as_ref(), field, &mut problems);
                    MappingKind::Field(FieldPath::new(field))
                }
                (None, Some(raw), None) => MappingKind::Raw(raw.clone()),
                (None, None, Some(formula)) => {
                    match compile_one(file, formula, FormulaPlace::Mapping(i), &options) {
                        Ok(f) => MappingKind::Formula(f),
                        Err(p) => {
                            problems.push(*p);
                            continue;
                        }
                    }
                }
                _ => continue,
            };
            mappings.push(CompiledMapping {
                target: Arc::from(m.target.as_str()),
                kind,
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        // The way in of a bidirectional connector compares whole records read with what
        // was written (origin tracking), so it reads them whole.
        let input_fields = match connector.is_bidirectional() {
            true => None,
            false => input_fields(&conditions, &mappings),
        };
        let slot_fields = input_fields
            .as_ref()
            .map(|_| SlotTable::new(bind_slots(&mut conditions, &mut mappings)));
        let schema = options.schema;
        let conformed = schema.as_ref().map_or(Vec::new(), |schema| {
            schema
                .fields
                .iter()
                .filter(|(field, ty)| {
                    **ty != TypeSet::ANY
                        && input_fields
                            .as_ref()
                            .is_none_or(|read| read.iter().any(|r| &**r == field.as_str()))
                })
                .map(|(field, ty)| (Arc::from(field.as_str()), *ty))
                .collect()
        });
        let slot_types = match (&slot_fields, &schema) {
            (Some(table), Some(schema))
                if table.fields().iter().any(|(f, _)| schema.get(f).is_some()) =>
            {
                table
                    .fields()
                    .iter()
                    .map(|(f, _)| schema.get(f).unwrap_or(TypeSet::ANY))
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(Transform {
            conditions,
            mappings,
            input_fields,
            slot_fields,
            conformed,
            slot_types,
        })
    }

    /// The IR of every formula: the conditions', then the formula mappings', in order.
    pub fn formula_roots(&self) -> impl Iterator<Item = &Node> + '_ {
        self.conditions
            .iter()
            .map(|c| &c.ir)
            .chain(self.mappings.iter().filter_map(|m| match &m.kind {
                MappingKind::Formula(f) => Some(&f.ir),
                MappingKind::Field(_) | MappingKind::Raw(_) => None,
            }))
    }

    /// Whether a condition or mapping calls a function that reads the Connect Object store
    /// (`vlookup` and its kind): a run opens store connections for lookups only then.
    pub fn reads_store(&self) -> bool {
        self.formula_roots().any(Node::reads_store)
    }

    /// A transform of one formula (`sluice eval` runs it through the JIT this way).
    pub fn single(source: &str, ir: Node) -> Transform {
        Transform {
            conditions: Vec::new(),
            mappings: vec![CompiledMapping {
                target: Arc::from("result"),
                kind: MappingKind::Formula(CompiledFormula {
                    source: source.to_string(),
                    offset: None,
                    ir,
                }),
            }],
            input_fields: None,
            slot_fields: None,
            conformed: Vec::new(),
            slot_types: Vec::new(),
        }
    }

    /// Reads one NDJSON line for this transform, under `limits`: only the fields it reads
    /// are parsed, into `slots` when it has a slot table (then `Ok(None)`), else into a
    /// record; either way conformed to the declared schema in the zone `tz`. The one way
    /// the executor's workers and the embedding API read a line.
    pub fn read_line(
        &self,
        content: &[u8],
        limits: &crate::limits::Limits,
        tz: chrono_tz::Tz,
        slots: &mut Vec<Option<Value>>,
    ) -> Result<Option<Value>, ReadError> {
        match source::parse_line(
            content,
            limits,
            self.input_fields.as_deref(),
            self.slot_fields.as_ref(),
            slots,
        )? {
            Some(mut record) => self.conform_record(&mut record, tz).map(|()| Some(record)),
            None => self.conform_slots(slots, tz).map(|()| None),
        }
    }

    /// Makes the fields of a whole record conform to the declared schema (see
    /// [`conform::conform`]).
    pub fn conform_record(&self, record: &mut Value, tz: chrono_tz::Tz) -> Result<(), ReadError> {
        let Value::Object(map) = record else {
            return Ok(());
        };
        for (field, declared) in &self.conformed {
            let Some(v) = map.get(&**field) else {
                continue;
            };
            if v.is_null() || declared.contains(v.kind()) {
                continue;
            }
            let mut v = v.clone();
            conform(field, *declared, &mut v, tz)?;
            Arc::make_mut(map).insert(field.clone(), v);
        }
        Ok(())
    }

    /// Makes the slots of a record conform to the declared types of their fields.
    pub fn conform_slots(
        &self,
        slots: &mut [Option<Value>],
        tz: chrono_tz::Tz,
    ) -> Result<(), ReadError> {
        for ((slot, declared), (field, _)) in slots
            .iter_mut()
            .zip(&self.slot_types)
            .zip(self.slot_fields.iter().flat_map(SlotTable::fields))
        {
            if let Some(v) = slot {
                conform(field, *declared, v, tz)?;
            }
        }
        Ok(())
    }

    /// Each target as the JSON text that starts its field in an output line: `"name":`.
    pub fn target_prefixes(&self) -> Vec<String> {
        self.mappings
            .iter()
            .map(|m| {
                let mut s = String::new();
                crate::value::write_json_string(&m.target, &mut s);
                s.push(':');
                s
            })
            .collect()
    }

    /// Appends one mapped record as an NDJSON line, straight from its values (no JSON
    /// tree); `prefixes` from [`Transform::target_prefixes`].
    pub fn write_line(prefixes: &[String], values: &[Value], out: &mut String) {
        out.push('{');
        for (i, (t, v)) in prefixes.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(t);
            v.write_json(out);
        }
        out.push_str("}\n");
    }

    /// The output record of mapped `values`: each under its target, in mapping order.
    pub fn record_of(&self, values: Vec<Value>) -> Value {
        let mut map = crate::value::Map::with_capacity_and_hasher(values.len(), Default::default());
        for (m, v) in self.mappings.iter().zip(values) {
            map.insert(m.target.clone(), v);
        }
        Value::object(map)
    }

    /// Runs the conditions, then the mappings, on one record.
    pub fn apply(&self, interp: &mut Interpreter, ctx: &Ctx) -> Outcome {
        let mut out = Vec::with_capacity(self.mappings.len());
        self.apply_into(interp, ctx, &mut out).with_values(out)
    }

    /// [`Transform::apply`] into `out` (cleared first; when it is mapped, one value per
    /// mapping): a caller that keeps `out` from record to record allocates nothing for it.
    pub fn apply_into(&self, interp: &mut Interpreter, ctx: &Ctx, out: &mut Vec<Value>) -> Verdict {
        out.clear();
        for (i, c) in self.conditions.iter().enumerate() {
            match interp.eval(&c.ir, ctx) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false) | Value::Null) => return Verdict::Filtered(i),
                Ok(other) => {
                    return Verdict::Failed {
                        target: None,
                        condition: Some(i),
                        error: condition_not_boolean(&other, c.ir.span),
                    }
                }
                Err(error) => {
                    return Verdict::Failed {
                        target: None,
                        condition: Some(i),
                        error,
                    }
                }
            }
        }
        for m in &self.mappings {
            let v = match &m.kind {
                MappingKind::Field(path) => path.read_from(ctx.record, ctx.slots),
                MappingKind::Raw(v) => v.clone(),
                MappingKind::Formula(f) => match interp.eval(&f.ir, ctx) {
                    Ok(v) => v,
                    Err(error) => {
                        return Verdict::Failed {
                            target: Some(m.target.clone()),
                            condition: None,
                            error,
                        }
                    }
                },
            };
            out.push(v);
        }
        Verdict::Mapped
    }

    /// The formula that failed in an outcome (a condition by index, a mapping by target),
    /// with its place in the connector.
    pub fn failed_formula(
        &self,
        target: Option<&str>,
        condition: Option<usize>,
    ) -> Option<(FormulaPlace, &CompiledFormula)> {
        if let Some(i) = condition {
            return self
                .conditions
                .get(i)
                .map(|c| (FormulaPlace::Condition(i), c));
        }
        self.mappings
            .iter()
            .enumerate()
            .find(|(_, m)| Some(&*m.target) == target)
            .and_then(|(i, m)| match &m.kind {
                MappingKind::Formula(f) => Some((FormulaPlace::Mapping(i), f)),
                _ => None,
            })
    }
}

fn compile_one(
    file: &ConnectorFile,
    text: &str,
    place: FormulaPlace,
    options: &CompileOptions,
) -> Result<CompiledFormula, Box<ConnectorProblem>> {
    compile(text, options)
        .map(|f| CompiledFormula {
            source: text.to_string(),
            offset: file.formula_offset(place, text),
            ir: f.ir,
        })
        .map_err(|diags| Box::new(problem(file, text, place, diags)))
}

/// A formula's diagnostics as one connector problem, rendered at the formula's place.
fn problem(
    file: &ConnectorFile,
    text: &str,
    place: FormulaPlace,
    diags: Vec<Diag>,
) -> ConnectorProblem {
    let offset = file.formula_offset(place, text);
    let line = offset
        .map(|at| file.line_at(at))
        .or_else(|| file.line_of(text));
    let first = diags
        .first()
        .cloned()
        .unwrap_or_else(|| Diag::new(codes::E004_UNEXPECTED_TOKEN, "invalid formula"));
    let rendered = file.render_formula(place, offset, text, diags.clone());
    let at = line.map_or(String::new(), |l| format!(":{l}"));
    ConnectorProblem {
        diag: Diag {
            message: format!("{}{at}: {place}: {}", file.path, first.message),
            ..first
        },
        line,
        rendered: Some(rendered),
        formula: Some(crate::transform::connector::ProblemFormula {
            place,
            offset,
            diags,
        }),
    }
}

fn check_field(
    file: &ConnectorFile,
    schema: Option<&Schema>,
    field: &str,
    problems: &mut Vec<ConnectorProblem>,
) {
    let Some(schema) = schema else { return };
    let path = FieldPath::new(field);
    if schema.get(field).is_none() && schema.get(path.root()).is_none() {
        let hint =
            crate::diagnostics::did_you_mean(field, schema.fields.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"));
        problems.push(ConnectorProblem {
            diag: Diag::new(
                codes::E104_UNKNOWN_FIELD,
                format!("unknown field `{field}`"),
            )
            .maybe_help(hint),
            line: file.line_of(&format!("\"{field}\"")),
            rendered: None,
            formula: None,
        });
    }
}

/// The top-level fields the transform reads, or `None` when some field name is computed.
fn input_fields(
    conditions: &[CompiledFormula],
    mappings: &[CompiledMapping],
) -> Option<Vec<Arc<str>>> {
    let mut fields: Vec<Arc<str>> = Vec::new();
    let mut add = |name: &str| {
        if !fields.iter().any(|f| &**f == name) {
            fields.push(Arc::from(name));
        }
    };
    let mut nodes: Vec<&Node> = conditions.iter().map(|c| &c.ir).collect();
    for m in mappings {
        match &m.kind {
            MappingKind::Field(p) => {
                add(&p.name);
                add(p.root());
            }
            MappingKind::Formula(f) => nodes.push(&f.ir),
            MappingKind::Raw(_) => {}
        }
    }
    while let Some(node) = nodes.pop() {
        match &node.kind {
            NodeKind::Field(p) => {
                add(&p.name);
                add(p.root());
            }
            NodeKind::Call(f, args)
                if matches!(f.reads, Reads::FieldNamedByFirstArgument { .. }) =>
            {
                match args.first().and_then(Node::as_const) {
                    Some(Value::String(name)) => {
                        let p = FieldPath::new(name);
                        add(&p.name);
                        add(p.root());
                    }
                    _ => return None,
                }
            }
            _ => {}
        }
        nodes.extend(node.children());
    }
    Some(fields)
}

fn field_paths_mut<'n>(node: &'n mut Node, out: &mut Vec<&'n mut FieldPath>) {
    match &mut node.kind {
        NodeKind::Field(p) => out.push(p),
        NodeKind::Const(_) => {}
        NodeKind::Array(items) | NodeKind::Call(_, items) => {
            for item in items {
                field_paths_mut(item, out);
            }
        }
        NodeKind::Object(pairs) => {
            for (k, v) in pairs {
                field_paths_mut(k, out);
                field_paths_mut(v, out);
            }
        }
        NodeKind::Neg(e) | NodeKind::Not(e) | NodeKind::Member(e, _) => field_paths_mut(e, out),
        NodeKind::Binary(_, a, b) | NodeKind::Index(a, b) => {
            field_paths_mut(a, out);
            field_paths_mut(b, out);
        }
    }
}

/// Builds the slot table from every field read and binds each read to its slots.
fn bind_slots(
    conditions: &mut [CompiledFormula],
    mappings: &mut [CompiledMapping],
) -> Vec<(Arc<str>, Want)> {
    let mut paths: Vec<&mut FieldPath> = Vec::new();
    for c in conditions.iter_mut() {
        field_paths_mut(&mut c.ir, &mut paths);
    }
    for m in mappings.iter_mut() {
        match &mut m.kind {
            MappingKind::Field(p) => paths.push(p),
            MappingKind::Formula(f) => field_paths_mut(&mut f.ir, &mut paths),
            MappingKind::Raw(_) => {}
        }
    }
    let mut table: Vec<(Arc<str>, Want)> = Vec::new();
    fn slot_of(table: &mut Vec<(Arc<str>, Want)>, name: &str, initial: Want) -> usize {
        match table.iter().position(|(k, _)| &**k == name) {
            Some(i) => i,
            None => {
                table.push((Arc::from(name), initial));
                table.len() - 1
            }
        }
    }
    for p in paths.iter() {
        let exact = slot_of(&mut table, &p.name, Want::All);
        if let Some((_, want)) = table.get_mut(exact) {
            *want = Want::All;
        }
        if let Some(steps) = &p.steps {
            let keys: Vec<Arc<str>> = steps
                .iter()
                .skip(1)
                .map_while(|s| match s {
                    Step::Key(k) => Some(k.clone()),
                    Step::Index(_) => None,
                })
                .collect();
            let whole = keys.len() + 1 < steps.len() || keys.is_empty();
            let root = slot_of(&mut table, p.root(), Want::Keys(Vec::new()));
            if let Some((_, want)) = table.get_mut(root) {
                if whole {
                    *want = Want::All;
                } else {
                    want.add(&keys);
                }
            }
        }
    }
    for p in paths {
        let find = |name: &str| table.iter().position(|(k, _)| &**k == name);
        let root = p.steps.as_ref().and_then(|_| find(p.root()));
        p.slots = Some((find(&p.name), root));
    }
    table
}
