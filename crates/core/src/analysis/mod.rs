//! What an editor needs to know of formula text, once for every front end (the REPL's
//! completion and hints, `sluice lsp`, the page's editor): the diagnostics of `sluice check`
//! with their spans, completion of functions and field names, signature help, hover docs and
//! the type at a position (`formula.rs`); and where the formulas are in a connector file,
//! with the way from a formula's bytes to the file's (`embedded.rs`).

pub mod embedded;
pub mod formula;

pub use embedded::{formulas_in, Embedded};
pub use formula::{
    complete, findings, hover, signature_help, Completion, CompletionKind, Finding, Signature,
};
