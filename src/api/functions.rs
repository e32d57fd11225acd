//! Functions a host program adds to the language, and the list of every function.

use std::sync::Arc;

use super::{Error, FieldType};
use crate::diagnostics::codes;
use crate::stdlib::{self, Category, Function, HostCall, HostFunctions, Imp, Param, Returns};
use crate::value::Value;

/// A function the host program adds to the language: its name, parameters, result type,
/// purity and implementation. Both engines call it (native code through a helper).
///
/// ```
/// use sluice::{FieldType, Functions, HostFunction, Options, Program, Value};
/// let vat = HostFunction::new("vat", FieldType::Number, |args: &[Value]| match args {
///     [Value::Number(n)] => Ok(Value::Number(*n * sluice::rust_decimal::Decimal::new(19, 2))),
///     _ => Err("vat(amount) needs a number".to_string()),
/// })
/// .param("amount", FieldType::Number)
/// .pure(true)
/// .doc("The German VAT on an amount.");
/// let mut functions = Functions::new();
/// functions.register(vat)?;
/// let mut options = Options::default();
/// options.functions = functions;
/// let program = Program::compile_with("vat(data('net'))", &options)?;
/// let ctx = sluice::Context::at("2024-05-01T00:00:00Z")?;
/// let out = program.execute_ndjson(br#"{"net": 100}"#, &ctx)?;
/// assert_eq!(out.to_json().as_deref(), Some(r#"{"result":19.00}"#));
/// # Ok::<(), sluice::Error>(())
/// ```
pub struct HostFunction {
    name: String,
    params: Vec<(String, FieldType, bool)>,
    variadic: bool,
    returns: FieldType,
    pure: bool,
    doc: String,
    imp: HostImp,
}

/// A host function's implementation.
type HostImp = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

impl HostFunction {
    /// A function `name` returning `returns`, computed by `imp` (an `Err` is error E313).
    pub fn new(
        name: &str,
        returns: FieldType,
        imp: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> HostFunction {
        HostFunction {
            name: name.to_ascii_lowercase(),
            params: Vec::new(),
            variadic: false,
            returns,
            pure: false,
            doc: String::new(),
            imp: Arc::new(imp),
        }
    }

    /// Adds a required parameter.
    pub fn param(mut self, name: &str, ty: FieldType) -> HostFunction {
        self.params.push((name.to_string(), ty, false));
        self
    }

    /// Adds an optional parameter (after the required ones).
    pub fn optional(mut self, name: &str, ty: FieldType) -> HostFunction {
        self.params.push((name.to_string(), ty, true));
        self
    }

    /// The last parameter repeats any number of times.
    pub fn variadic(mut self, variadic: bool) -> HostFunction {
        self.variadic = variadic;
        self
    }

    /// Same arguments, same result, no outside state: calls with constant arguments are
    /// computed once, when the program compiles. Not pure unless said.
    pub fn pure(mut self, pure: bool) -> HostFunction {
        self.pure = pure;
        self
    }

    /// One line of documentation (shown by [`functions`]).
    pub fn doc(mut self, doc: &str) -> HostFunction {
        self.doc = doc.to_string();
        self
    }
}

/// A host closure as the library's implementation.
struct Closure(HostImp);

impl HostCall for Closure {
    fn call(&self, args: &[Value]) -> Result<Value, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.0)(args)))
            .unwrap_or_else(|panic| Err(super::panic_message(panic.as_ref())))
    }
}

/// Text that lives as long as the process (a registered function's name and docs).
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

/// The functions a host registered, handed to [`Options`](crate::Options). A registered
/// function lives as long as the process: register at start-up, not once per request.
#[derive(Clone, Default, Debug)]
pub struct Functions(pub(crate) HostFunctions);

impl Functions {
    /// No functions besides the library's.
    pub fn new() -> Functions {
        Functions::default()
    }

    /// Adds `function`. Its name must be a lowercase identifier that no library function
    /// and no function registered here already has (E205 otherwise).
    pub fn register(&mut self, function: HostFunction) -> Result<&mut Functions, Error> {
        let name = function.name.as_str();
        let identifier = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !identifier {
            return Err(Error::new(
                codes::E205_HOST_FUNCTION_NAME,
                format!("`{name}` is not a function name (a letter, then letters, digits or `_`)"),
            ));
        }
        if self.0.lookup(name).is_some()
            || matches!(name, "and" | "or" | "not" | "true" | "false" | "null")
        {
            return Err(Error::new(
                codes::E205_HOST_FUNCTION_NAME,
                format!("a function named `{name}` already exists"),
            ));
        }
        let optional_first = function
            .params
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.2 && !b.2));
        if optional_first {
            return Err(Error::new(
                codes::E205_HOST_FUNCTION_NAME,
                format!("`{name}`: optional parameters come after the required ones"),
            ));
        }
        let imp: &'static Closure = Box::leak(Box::new(Closure(function.imp)));
        let leaked: &'static Function = Box::leak(Box::new(Function {
            name: leak(name),
            category: Category::Host,
            params: Box::leak(
                function
                    .params
                    .iter()
                    .map(|(name, ty, optional)| Param {
                        name: leak(name),
                        ty: ty.type_set(),
                        optional: *optional,
                    })
                    .collect::<Box<[Param]>>(),
            ),
            variadic: function.variadic,
            returns: Returns::Fixed(function.returns.type_set()),
            doc: leak(&function.doc),
            examples: &[],
            imp: Imp::Host(imp),
            pure: function.pure,
            check: None,
            reads: stdlib::Reads::Arguments,
            store: false,
        }));
        self.0.push(leaked);
        Ok(self)
    }
}

/// One function of the language, as documentation lists it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Its name.
    pub name: &'static str,
    /// `round(x: number, digits?: number) -> number`.
    pub signature: String,
    /// One line of documentation.
    pub doc: &'static str,
}

/// Every function of the library, then those of `registered`, with signatures and docs.
///
/// ```
/// let round = sluice::functions(&sluice::Functions::new()).find(|f| f.name == "round").unwrap();
/// assert!(round.signature.starts_with("round("));
/// ```
pub fn functions(registered: &Functions) -> impl Iterator<Item = FunctionInfo> + '_ {
    stdlib::all()
        .chain(registered.0.iter())
        .map(|f| FunctionInfo {
            name: f.name,
            signature: f.signature(),
            doc: f.doc,
        })
}
