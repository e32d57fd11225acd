//! The lexer: formula text to tokens with byte spans (logos).
//!
//! [`LexError`] also carries the few errors the grammar's actions raise (a number literal
//! out of range, a mixed array/object), since LALRPOP has one user error type.
//!
//! Keywords (`and`, `or`, `not`, `true`, `false`, `null`) are case-insensitive; they are
//! lexed as identifiers and recognised by [`Lexer`], so that `True` and `TRUE` are the same.

use logos::Logos;

use super::span::Span;

/// What went wrong while lexing, with the span of the offending text.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LexErrorKind {
    /// A character that starts no token.
    #[default]
    UnexpectedChar,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A backslash escape other than `\n \t \r \\ \" \'` in a double-quoted string.
    InvalidEscape(String),
    /// A number literal outside the decimal range (28 significant digits).
    NumberOutOfRange,
    /// `[...]` mixing plain items and `key => value` pairs.
    MixedCollection,
}

/// A lexing error and where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    /// What went wrong.
    pub kind: LexErrorKind,
    /// Where.
    pub span: Span,
}

/// A token of the formula language.
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(error = LexErrorKind)]
pub enum Tok {
    /// A name: function names and `.key` members.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// A number literal, as written (`42`, `3.50`, `1e3`).
    #[regex(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", |lex| lex.slice().to_string())]
    Number(String),
    /// A string literal, unescaped.
    #[regex(r"'([^']|'')*'", |lex| single_quoted(lex.slice()))]
    #[regex(r#""([^"\\]|\\(.|\n))*""#, |lex| double_quoted(lex.slice()))]
    #[regex(r"'([^']|'')*", unterminated, priority = 1)]
    #[regex(r#""([^"\\]|\\(.|\n))*\\?"#, unterminated, priority = 1)]
    Str(String),
    /// A field shorthand: `$Name` or `$'Field with spaces'`.
    #[regex(r"\$[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice()[1..].to_string())]
    #[regex(r"\$'([^']|'')*'", |lex| single_quoted(&lex.slice()[1..]))]
    #[regex(r"\$'([^']|'')*", unterminated, priority = 1)]
    Field(String),
    /// `true` (any case).
    True,
    /// `false` (any case).
    False,
    /// `null` (any case).
    Null,
    /// `and` (any case).
    And,
    /// `or` (any case).
    Or,
    /// `not` (any case).
    Not,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `,`
    #[token(",")]
    Comma,
    /// `.`
    #[token(".")]
    Dot,
    /// `=>`
    #[token("=>")]
    Arrow,
    /// `??`
    #[token("??")]
    QuestionQuestion,
    /// `&&`
    #[token("&&")]
    AmpAmp,
    /// `||`
    #[token("||")]
    PipePipe,
    /// `&`
    #[token("&")]
    Amp,
    /// `!`
    #[token("!")]
    Bang,
    /// `=` or `==`
    #[token("=")]
    #[token("==")]
    Eq,
    /// `!=` or `<>`
    #[token("!=")]
    #[token("<>")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    LtEq,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    GtEq,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
}

fn unterminated(_: &mut logos::Lexer<Tok>) -> Result<String, LexErrorKind> {
    Err(LexErrorKind::UnterminatedString)
}

/// The content of `'...'` with `''` turned into `'`.
fn single_quoted(slice: &str) -> String {
    let inner = slice
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(slice);
    inner.replace("''", "'")
}

/// The content of `"..."` with its backslash escapes resolved.
fn double_quoted(slice: &str) -> Result<String, LexErrorKind> {
    let inner = slice
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(slice);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(other) => return Err(LexErrorKind::InvalidEscape(format!("\\{other}"))),
            None => return Err(LexErrorKind::UnterminatedString),
        }
    }
    Ok(out)
}

/// The keyword an identifier spells, if any (case-insensitively).
pub fn keyword(ident: &str) -> Option<Tok> {
    let kw = match ident.to_ascii_lowercase().as_str() {
        "true" => Tok::True,
        "false" => Tok::False,
        "null" => Tok::Null,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        _ => return None,
    };
    Some(kw)
}

/// A spanned token, as the LALRPOP parser takes it.
pub type Spanned = Result<(usize, Tok, usize), LexError>;

/// Tokens of a formula with their byte spans, keywords recognised.
pub struct Lexer<'s> {
    inner: logos::Lexer<'s, Tok>,
}

impl<'s> Lexer<'s> {
    /// A lexer over `text`.
    pub fn new(text: &'s str) -> Self {
        Lexer {
            inner: Tok::lexer(text),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Spanned;

    fn next(&mut self) -> Option<Spanned> {
        let tok = self.inner.next()?;
        let range = self.inner.span();
        Some(match tok {
            Ok(Tok::Ident(name)) => Ok((
                range.start,
                keyword(&name).unwrap_or(Tok::Ident(name)),
                range.end,
            )),
            Ok(t) => Ok((range.start, t, range.end)),
            Err(kind) => Err(LexError {
                kind,
                span: Span::new(range.start, range.end),
            }),
        })
    }
}

/// All tokens of `text`, or the first lexing error.
pub fn tokenize(text: &str) -> Result<Vec<(usize, Tok, usize)>, LexError> {
    Lexer::new(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|(_, t, _)| t)
            .collect()
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(toks("'it''s'"), vec![Tok::Str("it's".into())]);
        assert_eq!(toks(r#""a\n\"b\"""#), vec![Tok::Str("a\n\"b\"".into())]);
    }

    #[test]
    fn keywords_any_case() {
        assert_eq!(
            toks("TRUE Null nOt and OR"),
            vec![Tok::True, Tok::Null, Tok::Not, Tok::And, Tok::Or]
        );
    }

    #[test]
    fn fields_and_operators() {
        assert_eq!(
            toks("$Name ?? $'A b' => <> == &"),
            vec![
                Tok::Field("Name".into()),
                Tok::QuestionQuestion,
                Tok::Field("A b".into()),
                Tok::Arrow,
                Tok::NotEq,
                Tok::Eq,
                Tok::Amp
            ]
        );
    }

    #[test]
    fn numbers_with_exponent() {
        assert_eq!(
            toks("1e3 3.50"),
            vec![Tok::Number("1e3".into()), Tok::Number("3.50".into())]
        );
    }

    #[test]
    fn unterminated_string_is_an_error() {
        let err = tokenize("concat('abc").unwrap_err();
        assert_eq!(err.kind, LexErrorKind::UnterminatedString);
        assert_eq!(err.span.start, 7);
    }

    #[test]
    fn bad_escape_is_an_error() {
        let err = tokenize(r#""a\qb""#).unwrap_err();
        assert_eq!(err.kind, LexErrorKind::InvalidEscape("\\q".into()));
    }
}
