//! The reference interpreter: a tree-walker over the typed IR. It is the oracle the JIT is
//! checked against, so it favours clarity; values are shared (reference-counted), never
//! deep-copied, and arguments go through one reusable stack instead of a fresh vector
//! per call.

mod fold;
mod ops;
pub mod quotient;

pub use fold::fold;
pub use ops::{binary, compare_values, decimal_op, ordering};

use crate::diagnostics::codes;
use crate::ir::{Node, NodeKind};
use crate::runtime::{index_value, Ctx, EvalError, LazyArgs};
use crate::stdlib::Imp;
use crate::syntax::BinaryOp;
use crate::value::{Map, Value};

/// Evaluates IR nodes. Reuse one interpreter across records to reuse its argument stack.
#[derive(Debug, Default)]
pub struct Interpreter {
    stack: Vec<Value>,
    steps: u64,
}

impl Interpreter {
    /// A fresh interpreter.
    pub fn new() -> Self {
        Interpreter::default()
    }

    /// Evaluates `node` in `ctx`, within the step budget of `ctx.limits`.
    pub fn eval(&mut self, node: &Node, ctx: &Ctx) -> Result<Value, EvalError> {
        self.steps = 0;
        self.step(node, ctx)
    }

    /// The steps [`Interpreter::eval`] takes on `node` when it is a tree of eager function
    /// calls over fields and constants (one per node); `None` for any other node.
    pub fn calls_only(node: &Node) -> Option<u64> {
        match &node.kind {
            NodeKind::Const(_) | NodeKind::Field(_) => Some(1),
            NodeKind::Call(f, args) if matches!(f.imp, Imp::Eager(_)) => args
                .iter()
                .try_fold(1, |nodes, arg| Some(nodes + Self::calls_only(arg)?)),
            _ => None,
        }
    }

    /// Evaluates a tree [`Interpreter::calls_only`] accepts by calling its functions
    /// directly, without counting steps: the caller has checked that the tree's steps are
    /// within `ctx`'s budget, so [`Interpreter::eval`] could not have stopped it. `None` on
    /// any error (or any other node): `eval` then gives the error with its span.
    pub fn eval_calls(&mut self, node: &Node, ctx: &Ctx) -> Option<Value> {
        match &node.kind {
            NodeKind::Const(v) => Some(v.clone()),
            NodeKind::Field(path) => Some(path.read_from(ctx.record, ctx.slots)),
            NodeKind::Call(f, args) => {
                let Imp::Eager(func) = f.imp else {
                    return None;
                };
                let base = self.stack.len();
                for arg in args {
                    let Some(v) = self.eval_calls(arg, ctx) else {
                        self.stack.truncate(base);
                        return None;
                    };
                    self.stack.push(v);
                }
                let result = func(self.stack.get(base..).unwrap_or(&[]), ctx);
                self.stack.truncate(base);
                within_string_limit(result, f.name, ctx).ok()
            }
            _ => None,
        }
    }

    /// Evaluates a node, counting one step.
    fn step(&mut self, node: &Node, ctx: &Ctx) -> Result<Value, EvalError> {
        self.steps += 1;
        if self.steps > ctx.limits.max_steps {
            return Err(EvalError::new(
                codes::E311_STEP_LIMIT,
                format!("evaluation took more than {} steps", ctx.limits.max_steps),
            )
            .at(node.span));
        }
        self.eval_node(node, ctx).map_err(|e| e.at(node.span))
    }

    fn eval_node(&mut self, node: &Node, ctx: &Ctx) -> Result<Value, EvalError> {
        match &node.kind {
            NodeKind::Const(v) => Ok(v.clone()),
            NodeKind::Field(path) => Ok(path.read_from(ctx.record, ctx.slots)),
            NodeKind::Array(items) => {
                let values = items
                    .iter()
                    .map(|item| self.step(item, ctx))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::array(values))
            }
            NodeKind::Object(pairs) => {
                let mut map = Map::with_capacity_and_hasher(pairs.len(), Default::default());
                for (k, v) in pairs {
                    let key = match self.step(k, ctx)? {
                        Value::String(s) => s,
                        other => {
                            return Err(EvalError::type_mismatch(format!(
                                "an object key must be a string, found {}",
                                other.type_name()
                            ))
                            .at(k.span))
                        }
                    };
                    let value = self.step(v, ctx)?;
                    map.insert(std::sync::Arc::from(key.as_str()), value);
                }
                Ok(Value::object(map))
            }
            NodeKind::Neg(e) => ops::negate(self.step(e, ctx)?),
            NodeKind::Not(e) => ops::not(self.step(e, ctx)?),
            NodeKind::Binary(op, a, b) => self.binary(*op, a, b, ctx),
            NodeKind::Member(target, key) => match self.step(target, ctx)? {
                Value::Object(map) => Ok(map.get(&**key).cloned().unwrap_or(Value::Null)),
                Value::Null => Ok(Value::Null),
                other => Err(EvalError::type_mismatch(format!(
                    "cannot read .{key} of {}",
                    crate::value::with_article(other.type_name())
                ))),
            },
            NodeKind::Index(target, index) => {
                let target = self.step(target, ctx)?;
                let index = self.step(index, ctx)?;
                index_value(&target, &index)
            }
            NodeKind::Call(f, args) => match f.imp {
                Imp::Eager(func) => {
                    let base = self.push_args(args, ctx)?;
                    let result = func(self.stack.get(base..).unwrap_or(&[]), ctx);
                    self.stack.truncate(base);
                    within_string_limit(result, f.name, ctx)
                }
                Imp::Host(host) => {
                    let base = self.push_args(args, ctx)?;
                    let result =
                        host.call(self.stack.get(base..).unwrap_or(&[]))
                            .map_err(|message| {
                                EvalError::new(
                                    codes::E313_HOST_FUNCTION,
                                    format!("{}: {message}", f.name),
                                )
                            });
                    self.stack.truncate(base);
                    within_string_limit(result, f.name, ctx)
                }
                Imp::Lazy(func) => {
                    let mut lazy = LazyNodes {
                        interp: self,
                        args,
                        ctx,
                    };
                    within_string_limit(func(&mut lazy, ctx), f.name, ctx)
                }
            },
        }
    }

    /// Evaluates `args` onto the stack; where they start (the stack is as it was on error).
    fn push_args(&mut self, args: &[Node], ctx: &Ctx) -> Result<usize, EvalError> {
        let base = self.stack.len();
        for arg in args {
            match self.step(arg, ctx) {
                Ok(v) => self.stack.push(v),
                Err(e) => {
                    self.stack.truncate(base);
                    return Err(e);
                }
            }
        }
        Ok(base)
    }

    fn binary(&mut self, op: BinaryOp, a: &Node, b: &Node, ctx: &Ctx) -> Result<Value, EvalError> {
        match op {
            BinaryOp::Coalesce => {
                let left = self.step(a, ctx)?;
                if left.is_null() {
                    self.step(b, ctx)
                } else {
                    Ok(left)
                }
            }
            BinaryOp::And => {
                let left = ops::truth(&self.step(a, ctx)?, "the left side of `and`")?;
                if left == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let right = ops::truth(&self.step(b, ctx)?, "the right side of `and`")?;
                Ok(match (left, right) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                })
            }
            BinaryOp::Or => {
                let left = ops::truth(&self.step(a, ctx)?, "the left side of `or`")?;
                if left == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let right = ops::truth(&self.step(b, ctx)?, "the right side of `or`")?;
                Ok(match (left, right) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                })
            }
            _ => {
                let left = self.step(a, ctx)?;
                let right = self.step(b, ctx)?;
                within_string_limit(ops::binary(op, &left, &right), op.symbol(), ctx)
            }
        }
    }
}

/// A result checked against the string limit (E310): every function and operator that
/// builds text is bounded, whether or not it checks as it builds.
fn within_string_limit(
    result: Result<Value, EvalError>,
    what: &str,
    ctx: &Ctx,
) -> Result<Value, EvalError> {
    match result {
        Ok(Value::String(s)) if s.len() > ctx.limits.max_string_bytes => Err(EvalError::new(
            crate::diagnostics::codes::E310_TOO_LARGE,
            format!(
                "`{what}` produced text beyond the limit of {} bytes",
                ctx.limits.max_string_bytes
            ),
        )),
        other => other,
    }
}

struct LazyNodes<'i, 'n, 'c, 'r> {
    interp: &'i mut Interpreter,
    args: &'n [Node],
    ctx: &'c Ctx<'r>,
}

impl LazyArgs for LazyNodes<'_, '_, '_, '_> {
    fn count(&self) -> usize {
        self.args.len()
    }

    fn eval(&mut self, i: usize) -> Result<Value, EvalError> {
        match self.args.get(i) {
            Some(node) => self.interp.step(node, self.ctx),
            None => Ok(Value::Null),
        }
    }
}
