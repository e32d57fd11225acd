//! The embedding API's error: a kind, a registry code, where it is in what the user wrote.

use std::ops::Range;

use crate::diagnostics::{codes, render_plain, Code, Diag, Report};
use crate::transform::connector::{Connector, ConnectorProblem, FormulaPlace};

/// What kind of failure an [`Error`] is.
///
/// ```
/// let err = sluice::Program::compile("upper(").unwrap_err();
/// assert_eq!(err.kind, sluice::ErrorKind::Compile);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A formula does not parse or type-check (codes E0xx to E2xx).
    Compile,
    /// A connector's structure or settings are wrong (E6xx).
    Connector,
    /// What was handed in is unusable: a record that is not JSON, too large or too deep,
    /// an instant or a time zone that does not parse (E5xx).
    Input,
    /// A formula failed on this record (E3xx).
    Evaluation,
    /// The host's [`ObjectLookups`](crate::ObjectLookups) failed (E307).
    Lookup,
    /// A host function failed or panicked (E313).
    HostFunction,
    /// Native code could not be generated (E312).
    Engine,
}

impl ErrorKind {
    /// The kind of an error code (each code has exactly one).
    pub fn of(code: &str) -> ErrorKind {
        match code {
            "E307" => ErrorKind::Lookup,
            "E312" => ErrorKind::Engine,
            "E313" => ErrorKind::HostFunction,
            _ => match code.as_bytes().get(1) {
                Some(b'0'..=b'2') => ErrorKind::Compile,
                Some(b'3') => ErrorKind::Evaluation,
                Some(b'6') => ErrorKind::Connector,
                _ => ErrorKind::Input,
            },
        }
    }
}

/// A compile or run-time error (it dereferences to its [`ErrorDetail`]).
///
/// ```
/// let err = sluice::Program::compile("'a' * 2").err().unwrap();
/// assert_eq!((err.kind, err.code), (sluice::ErrorKind::Compile, "E101"));
/// assert_eq!(err.span, Some(0..3));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", .0.code, .0.message)]
pub struct Error(pub(crate) Box<ErrorDetail>);

/// What an [`Error`] says.
///
/// ```
/// let err = sluice::Program::compile("1 +").err().unwrap();
/// let detail: &sluice::ErrorDetail = &err;
/// assert_eq!(detail.code, "E005");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// The error code, such as `E101` (one registry; the CLI's `sluice explain` tells more).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The byte range in the source the user wrote: the connector's text for a connector
    /// (when the formula is written there without escapes), else the formula's own text.
    pub span: Option<Range<usize>>,
    /// The 1-based line of the connector text, when known.
    pub line: Option<usize>,
    /// The mapping target whose formula failed.
    pub target: Option<String>,
    /// The condition that failed, counted from 1 (as dead letters and messages count).
    pub condition: Option<usize>,
    /// How to fix it, when there is a hint.
    pub help: Option<String>,
    /// Every diagnostic, rendered as text (compile errors may hold several).
    pub rendered: String,
    /// The diagnostics of a formula, for the command line to render its own way.
    pub(crate) diags: Vec<Diag>,
}

impl std::ops::Deref for Error {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

/// JSON that did not become a value: E501 (syntax), E502 (not an object), E503 (a number
/// outside the decimal range).
impl From<crate::value::JsonError> for Error {
    fn from(e: crate::value::JsonError) -> Error {
        use crate::value::JsonError;
        let code = match e {
            JsonError::NumberOutOfRange { .. } => codes::E503_RECORD_NUMBER,
            JsonError::Syntax { .. } => codes::E501_RECORD_JSON,
            JsonError::NotAnObject { .. } => codes::E502_RECORD_NOT_OBJECT,
        };
        Error::new(code, e.to_string())
    }
}

/// The registry entry of a code.
#[cfg(feature = "cli")]
fn code_of(id: &str) -> Code {
    codes::ALL
        .iter()
        .copied()
        .find(|c| c.id == id)
        .unwrap_or(codes::E004_UNEXPECTED_TOKEN)
}

/// Help written for the command line, said in the library's terms.
fn library_help(help: &str) -> String {
    help.replace("`sluice functions`", "`sluice::functions()`")
        .replace("`sluice functions NAME`", "`sluice::functions()`")
}

impl Error {
    /// An error with a code and a message only.
    pub(crate) fn new(code: Code, message: String) -> Error {
        Error(Box::new(ErrorDetail {
            kind: ErrorKind::of(code.id),
            code: code.id,
            rendered: format!("{}: {message}", code.id),
            message,
            span: None,
            line: None,
            target: None,
            condition: None,
            help: None,
            diags: Vec::new(),
        }))
    }

    /// The diagnostics of one formula, `source` its text, shifted by `offset` when the
    /// formula stands at that byte of a larger text.
    pub(crate) fn from_diags(
        source_name: &str,
        source: &str,
        offset: Option<usize>,
        diags: Vec<Diag>,
    ) -> Error {
        let first = diags
            .first()
            .cloned()
            .unwrap_or_else(|| Diag::new(codes::E004_UNEXPECTED_TOKEN, "invalid formula"));
        let shift = offset.unwrap_or(0);
        let rendered = library_help(&render_plain(&Report {
            source_name: source_name.to_string(),
            source: source.to_string(),
            diags: diags.clone(),
        }));
        Error(Box::new(ErrorDetail {
            kind: ErrorKind::of(first.code.id),
            code: first.code.id,
            message: first.message.clone(),
            span: first
                .labels
                .first()
                .map(|(s, _)| s.start + shift..s.end + shift),
            line: None,
            target: None,
            condition: None,
            help: first.help.as_deref().map(library_help),
            rendered,
            diags,
        }))
    }

    /// The problems of a connector: the first one's code, place and span in the file.
    pub(crate) fn from_problems(
        text: &str,
        connector: Option<&Connector>,
        problems: &[ConnectorProblem],
    ) -> Error {
        let Some(first) = problems.first() else {
            return Error::new(
                codes::E601_CONNECTOR_SYNTAX,
                "invalid connector".to_string(),
            );
        };
        let name = if text.is_empty() {
            "program"
        } else {
            "connector"
        };
        let formula = first.formula.as_ref();
        let shift = formula.and_then(|f| f.offset);
        let (target, condition) = match formula.map(|f| f.place) {
            Some(FormulaPlace::Mapping(i)) => (
                connector
                    .and_then(|c| c.mappings.get(i))
                    .map(|m| m.target.clone()),
                None,
            ),
            Some(FormulaPlace::Condition(i)) => (None, Some(i + 1)),
            None => (None, None),
        };
        // a formula's own diagnostic: its message without the file and place the command
        // line puts before it, its spans in the formula
        let diag = formula.and_then(|f| f.diags.first()).unwrap_or(&first.diag);
        let span = diag
            .labels
            .first()
            .filter(|_| formula.is_none() || shift.is_some() || text.is_empty())
            .map(|(s, _)| s.start + shift.unwrap_or(0)..s.end + shift.unwrap_or(0));
        Error(Box::new(ErrorDetail {
            kind: ErrorKind::of(diag.code.id),
            code: diag.code.id,
            message: diag.message.clone(),
            span,
            line: first.line,
            target,
            condition,
            help: diag.help.as_deref().map(library_help),
            rendered: library_help(&problems.iter().map(|p| p.render(name)).collect::<String>()),
            diags: match formula {
                Some(f) => f.diags.clone(),
                None => problems.iter().map(|p| p.diag.clone()).collect(),
            },
        }))
    }

    /// A single formula's compile error as the formula's own: rendered with the formula
    /// as its source (as `sluice eval` shows it), not as a mapping of the connector built
    /// around it. Other errors stay as they are.
    pub(crate) fn in_formula(self, source_name: &str, formula: &str) -> Error {
        if self.0.kind != ErrorKind::Compile || self.0.diags.is_empty() {
            return self;
        }
        let ErrorDetail { target, diags, .. } = *self.0;
        let mut error = Error::from_diags(source_name, formula, None, diags);
        error.0.target = target;
        error
    }

    /// The diagnostics behind it (a formula's, with their spans in the formula), for the
    /// command line to render as it renders its own.
    #[cfg(feature = "cli")]
    pub(crate) fn diags(&self) -> Vec<Diag> {
        match self.0.diags.is_empty() {
            true => vec![Diag::new(code_of(self.0.code), self.0.message.clone())],
            false => self.0.diags.clone(),
        }
    }

    /// The same error, placed at a mapping target or a condition (0-based inside).
    pub(crate) fn at(mut self, target: Option<String>, condition: Option<usize>) -> Error {
        self.0.target = target;
        self.0.condition = condition.map(|c| c + 1);
        self
    }
}
