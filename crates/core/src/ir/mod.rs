//! The typed IR: what the checker produces from the syntax tree, with every function
//! resolved, every literal field name resolved to a path, every node typed, and
//! constants folded (by `interp::fold`, which evaluates them). The interpreter and the JIT
//! both run it.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::stdlib::Function;
use crate::syntax::{BinaryOp, Span};
use crate::value::TypeSet;
use crate::value::{FieldPath, Value};

/// A node of the typed IR.
#[derive(Debug, Clone)]
pub struct Node {
    /// What the node computes.
    pub kind: NodeKind,
    /// The kinds its value can have.
    pub ty: TypeSet,
    /// The source span it came from (for runtime errors).
    pub span: Span,
}

/// The kinds of IR node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A constant value.
    Const(Value),
    /// A field of the current record, resolved at compile time.
    Field(FieldPath),
    /// An array built from its elements.
    Array(Vec<Node>),
    /// An object built from key–value pairs.
    Object(Vec<(Node, Node)>),
    /// Numeric negation.
    Neg(Box<Node>),
    /// Boolean negation (three-valued).
    Not(Box<Node>),
    /// An infix operator (`and`, `or`, `??` evaluate their right side lazily).
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `x.key`
    Member(Box<Node>, Arc<str>),
    /// `x[i]`, `x['key']`
    Index(Box<Node>, Box<Node>),
    /// A call of a standard-library function.
    Call(&'static Function, Vec<Node>),
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Node {
    /// A node of `kind` with type `ty` at `span`.
    pub fn new(kind: NodeKind, ty: TypeSet, span: Span) -> Self {
        Node { kind, ty, span }
    }

    /// The node's constant value, if it is one.
    pub fn as_const(&self) -> Option<&Value> {
        match &self.kind {
            NodeKind::Const(v) => Some(v),
            _ => None,
        }
    }

    /// The children, in evaluation order.
    pub fn children(&self) -> Vec<&Node> {
        match &self.kind {
            NodeKind::Const(_) | NodeKind::Field(_) => Vec::new(),
            NodeKind::Array(items) | NodeKind::Call(_, items) => items.iter().collect(),
            NodeKind::Object(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
            NodeKind::Neg(e) | NodeKind::Not(e) | NodeKind::Member(e, _) => vec![e],
            NodeKind::Binary(_, a, b) | NodeKind::Index(a, b) => vec![a, b],
        }
    }

    /// Every top-level field the node reads (for schemas and executors).
    pub fn fields(&self, out: &mut Vec<FieldPath>) {
        if let NodeKind::Field(p) = &self.kind {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        for c in self.children() {
            c.fields(out);
        }
    }

    /// Whether the node or one below it calls a function that reads the Connect Object
    /// store ([`crate::stdlib::Function::store`]).
    pub fn reads_store(&self) -> bool {
        matches!(&self.kind, NodeKind::Call(f, _) if f.store)
            || self.children().into_iter().any(Node::reads_store)
    }

    /// A readable dump of the IR, one node per line, with types.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        self.dump_into(0, &mut out);
        out
    }

    fn dump_into(&self, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent);
        let head = match &self.kind {
            NodeKind::Const(v) => format!("const {}", v.to_json()),
            NodeKind::Field(p) => format!("field {:?}", p.name),
            NodeKind::Array(_) => "array".to_string(),
            NodeKind::Object(_) => "object".to_string(),
            NodeKind::Neg(_) => "neg".to_string(),
            NodeKind::Not(_) => "not".to_string(),
            NodeKind::Binary(op, _, _) => format!("binary {}", op.symbol()),
            NodeKind::Member(_, k) => format!("member {k:?}"),
            NodeKind::Index(_, _) => "index".to_string(),
            NodeKind::Call(f, _) => format!("call {}", f.name),
        };
        let _ = writeln!(out, "{pad}{head} : {}", self.ty);
        for c in self.children() {
            c.dump_into(indent + 1, out);
        }
    }
}
