//! Parser glue: runs the LALRPOP grammar over the logos tokens and turns its errors into
//! [`SyntaxError`]s, several per formula where the grammar can recover.

use lalrpop_util::{ErrorRecovery, ParseError};
use rust_decimal::Decimal;

use super::ast::{Expr, ExprKind};
use super::lexer::{LexError, LexErrorKind, Lexer, Tok};
use super::span::Span;
use crate::limits::Limits;

#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unused_qualifications
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/formula.rs"));
}

/// One entry between `[` and `]`: a plain item or a `key => value` pair.
pub enum Item {
    /// A plain array element.
    Value(Expr),
    /// A key–value pair of an object literal.
    Pair(Expr, Expr),
}

/// Why a formula does not parse.
#[derive(Debug, Clone, PartialEq)]
pub enum SyntaxErrorKind {
    /// The lexer (or a grammar action) rejected the text.
    Lex(LexErrorKind),
    /// A token where it cannot stand.
    UnexpectedToken {
        /// The token as written.
        found: String,
        /// What could stand there instead.
        expected: Vec<String>,
    },
    /// The formula ended too early.
    UnexpectedEnd {
        /// What was still needed.
        expected: Vec<String>,
    },
    /// The formula is longer than the limit.
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The formula nests deeper than the limit.
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// Nothing but white space.
    Empty,
}

/// A syntax error with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// What went wrong.
    pub kind: SyntaxErrorKind,
    /// Where.
    pub span: Span,
}

/// Parses formula text into a syntax tree, or every syntax error the parser could find.
pub fn parse(text: &str, limits: &Limits) -> Result<Expr, Vec<SyntaxError>> {
    if text.len() > limits.max_formula_bytes {
        return Err(vec![SyntaxError {
            kind: SyntaxErrorKind::TooLong {
                limit: limits.max_formula_bytes,
            },
            span: Span::new(limits.max_formula_bytes, text.len()),
        }]);
    }
    if text.trim().is_empty() {
        return Err(vec![SyntaxError {
            kind: SyntaxErrorKind::Empty,
            span: Span::new(0, text.len()),
        }]);
    }
    let mut recovered = Vec::new();
    let result = generated::FormulaParser::new().parse(&mut recovered, Lexer::new(text));
    let mut errors: Vec<SyntaxError> = recovered
        .into_iter()
        .map(|r| from_lalrpop(r.error, text))
        .collect();
    match result {
        Ok(expr) if errors.is_empty() => {
            if expr.depth_exceeds(limits.max_depth) {
                return Err(vec![SyntaxError {
                    kind: SyntaxErrorKind::TooDeep {
                        limit: limits.max_depth,
                    },
                    span: expr.span,
                }]);
            }
            Ok(expr)
        }
        Ok(_) => Err(errors),
        Err(e) => {
            let last = from_lalrpop(e, text);
            if !errors.contains(&last) {
                errors.push(last);
            }
            Err(errors)
        }
    }
}

fn from_lalrpop(err: ParseError<usize, Tok, LexError>, text: &str) -> SyntaxError {
    match err {
        ParseError::InvalidToken { location } => SyntaxError {
            kind: SyntaxErrorKind::Lex(LexErrorKind::UnexpectedChar),
            span: Span::new(location, location + 1),
        },
        ParseError::UnrecognizedEof { location, expected } => {
            let last_char = text
                .get(..location)
                .and_then(|t| t.char_indices().next_back())
                .map_or(location, |(i, _)| i);
            SyntaxError {
                kind: SyntaxErrorKind::UnexpectedEnd {
                    expected: readable_expected(&expected),
                },
                span: Span::new(last_char, location),
            }
        }
        ParseError::UnrecognizedToken {
            token: (start, _, end),
            expected,
        } => SyntaxError {
            kind: SyntaxErrorKind::UnexpectedToken {
                found: text.get(start..end).unwrap_or("?").to_string(),
                expected: readable_expected(&expected),
            },
            span: Span::new(start, end),
        },
        ParseError::ExtraToken {
            token: (start, _, end),
        } => SyntaxError {
            kind: SyntaxErrorKind::UnexpectedToken {
                found: text.get(start..end).unwrap_or("?").to_string(),
                expected: vec!["end of formula".into()],
            },
            span: Span::new(start, end),
        },
        ParseError::User { error } => SyntaxError {
            kind: SyntaxErrorKind::Lex(error.kind),
            span: error.span,
        },
    }
}

/// Terminal names as a person reads them; any start of an expression becomes "expression",
/// and the infix operators together "an operator".
fn readable_expected(expected: &[String]) -> Vec<String> {
    const EXPRESSION_STARTS: [&str; 4] = ["Num", "Str", "Field", "\"null\""];
    const INFIX: [&str; 16] = [
        "\"and\"", "\"or\"", "\"??\"", "\"&&\"", "\"||\"", "\"&\"", "\"=\"", "\"!=\"", "\"<\"",
        "\"<=\"", "\">\"", "\">=\"", "\"+\"", "\"*\"", "\"/\"", "\".\"",
    ];
    let mut out = Vec::new();
    let after_operand = expected.iter().any(|e| e == "\"+\"");
    let starts_expression = expected
        .iter()
        .any(|e| EXPRESSION_STARTS.contains(&e.as_str()));
    if starts_expression {
        out.push("expression".to_string());
    }
    for e in expected {
        let readable = match e.as_str() {
            "Num" | "Str" | "Field" | "\"true\"" | "\"false\"" | "\"null\"" | "\"not\""
            | "\"!\"" | "\"-\"" | "\"(\"" | "\"[\""
                if starts_expression =>
            {
                continue
            }
            "Ident" | "\"and\"" | "\"or\"" if starts_expression => continue,
            op if after_operand && (INFIX.contains(&op) || op == "\"-\"" || op == "\"[\"") => {
                "an operator".to_string()
            }
            "Ident" => "name".to_string(),
            "Num" => "number".to_string(),
            "Str" => "string".to_string(),
            "Field" => "field".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        };
        if !out.contains(&readable) {
            out.push(readable);
        }
    }
    out
}

/// A number literal node, or an error node when the literal is out of range.
pub fn number_literal(
    text: &str,
    start: usize,
    end: usize,
    errors: &mut Vec<ErrorRecovery<usize, Tok, LexError>>,
) -> Expr {
    match parse_decimal_literal(text) {
        Some(d) => Expr::new(ExprKind::Number(d), start, end),
        None => user_error(LexErrorKind::NumberOutOfRange, start, end, errors),
    }
}

/// Reads a decimal literal (`42`, `3.50`, `1e3`) exactly, or `None` when out of range.
pub fn parse_decimal_literal(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// An array or object literal from its items; mixing both kinds is an error.
pub fn collection(
    items: Vec<Item>,
    start: usize,
    end: usize,
    errors: &mut Vec<ErrorRecovery<usize, Tok, LexError>>,
) -> Expr {
    let pairs = items.iter().filter(|i| matches!(i, Item::Pair(..))).count();
    if pairs == 0 {
        let values = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Value(v) => Some(v),
                Item::Pair(..) => None,
            })
            .collect();
        Expr::new(ExprKind::Array(values), start, end)
    } else if pairs == items.len() {
        let pairs = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Pair(k, v) => Some((k, v)),
                Item::Value(_) => None,
            })
            .collect();
        Expr::new(ExprKind::Object(pairs), start, end)
    } else {
        user_error(LexErrorKind::MixedCollection, start, end, errors)
    }
}

/// Records a recovered syntax error and stands an error node in its place.
pub fn recovered(
    e: ErrorRecovery<usize, Tok, LexError>,
    start: usize,
    end: usize,
    errors: &mut Vec<ErrorRecovery<usize, Tok, LexError>>,
) -> Expr {
    errors.push(e);
    Expr::new(ExprKind::Error, start, end)
}

fn user_error(
    kind: LexErrorKind,
    start: usize,
    end: usize,
    errors: &mut Vec<ErrorRecovery<usize, Tok, LexError>>,
) -> Expr {
    errors.push(ErrorRecovery {
        error: ParseError::User {
            error: LexError {
                kind,
                span: Span::new(start, end),
            },
        },
        dropped_tokens: Vec::new(),
    });
    Expr::new(ExprKind::Error, start, end)
}
