//! Constant folding: a pure node whose operands are all constants is evaluated once, at
//! compile time. A node whose evaluation fails is left as it is, so the error happens at
//! run time, exactly as it would without folding (`number('abc')` exits 1, not 2).
//! `data('lit')` calls whose argument folds to a constant become field reads.

use super::{Node, NodeKind};
use crate::interp::Interpreter;
use crate::runtime::Ctx;
use crate::value::{FieldPath, Value};

/// Folds `node` bottom-up.
pub fn fold(node: Node) -> Node {
    let Node { kind, ty, span } = node;
    let kind = match kind {
        NodeKind::Array(items) => NodeKind::Array(items.into_iter().map(fold).collect()),
        NodeKind::Object(pairs) => {
            NodeKind::Object(pairs.into_iter().map(|(k, v)| (fold(k), fold(v))).collect())
        }
        NodeKind::Neg(e) => NodeKind::Neg(Box::new(fold(*e))),
        NodeKind::Not(e) => NodeKind::Not(Box::new(fold(*e))),
        NodeKind::Binary(op, a, b) => NodeKind::Binary(op, Box::new(fold(*a)), Box::new(fold(*b))),
        NodeKind::Member(e, k) => NodeKind::Member(Box::new(fold(*e)), k),
        NodeKind::Index(a, b) => NodeKind::Index(Box::new(fold(*a)), Box::new(fold(*b))),
        NodeKind::Call(f, args) => {
            let args: Vec<Node> = args.into_iter().map(fold).collect();
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
        let ctx = Ctx::new(&empty);
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
