//! The printer: a syntax tree back to canonical formula text.
//!
//! Canonical means: single-quoted strings, lowercase keywords, `=`/`!=`/`and`/`or`/`not`
//! spellings, `, ` between arguments, ` => ` in objects, spaces around infix operators, and
//! parentheses only where precedence needs them. Parsing the printed text gives back the
//! same tree (see the round-trip property test).

use super::ast::{Expr, ExprKind, Prec, UnaryOp};
use super::lexer::keyword;

/// The canonical text of `expr`.
pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(expr, &mut out);
    out
}

/// A string literal in canonical (single-quoted) form.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// True for names that print bare (`$Name`, `.key`): identifier-shaped, not a keyword.
pub fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && keyword(s).is_none()
}

fn write_expr(expr: &Expr, out: &mut String) {
    match &expr.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Number(n) => out.push_str(&n.to_string()),
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Field(name) => {
            out.push('$');
            if is_plain_name(name) {
                out.push_str(name);
            } else {
                out.push_str(&quote(name));
            }
        }
        ExprKind::Array(items) => {
            out.push('[');
            write_list(items.iter(), out, write_expr);
            out.push(']');
        }
        ExprKind::Object(pairs) => {
            out.push('[');
            write_list(pairs.iter(), out, |(k, v), out| {
                write_expr(k, out);
                out.push_str(" => ");
                write_expr(v, out);
            });
            out.push(']');
        }
        ExprKind::Call { name, args, .. } => {
            out.push_str(name);
            out.push('(');
            write_list(args.iter(), out, write_expr);
            out.push(')');
        }
        ExprKind::Unary(op, operand) => {
            let (symbol, prec) = match op {
                UnaryOp::Neg => ("-", Prec::Neg),
                UnaryOp::Not => ("not ", Prec::Not),
            };
            out.push_str(symbol);
            write_operand(operand, prec, out);
        }
        ExprKind::Binary(op, lhs, rhs) => {
            let prec = op.prec();
            // Left-associative levels take an equal level on the left; `??` is
            // right-associative; comparisons take neither side at their own level.
            let (left_min, right_min) = match prec {
                Prec::Coalesce => (next(prec), prec),
                Prec::Compare => (next(prec), next(prec)),
                _ => (prec, next(prec)),
            };
            write_operand(lhs, left_min, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(rhs, right_min, out);
        }
        ExprKind::Member(target, key) => {
            write_operand(target, Prec::Postfix, out);
            if is_plain_name(key) {
                out.push('.');
                out.push_str(key);
            } else {
                out.push('[');
                out.push_str(&quote(key));
                out.push(']');
            }
        }
        ExprKind::Index(target, index) => {
            write_operand(target, Prec::Postfix, out);
            out.push('[');
            write_expr(index, out);
            out.push(']');
        }
        ExprKind::Error => out.push_str("<error>"),
    }
}

/// Writes `expr`, in parentheses when it binds looser than `min`.
fn write_operand(expr: &Expr, min: Prec, out: &mut String) {
    if expr.prec() < min {
        out.push('(');
        write_expr(expr, out);
        out.push(')');
    } else {
        write_expr(expr, out);
    }
}

fn next(p: Prec) -> Prec {
    match p {
        Prec::Coalesce => Prec::Or,
        Prec::Or => Prec::And,
        Prec::And => Prec::Not,
        Prec::Not => Prec::Compare,
        Prec::Compare => Prec::Concat,
        Prec::Concat => Prec::Additive,
        Prec::Additive => Prec::Multiplicative,
        Prec::Multiplicative => Prec::Neg,
        Prec::Neg | Prec::Postfix => Prec::Postfix,
    }
}

fn write_list<T>(
    items: impl Iterator<Item = T>,
    out: &mut String,
    mut each: impl FnMut(T, &mut String),
) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(item, out);
    }
}
