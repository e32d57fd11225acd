//! The REPL as a person uses it: the real binary in a pseudo-terminal (tmux), keys sent,
//! the screen read back. Also the piped mode, for scripts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(command: &str, env: &[(&str, &str)]) -> Tmux {
        let session = format!("sluice-repl-{}-{}", std::process::id(), rand());
        let mut cmd = Command::new("tmux");
        cmd.args(["new-session", "-d", "-s", &session, "-x", "160", "-y", "50"]);
        for (k, v) in env {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        cmd.arg(command);
        let status = cmd
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(status.success());
        Tmux { session }
    }

    fn send(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn type_line(&self, text: &str) {
        self.send(&["-l", text]);
        self.send(&["Enter"]);
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                start.elapsed() < common::patience(10),
                "timed out waiting for {needle:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

fn rand() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn project(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

#[test]
fn a_person_at_the_terminal() {
    let dir = std::env::temp_dir().join(format!("sluice-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history");
    let _ = std::fs::remove_file(&history);
    let bin = assert_cmd::cargo::cargo_bin("sluice").display().to_string();
    let command = format!(
        "cd {} && {bin} repl --input {} --connector {} --now 2024-05-01T12:00:00Z",
        dir.display(),
        project("examples/business_partners.ndjson"),
        project("examples/customers.toml")
    );
    let t = Tmux::start(&command, &[("SLUICE_HISTORY", history.to_str().unwrap())]);
    t.wait_for("sluice>");

    t.type_line("concat($CardCode, '-', proper(trim($CardName)))");
    t.wait_for("\"C001-Acme Gmbh\" : string");

    t.type_line("round($CurrentAccountBalance, 2) * 'x'");
    let screen = t.wait_for("E101");
    assert!(screen.contains("this is a string"), "{screen}");

    t.send(&["-l", "upp"]);
    t.send(&["Tab"]);
    t.wait_for("sluice> upper(");
    t.type_line("$CardType)");
    t.wait_for("\"C\" : string");

    t.send(&["-l", "round("]);
    t.wait_for("x: number, digits?: number, mode?: string) -> number or null");
    t.send(&["C-c"]);
    t.type_line("1 + 1");
    t.wait_for("2 : number");

    t.type_line("concat('multi',");
    t.type_line("'line')");
    t.wait_for("\"multiline\" : string");

    t.type_line("'stray quote");
    t.wait_for("an empty line ends it");
    t.wait_for("...>");
    t.type_line("");
    t.wait_for("E002");
    t.type_line("2 + 2");
    t.wait_for("4 : number");

    t.type_line(":next");
    t.wait_for("record 2 of 7 (input line 2)");
    t.type_line(":mappings");
    t.wait_for("credit_band = \"B\"");
    t.type_line(":conditions");
    t.wait_for("2. not isblank(data('CardName')) : pass");
    t.type_line(":type $CreditLimit >= 100");
    t.wait_for("boolean or null");
    t.type_line(":help findvalue");
    t.wait_for("findvalue(array: array, filter: array or object");

    t.send(&["-l", "$CreditLi"]);
    t.send(&["Tab"]);
    t.wait_for("sluice> $CreditLimit");
    t.send(&["Enter"]);
    t.wait_for("20000 : number");

    t.send(&["C-d"]);
    let start = Instant::now();
    while t.alive() {
        assert!(
            start.elapsed() < common::patience(10),
            "Ctrl-D did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(
        saved.contains("1 + 1") && saved.contains(":mappings"),
        "history kept across sessions: {saved}"
    );
}

#[test]
fn piped_lines_give_one_result_each() {
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .args(["repl", "--input", &project("examples/business_partners.ndjson")])
        .write_stdin("upper($CardCode)\n:next\nupper($CardCode)\n1/0\nconcat(\n'a',\n'b')\n:record 3\n$CardType\n:clif $CurrentAccountBalance * 2\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "\"C001\" : string");
    assert_eq!(lines[1], "record 2 of 7 (input line 2)");
    assert_eq!(lines[3], "\"C002\" : string");
    assert_eq!(lines[4], "\"ab\" : string");
    assert_eq!(lines[5], "record 3 of 7 (input line 3)");
    assert_eq!(lines[7], "\"S\" : string");
    assert!(
        stdout.contains("(i64, i64) -> i64 system_v {") && stdout.contains("smul_overflow"),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("E302") && stderr.contains("skipped"),
        "{stderr}"
    );
}

#[test]
fn stray_quote_does_not_swallow_the_next_commands() {
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .args([
            "repl",
            "--input",
            &project("examples/business_partners.ndjson"),
        ])
        .write_stdin("'oops\n\n:record 7\n$CardCode\n")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("E002"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "record 7 of 7 (input line 8)", "{stdout}");
    assert_eq!(lines[2], "\"C007\" : string", "{stdout}");
}

#[test]
fn repl_takes_the_time_zone() {
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .args([
            "repl",
            "--now",
            "2024-05-01T23:30:00Z",
            "--tz",
            "Asia/Tokyo",
        ])
        .write_stdin("today()\n")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "\"2024-05-02\" : date\n"
    );
}
