//! The analysis of one formula's text: findings (the compiler's diagnostics as spans),
//! completion, signature help and hover. Offsets are byte offsets into the text.

use crate::compile::{compile, CompileOptions};
use crate::diagnostics::Diag;
use crate::ir::Node;
use crate::stdlib::{self, Function};
use crate::syntax::lexer::{Lexer, Tok};

/// A diagnostic of a formula, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The registry code (`E201`).
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// The bytes it is about (the whole formula when the compiler gave no span).
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What the span's label says (a did-you-mean, the type found).
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Finding {
    /// A compiler diagnostic of a formula of `len` bytes, at its first span.
    pub fn of(diag: &Diag, len: usize) -> Finding {
        let (start, end, label) = diag.labels.first().map_or((0, len, ""), |(span, text)| {
            (span.start, span.end.max(span.start), text.as_str())
        });
        Finding {
            code: diag.code.id,
            message: diag.message.clone(),
            label: label.to_string(),
            start: start.min(len),
            end: end.min(len),
            help: diag.help.clone(),
        }
    }
}

/// What `sluice check` says of `text` compiled under `options`: nothing when it compiles.
pub fn findings(text: &str, options: &CompileOptions) -> Vec<Finding> {
    match compile(text, options) {
        Ok(_) => Vec::new(),
        Err(diags) => diags.iter().map(|d| Finding::of(d, text.len())).collect(),
    }
}

/// What a completion offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    /// A function of the library.
    Function,
    /// A field of the records.
    Field,
    /// `true`, `false`, `null`, `and`, `or`, `not`.
    Keyword,
}

/// One completion: what replaces the bytes from the completion's start to the cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// What the list shows.
    pub label: String,
    /// What is inserted.
    pub insert: String,
    /// What it is.
    pub kind: CompletionKind,
    /// The signature of a function, the word "field" for a field.
    pub detail: String,
    /// A function's one line of documentation.
    pub doc: String,
}

const KEYWORDS: &[&str] = &["true", "false", "null", "and", "or", "not"];

/// The completions at `offset` in `text`, with `fields` the records' field names: after `$`
/// or inside the quotes of `data('…')` (or `$'…'`) the field names, elsewhere the functions, fields
/// and keywords starting with the word before the cursor. Returns where the replaced word
/// starts.
pub fn complete(text: &str, offset: usize, fields: &[String]) -> (usize, Vec<Completion>) {
    let offset = floor_char(text, offset);
    let before = text.get(..offset).unwrap_or(text);
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = before.get(start..).unwrap_or("");
    let field = |name: &String| Completion {
        label: name.clone(),
        insert: name.clone(),
        kind: CompletionKind::Field,
        detail: "field".into(),
        doc: String::new(),
    };
    let before_word = before.get(..start).unwrap_or("");
    if before_word.ends_with('$') || in_field_name(before_word) {
        let out = fields
            .iter()
            .filter(|f| f.starts_with(word))
            .map(field)
            .collect();
        return (start, out);
    }
    if in_string(before) {
        return (start, Vec::new());
    }
    let lower = word.to_lowercase();
    let mut out: Vec<Completion> = stdlib::all()
        .filter(|f| f.name.starts_with(&lower))
        .map(|f| Completion {
            label: f.name.to_string(),
            insert: format!("{}(", f.name),
            kind: CompletionKind::Function,
            detail: f.signature(),
            doc: f.doc.to_string(),
        })
        .collect();
    out.extend(
        KEYWORDS
            .iter()
            .filter(|k| k.starts_with(&lower) && !lower.is_empty())
            .map(|k| Completion {
                label: (*k).to_string(),
                insert: (*k).to_string(),
                kind: CompletionKind::Keyword,
                detail: "keyword".into(),
                doc: String::new(),
            }),
    );
    out.extend(
        fields
            .iter()
            .filter(|f| f.starts_with(word))
            .map(|name| Completion {
                insert: format!("data('{name}')"),
                ..field(name)
            }),
    );
    (start, out)
}

/// Whether text ending here is inside the quotes of a field name: `data('`, `$'`, or the
/// first argument of another function that reads a field by name.
fn in_field_name(before_word: &str) -> bool {
    let Some(quoted) = before_word.strip_suffix('\'') else {
        return false;
    };
    if quoted.ends_with('$') {
        return true;
    }
    let call = quoted.trim_end().strip_suffix('(').unwrap_or("").trim_end();
    let name_start = call
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    call.get(name_start..)
        .and_then(stdlib::lookup)
        .is_some_and(|f| !matches!(f.reads, stdlib::Reads::Arguments))
}

/// Whether `before` ends inside a string literal.
fn in_string(before: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in before.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// A function call's signature, with the parameter the cursor is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// `round(x: number, digits?: number) -> number`.
    pub label: String,
    /// Each parameter as the label shows it.
    pub params: Vec<String>,
    /// The parameter the cursor is in (the last one of a variadic function past its end).
    pub active: usize,
    /// The function's documentation.
    pub doc: String,
}

/// The signature of the innermost call open at `offset`.
pub fn signature_help(text: &str, offset: usize) -> Option<Signature> {
    let offset = floor_char(text, offset);
    let mut calls: Vec<(Option<&'static Function>, usize)> = Vec::new();
    let mut previous: Option<Tok> = None;
    for token in Lexer::new(text.get(..offset)?) {
        let Ok((_, tok, _)) = token else { break };
        match &tok {
            Tok::LParen => {
                let function = match &previous {
                    Some(Tok::Ident(name)) => stdlib::lookup(name),
                    _ => None,
                };
                calls.push((function, 0));
            }
            Tok::LBracket => calls.push((None, 0)),
            Tok::RParen | Tok::RBracket => {
                calls.pop();
            }
            Tok::Comma => {
                if let Some((_, arg)) = calls.last_mut() {
                    *arg += 1;
                }
            }
            _ => {}
        }
        previous = Some(tok);
    }
    let (function, arg) = calls.pop()?;
    let function = function?;
    let params: Vec<String> = function
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, p.ty))
        .collect();
    let last = params.len().saturating_sub(1);
    Some(Signature {
        label: function.signature(),
        active: arg.min(last),
        params,
        doc: function.doc.to_string(),
    })
}

/// What hovering at `offset` shows: a function's signature and documentation, or the type
/// of the smallest expression there (when the formula compiles).
pub fn hover(text: &str, offset: usize, options: &CompileOptions) -> Option<String> {
    for (start, tok, end) in Lexer::new(text).flatten() {
        if start <= offset && offset < end {
            if let Tok::Ident(name) = &tok {
                if let Some(f) = stdlib::lookup(name) {
                    return Some(format!("{}\n\n{}", f.signature(), f.doc));
                }
            }
            break;
        }
    }
    let formula = compile(text, options).ok()?;
    let node = smallest_at(&formula.ir, offset)?;
    let shown = text.get(node.span.start..node.span.end).unwrap_or("");
    Some(format!("`{shown}`: {}", node.ty))
}

/// The smallest IR node whose span holds `offset`.
fn smallest_at(node: &Node, offset: usize) -> Option<&Node> {
    if !(node.span.start <= offset && offset <= node.span.end) {
        return None;
    }
    node.children()
        .into_iter()
        .find_map(|child| smallest_at(child, offset))
        .or(Some(node))
}

/// `offset` moved back to the start of the character it is in.
fn floor_char(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn fields() -> Vec<String> {
        vec!["CardCode".into(), "CardName".into(), "Balance".into()]
    }

    #[test]
    fn a_wrong_formula_has_a_finding_at_its_span_and_a_right_one_none() {
        let options = CompileOptions::default();
        let found = findings("concat('a', lenght('b'))", &options);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "E201");
        assert_eq!(
            &"concat('a', lenght('b'))"[found[0].start..found[0].end],
            "lenght"
        );
        assert_eq!(found[0].label, "no function has this name");
        assert!(findings("concat('a', len('b'))", &options).is_empty());
    }

    #[test]
    fn completion_offers_functions_then_fields_inside_data_quotes() {
        let (start, items) = complete("upper(conc", 10, &fields());
        assert_eq!(start, 6);
        assert!(items
            .iter()
            .any(|c| c.label == "concat" && c.insert == "concat("));
        let (start, items) = complete("upper(data('Card", 16, &fields());
        assert_eq!(start, 12);
        let labels: Vec<_> = items.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["CardCode", "CardName"]);
        let (start, items) = complete("$Bal", 4, &fields());
        assert_eq!((start, items[0].insert.as_str()), (1, "Balance"));
        let (_, items) = complete("concat('Car", 11, &fields());
        assert!(items.is_empty(), "not inside an ordinary string");
    }

    #[test]
    fn signature_help_follows_the_argument_the_cursor_is_in() {
        let text = "round(data('Balance') * 1.19, ";
        let s = signature_help(text, text.len()).unwrap();
        assert!(s.label.starts_with("round("), "{s:?}");
        assert_eq!(s.active, 1);
        let s = signature_help("concat(upper(", 13).unwrap();
        assert!(s.label.starts_with("upper("));
        assert!(signature_help("concat('a')", 11).is_none());
    }

    #[test]
    fn hover_shows_a_functions_doc_or_the_type_there() {
        let options = CompileOptions::default();
        let text = "round(1.5 * 2, 0)";
        assert!(hover(text, 1, &options).unwrap().starts_with("round("));
        let shown = hover(text, 7, &options).unwrap();
        assert!(shown.contains("number"), "{shown}");
    }
}
