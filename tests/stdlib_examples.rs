//! Every example in the function table runs as a test: the formula on the example's record
//! gives the documented result (or the documented runtime error code).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::DateTime;
use sluice::cli::eval::{evaluate, Settings};
use sluice::stdlib;
use sluice::store::Store;
use sluice::value::{parse_record, value_from_json_text};

/// A store holding the objects the lookup examples assume.
fn example_store() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("examples.db");
    let _ = std::fs::remove_file(&path);
    let mut store = Store::open_or_create(&path).unwrap();
    for (object_type, ndjson) in stdlib::data::EXAMPLE_OBJECTS {
        let records: Vec<_> = ndjson.lines().map(|l| parse_record(l).unwrap()).collect();
        store
            .load(object_type, &records, None, chrono::Utc::now())
            .unwrap();
    }
    path
}

#[test]
fn every_function_has_two_examples_and_they_hold() {
    let store = example_store();
    let mut failures = Vec::new();
    let mut count = 0;
    for f in stdlib::all() {
        if f.examples.len() < 2 {
            failures.push(format!("{}: fewer than two examples", f.name));
        }
        for ex in f.examples {
            count += 1;
            let settings = Settings::new(
                parse_record(ex.record)
                    .unwrap_or_else(|e| panic!("{}: bad example record: {e}", f.name)),
                DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").unwrap(),
                chrono_tz::Tz::UTC,
            );
            let settings = Settings {
                store: Some(store.clone()),
                ..settings
            };
            let outcome = evaluate(ex.formula, &settings);
            let ok = match ex.result.strip_prefix("error ") {
                Some(code) => {
                    outcome.exit == 1
                        && outcome
                            .report
                            .as_ref()
                            .is_some_and(|r| r.diags.iter().any(|d| d.code.id == code))
                }
                None => {
                    let expected = value_from_json_text(ex.result).unwrap();
                    let actual = outcome.stdout.as_deref().map(value_from_json_text);
                    matches!(actual, Some(Ok(v)) if v == expected && v.to_json() == expected.to_json())
                }
            };
            if !ok {
                failures.push(format!(
                    "{}: `{}` expected {}, got exit {} {:?} {:?}",
                    f.name,
                    ex.formula,
                    ex.result,
                    outcome.exit,
                    outcome.stdout,
                    outcome.report.map(|r| r
                        .diags
                        .into_iter()
                        .map(|d| d.message)
                        .collect::<Vec<_>>())
                ));
            }
        }
    }
    assert!(count > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
