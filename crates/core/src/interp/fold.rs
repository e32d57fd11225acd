//! Constant folding: a pure node whose operands are all constants is evaluated once, at
//! compile time. A node whose evaluation fails is left as it is, so the error happens at
//! run time, exactly as it would without folding (`number('abc')` exits 1, not 2).
//! A call of a function that reads the field named by its first argument
//! ([`Reads::FieldNamedByFirstArgument`]) becomes a field read when the name folds to a
//! constant: `data('X')` is the field `X`, `vlookup('X', ...)` is `textvlookup(X, ...)`.

use crate::interp::Interpreter;
use crate::ir::{Node, NodeKind};
use crate::limits::Limits;
use crate::runtime::Ctx;
use crate::stdlib::Reads;
use crate::value::TypeSet;
use crate::value::{FieldPath, Value};

/// Folds `node` bottom-up, evaluating within `limits` (a fold that would break a limit is
/// left to fail at run time).
pub fn fold(node: Node, limits: &Limits) -> Node {
    let Node { kind, ty, span } = node;
    let kind = match kind {
        NodeKind::Array(items) => {
            NodeKind::Array(items.into_iter().map(|n| fold(n, limits)).collect())
        }
        NodeKind::Object(pairs) => NodeKind::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (fold(k, limits), fold(v, limits)))
                .collect(),
        ),
        NodeKind::Neg(e) => NodeKind::Neg(Box::new(fold(*e, limits))),
        NodeKind::Not(e) => NodeKind::Not(Box::new(fold(*e, limits))),
        NodeKind::Binary(op, a, b) => {
            NodeKind::Binary(op, Box::new(fold(*a, limits)), Box::new(fold(*b, limits)))
        }
        NodeKind::Member(e, k) => NodeKind::Member(Box::new(fold(*e, limits)), k),
        NodeKind::Index(a, b) => {
            NodeKind::Index(Box::new(fold(*a, limits)), Box::new(fold(*b, limits)))
        }
        NodeKind::Call(f, args) => {
            let mut args: Vec<Node> = args.into_iter().map(|n| fold(n, limits)).collect();
            let name = match (f.reads, args.first().and_then(Node::as_const)) {
                (Reads::FieldNamedByFirstArgument { instead }, Some(Value::String(name))) => {
                    Some((instead, FieldPath::new(name)))
                }
                _ => None,
            };
            match name {
                Some((None, path)) if args.len() == 1 => NodeKind::Field(path),
                Some((Some(instead), path)) => {
                    match (crate::stdlib::lookup(instead), args.first_mut()) {
                        (Some(g), Some(first)) => {
                            *first = Node::new(NodeKind::Field(path), TypeSet::ANY, first.span);
                            NodeKind::Call(g, args)
                        }
                        _ => NodeKind::Call(f, args),
                    }
                }
                _ => NodeKind::Call(f, args),
            }
        }
        other => other,
    };
    let node = Node { kind, ty, span };
    if is_foldable(&node) {
        let empty = Value::Null;
        let mut ctx = Ctx::new(&empty);
        ctx.limits = *limits;
        if let Ok(v) = Interpreter::new().eval(&node, &ctx) {
            let ty = v.kind();
            return Node::new(NodeKind::Const(v), ty, span);
        }
    }
    node
}

/// A node that does not read the record, the clock or the store, over constant operands.
fn is_foldable(node: &Node) -> bool {
    let pure = match &node.kind {
        NodeKind::Const(_) | NodeKind::Field(_) => return false,
        NodeKind::Call(f, _) => f.pure,
        _ => true,
    };
    pure && node.children().iter().all(|c| c.as_const().is_some())
}
