//! The front end as one call: text → syntax tree → typed IR (checked, folded).

use crate::diagnostics::{codes, Diag};
use crate::ir::Node;
use crate::limits::Limits;
use crate::syntax::lexer::LexErrorKind;
use crate::syntax::span::line_col;
use crate::syntax::{self, Expr, SyntaxError, SyntaxErrorKind};
use crate::types::{self, Schema};

/// What compiling needs besides the text.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Resource limits.
    pub limits: Limits,
    /// The schema of the records the formula reads, if declared.
    pub schema: Option<Schema>,
    /// Functions the host program registered.
    pub host: crate::stdlib::HostFunctions,
}

/// A compiled formula.
#[derive(Debug)]
pub struct Formula {
    /// The syntax tree.
    pub ast: Expr,
    /// The typed, folded IR.
    pub ir: Node,
}

/// Compiles formula text; every diagnostic found on failure.
pub fn compile(text: &str, options: &CompileOptions) -> Result<Formula, Vec<Diag>> {
    let ast = syntax::parse(text, &options.limits).map_err(|errors| {
        errors
            .iter()
            .map(|e| syntax_diag(e, text))
            .collect::<Vec<_>>()
    })?;
    let ir = types::check(&ast, options.schema.as_ref(), &options.host)?;
    Ok(Formula {
        ir: crate::interp::fold(ir, &options.limits),
        ast,
    })
}

/// A syntax error as a diagnostic; the message names the line and column.
pub fn syntax_diag(err: &SyntaxError, text: &str) -> Diag {
    let (line, col) = line_col(text, err.span.start);
    let at = format!("at line {line}, column {col}");
    match &err.kind {
        SyntaxErrorKind::Lex(kind) => match kind {
            LexErrorKind::UnexpectedChar => {
                let ch = text
                    .get(err.span.start..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                let help = if ch == ';' {
                    "arguments are separated by `,`: write concat('a', 'b'); `;` is the \
                     separator of spreadsheets set to some languages (German Excel), not of \
                     formulas"
                } else {
                    "strings are single-quoted: 'text'; fields are data('Name') or $Name"
                };
                Diag::new(
                    codes::E001_UNEXPECTED_CHAR,
                    format!("unexpected character `{ch}` {at}"),
                )
                .label(err.span, "not part of any token")
                .help(help)
            }
            LexErrorKind::UnterminatedString => Diag::new(
                codes::E002_UNTERMINATED_STRING,
                format!("unterminated string starting {at}"),
            )
            .label(err.span, "this string has no closing quote")
            .help("close it with a quote; inside single quotes write a quote as ''"),
            LexErrorKind::InvalidEscape(esc) => Diag::new(
                codes::E003_INVALID_ESCAPE,
                format!("invalid escape `{esc}` in string {at}"),
            )
            .label(err.span, "in this string")
            .help(format!(
                "in a double-quoted string a backslash starts an escape (\\n \\t \\r \\\\ \\\" \\'); \
                 in single quotes it is just a backslash, as a regular expression wants: '{esc}'"
            )),
            LexErrorKind::NumberOutOfRange => Diag::new(
                codes::E006_NUMBER_OUT_OF_RANGE,
                format!("number literal out of range {at}"),
            )
            .label(err.span, "more than 28 significant digits or too large"),
            LexErrorKind::MixedCollection => Diag::new(
                codes::E007_MIXED_COLLECTION,
                format!("array literal mixes items and key => value pairs {at}"),
            )
            .label(err.span, "either every entry is `key => value` or none is"),
        },
        SyntaxErrorKind::UnexpectedToken { found, expected } => Diag::new(
            codes::E004_UNEXPECTED_TOKEN,
            format!("unexpected `{found}` {at}"),
        )
        .label(err.span, "unexpected here")
        .maybe_help(
            unexpected_token_help(found, expected, text.get(..err.span.start).unwrap_or(""))
                .or_else(|| expected_help(expected)),
        ),
        SyntaxErrorKind::UnexpectedEnd { expected } => Diag::new(
            codes::E005_UNEXPECTED_END,
            format!("formula ends too early {at}"),
        )
        .label(err.span, "the formula ends here")
        .maybe_help(expected_help(expected)),
        SyntaxErrorKind::TooLong { limit } => Diag::new(
            codes::E009_TOO_LONG,
            format!(
                "formula is {} bytes, longer than the limit of {limit}",
                text.len()
            ),
        ),
        SyntaxErrorKind::TooDeep { limit } => Diag::new(
            codes::E008_TOO_DEEP,
            format!("formula nests deeper than the limit of {limit}"),
        )
        .label(err.span, "in this expression"),
        SyntaxErrorKind::Empty => Diag::new(codes::E010_EMPTY, "the formula is empty"),
    }
}

/// A hint for the mistakes that an "expected ..." list explains badly: a chained
/// comparison, and a bare name where a quoted field name was meant.
fn unexpected_token_help(found: &str, expected: &[String], before: &str) -> Option<String> {
    const COMPARISONS: [&str; 8] = ["=", "==", "!=", "<>", "<", "<=", ">", ">="];
    if COMPARISONS.contains(&found) && !expected.iter().any(|e| e == "expression") {
        return Some(
            "comparisons do not chain: write `a = b and b = c`, or put one comparison in \
             parentheses to compare its boolean result"
                .to_string(),
        );
    }
    if expected == ["`(`"] {
        let name: String = before
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !name.is_empty() {
            return Some(format!(
                "a bare name is a function call; field names are quoted: data('{name}') or ${name}"
            ));
        }
    }
    None
}

fn expected_help(expected: &[String]) -> Option<String> {
    match expected {
        [] => None,
        [one] => Some(format!("expected {one}")),
        many => Some(format!("expected one of: {}", many.join(", "))),
    }
}
