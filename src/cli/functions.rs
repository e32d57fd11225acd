//! `sluice functions [NAME]`: the function table.

use clap::Args;

use super::{EXIT_COMPILE, EXIT_OK};
use crate::diagnostics::did_you_mean;
use crate::stdlib::{self, Function};

/// Arguments of `sluice functions`.
#[derive(Debug, Args)]
pub struct FunctionsArgs {
    /// A function name (case-insensitive); without it, every function is listed.
    name: Option<String>,
}

/// Runs `sluice functions`.
pub fn run(args: FunctionsArgs) -> i32 {
    match args.name {
        None => {
            let mut category = None;
            for f in stdlib::all() {
                if category != Some(f.category) {
                    println!("\n{}", f.category.title());
                    category = Some(f.category);
                }
                println!("  {:<16} {}", f.name, first_sentence(f.doc));
            }
            EXIT_OK
        }
        Some(name) => match stdlib::lookup(&name) {
            Some(f) => {
                print!("{}", describe(f));
                EXIT_OK
            }
            None => {
                let hint = did_you_mean(&name, stdlib::all().map(|f| f.name))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                eprintln!("error: no function named '{name}'{hint}");
                EXIT_COMPILE
            }
        },
    }
}

/// The full description of a function: signature, doc, examples.
pub fn describe(f: &Function) -> String {
    let mut out = format!("{}\n\n{}\n\nExamples:\n", f.signature(), f.doc);
    for ex in f.examples {
        out.push_str(&format!("  {}\n", ex.formula));
        if ex.record != "{}" {
            out.push_str(&format!("    record: {}\n", ex.record));
        }
        out.push_str(&format!("    => {}\n", ex.result));
    }
    out
}

fn first_sentence(doc: &str) -> &str {
    doc.split_once(". ")
        .map(|(s, _)| s)
        .unwrap_or(doc)
        .trim_end_matches('.')
}
