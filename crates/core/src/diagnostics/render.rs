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

/// Sources longer than this are shown as an excerpt around each diagnostic's first label.
const LONGEST_SHOWN: usize = 16 * 1024;
/// How much of a long source an excerpt shows on each side of the label's start.
const EXCERPT_SIDE: usize = 240;

/// The source a diagnostic is shown against, and the diagnostic with its spans into it: the
/// whole source when it is short, else an excerpt around the first label (named by its byte
/// range, labels clipped to it), so that a 16 MB formula is not echoed whole.
fn excerpt(report: &Report, diag: &Diag) -> (NamedSource<String>, Diag) {
    let source = &report.source;
    if source.len() <= LONGEST_SHOWN {
        return (
            NamedSource::new(report.source_name.clone(), source.clone()),
            diag.clone(),
        );
    }
    let at = diag
        .labels
        .first()
        .map_or(0, |(span, _)| span.start.min(source.len()));
    let floor = |mut i: usize| {
        while i > 0 && !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(at.saturating_sub(EXCERPT_SIDE));
    let end = floor((at + EXCERPT_SIDE).min(source.len()));
    let text = source.get(start..end).unwrap_or_default().to_string();
    let mut shown = diag.clone();
    shown.labels = diag
        .labels
        .iter()
        .filter(|(span, _)| span.start < end && span.end >= start)
        .map(|(span, label)| {
            let from = span.start.clamp(start, end) - start;
            let to = span.end.clamp(start, end) - start;
            (crate::syntax::Span::new(from, to.max(from)), label.clone())
        })
        .collect();
    let name = format!(
        "{} (an excerpt: bytes {start}..{end} of {})",
        report.source_name,
        source.len()
    );
    (NamedSource::new(name, text), shown)
}

fn render_with(report: &Report, handler: &GraphicalReportHandler) -> String {
    let mut out = String::new();
    for diag in &report.diags {
        let (source, diag) = excerpt(report, diag);
        let diag = &diag;
        let wrapped = MietteDiag { diag, source };
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
