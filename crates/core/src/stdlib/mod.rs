//! The function library: one file per group. Every function is described by data — name,
//! parameters, return type, doc line, examples — in one table that the type checker, the
//! interpreter, `sluice functions`, the REPL help and `docs/functions.md` all read.

mod args;

pub mod arrays;
pub mod calendar;
pub mod compat;
pub mod convert;
pub mod data;
mod date_patterns;
pub mod dates;
mod excel_format;
mod iso_digits;
pub mod logic;
pub mod math;
pub mod numbers;
mod strftime_digits;
pub mod text;

use std::collections::HashMap;
use std::sync::LazyLock;

/// The boolean reading of a condition value, shared with the interpreter's operators.
pub use args::truth as args_truth;

use crate::runtime::{Ctx, EvalError, LazyArgs};
use crate::value::TypeSet;
use crate::value::Value;

/// The group a function belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// data and lookups
    Data,
    /// conditionals, boolean logic, null handling
    Logic,
    /// strings
    Text,
    /// numbers and rounding
    Numbers,
    /// dates and times
    Dates,
    /// arrays and objects
    Arrays,
    /// conversion and types
    Conversion,
    /// registered by the host program
    Host,
}

impl Category {
    /// The heading used in listings and docs.
    pub fn title(self) -> &'static str {
        match self {
            Category::Data => "Data & lookups",
            Category::Logic => "Logic",
            Category::Text => "Text",
            Category::Numbers => "Numbers",
            Category::Dates => "Dates",
            Category::Arrays => "Arrays & objects",
            Category::Conversion => "Conversion & types",
            Category::Host => "Host functions",
        }
    }
}

/// One parameter of a function.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name in docs.
    pub name: &'static str,
    /// The kinds it accepts (null is always accepted).
    pub ty: TypeSet,
    /// May be left out.
    pub optional: bool,
}

/// An example that is also a test: the formula, a record (JSON) and the expected result
/// (JSON), or `error E123` for an expected runtime error.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// Formula text.
    pub formula: &'static str,
    /// The record as JSON (`{}` when the example needs none).
    pub record: &'static str,
    /// The expected result as JSON, or `error E...`.
    pub result: &'static str,
}

/// How a function computes its result.
#[derive(Clone, Copy)]
pub enum Imp {
    /// All arguments are evaluated first.
    Eager(EagerFn),
    /// The function evaluates the arguments it needs, when it needs them.
    Lazy(fn(&mut dyn LazyArgs, &Ctx) -> Result<Value, EvalError>),
    /// A function the host program registered, over evaluated arguments.
    Host(&'static dyn HostCall),
}

/// The implementation of a function a host program registered: evaluated arguments in, a
/// value or a message out.
pub trait HostCall: Send + Sync {
    /// Computes the result.
    fn call(&self, args: &[Value]) -> Result<Value, String>;
}

/// Functions a host program registered, looked up after the library's own.
#[derive(Clone, Default)]
pub struct HostFunctions(Vec<&'static Function>);

impl HostFunctions {
    /// Adds a function (the caller checked that its name is free).
    pub fn push(&mut self, function: &'static Function) {
        self.0.push(function);
    }

    /// The registered functions.
    pub fn iter(&self) -> impl Iterator<Item = &'static Function> + '_ {
        self.0.iter().copied()
    }

    /// The library's function of this name, else the host's (case-insensitive).
    pub fn lookup(&self, name: &str) -> Option<&'static Function> {
        lookup(name).or_else(|| self.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
    }
}

impl std::fmt::Debug for HostFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|f| f.name)).finish()
    }
}

/// A function over evaluated arguments.
pub type EagerFn = fn(&[Value], &Ctx) -> Result<Value, EvalError>;

/// How the return type follows from the argument types.
#[derive(Clone, Copy)]
pub enum Returns {
    /// Always the same set.
    Fixed(TypeSet),
    /// Computed from the argument types.
    From(fn(&[TypeSet]) -> TypeSet),
}

/// A function of the standard library.
pub struct Function {
    /// The canonical (lowercase) name.
    pub name: &'static str,
    /// Its group.
    pub category: Category,
    /// Parameters in order; optional ones last.
    pub params: &'static [Param],
    /// The last parameter repeats any number of times.
    pub variadic: bool,
    /// The return type.
    pub returns: Returns,
    /// One line of documentation.
    pub doc: &'static str,
    /// Examples, run as tests.
    pub examples: &'static [Example],
    /// The implementation.
    pub imp: Imp,
    /// Same arguments, same result, no outside state: may be folded at compile time.
    pub pure: bool,
    /// Validates a literal argument at compile time (argument index, its value): a bad
    /// regex literal is E203, a bad option literal (mode, unit, zone, algorithm) E204.
    pub check: Option<LiteralCheck>,
    /// What it reads of the current record besides its arguments.
    pub reads: Reads,
    /// It reads the Connect Object store (`vlookup` and its kind): a run opens a store
    /// connection per worker for lookups only when a formula calls such a function.
    pub store: bool,
}

/// What a function reads of the current record besides its arguments. The compiler and the
/// executor learn it from here, never from the function's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Only its arguments.
    Arguments,
    /// The field whose name is its first argument. With a literal name the call is
    /// compiled as a read of that field, so that the executor parses only that field
    /// (into a slot): the call is the field's value itself (`instead: None`), or the
    /// function `instead` applied to the field's value and the other arguments.
    FieldNamedByFirstArgument {
        /// The function that takes the field's value in place of its name.
        instead: Option<&'static str>,
    },
}

/// Validates literal argument `index` of a call at compile time.
pub type LiteralCheck = fn(usize, &Value) -> Result<(), LiteralError>;

/// A literal argument rejected at compile time.
#[derive(Debug, Clone, PartialEq)]
pub struct LiteralError {
    /// E203 or E204.
    pub code: crate::diagnostics::Code,
    /// What is wrong.
    pub message: String,
    /// What would be accepted.
    pub help: String,
}

impl Function {
    /// The fewest arguments accepted.
    pub fn min_args(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count()
    }

    /// The most arguments accepted (`None`: no limit).
    pub fn max_args(&self) -> Option<usize> {
        if self.variadic {
            None
        } else {
            Some(self.params.len())
        }
    }

    /// The parameter argument `i` binds to.
    pub fn param(&self, i: usize) -> Option<&Param> {
        self.params.get(i).or_else(|| {
            if self.variadic {
                self.params.last()
            } else {
                None
            }
        })
    }

    /// The return type for these argument types.
    pub fn return_type(&self, args: &[TypeSet]) -> TypeSet {
        match self.returns {
            Returns::Fixed(t) => t,
            Returns::From(f) => f(args),
        }
    }

    /// The signature as documentation shows it: `round(x: number, digits?: number) -> number`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let dots = if self.variadic && i + 1 == self.params.len() {
                    "..."
                } else {
                    ""
                };
                let opt = if p.optional && dots.is_empty() {
                    "?"
                } else {
                    ""
                };
                format!("{}{dots}{opt}: {}", p.name, p.ty)
            })
            .collect();
        let ret = match self.returns {
            Returns::Fixed(t) => t.to_string(),
            Returns::From(_) => "depends on arguments".to_string(),
        };
        format!("{}({}) -> {}", self.name, params.join(", "), ret)
    }
}

/// Every group's table.
const GROUPS: &[&[Function]] = &[
    data::FUNCTIONS,
    logic::FUNCTIONS,
    text::FUNCTIONS,
    numbers::FUNCTIONS,
    math::FUNCTIONS,
    dates::FUNCTIONS,
    calendar::FUNCTIONS,
    arrays::FUNCTIONS,
    convert::FUNCTIONS,
];

/// Every function, group by group.
pub fn all() -> impl Iterator<Item = &'static Function> {
    GROUPS.iter().flat_map(|g| g.iter())
}

static BY_NAME: LazyLock<HashMap<&'static str, &'static Function>> =
    LazyLock::new(|| all().map(|f| (f.name, f)).collect());

/// Finds a function by name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Function> {
    BY_NAME.get(name.to_ascii_lowercase().as_str()).copied()
}

/// A required parameter.
pub const fn req(name: &'static str, ty: TypeSet) -> Param {
    Param {
        name,
        ty,
        optional: false,
    }
}

/// An optional parameter.
pub const fn opt(name: &'static str, ty: TypeSet) -> Param {
    Param {
        name,
        ty,
        optional: true,
    }
}

/// An example (see [`Example`]).
pub const fn ex(formula: &'static str, record: &'static str, result: &'static str) -> Example {
    Example {
        formula,
        record,
        result,
    }
}

/// The union of all argument types.
pub fn union_of_all(args: &[TypeSet]) -> TypeSet {
    args.iter().fold(TypeSet::NEVER, |acc, t| acc | *t)
}
