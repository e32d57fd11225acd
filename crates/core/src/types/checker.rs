//! The type checker: infers a [`TypeSet`] for every node, resolves functions and fields,
//! reports certain type errors, and lowers the syntax tree to the typed IR.
//!
//! Only *certain* errors are compile errors: an operand whose possible kinds include none
//! the operation accepts. Anything that may work (fields of type `any`) is checked at run
//! time. Null is accepted everywhere: operations on null give null.

use std::sync::Arc;

use crate::diagnostics::{codes, did_you_mean, Diag};
use crate::ir::{Node, NodeKind};
use crate::stdlib::{self, Function};
use crate::syntax::{BinaryOp, Expr, ExprKind, Span, UnaryOp};
use crate::value::{FieldPath, Value};

use super::{Schema, TypeSet};

const ORDERABLE: TypeSet = TypeSet::NUMBER
    .union(TypeSet::STRING)
    .union(TypeSet::BOOLEAN)
    .union(TypeSet::DATE)
    .union(TypeSet::DATETIME);

/// Checks `expr` against an optional record schema and lowers it to typed IR.
pub fn check(
    expr: &Expr,
    schema: Option<&Schema>,
    host: &stdlib::HostFunctions,
) -> Result<Node, Vec<Diag>> {
    let mut checker = Checker {
        schema,
        host,
        errors: Vec::new(),
    };
    let node = checker.expr(expr);
    if checker.errors.is_empty() {
        Ok(node)
    } else {
        Err(checker.errors)
    }
}

struct Checker<'s> {
    schema: Option<&'s Schema>,
    host: &'s stdlib::HostFunctions,
    errors: Vec<Diag>,
}

impl Checker<'_> {
    fn expr(&mut self, e: &Expr) -> Node {
        let span = e.span;
        match &e.kind {
            ExprKind::Null | ExprKind::Error => {
                Node::new(NodeKind::Const(Value::Null), TypeSet::NULL, span)
            }
            ExprKind::Bool(b) => {
                Node::new(NodeKind::Const(Value::Bool(*b)), TypeSet::BOOLEAN, span)
            }
            ExprKind::Number(n) => {
                Node::new(NodeKind::Const(Value::Number(*n)), TypeSet::NUMBER, span)
            }
            ExprKind::Str(s) => Node::new(NodeKind::Const(Value::str(s)), TypeSet::STRING, span),
            ExprKind::Field(name) => self.field(name, span),
            ExprKind::Array(items) => {
                let items = items.iter().map(|i| self.expr(i)).collect();
                Node::new(NodeKind::Array(items), TypeSet::ARRAY, span)
            }
            ExprKind::Object(pairs) => {
                let pairs = pairs
                    .iter()
                    .map(|(k, v)| {
                        let key = self.expr(k);
                        self.expect(
                            &key,
                            TypeSet::STRING,
                            codes::E101_OPERATOR_TYPE,
                            "an object key must be a string",
                        );
                        (key, self.expr(v))
                    })
                    .collect();
                Node::new(NodeKind::Object(pairs), TypeSet::OBJECT, span)
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, span),
            ExprKind::Unary(op, operand) => {
                let operand = self.expr(operand);
                let nullable = operand.ty.nullable();
                match op {
                    UnaryOp::Neg => {
                        self.expect(
                            &operand,
                            TypeSet::NUMBER,
                            codes::E101_OPERATOR_TYPE,
                            "`-` needs a number",
                        );
                        Node::new(
                            NodeKind::Neg(Box::new(operand)),
                            TypeSet::NUMBER.or_null_if(nullable),
                            span,
                        )
                    }
                    UnaryOp::Not => {
                        self.expect(
                            &operand,
                            TypeSet::BOOLEAN,
                            codes::E101_OPERATOR_TYPE,
                            "`not` needs a boolean",
                        );
                        Node::new(
                            NodeKind::Not(Box::new(operand)),
                            TypeSet::BOOLEAN.or_null_if(nullable),
                            span,
                        )
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span),
            ExprKind::Member(target, key) => {
                let target = self.expr(target);
                self.expect(
                    &target,
                    TypeSet::OBJECT,
                    codes::E101_OPERATOR_TYPE,
                    "`.key` reads a field of an object",
                );
                Node::new(
                    NodeKind::Member(Box::new(target), Arc::from(key.as_str())),
                    TypeSet::ANY,
                    span,
                )
            }
            ExprKind::Index(target, index) => {
                let target = self.expr(target);
                let index = self.expr(index);
                self.expect(
                    &target,
                    TypeSet::ARRAY | TypeSet::OBJECT,
                    codes::E101_OPERATOR_TYPE,
                    "`[...]` indexes an array or an object",
                );
                self.expect(
                    &index,
                    TypeSet::NUMBER | TypeSet::STRING,
                    codes::E101_OPERATOR_TYPE,
                    "an index is a number (arrays) or a string (objects)",
                );
                Node::new(
                    NodeKind::Index(Box::new(target), Box::new(index)),
                    TypeSet::ANY,
                    span,
                )
            }
        }
    }

    /// Reports `message` when `node` can certainly not be of a type in `accepted`.
    fn expect(
        &mut self,
        node: &Node,
        accepted: TypeSet,
        code: crate::diagnostics::Code,
        message: &str,
    ) -> bool {
        if node.ty.certainly_outside(accepted) {
            self.errors.push(
                Diag::new(code, message.to_string())
                    .label(node.span, format!("this is {}", article(node.ty)))
                    .help(format!("expected {}", article(accepted))),
            );
            false
        } else {
            true
        }
    }

    fn field(&mut self, name: &str, span: Span) -> Node {
        let path = FieldPath::new(name);
        let ty = match self.schema {
            None => TypeSet::ANY,
            Some(schema) => match schema.get(name) {
                Some(t) => t | TypeSet::NULL,
                None if path.steps.is_some() && schema.get(path.root()).is_some() => TypeSet::ANY,
                None => {
                    let hint = did_you_mean(name, schema.fields.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            let names: Vec<&str> =
                                schema.fields.keys().map(String::as_str).collect();
                            format!("declared fields: {}", names.join(", "))
                        });
                    self.errors.push(
                        Diag::new(codes::E104_UNKNOWN_FIELD, format!("unknown field `{name}`"))
                            .label(span, "not declared in the schema")
                            .help(hint),
                    );
                    TypeSet::ANY
                }
            },
        };
        Node::new(NodeKind::Field(path), ty, span)
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Node {
        let Some(func) = self.host.lookup(name) else {
            for a in args {
                self.expr(a);
            }
            let hint = stdlib::compat::peer_name(name)
                .or_else(|| {
                    did_you_mean(name, stdlib::all().chain(self.host.iter()).map(|f| f.name))
                        .map(|s| format!("did you mean `{s}`?"))
                })
                .unwrap_or_else(|| "`sluice functions` lists every function".to_string());
            self.errors.push(
                Diag::new(
                    codes::E201_UNKNOWN_FUNCTION,
                    format!("unknown function `{name}`"),
                )
                .label(name_span, "no function has this name")
                .help(hint),
            );
            return Node::new(NodeKind::Const(Value::Null), TypeSet::ANY, span);
        };
        if let (
            stdlib::Reads::FieldNamedByFirstArgument { instead: None },
            [Expr {
                kind: ExprKind::Str(field),
                span: arg_span,
            }],
        ) = (func.reads, args)
        {
            let node = self.field(field, *arg_span);
            return Node { span, ..node };
        }
        self.check_arity(func, args.len(), name_span, span);
        let nodes: Vec<Node> = args.iter().map(|a| self.expr(a)).collect();
        for (i, node) in nodes.iter().enumerate() {
            if let Some(param) = func.param(i) {
                if node.ty.certainly_outside(param.ty) && param.ty == TypeSet::BOOLEAN {
                    self.errors.push(
                        Diag::new(
                            codes::E103_CONDITION_NOT_BOOLEAN,
                            format!(
                                "argument `{}` of {}() is never boolean",
                                param.name, func.name
                            ),
                        )
                        .label(node.span, format!("this is {}", article(node.ty)))
                        .help("compare it to get a boolean, e.g. data('Qty') > 0"),
                    );
                } else if node.ty.certainly_outside(param.ty) {
                    self.errors.push(
                        Diag::new(
                            codes::E102_ARGUMENT_TYPE,
                            format!(
                                "argument `{}` of {}() must be {}",
                                param.name,
                                func.name,
                                article(param.ty)
                            ),
                        )
                        .label(node.span, format!("this is {}", article(node.ty)))
                        .help(format!("signature: {}", func.signature())),
                    );
                }
            }
        }
        if let Some(check) = func.check {
            for (i, node) in nodes.iter().enumerate() {
                if let Some(Err(e)) = node.as_const().map(|v| check(i, v)) {
                    self.errors.push(
                        Diag::new(e.code, e.message)
                            .label(node.span, "this literal")
                            .help(e.help),
                    );
                }
            }
        }
        let arg_types: Vec<TypeSet> = nodes.iter().map(|n| n.ty).collect();
        let ty = func.return_type(&arg_types);
        Node::new(NodeKind::Call(func, nodes), ty, span)
    }

    fn check_arity(&mut self, func: &Function, given: usize, name_span: Span, span: Span) {
        let min = func.min_args();
        let max = func.max_args();
        if given >= min && max.is_none_or(|m| given <= m) {
            return;
        }
        let expected = match max {
            Some(m) if m == min => format!("{min}"),
            Some(m) => format!("{min} to {m}"),
            None => format!("at least {min}"),
        };
        let plural = if expected == "1" { "" } else { "s" };
        self.errors.push(
            Diag::new(
                codes::E202_ARITY,
                format!(
                    "{}() takes {expected} argument{plural}, {given} given",
                    func.name
                ),
            )
            .label(
                span,
                format!("{given} argument{} here", if given == 1 { "" } else { "s" }),
            )
            .label(name_span, "this function")
            .help(match stdlib::compat::arity_hint(func.name, given) {
                Some(hint) => format!("{hint}; signature: {}", func.signature()),
                None => format!("signature: {}", func.signature()),
            }),
        );
    }

    fn binary(&mut self, op: BinaryOp, a: &Expr, b: &Expr, span: Span) -> Node {
        let left = self.expr(a);
        let right = self.expr(b);
        let nullable = left.ty.nullable() || right.ty.nullable();
        let ty = match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let both_text =
                    left.ty.non_null() == TypeSet::STRING && right.ty.non_null() == TypeSet::STRING;
                if op == BinaryOp::Add && both_text {
                    self.errors.push(
                        Diag::new(codes::E101_OPERATOR_TYPE, "`+` adds numbers, not strings")
                            .label(span, "both sides are strings")
                            .help("join text with `&` or concat()"),
                    );
                } else if let Some(date_side) = [&left, &right]
                    .into_iter()
                    .find(|n| is_certainly_dated(n.ty))
                    .filter(|_| matches!(op, BinaryOp::Add | BinaryOp::Sub))
                {
                    self.errors.push(
                        Diag::new(
                            codes::E101_OPERATOR_TYPE,
                            format!("`{}` does not do date arithmetic", op.symbol()),
                        )
                        .label(date_side.span, format!("this is {}", article(date_side.ty)))
                        .help(
                            "move a date with dateadd(d, n, unit), e.g. dateadd(today(), -1, 'day'); \
                             the distance between two dates is datediff(a, b, 'day')",
                        ),
                    );
                } else {
                    let msg = format!("`{}` needs numbers", op.symbol());
                    self.expect(&left, TypeSet::NUMBER, codes::E101_OPERATOR_TYPE, &msg);
                    self.expect(&right, TypeSet::NUMBER, codes::E101_OPERATOR_TYPE, &msg);
                }
                TypeSet::NUMBER.or_null_if(nullable)
            }
            BinaryOp::Concat => TypeSet::STRING,
            BinaryOp::Eq | BinaryOp::NotEq => TypeSet::BOOLEAN,
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                let msg = format!(
                    "`{}` compares numbers, text, booleans or dates",
                    op.symbol()
                );
                let ok = self.expect(&left, ORDERABLE, codes::E101_OPERATOR_TYPE, &msg)
                    & self.expect(&right, ORDERABLE, codes::E101_OPERATOR_TYPE, &msg);
                let (l, r) = (left.ty.non_null(), right.ty.non_null());
                if ok && !l.is_never() && !r.is_never() && !l.intersects(r) {
                    self.errors.push(
                        Diag::new(
                            codes::E101_OPERATOR_TYPE,
                            format!("cannot compare {} with {}", article(l), article(r)),
                        )
                        .label(left.span, format!("this is {}", article(l)))
                        .label(right.span, format!("this is {}", article(r)))
                        .help(comparison_help(l, r)),
                    );
                }
                TypeSet::BOOLEAN.or_null_if(nullable)
            }
            BinaryOp::And | BinaryOp::Or => {
                let msg = format!("`{}` needs booleans", op.symbol());
                self.expect(&left, TypeSet::BOOLEAN, codes::E101_OPERATOR_TYPE, &msg);
                self.expect(&right, TypeSet::BOOLEAN, codes::E101_OPERATOR_TYPE, &msg);
                TypeSet::BOOLEAN.or_null_if(nullable)
            }
            BinaryOp::Coalesce => left.ty.non_null() | right.ty,
        };
        Node::new(
            NodeKind::Binary(op, Box::new(left), Box::new(right)),
            ty,
            span,
        )
    }
}

/// Whether every non-null value of `t` is a date or a datetime.
fn is_certainly_dated(t: TypeSet) -> bool {
    let t = t.non_null();
    !t.is_never() && DATED.contains(t)
}

const DATED: TypeSet = TypeSet::DATE.union(TypeSet::DATETIME);

/// How to make two sides of a comparison comparable: dates against text want the text
/// parsed, numbers against text want a number.
fn comparison_help(l: TypeSet, r: TypeSet) -> String {
    let dated = |t: TypeSet| DATED.contains(t);
    if (dated(l) && r == TypeSet::STRING) || (dated(r) && l == TypeSet::STRING) {
        "read the text as a date first: parsedate(x) for ISO 8601 text, \
         parsedate(x, '%d.%m.%Y') for other formats; or write the date with date(y, m, d)"
            .to_string()
    } else if l == TypeSet::NUMBER || r == TypeSet::NUMBER {
        "convert one side first: number(x) reads text as a number, tostring(x) writes a number as text"
            .to_string()
    } else {
        "convert one side to the other's type first (tostring, number, parsedate, toboolean)"
            .to_string()
    }
}

/// "a string", "an array", "a number or null", "any value".
fn article(t: TypeSet) -> String {
    if t == TypeSet::ANY {
        return "any value".to_string();
    }
    let text = t.to_string();
    let an = text.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {text}", if an { "an" } else { "a" })
}
