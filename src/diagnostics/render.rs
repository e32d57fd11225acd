//! Rendering diagnostics with miette.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::{Diag, Report};

/// One diagnostic in the shape miette renders.
#[derive(Debug)]
struct MietteDiag<'a> {
    diag: &'a Diag,
    source: NamedSource<String>,
}

impl std::fmt::Display for MietteDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for MietteDiag<'_> {}

impl miette::Diagnostic for MietteDiag<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.id))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.diag.labels.is_empty() {
            None
        } else {
            Some(&self.source)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diag.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.diag.labels.iter().map(|(span, text)| {
            LabeledSpan::new_with_span(Some(text.clone()), *span)
        })))
    }
}

fn render_with(report: &Report, handler: &GraphicalReportHandler) -> String {
    let mut out = String::new();
    for diag in &report.diags {
        let wrapped = MietteDiag {
            diag,
            source: NamedSource::new(report.source_name.clone(), report.source.clone()),
        };
        if handler.render_report(&mut out, &wrapped).is_err() {
            out.push_str(&format!("{}: {}\n", diag.code.id, diag.message));
        }
    }
    out
}

/// Renders for a terminal: colours when `color` is set, unicode frames.
pub fn render(report: &Report, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    render_with(
        report,
        &GraphicalReportHandler::new_themed(theme).with_width(100),
    )
}

/// Renders without colour at a fixed width: stable text for golden tests and pipes.
pub fn render_plain(report: &Report) -> String {
    render(report, false)
}
