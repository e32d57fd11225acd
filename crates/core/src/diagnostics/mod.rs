//! Diagnostics: the error-code registry, one diagnostic type for every stage, miette
//! rendering, and did-you-mean suggestions.

pub mod codes;
pub mod redact;
mod render;
mod suggest;

pub use codes::Code;
pub use render::{render, render_plain};
pub use suggest::{did_you_mean, one_of};

use crate::syntax::Span;

/// A diagnostic: a code, a message, labelled spans and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct Diag {
    /// The registry code.
    pub code: Code,
    /// The one-line message.
    pub message: String,
    /// Spans into the source, each with a short label.
    pub labels: Vec<(Span, String)>,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl Diag {
    /// A diagnostic with no label yet.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diag {
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a label on `span`.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, text.into()));
        self
    }

    /// Sets the hint.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }

    /// Sets the hint when there is one.
    pub fn maybe_help(mut self, text: Option<String>) -> Self {
        self.help = text;
        self
    }
}

/// Diagnostics with the source text they point into.
#[derive(Debug, Clone)]
pub struct Report {
    /// A name for the source (`formula`, `mappings[2].formula`, a file path).
    pub source_name: String,
    /// The source text the spans point into.
    pub source: String,
    /// The diagnostics.
    pub diags: Vec<Diag>,
}

impl From<&crate::limits::LimitError> for Diag {
    fn from(e: &crate::limits::LimitError) -> Diag {
        Diag::new(codes::E510_INVALID_LIMIT, e.to_string())
    }
}
