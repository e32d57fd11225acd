//! What `sluice lsp` says of one connector file as the editor holds it: the problems of
//! `sluice check` at their line and column, and, inside a formula, completion, hover and
//! signature help from the library's analysis (`analysis`).

use std::path::Path;

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Diagnostic, DiagnosticSeverity,
    Documentation, Hover, HoverContents, MarkupContent, MarkupKind, NumberOrString,
    ParameterInformation, ParameterLabel, Position, SignatureHelp, SignatureInformation, TextEdit,
};

use super::position::Lines;
use crate::analysis::{self, CompletionKind, Embedded, Finding};
use crate::compile::CompileOptions;
use crate::diagnostics::Diag;
use crate::limits::Limits;
use crate::transform::connector_file::ConnectorFile;

/// How many sample records are read for their field names.
const SAMPLE_RECORDS: usize = 50;

/// A connector file as the editor holds it.
pub struct Document<'d> {
    path: &'d Path,
    text: &'d str,
    lines: Lines<'d>,
    formulas: Vec<Embedded>,
}

impl<'d> Document<'d> {
    /// The document of the file at `path` (it need not be saved) with the text `text`.
    pub fn new(path: &'d Path, text: &'d str) -> Document<'d> {
        Document {
            path,
            text,
            lines: Lines::of(text),
            formulas: analysis::formulas_in(text),
        }
    }

    fn is_json(&self) -> bool {
        self.path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    }

    /// Every problem `sluice check` finds, where it is.
    pub fn diagnostics(&self, limits: &Limits) -> Vec<Diagnostic> {
        let shown = self.path.display().to_string();
        let problems =
            crate::executor::prepare::problems_in(&shown, self.text, self.is_json(), limits);
        let mut out = Vec::new();
        for problem in problems {
            let formula = problem.formula.as_ref().and_then(|pf| {
                self.formulas
                    .iter()
                    .find(|e| e.place == Some(pf.place))
                    .map(|e| (e, &pf.diags))
            });
            match formula {
                Some((embedded, diags)) if !diags.is_empty() => {
                    for diag in diags {
                        out.push(
                            self.at_formula(embedded, &Finding::of(diag, embedded.text.len())),
                        );
                    }
                }
                _ => out.push(self.at_line(&problem.diag, problem.line)),
            }
        }
        // the way back's formulas are checked here on their own: its problems carry no line
        for embedded in self.formulas.iter().filter(|e| e.place.is_none()) {
            for finding in analysis::findings(&embedded.text, &CompileOptions::default()) {
                let diagnostic = self.at_formula(embedded, &finding);
                if !out.contains(&diagnostic) {
                    out.push(diagnostic);
                }
            }
        }
        out
    }

    fn at_formula(&self, embedded: &Embedded, finding: &Finding) -> Diagnostic {
        let mut message = format!("{}: {}", embedded.label, finding.message);
        if !finding.label.is_empty() {
            message.push_str(&format!(" ({})", finding.label));
        }
        if let Some(help) = &finding.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        Diagnostic {
            range: self.lines.range(
                embedded.to_file(finding.start),
                embedded.to_file(finding.end),
            ),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String(finding.code.to_string())),
            source: Some("sluice".into()),
            message,
            ..Default::default()
        }
    }

    fn at_line(&self, diag: &Diag, line: Option<usize>) -> Diagnostic {
        let mut message = diag.message.clone();
        if let Some(help) = &diag.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        Diagnostic {
            range: self.lines.line_range(line.unwrap_or(1)),
            severity: Some(DiagnosticSeverity::ERROR),
            code: Some(NumberOrString::String(diag.code.id.to_string())),
            source: Some("sluice".into()),
            message,
            ..Default::default()
        }
    }

    /// The formula at `position`, with the byte of the formula there.
    fn formula_at(&self, position: Position) -> Option<(&Embedded, usize)> {
        let at = self.lines.offset(position);
        self.formulas
            .iter()
            .find_map(|e| e.from_file(at).map(|inner| (e, inner)))
    }

    /// The completions at `position`, inside a formula.
    pub fn completion(&self, position: Position) -> Vec<CompletionItem> {
        let Some((embedded, at)) = self.formula_at(position) else {
            return Vec::new();
        };
        let fields = self.fields();
        let (start, items) = analysis::complete(&embedded.text, at, &fields);
        let range = self
            .lines
            .range(embedded.to_file(start), embedded.to_file(at));
        items
            .into_iter()
            .map(|c| CompletionItem {
                kind: Some(match c.kind {
                    CompletionKind::Function => CompletionItemKind::FUNCTION,
                    CompletionKind::Field => CompletionItemKind::FIELD,
                    CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                }),
                detail: Some(c.detail),
                documentation: (!c.doc.is_empty()).then_some(Documentation::String(c.doc)),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, c.insert))),
                label: c.label,
                ..Default::default()
            })
            .collect()
    }

    /// What hovering at `position` shows, inside a formula.
    pub fn hover(&self, position: Position) -> Option<Hover> {
        let (embedded, at) = self.formula_at(position)?;
        let shown = analysis::hover(&embedded.text, at, &CompileOptions::default())?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: shown,
            }),
            range: None,
        })
    }

    /// The signature of the call open at `position`, inside a formula.
    pub fn signature_help(&self, position: Position) -> Option<SignatureHelp> {
        let (embedded, at) = self.formula_at(position)?;
        let signature = analysis::signature_help(&embedded.text, at)?;
        Some(SignatureHelp {
            signatures: vec![SignatureInformation {
                label: signature.label,
                documentation: Some(Documentation::String(signature.doc)),
                parameters: Some(
                    signature
                        .params
                        .into_iter()
                        .map(|p| ParameterInformation {
                            label: ParameterLabel::Simple(p),
                            documentation: None,
                        })
                        .collect(),
                ),
                active_parameter: u32::try_from(signature.active).ok(),
            }],
            active_signature: Some(0),
            active_parameter: u32::try_from(signature.active).ok(),
        })
    }

    /// The field names a formula may read: the inbound object's declared fields and those of
    /// the first records of the file's `# sample:`.
    fn fields(&self) -> Vec<String> {
        let shown = self.path.display().to_string();
        let Ok(file) = ConnectorFile::from_text(&shown, self.text, self.is_json()) else {
            return Vec::new();
        };
        let mut fields: Vec<String> = file
            .connector
            .inbound
            .object
            .as_ref()
            .and_then(|o| file.connector.objects.get(o))
            .map(|o| o.fields.keys().cloned().collect())
            .unwrap_or_default();
        for record in file.sample_records(SAMPLE_RECORDS) {
            fields.extend(record.into_iter().map(|(k, _)| k));
        }
        fields.sort();
        fields.dedup();
        fields
    }
}
