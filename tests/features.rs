//! The language core builds alone: `--no-default-features` compiles without the command
//! line, SQLite or Cranelift, and pulls none of their crates in (an embedder pays only for
//! what it uses). CI runs this with the rest of the suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn cargo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_core_builds_without_default_features_and_without_their_crates() {
    let (ok, tree, err) = cargo(&[
        "tree",
        "--offline",
        "--no-default-features",
        "-e",
        "normal",
        "--prefix",
        "none",
    ]);
    assert!(ok, "{err}");
    for heavy in [
        "clap ",
        "rustyline ",
        "rusqlite ",
        "cranelift-",
        "indicatif ",
        "signal-hook ",
        "axum ",
        "tokio ",
        // the operations model (schedules, CSV files) is the sync engine's
        "cron ",
        "csv ",
        // miette renders at a fixed width and theme: no terminal probing, no backtraces
        "backtrace ",
        "supports-color ",
        "terminal_size ",
        "icu_segmenter ",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(heavy)),
            "the core depends on {heavy}:\n{tree}"
        );
    }
    let crates: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // 117 before the core shed cron, csv and miette's terminal crates; 71 after (82 while
    // sonic-rs read records, before the core's own record scanner replaced it)
    assert!(
        crates.len() <= 75,
        "the core pulls in {} crates:\n{tree}",
        crates.len()
    );
    let (ok, _, err) = cargo(&["build", "--offline", "--lib", "--no-default-features"]);
    assert!(ok, "the core does not build alone:\n{err}");
}
