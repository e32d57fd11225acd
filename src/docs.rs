//! Reference pages generated from the tables they document: the function library and the
//! error-code registry. `tests/docs.rs` fails when the files in `docs/` are stale.

use std::fmt::Write as _;

use crate::diagnostics::codes;
use crate::stdlib;

/// `docs/functions.md`: every function by group, with signature, doc and examples.
pub fn functions_markdown() -> String {
    let mut out = String::from(
        "# Functions\n\nGenerated from the function table (`stdlib/`); do not edit by hand. \
         Names are case-insensitive. Every example is run as a test.\n",
    );
    let mut category = None;
    for f in stdlib::all() {
        if category != Some(f.category) {
            let _ = write!(out, "\n## {}\n", f.category.title());
            category = Some(f.category);
        }
        let _ = write!(
            out,
            "\n### {}\n\n`{}`\n\n{}\n\n",
            f.name,
            f.signature(),
            f.doc
        );
        out.push_str("| formula | record | result |\n|---|---|---|\n");
        for ex in f.examples {
            let record = if ex.record == "{}" { "" } else { ex.record };
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` |",
                cell(ex.formula),
                code_cell(record),
                cell(ex.result)
            );
        }
    }
    out.push_str(
        "\n## Objects the lookup examples use\n\nThe lookup examples run against a store holding:\n\n",
    );
    for (object_type, ndjson) in stdlib::data::EXAMPLE_OBJECTS {
        let _ = write!(out, "`{object_type}`:\n\n```json\n{ndjson}\n```\n");
    }
    out
}

/// `docs/errors.md`: every error code with its page.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\nGenerated from the registry (`src/diagnostics/codes.rs`); do not edit by hand. \
         `sluice explain CODE` prints the same page. A released code never changes meaning.\n",
    );
    for c in codes::ALL {
        let _ = write!(out, "\n## {}: {}\n\n{}\n", c.id, c.title, c.explanation);
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn code_cell(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("`{}`", cell(s))
    }
}
