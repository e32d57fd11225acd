//! `sluice objects load|dump|list`: the Connect Object store from the command line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Args, Subcommand};

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::diagnostics::{codes, Diag};
use crate::store::Store;
use crate::value::{parse_record, Value};

/// Arguments of `sluice objects`.
#[derive(Debug, Args)]
pub struct ObjectsArgs {
    #[command(subcommand)]
    command: ObjectsCommand,
}

#[derive(Debug, Subcommand)]
enum ObjectsCommand {
    /// Store the records of an NDJSON file (or - for stdin) as objects of TYPE.
    Load {
        /// The Connect Object type, e.g. fsmcustomer.
        object_type: String,
        /// NDJSON file, one record per line; - for stdin.
        file: String,
        /// Upsert by this field (records with an equal value replace the stored one).
        #[arg(long, value_name = "FIELD")]
        key: Option<String>,
        /// The store: an SQLite file, or a postgres:// URL (default: $SLUICE_STORE, else sluice.db).
        #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
    },
    /// Write the stored records of TYPE as NDJSON, in the order they were first stored.
    Dump {
        /// The Connect Object type.
        object_type: String,
        /// The store: an SQLite file, or a postgres:// URL (default: $SLUICE_STORE, else sluice.db).
        #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
    },
    /// List the object types in the store with their record counts.
    List {
        /// The store: an SQLite file, or a postgres:// URL (default: $SLUICE_STORE, else sluice.db).
        #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
        store: PathBuf,
    },
}

/// Runs `sluice objects`.
pub fn run(args: ObjectsArgs) -> i32 {
    let result = match args.command {
        ObjectsCommand::Load {
            object_type,
            file,
            key,
            store,
        } => load(&object_type, &file, key.as_deref(), &store),
        ObjectsCommand::Dump { object_type, store } => dump(&object_type, &store),
        ObjectsCommand::List { store } => list(&store),
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

/// An exit code and the diagnostic to print (boxed: diagnostics are large).
type Failure = Box<(i32, Diag)>;

fn store_failure(e: crate::store::StoreError) -> Failure {
    Box::new((EXIT_RUNTIME, e.to_diag()))
}

/// Reads NDJSON records; any bad line is an error naming its line number.
pub fn read_ndjson(bytes: &[u8], source: &str) -> Result<Vec<Value>, Diag> {
    let mut records = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let text = std::str::from_utf8(line).map_err(|e| {
            Diag::new(
                codes::E507_INPUT_LINE,
                format!("{source}:{line_no}: not valid UTF-8 ({e})"),
            )
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let record = parse_record(text)
            .map_err(|e| Diag::new(codes::E507_INPUT_LINE, format!("{source}:{line_no}: {e}")))?;
        records.push(record);
    }
    Ok(records)
}

fn load(
    object_type: &str,
    file: &str,
    key: Option<&str>,
    store_path: &Path,
) -> Result<(), Failure> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    read.map_err(|e| {
        (
            EXIT_COMPILE,
            Diag::new(codes::E506_READ_FILE, format!("cannot read {file}: {e}")),
        )
    })?;
    let records = read_ndjson(&bytes, file).map_err(|d| Box::new((EXIT_COMPILE, d)))?;
    if let Some(k) = key {
        if let Some(pos) = records
            .iter()
            .position(|r| r.get_key(k).is_none_or(Value::is_null))
        {
            return Err(Box::new((
                EXIT_COMPILE,
                Diag::new(
                    codes::E507_INPUT_LINE,
                    format!("{file}: record {} has no key field '{k}'", pos + 1),
                ),
            )));
        }
    }
    let mut store = Store::open_or_create(store_path).map_err(store_failure)?;
    let summary = store
        .load(object_type, &records, key, Utc::now())
        .map_err(store_failure)?;
    eprintln!(
        "loaded {} records of {object_type} into {} ({} new, {} updated)",
        records.len(),
        store_path.display(),
        summary.inserted,
        summary.updated
    );
    Ok(())
}

fn dump(object_type: &str, store_path: &Path) -> Result<(), Failure> {
    let store = Store::open_for_reading(store_path).map_err(store_failure)?;
    let types = store.types().map_err(store_failure)?;
    if !types.iter().any(|(t, _)| t == object_type) {
        let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
        let hint = crate::diagnostics::did_you_mean(object_type, names.iter().copied())
            .map(|t| format!("did you mean `{t}`?"))
            .unwrap_or_else(|| match names.is_empty() {
                true => "the store holds no objects yet".to_string(),
                false => format!("the store holds: {}", names.join(", ")),
            });
        return Err(Box::new((
            EXIT_COMPILE,
            Diag::new(
                codes::E706_UNKNOWN_OBJECT_TYPE,
                format!(
                    "no objects of type `{object_type}` in {}",
                    store_path.display()
                ),
            )
            .help(hint),
        )));
    }
    let objects = store.dump(object_type).map_err(store_failure)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for o in objects {
        let _ = writeln!(out, "{}", o.data.to_json());
    }
    let _ = out.flush();
    Ok(())
}

fn list(store_path: &Path) -> Result<(), Failure> {
    let store = Store::open_for_reading(store_path).map_err(store_failure)?;
    for (t, n) in store.types().map_err(store_failure)? {
        println!("{t}\t{n}");
    }
    Ok(())
}
