//! Rules of the source tree that keep it one-way and table-driven.
#![allow(clippy::unwrap_used)]

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What a function reads of the record is declared in its table entry (`Reads`); the
/// compiler and the executor never recognise a record-reading function by its name, so a
/// new one cannot silently see null on slot-parsed input.
#[test]
fn no_record_reading_function_is_special_cased_by_name() {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    }
    // the function library itself defines them
    for file in files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "stdlib"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for name in [
            "\"data\"",
            "\"vlookup\"",
            "\"textvlookup\"",
            "\"textvlookuplike\"",
        ] {
            assert!(
                !text.contains(name),
                "{} names the function {name}: declare what it reads in its table entry instead",
                file.display()
            );
        }
    }
}

/// Where the workspace's crates keep their sources.
const SOURCE_DIRS: &[&str] = &[
    "src",
    "crates/core/src",
    "crates/jit/src",
    "crates/engine/src",
];

/// The layers, lowest first: a module may name only modules of its own layer or below, so
/// dependencies run one way (text → syntax → values → functions → IR → checker →
/// interpreter → transform → native code → store → seams → connections → executor →
/// embedding API → server → command line).
const LAYERS: &[&str] = &[
    "limits",
    "syntax",
    "diagnostics",
    "value",
    "runtime",
    "stdlib",
    "ir",
    "types",
    "interp",
    "compile",
    "transform",
    "jit",
    "native",
    "store",
    "seams",
    "connections",
    "executor",
    "api",
    "serve",
    "docs",
    "cli",
];

#[test]
fn dependencies_run_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rank = |name: &str| LAYERS.iter().position(|l| *l == name);
    let mut checked = 0;
    for dir in SOURCE_DIRS {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        for file in files {
            checked += check_layer(root, &root.join(dir), &file, &rank);
        }
    }
    assert!(checked > 50, "only {checked} files checked");
}

/// Checks that `file` (under the crate source directory `src`) names no higher layer;
/// 1 when it is in a layer, 0 for a crate root.
fn check_layer(
    root: &Path,
    src: &Path,
    file: &Path,
    rank: &dyn Fn(&str) -> Option<usize>,
) -> usize {
    let relative = file.strip_prefix(root).unwrap();
    let layer = file
        .strip_prefix(src)
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string();
    {
        let Some(own) = rank(&layer) else {
            assert!(
                layer == "lib" || layer == "main",
                "{} is in no layer: add `{layer}` to LAYERS",
                relative.display()
            );
            return 0;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let named: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(theirs) = rank(&named) {
                assert!(
                    theirs <= own,
                    "{} (layer `{layer}`) names `crate::{named}`, a higher layer",
                    relative.display()
                );
            }
        }
        1
    }
}

/// A source file grows past about 800 lines only with a reason at its top (`Why one long
/// file:`); otherwise it is split by concept.
#[test]
fn long_source_files_say_why_they_are_long() {
    for dir in SOURCE_DIRS {
        let mut files = Vec::new();
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let header: String = text.lines().take_while(|l| l.starts_with("//!")).collect();
            assert!(
                text.lines().count() <= 850 || header.contains("Why one long file:"),
                "{} has {} lines and no `Why one long file:` at its top",
                file.display(),
                text.lines().count()
            );
        }
    }
}
