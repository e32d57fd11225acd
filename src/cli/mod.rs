//! The `sluice` command line: one file per subcommand.

pub mod auth;
pub mod bench;
pub mod check;
pub mod eval;
pub mod explain;
pub mod functions;
pub mod lsp;
pub mod objects;
pub mod repl;
pub mod review;
pub mod run;
pub mod serve;
pub mod status;
pub mod test;
pub mod token;

use clap::{Parser, Subcommand};

pub use crate::native::Engine;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: a runtime error.
pub const EXIT_RUNTIME: i32 = 1;
/// Exit code: a compile error or bad input.
pub const EXIT_COMPILE: i32 = 2;

/// Sluice: formula compiler and sync executor for data-integration mappings.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate one formula against one record and print the result as JSON.
    Eval(eval::EvalArgs),
    /// Compile every condition and mapping of a connector; report every problem.
    Check(check::ConnectorArg),
    /// Write a connector as JSON with its credentials redacted.
    Export(check::ConnectorArg),
    /// Print the explanation page of an error code.
    Explain(explain::ExplainArgs),
    /// List the functions, or show one function's signature, doc and examples.
    Functions(functions::FunctionsArgs),
    /// Load, dump and list the Connect Objects of the store.
    Objects(objects::ObjectsArgs),
    /// Stream records through a connector into NDJSON or the store.
    Run(run::RunArgs),
    /// Dry-run a connector on sample records, explaining each one.
    Test(test::TestArgs),
    /// Show the metrics of the last run of each connector.
    Status(status::StatusArgs),
    /// List, accept or reject conflicts queued by `manual_review`.
    Review(review::ReviewArgs),
    /// Write and test formulas against sample records.
    Repl(repl::ReplArgs),
    /// Serve the Language Server Protocol over stdio: check, completion, hover and signature
    /// help for connector files in any editor.
    Lsp(lsp::LspArgs),
    /// Keep connectors running by their frequency, with an HTTP API, metrics and a web page.
    Serve(serve::ServeArgs),
    /// Create, list and revoke the API tokens of `sluice serve`.
    Token(token::TokenArgs),
    /// Log a connector in at its OAuth 2.0 provider (authorization code with PKCE).
    Auth(auth::AuthArgs),
    /// Time parsing, the transform per engine, and writing on records held in memory.
    Bench(bench::BenchArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Check(args) => check::run_check(args),
        Command::Export(args) => check::run_export(args),
        Command::Functions(args) => functions::run(args),
        Command::Objects(args) => objects::run(args),
        Command::Run(args) => run::run_run(args),
        Command::Test(args) => test::run_test(args),
        Command::Status(args) => status::run_status(args),
        Command::Review(args) => review::run_review(args),
        Command::Repl(args) => repl::run(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Token(args) => token::run(args),
        Command::Auth(args) => auth::run(args),
    }
}

/// Writes rendered diagnostics to stderr (colour when stderr is a terminal).
pub fn report(report: &crate::diagnostics::Report) {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", crate::diagnostics::render(report, color));
}

/// Reports one diagnostic that has no source text.
pub fn report_plain(diag: crate::diagnostics::Diag) {
    report(&crate::diagnostics::Report {
        source_name: String::new(),
        source: String::new(),
        diags: vec![diag],
    });
}
