//! The traps of a newcomer's first hour, closed: `most_recent` names the time it compares
//! and `check` refuses it without one, the losers of a conflict are counted apart from the
//! unchanged records and listed, and `check` reports every structural problem at once.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::served::Served;
use common::{run_in, tempdir};
use std::path::Path;

const CUSTOMERS: &str = r#"name = "customers"

[inbound]
type = "ndjson"

[outbound]
type = "store"
object = "customer"
primary_key = "id"

[sync]
conflict = "most_recent"
TIME

[[mappings]]
target = "id"
field = "CardCode"

[[mappings]]
target = "name"
field = "CardName"
"#;

fn connector(dir: &Path, time: &str, extra_mapping: &str) -> String {
    let text = CUSTOMERS.replace("TIME", time) + extra_mapping;
    std::fs::write(dir.join("customers.toml"), text).unwrap();
    "customers.toml".to_string()
}

#[test]
fn most_recent_without_a_time_field_is_refused_with_the_fix() {
    let dir = tempdir("first_hour", "no_time");
    let file = connector(&dir, "", "");
    let (code, _, err) = run_in(&dir, &["check", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E603"), "{err}");
    assert!(err.contains("no mapping writes `updated_at`"), "{err}");
    assert!(err.contains("[sync] updated_at = \"lastChange\""), "{err}");
    assert!(
        err.contains("customers.toml:12"),
        "points at the rule: {err}"
    );
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"CardCode\": \"C1\", \"CardName\": \"A\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", &file, "--input", "in.ndjson"]);
    assert_eq!(code, 2, "a run refuses it too: {err}");
}

#[test]
fn a_time_field_no_mapping_writes_is_refused_with_a_did_you_mean() {
    let dir = tempdir("first_hour", "unknown_time");
    let mapping = "\n[[mappings]]\ntarget = \"lastChange\"\nfield = \"UpdateDate\"\n";
    let file = connector(&dir, "updated_at = \"lastChnage\"", mapping);
    let (code, _, err) = run_in(&dir, &["check", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("E610") && err.contains("`lastChnage`"),
        "{err}"
    );
    assert!(err.contains("did you mean `lastChange`?"), "{err}");
}

#[test]
fn most_recent_compares_the_named_time_field_and_lists_the_losers() {
    let dir = tempdir("first_hour", "named_time");
    let mapping = "\n[[mappings]]\ntarget = \"lastChange\"\nfield = \"UpdateDate\"\n";
    let file = connector(&dir, "updated_at = \"lastChange\"", mapping);
    let (code, _, err) = run_in(&dir, &["check", &file]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        dir.join("first.ndjson"),
        "{\"CardCode\": \"C1\", \"CardName\": \"One (June)\", \"UpdateDate\": \"2026-06-01\"}\n\
         {\"CardCode\": \"C2\", \"CardName\": \"Two\", \"UpdateDate\": \"2026-06-01\"}\n\
         {\"CardCode\": \"C3\", \"CardName\": \"Three\", \"UpdateDate\": \"2026-06-01\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", &file, "--input", "first.ndjson"]);
    assert_eq!(code, 0, "{err}");
    // C1 comes again, older and different: it loses; C2 is the same: unchanged; C3 is newer.
    std::fs::write(
        dir.join("second.ndjson"),
        "{\"CardCode\": \"C1\", \"CardName\": \"One (May)\", \"UpdateDate\": \"2026-05-01\"}\n\
         {\"CardCode\": \"C2\", \"CardName\": \"Two\", \"UpdateDate\": \"2026-06-01\"}\n\
         {\"CardCode\": \"C3\", \"CardName\": \"Three (July)\", \"UpdateDate\": \"2026-07-01\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["run", &file, "--input", "second.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 3, written 1, filtered 0, failed 0, unchanged 1, lost a conflict 1"),
        "{err}"
    );
    let (_, out, _) = run_in(&dir, &["objects", "dump", "customer"]);
    assert!(
        out.contains("One (June)"),
        "the older change did not win: {out}"
    );
    assert!(out.contains("Three (July)"), "the newer change did: {out}");

    let (code, out, _) = run_in(&dir, &["review", "list", "--lost"]);
    assert_eq!(code, 0);
    let lost: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lost.len(), 1, "{out}");
    assert_eq!(
        lost[0]["key_value"], "\"C1\"",
        "keys are kept as JSON, as for reviews"
    );
    assert_eq!(lost[0]["status"], "lost");
    assert_eq!(lost[0]["incoming"]["name"], "One (May)");
    assert_eq!(lost[0]["existing"]["name"], "One (June)");
    let (_, pending, _) = run_in(&dir, &["review", "list"]);
    assert_eq!(pending, "", "a loser is not a pending review");

    let (_, out, _) = run_in(&dir, &["status", "customers"]);
    assert!(out.contains("unchanged 1, lost a conflict 1"), "{out}");
    let (_, out, _) = run_in(&dir, &["status", "customers", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status[0]["unchanged"], 1, "{status}");
    assert_eq!(status[0]["lost"], 1, "{status}");

    // The same input again loses again, but is listed once.
    let (code, _, err) = run_in(
        &dir,
        &["run", &file, "--input", "second.ndjson", "--from-start"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run_in(&dir, &["review", "list", "--lost"]);
    assert_eq!(out.lines().count(), 1, "{out}");

    // Accepting a loser applies it after all.
    let id = lost[0]["id"].as_i64().unwrap().to_string();
    let (code, _, err) = run_in(&dir, &["review", "accept", &id]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run_in(&dir, &["objects", "dump", "customer"]);
    assert!(out.contains("One (May)"), "{out}");
}

#[test]
fn check_reports_every_structural_problem_in_one_pass() {
    let dir = tempdir("first_hour", "typos");
    std::fs::write(
        dir.join("typos.toml"),
        "name = \"typos\"\ndescripton = \"three typos\"\n\n[inbound]\ntype = \"ndjson\"\nactiv = true\n\n\
         [outbound]\ntype = \"ndjson\"\n\n[sync]\nconflict = \"newest\"\n\n[[mappings]]\ntarget = \"a\"\nfeild = \"A\"\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["check", "typos.toml"]);
    assert_eq!(code, 2, "{err}");
    for (needle, line) in [
        ("unknown key `descripton`", 2),
        ("unknown key `activ`", 6),
        ("`newest` is not one of", 12),
        ("unknown key `feild`", 16),
    ] {
        assert!(err.contains(needle), "{needle} missing: {err}");
        assert!(
            err.contains(&format!("typos.toml:{line}")),
            "line {line}: {err}"
        );
    }
    for help in ["`description`", "`active`", "`field`"] {
        assert!(
            err.contains(&format!("did you mean {help}?")),
            "{help}: {err}"
        );
    }
}

/// A directory with a served connector `orders` that stores the records of `orders.ndjson`.
fn orders(name: &str, records: &str) -> std::path::PathBuf {
    let dir = tempdir("first_hour", name);
    std::fs::write(
        dir.join("orders.toml"),
        "name = \"orders\"\n[inbound]\ntype = \"ndjson\"\npath = \"orders.ndjson\"\n\
         [outbound]\ntype = \"store\"\nobject = \"order\"\nprimary_key = \"id\"\n\
         [[mappings]]\ntarget = \"id\"\nfield = \"id\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("orders.ndjson"), records).unwrap();
    dir
}

#[test]
fn serve_logs_each_run_and_its_page_says_where_the_status_is_without_javascript() {
    let dir = orders("serve_log", "{\"id\": 1}\n{\"id\": 2}\n");
    let served = Served::start(&dir, &["orders.toml"], &[]);
    let run = served.finished(served.trigger("orders"));
    assert_eq!(run["written"], 2, "{run}");
    served.wait_until("the run is logged", 10, |s| {
        s.log().contains("orders: read 2, written 2")
    });
    let log = served.log();
    let line = log.lines().find(|l| l.contains("orders: read 2")).unwrap();
    assert!(line.starts_with(&format!("run {}: ", run["id"])), "{line}");

    let (status, page) = served.get("/");
    assert_eq!(status, 200);
    let noscript = page.split("<noscript>").nth(1).unwrap();
    assert!(
        noscript.contains("/connectors") && noscript.contains("sluice status"),
        "{page}"
    );
}

#[test]
fn a_semicolon_between_arguments_and_a_backslash_in_double_quotes_get_their_fix() {
    let (code, _, err) = common::run(&["eval", "concat('a'; 'b')"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E001") && err.contains("arguments are separated by `,`"),
        "{err}"
    );
    let (code, _, err) = common::run(&["eval", "regexmatch('a1', \"\\d\")"]);
    assert_eq!(code, 2);
    assert!(err.contains("E003"), "{err}");
    let flowing = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flowing.contains("in single quotes it is just a backslash"),
        "{err}"
    );
    assert!(
        err.contains("'\\d'"),
        "the fix shows the formula's own escape: {err}"
    );
}

#[test]
fn the_sample_header_of_a_connector_is_what_test_and_the_repl_read() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempdir("first_hour", "sample_header");
    let connector = root.join("examples/customers.toml").display().to_string();
    let (code, out, err) = run_in(&dir, &["test", &connector, "--tz", "Europe/Berlin"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("C001"),
        "the records of business_partners.ndjson: {out}"
    );
    let with_flag = run_in(
        &dir,
        &[
            "test",
            &connector,
            "--tz",
            "Europe/Berlin",
            "--sample",
            &root
                .join("examples/business_partners.ndjson")
                .display()
                .to_string(),
        ],
    );
    assert_eq!(
        with_flag.1, out,
        "the header names the same sample as the flag"
    );

    let (code, out, err) = common::outcome(
        common::sluice()
            .current_dir(&dir)
            .args(["repl", "--connector", &connector])
            .write_stdin("data('CardCode')\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("C001"),
        "the REPL starts on the first sample: {out}"
    );

    std::fs::write(
        dir.join("bare.toml"),
        "name = \"bare\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"ndjson\"\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["test", "bare.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("# sample: FILE"), "{err}");
}

/// Regression: a run thread that panicked under `serve` left its connector marked running,
/// so it never ran again and SIGTERM waited for it for ever.
#[test]
fn a_panicking_run_under_serve_fails_frees_its_connector_and_lets_the_server_stop() {
    let dir = orders("run_panic", "{\"id\": 1}\n");
    let mut served = Served::start(
        &dir,
        &["orders.toml"],
        &[("SLUICE_FAILPOINT", "serve-run-panic")],
    );
    for _ in 0..2 {
        let run = served.finished(served.trigger("orders"));
        assert_eq!(run["status"], "failed", "{run}");
        assert!(run["error"].as_str().unwrap().contains("E812"), "{run}");
        assert_ne!(served.connector("orders")["state"], "running");
    }
    assert!(
        served.log().contains("failpoint serve-run-panic"),
        "{}",
        served.log()
    );
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(served.pid(), libc::SIGTERM) };
    let started = std::time::Instant::now();
    loop {
        match served.child.try_wait().unwrap() {
            Some(_) => break,
            None if started.elapsed() < common::patience(10) => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            None => panic!("serve did not stop after SIGTERM"),
        }
    }
}
