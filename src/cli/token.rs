//! `sluice token create|list|revoke`: the API tokens of `sluice serve`, kept in the store
//! as hashes (a token is printed once, when created).

use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, Subcommand};

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::diagnostics::{codes, Diag};
use crate::store::access::{new_token, Role};
use crate::store::Store;

/// Arguments of `sluice token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    /// The store `sluice serve` runs with: an SQLite file, or a postgres:// URL.
    #[arg(long, global = true, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a token and print it (once: the store keeps only its hash).
    Create {
        /// Who or what holds it, e.g. grafana or ops-alice.
        name: String,
        /// read: status, runs, metrics; operate: also start runs; admin: also connector
        /// files and dead-letter contents.
        #[arg(long, value_parser = ["read", "operate", "admin"])]
        role: String,
    },
    /// List the tokens: name, role, when made (never the tokens).
    List,
    /// Revoke a token: the server refuses it from its next request on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Runs `sluice token`.
pub fn run(args: TokenArgs) -> i32 {
    let result = match args.command {
        TokenCommand::Create { name, role } => create(&args.store, &name, &role),
        TokenCommand::List => list(&args.store),
        TokenCommand::Revoke { name } => revoke(&args.store, &name),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(failure) => {
            let (exit, diag) = *failure;
            report_plain(diag);
            exit
        }
    }
}

type Failure = Box<(i32, Diag)>;

fn store_failure(e: crate::store::StoreError) -> Failure {
    Box::new((EXIT_RUNTIME, e.to_diag()))
}

fn create(store: &std::path::Path, name: &str, role: &str) -> Result<(), Failure> {
    let role = Role::named(role).unwrap_or(Role::Read);
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(Box::new((
            EXIT_COMPILE,
            Diag::new(
                codes::E811_TOKEN_NAME,
                "a token's name is printable text, not empty",
            ),
        )));
    }
    let token = new_token().map_err(|e| {
        Box::new((
            EXIT_RUNTIME,
            Diag::new(
                codes::E811_TOKEN_NAME,
                format!("no randomness for a token: {e}"),
            ),
        ))
    })?;
    let mut store = Store::open_or_create(store).map_err(store_failure)?;
    if !store
        .add_token(name, role, &token, Utc::now())
        .map_err(store_failure)?
    {
        return Err(Box::new((
            EXIT_COMPILE,
            Diag::new(
                codes::E811_TOKEN_NAME,
                format!("a token named `{name}` exists"),
            )
            .help(format!("revoke it first: sluice token revoke {name}")),
        )));
    }
    println!("{token}");
    eprintln!(
        "token `{name}` ({}) made: send it as `Authorization: Bearer <token>`; it is not shown again",
        role.name()
    );
    Ok(())
}

fn list(store: &std::path::Path) -> Result<(), Failure> {
    let store = Store::open_for_reading(store).map_err(store_failure)?;
    for token in store.tokens().map_err(store_failure)? {
        println!(
            "{}\t{}\t{}",
            token.name,
            token.role.name(),
            token.created_at
        );
    }
    Ok(())
}

fn revoke(store: &std::path::Path, name: &str) -> Result<(), Failure> {
    let mut store = Store::open_existing(store).map_err(store_failure)?;
    if !store.revoke_token(name).map_err(store_failure)? {
        return Err(Box::new((
            EXIT_COMPILE,
            Diag::new(
                codes::E811_TOKEN_NAME,
                format!("no token is named `{name}`"),
            )
            .help("sluice token list shows them"),
        )));
    }
    eprintln!("token `{name}` revoked");
    Ok(())
}
