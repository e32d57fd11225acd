//! Text → tokens → syntax tree, and back to canonical text.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod span;

pub use ast::{BinaryOp, Expr, ExprKind, UnaryOp};
pub use parser::{parse, SyntaxError, SyntaxErrorKind};
pub use printer::print;
pub use span::Span;
