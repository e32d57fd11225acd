//! What the integration tests share: the real `sluice` binary, fresh working directories,
//! and running a command to its exit code and output.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod browser;
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

/// How long a test waits for something that takes `secs` seconds at most on a quiet machine:
/// longer on a loaded one, so that a suite run beside other work (CI's two cores shared with
/// a build) waits instead of failing. The factor is `SLUICE_TEST_PATIENCE` when set, else
/// the load per core (the 1-minute load average over the cores) when above 1, at most 10.
pub fn patience(secs: u64) -> std::time::Duration {
    let factor = std::env::var("SLUICE_TEST_PATIENCE")
        .ok()
        .and_then(|f| f.parse::<f64>().ok())
        .unwrap_or_else(load_per_core)
        .clamp(1.0, 10.0);
    std::time::Duration::from_secs_f64(secs as f64 * factor)
}

fn load_per_core() -> f64 {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    load / cores
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
