//! What the integration tests share: the real `sluice` binary, fresh working directories,
//! and running a command to its exit code and output.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `sluice` binary built for these tests.
pub fn sluice() -> Command {
    Command::cargo_bin("sluice").unwrap()
}

/// A fresh, empty directory for one test (`area` and `name` keep tests apart).
pub fn tempdir(area: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-{area}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `sluice ARGS` in `dir`: exit code, stdout, stderr.
pub fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(sluice().current_dir(dir).args(args))
}

/// Runs a prepared command: exit code, stdout, stderr.
pub fn outcome(command: &mut Command) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs `sluice ARGS` in the current directory.
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_in(&std::env::current_dir().unwrap(), args)
}
