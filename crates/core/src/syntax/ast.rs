//! The syntax tree, every node with its byte span.

use rust_decimal::Decimal;

use super::span::Span;

/// An expression node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is in the formula text.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal (always non-negative; `-` is a unary operator).
    Number(Decimal),
    /// A string literal, unescaped.
    Str(String),
    /// `$Name` or `$'Name with spaces'`: the same as `data('Name')`.
    Field(String),
    /// `[a, b, ...]`
    Array(Vec<Expr>),
    /// `['k' => v, ...]`
    Object(Vec<(Expr, Expr)>),
    /// `name(args...)`, the name as written.
    Call {
        /// The function name as written (resolution is case-insensitive).
        name: String,
        /// Where the name is.
        name_span: Span,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// A prefix operator.
    Unary(UnaryOp, Box<Expr>),
    /// An infix operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `expr.key`
    Member(Box<Expr>, String),
    /// `expr[index]` (array index or object key).
    Index(Box<Expr>, Box<Expr>),
    /// A place where the parser recovered from a syntax error.
    Error,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`, `!x`
    Not,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `??`
    Coalesce,
    /// `or`, `||`
    Or,
    /// `and`, `&&`
    And,
    /// `=`, `==`
    Eq,
    /// `!=`, `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `&`
    Concat,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// Binding strength of a syntactic level, loosest first (`docs/language.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prec {
    /// `??`
    Coalesce,
    /// `or`
    Or,
    /// `and`
    And,
    /// `not`
    Not,
    /// comparisons (non-associative)
    Compare,
    /// `&`
    Concat,
    /// `+ -`
    Additive,
    /// `* /`
    Multiplicative,
    /// unary `-`
    Neg,
    /// postfix `.key` and `[i]`, literals, calls, parentheses
    Postfix,
}

impl BinaryOp {
    /// The canonical spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Coalesce => "??",
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Concat => "&",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// The precedence level.
    pub fn prec(self) -> Prec {
        match self {
            BinaryOp::Coalesce => Prec::Coalesce,
            BinaryOp::Or => Prec::Or,
            BinaryOp::And => Prec::And,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => Prec::Compare,
            BinaryOp::Concat => Prec::Concat,
            BinaryOp::Add | BinaryOp::Sub => Prec::Additive,
            BinaryOp::Mul | BinaryOp::Div => Prec::Multiplicative,
        }
    }

    /// True for the comparison operators.
    pub fn is_comparison(self) -> bool {
        self.prec() == Prec::Compare
    }
}

impl Expr {
    /// A node of `kind` spanning `start..end`.
    pub fn new(kind: ExprKind, start: usize, end: usize) -> Self {
        Expr {
            kind,
            span: Span::new(start, end),
        }
    }

    /// A binary node spanning `start..end`.
    pub fn binary(op: BinaryOp, lhs: Expr, rhs: Expr, start: usize, end: usize) -> Self {
        Expr::new(
            ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            start,
            end,
        )
    }

    /// A unary node spanning `start..end`.
    pub fn unary(op: UnaryOp, operand: Expr, start: usize, end: usize) -> Self {
        Expr::new(ExprKind::Unary(op, Box::new(operand)), start, end)
    }

    /// The precedence level of this node's outermost syntax.
    pub fn prec(&self) -> Prec {
        match &self.kind {
            ExprKind::Binary(op, _, _) => op.prec(),
            ExprKind::Unary(UnaryOp::Not, _) => Prec::Not,
            ExprKind::Unary(UnaryOp::Neg, _) => Prec::Neg,
            _ => Prec::Postfix,
        }
    }

    /// The direct children, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::Str(_)
            | ExprKind::Field(_)
            | ExprKind::Error => Vec::new(),
            ExprKind::Array(items) => items.iter().collect(),
            ExprKind::Object(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Unary(_, e) | ExprKind::Member(e, _) => vec![e],
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => vec![a, b],
        }
    }

    /// The depth of the tree, counting at most to `limit + 1`.
    pub fn depth_exceeds(&self, limit: usize) -> bool {
        if limit == 0 {
            return true;
        }
        self.children().iter().any(|c| c.depth_exceeds(limit - 1))
    }

    /// The number of nodes in the tree.
    pub fn node_count(&self) -> usize {
        1 + self
            .children()
            .iter()
            .map(|c| c.node_count())
            .sum::<usize>()
    }

    /// The same tree with every span set to zero (to compare trees by shape).
    pub fn without_spans(&self) -> Expr {
        let strip = |e: &Expr| Box::new(e.without_spans());
        let kind = match &self.kind {
            ExprKind::Array(items) => {
                ExprKind::Array(items.iter().map(Expr::without_spans).collect())
            }
            ExprKind::Object(pairs) => ExprKind::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.without_spans(), v.without_spans()))
                    .collect(),
            ),
            ExprKind::Call { name, args, .. } => ExprKind::Call {
                name: name.clone(),
                name_span: Span::default(),
                args: args.iter().map(Expr::without_spans).collect(),
            },
            ExprKind::Unary(op, e) => ExprKind::Unary(*op, strip(e)),
            ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, strip(a), strip(b)),
            ExprKind::Member(e, k) => ExprKind::Member(strip(e), k.clone()),
            ExprKind::Index(a, b) => ExprKind::Index(strip(a), strip(b)),
            other => other.clone(),
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }
}

impl Drop for Expr {
    /// Drops the tree without recursion, so a deeply nested formula cannot overflow the stack.
    fn drop(&mut self) {
        let mut pending: Vec<Expr> = Vec::new();
        take_children(&mut self.kind, &mut pending);
        while let Some(mut node) = pending.pop() {
            take_children(&mut node.kind, &mut pending);
        }
    }
}

fn take_children(kind: &mut ExprKind, into: &mut Vec<Expr>) {
    match std::mem::replace(kind, ExprKind::Null) {
        ExprKind::Array(items) => into.extend(items),
        ExprKind::Object(pairs) => into.extend(pairs.into_iter().flat_map(|(k, v)| [k, v])),
        ExprKind::Call { args, .. } => into.extend(args),
        ExprKind::Unary(_, e) | ExprKind::Member(e, _) => into.push(*e),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            into.push(*a);
            into.push(*b);
        }
        _ => {}
    }
}
