//! What is wrong with a connector file: a diagnostic with its line, and for a problem in a
//! formula, the formula's place and its own diagnostics.

use crate::diagnostics::Diag;

/// A problem in a connector file, with the line it is on when known.
#[derive(Debug, Clone)]
pub struct ConnectorProblem {
    /// The diagnostic.
    pub diag: Diag,
    /// 1-based line in the file.
    pub line: Option<usize>,
    /// The rendered diagnostic of a formula, pointing into the formula text.
    pub rendered: Option<String>,
    /// The formula it is in, when it is in one.
    pub formula: Option<ProblemFormula>,
}

/// Where a formula with a problem is: its place in the connector, and where its text starts
/// in the file (when it is written there verbatim), so a span in the formula is a span in
/// the file; and the formula's own diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemFormula {
    /// `conditions[i]` or `mappings[i]`.
    pub place: FormulaPlace,
    /// The byte offset of the formula's text in the file.
    pub offset: Option<usize>,
    /// Its diagnostics as the compiler gave them: messages without the file and place,
    /// spans in the formula.
    pub diags: Vec<Diag>,
}

impl ConnectorProblem {
    /// Attaches the rendered formula diagnostic.
    pub fn with_rendered(mut self, rendered: String) -> Self {
        self.rendered = Some(rendered);
        self
    }

    /// The text `sluice check` prints for this problem.
    pub fn render(&self, path: &str) -> String {
        match &self.rendered {
            Some(r) => r.clone(),
            None => {
                let at = self.line.map_or(String::new(), |l| format!(":{l}"));
                let help = self
                    .diag
                    .help
                    .as_ref()
                    .map_or(String::new(), |h| format!("\n  help: {h}"));
                format!(
                    "{}: {path}{at}: {}{help}\n",
                    self.diag.code.id, self.diag.message
                )
            }
        }
    }
}

/// A formula's place in a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormulaPlace {
    /// `conditions[i]`.
    Condition(usize),
    /// `mappings[i]`.
    Mapping(usize),
}

impl std::fmt::Display for FormulaPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormulaPlace::Condition(i) => write!(f, "conditions[{i}]"),
            FormulaPlace::Mapping(i) => write!(f, "mappings[{i}]"),
        }
    }
}
