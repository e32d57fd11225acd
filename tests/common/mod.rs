//! What the integration tests share: the real `sluice` binary, fresh working directories,
//! and running a command to its exit code and output.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod postgres;
pub mod served;

/// The `sluice` binary built for these tests, with the store of the running test: the
/// PostgreSQL database a test on PostgreSQL made (as `SLUICE_STORE`), else none (the
/// command's default, `sluice.db` in its working directory).
pub fn sluice() -> Command {
    let mut command = Command::cargo_bin("sluice").unwrap();
    match postgres::current() {
        Some(url) => command.env("SLUICE_STORE", url),
        None => command.env_remove("SLUICE_STORE"),
    };
    command
}

/// A process of the `sluice` binary, with the store of the running test (as [`sluice`]).
pub fn process() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("sluice"));
    match postgres::current() {
        Some(url) => command.env("SLUICE_STORE", url),
        None => command.env_remove("SLUICE_STORE"),
    };
    command
}

/// Where a test's store is: the PostgreSQL database of a test on PostgreSQL, else `file`
/// in `dir`.
pub fn store_in(dir: &Path, file: &str) -> String {
    postgres::current().unwrap_or_else(|| dir.join(file).display().to_string())
}

/// A fresh, empty directory for one test (`area` and `name` keep tests apart).
pub fn tempdir(area: &str, name: &str) -> PathBuf {
    let backend = match postgres::current() {
        Some(_) => "-pg",
        None => "",
    };
    let dir = std::env::temp_dir().join(format!(
        "sluice-{area}{backend}-{name}-{}",
        std::process::id()
    ));
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
