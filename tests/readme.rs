//! The README's commands, run as written: every line of its `sh` blocks, in order, in a
//! fresh copy of `examples/`, with the built `sluice` on the PATH (as `cargo install --path .`
//! puts it there). `cargo run --release --` stands for `sluice`, so the test does not build
//! twice; `cargo install` and `scripts/test` (this suite itself) are skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

fn readme_commands() -> Vec<String> {
    let readme = include_str!("../README.md");
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && !l.is_empty() && !l.starts_with('#') => commands.push(l.to_string()),
            _ => {}
        }
    }
    commands
}

#[test]
fn readme_commands_work_as_written() {
    let dir = common::tempdir("readme", "commands");
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join("examples").join(path.file_name().unwrap())).unwrap();
        }
    }
    let bin_dir = assert_cmd::cargo::cargo_bin("sluice")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commands = readme_commands();
    assert!(commands
        .iter()
        .any(|c| c.starts_with("sluice objects dump")));
    let mut ran = 0;
    for command in commands {
        if command.starts_with("cargo install") || command == "scripts/test" {
            continue;
        }
        let command = command.replace("cargo run --release --", "sluice");
        assert!(
            command.starts_with("sluice "),
            "unexpected README command: {command}"
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&dir)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if command.starts_with("sluice objects dump") {
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(stdout.lines().count(), 4, "{stdout}");
        }
        ran += 1;
    }
    assert!(ran >= 5, "ran {ran} commands");
}

#[test]
fn status_accepts_the_connector_file_and_dump_refuses_an_unknown_type() {
    let dir = common::tempdir("readme", "status");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let connector = root.join("examples/customers.toml").display().to_string();
    let input = root
        .join("examples/business_partners.ndjson")
        .display()
        .to_string();
    let (code, _, _) = common::run_in(&dir, &["run", &connector, "--input", &input]);
    assert_eq!(code, 0);
    let (code, out, _) = common::run_in(&dir, &["status", &connector]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("SAP-to-FSM Customer Sync\n") && out.contains("written 4"),
        "{out}"
    );
    let (code, out, err) = common::run_in(&dir, &["objects", "dump", "fsmcustome"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("E706") && err.contains("did you mean `fsmcustomer`?"),
        "{err}"
    );
}
