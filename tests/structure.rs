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
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
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
