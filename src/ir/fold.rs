//! Constant folding: a pure node whose operands are all constants is evaluated once, at
//! compile time. A node whose evaluation fails is left as it is, so the error happens at
//! run time, exactly as it would without folding (`number('abc')` exits 1, not 2).
//! `data('lit')` calls whose argument folds to a constant become field reads.

use super::{Node, NodeKind};
use crate::interp::Interpreter;
use crate::limits::Limits;
use crate::runtime::Ctx;
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
            let args: Vec<Node> = args.into_iter().map(|n| fold(n, limits)).collect();
            match (f.name, args.as_slice()) {
                ("data", [arg]) => match arg.as_const() {
                    Some(Value::String(name)) => NodeKind::Field(FieldPath::new(name)),
                    _ => NodeKind::Call(f, args),
                },
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
