//! `sluice lsp`: the Language Server Protocol for connector files, over stdio.

use clap::Args;

use super::{EXIT_OK, EXIT_RUNTIME};

/// Arguments of `sluice lsp`.
#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it: the server always speaks over stdin and stdout.
    #[arg(long)]
    stdio: bool,
}

/// Runs `sluice lsp` until the editor asks it to exit.
pub fn run(_args: LspArgs) -> i32 {
    match crate::lsp::serve_stdio(crate::limits::Limits::default()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("sluice lsp: {e}");
            EXIT_RUNTIME
        }
    }
}
