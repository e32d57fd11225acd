//! `sluice serve` as a user runs it: a real server process on 127.0.0.1, driven over HTTP —
//! schedules, manual triggers, webhooks, reloads, metrics, failures and retries, SIGTERM
//! and kill -9, realtime sources, bidirectional connectors, and the web page in Chromium.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/stubs.rs"]
mod stubs;

use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::served::{samples, Served};
use common::{run_in, store_in, tempdir};

on_postgres!(
    kill_9_mid_run_and_a_restart_lose_and_duplicate_nothing,
    bidirectional_sync_between_two_local_systems_with_no_echo,
);

/// A connector reading `path` (relative to it) into the store object `object`.
fn file_connector(name: &str, path: &str, object: &str, sync: &str) -> String {
    format!(
        r#"name = "{name}"

[inbound]
type = "ndjson"
path = "{path}"

[outbound]
type = "store"
object = "{object}"
primary_key = "id"

[sync]
{sync}

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#
    )
}

fn records(from: usize, to: usize) -> String {
    (from..=to)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"customer {i}\"}}\n"))
        .collect()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

/// The stored records of `object`, one JSON value each.
fn dump(dir: &Path, object: &str) -> Vec<Value> {
    let store = store_in(dir, "sluice.db");
    let (code, out, err) = run_in(dir, &["objects", "dump", object, "--store", &store]);
    // no store yet (E701), or nothing of that type in it yet (E706)
    if code != 0 && (err.contains("E701") || err.contains("E706")) {
        return Vec::new();
    }
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn totals(served: &Served, name: &str) -> Value {
    served.connector(name)["totals"].clone()
}

#[test]
fn interval_schedules_run_on_their_own_and_manual_ones_only_when_triggered() {
    let dir = tempdir("serve", "schedules");
    std::fs::create_dir_all(dir.join("crm")).unwrap();
    write(&dir.join("crm/people.ndjson"), &records(1, 5));
    write(
        &dir.join("crm/every.toml"),
        &file_connector(
            "every second",
            "people.ndjson",
            "person",
            "frequency = \"1s\"",
        ),
    );
    write(
        &dir.join("crm/manual.toml"),
        &file_connector(
            "by hand",
            "people.ndjson",
            "contact",
            "frequency = \"manual\"",
        ),
    );
    let served = Served::start(&dir, &["crm"], &[]);
    let list = served.json("/connectors");
    let names: Vec<&str> = list["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{list}");
    assert!(list["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["set"] == "crm"));
    served.wait_until("three scheduled runs", 20, |s| {
        totals(s, "every second")["runs_succeeded"]
            .as_u64()
            .unwrap()
            >= 3
    });
    let every = served.connector("every second");
    assert_eq!(every["last_run"]["trigger"], "schedule");
    assert!(every["next_run"].is_string(), "{every}");
    assert_eq!(dump(&dir, "person").len(), 5);
    // the manual one never ran by itself
    let manual = served.connector("by hand");
    assert_eq!(manual["last_run"], Value::Null, "{manual}");
    assert_eq!(manual["next_run"], Value::Null);
    assert!(dump(&dir, "contact").is_empty());
    let id = served.trigger("by hand");
    let run = served.finished(id);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["read"], 5);
    assert_eq!(run["written"], 5);
    assert_eq!(dump(&dir, "contact")[0]["name"], "CUSTOMER 1");
    let (status, body) = served.request("POST", "/connectors/nobody/run", &[], b"");
    assert_eq!(status, 404);
    assert!(body.contains("E801"), "{body}");
    let (status, _) = served.get("/runs/999999");
    assert_eq!(status, 404);
    let health = served.json("/healthz");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["connectors"], 2);
}

#[test]
fn a_missed_schedule_runs_once_at_start_and_a_recent_one_waits() {
    let dir = tempdir("serve", "missed");
    write(&dir.join("people.ndjson"), &records(1, 3));
    write(
        &dir.join("yearly.toml"),
        &file_connector(
            "yearly",
            "people.ndjson",
            "person",
            "frequency = { cron = \"0 3 1 1 *\" }",
        ),
    );
    write(
        &dir.join("hourly.toml"),
        &file_connector(
            "hourly",
            "people.ndjson",
            "contact",
            "frequency = \"hourly\"",
        ),
    );
    // Both ran before: the yearly one in 2020 (so it missed every new year since), the
    // hourly one just now.
    let store = store_in(&dir, "sluice.db");
    for file in ["yearly.toml", "hourly.toml"] {
        let (code, _, err) = run_in(&dir, &["run", file, "--store", &store]);
        assert_eq!(code, 0, "{err}");
    }
    let db = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    db.execute(
        "UPDATE runs SET started_at = '2020-03-01T00:00:00.000Z', ended_at = '2020-03-01T00:00:01.000Z' WHERE connector = 'yearly'",
        [],
    )
    .unwrap();
    drop(db);
    append(&dir.join("people.ndjson"), &records(4, 4));
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("the missed yearly run", 20, |s| {
        totals(s, "yearly")["runs_succeeded"].as_u64().unwrap() == 1
    });
    assert_eq!(served.connector("yearly")["last_run"]["read"], 1);
    std::thread::sleep(Duration::from_millis(800));
    // once, not once per missed year
    assert_eq!(totals(&served, "yearly")["runs_succeeded"], 1);
    let hourly = served.connector("hourly");
    assert_eq!(hourly["last_run"], Value::Null, "{hourly}");
    let next: chrono::DateTime<chrono::Utc> = hourly["next_run"].as_str().unwrap().parse().unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(55),
        "{next}"
    );
}

#[test]
fn webhooks_run_the_records_they_bring_when_signed_with_the_secret() {
    const SECRET: &str = "whsec_aG9vay1zM2NyZXQtb2YtdGhlLW9yZGVycw==";
    let dir = tempdir("serve", "hooks");
    write(&dir.join("feed.ndjson"), &records(1, 2));
    let hooked = file_connector(
        "orders",
        "feed.ndjson",
        "order",
        "frequency = \"event\"\nwebhook_secret = \"env:HOOK_SECRET\"",
    );
    write(&dir.join("orders.toml"), &hooked);
    write(
        &dir.join("closed.toml"),
        &file_connector("closed", "feed.ndjson", "closed", "frequency = \"event\""),
    );
    let served = Served::start(&dir, &["."], &[("HOOK_SECRET", SECRET)]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        served.connector("orders")["last_run"],
        Value::Null,
        "an event connector waits"
    );

    let body = br#"[{"id": 100, "name": "from a hook"}, {"id": 101, "name": "another"}]"#;
    let now = chrono::Utc::now().timestamp();
    let signature = sluice::serve::sign(SECRET, "msg_1", now, body);
    let stamp = now.to_string();
    let signed = |id: &'static str, signature: String| {
        vec![
            ("webhook-id", id.to_string()),
            ("webhook-timestamp", stamp.clone()),
            ("webhook-signature", signature),
            ("Content-Type", "application/json".to_string()),
        ]
    };
    let post = |headers: &[(&str, String)], body: &[u8]| {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        served.request("POST", "/hooks/orders", &headers, body)
    };
    let (status, answer) = post(&signed("msg_1", signature.clone()), body);
    assert_eq!(status, 202, "{answer}");
    let id = serde_json::from_str::<Value>(&answer).unwrap()["run"]
        .as_u64()
        .unwrap();
    let run = served.finished(id);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["trigger"], "webhook");
    assert_eq!(run["read"], 2);
    let names: Vec<Value> = dump(&dir, "order")
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("FROM A HOOK"), json!("ANOTHER")]);

    // a wrong secret, another body (or id) than the one signed, an old-style signature, no
    // credentials: refused
    let evil = br#"[{"id": 666, "name": "evil"}]"#;
    for headers in [
        signed(
            "msg_2",
            sluice::serve::sign(
                "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==",
                "msg_2",
                now,
                evil,
            ),
        ),
        signed("msg_9", signature.clone()),
        vec![(
            "X-Sluice-Signature",
            sluice::serve::sign_legacy(SECRET, evil),
        )],
        vec![("Authorization", format!("Bearer {SECRET}"))],
        vec![],
    ] {
        let (status, answer) = post(&headers, evil);
        assert_eq!(status, 401, "{answer}");
        assert!(answer.contains("E804"), "{answer}");
    }
    // the same delivery again: answered 200, and nothing is taken again
    let (status, answer) = post(&signed("msg_1", signature), body);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("E808"), "{answer}");
    // a nudge (an empty body, signed): the connector reads its own source
    let (status, answer) = post(
        &signed("msg_3", sluice::serve::sign(SECRET, "msg_3", now, b"")),
        b"",
    );
    assert_eq!(status, 202, "{answer}");
    let id = serde_json::from_str::<Value>(&answer).unwrap()["run"]
        .as_u64()
        .unwrap();
    assert_eq!(served.finished(id)["read"], 2);
    let stored = dump(&dir, "order");
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|r| r["id"] != 666));
    // a connector without a secret takes no hooks
    let (status, answer) = served.request(
        "POST",
        "/hooks/closed",
        &[("Authorization", "Bearer x")],
        b"",
    );
    assert_eq!(status, 403, "{answer}");
    let (status, _) = served.request("POST", "/hooks/nobody", &[], b"");
    assert_eq!(status, 404);
    // the spool file of a run that read its records is gone
    let spool = std::fs::read_dir(dir.join("sluice-serve/spool"))
        .unwrap()
        .flatten()
        .find(|d| d.file_name().to_string_lossy().starts_with("orders-"))
        .unwrap();
    let spooled: Vec<_> = std::fs::read_dir(spool.path()).unwrap().collect();
    assert!(spooled.is_empty(), "{spooled:?}");
}

#[test]
fn metrics_are_prometheus_text_with_counts_rates_latencies_and_lag() {
    let dir = tempdir("serve", "metrics");
    let mut input = records(1, 9);
    input.push_str("{\"id\": 10, \"name\": \n");
    write(&dir.join("people.ndjson"), &input);
    write(
        &dir.join("people.toml"),
        &file_connector(
            "people",
            "people.ndjson",
            "person",
            "frequency = \"manual\"",
        ),
    );
    let served = Served::start(&dir, &["."], &[]);
    let run = served.finished(served.trigger("people"));
    assert_eq!(run["read"], 10, "{run}");
    let (status, text) = served.get("/metrics");
    assert_eq!(status, 200);
    for family in [
        "sluice_records_read_total",
        "sluice_records_written_total",
        "sluice_records_failed_total",
        "sluice_records_filtered_total",
        "sluice_runs_total",
        "sluice_error_rate",
        "sluice_transform_latency_microseconds",
        "sluice_lag_seconds",
        "sluice_lag_bytes",
        "sluice_last_run_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} missing:\n{text}"
        );
    }
    let parsed = samples(&text);
    let value = |name: &str, labels: &str| {
        parsed
            .iter()
            .find(|(n, l, _)| n == name && l == labels)
            .unwrap_or_else(|| panic!("{name}{labels} missing:\n{text}"))
            .2
    };
    let people = "{connector=\"people\"}";
    assert_eq!(value("sluice_records_read_total", people), 10.0);
    assert_eq!(value("sluice_records_written_total", people), 9.0);
    assert_eq!(value("sluice_records_failed_total", people), 1.0);
    assert!((value("sluice_error_rate", people) - 0.1).abs() < 1e-9);
    assert_eq!(
        value(
            "sluice_runs_total",
            "{connector=\"people\",status=\"succeeded\"}"
        ),
        1.0
    );
    assert_eq!(value("sluice_lag_bytes", people), 0.0);
    assert_eq!(value("sluice_dead_letters", people), 1.0);
    let p50 = value(
        "sluice_transform_latency_microseconds",
        "{connector=\"people\",quantile=\"0.5\"}",
    );
    let p99 = value(
        "sluice_transform_latency_microseconds",
        "{connector=\"people\",quantile=\"0.99\"}",
    );
    assert!(p50 > 0.0 && p99 >= p50, "{p50} {p99}");
    assert!(value("sluice_lag_seconds", people) >= 0.0);
    // new input not read yet shows as lag
    append(&dir.join("people.ndjson"), &records(11, 12));
    let (_, text) = served.get("/metrics");
    let lag = samples(&text)
        .into_iter()
        .find(|(n, l, _)| n == "sluice_lag_bytes" && l == people)
        .unwrap()
        .2;
    assert!(lag > 20.0, "{lag}");
    let letters = served.json("/connectors/people/dead-letters");
    assert_eq!(letters["count"], 1);
}

#[test]
fn an_edited_connector_is_reloaded_and_a_broken_edit_keeps_the_running_version() {
    let dir = tempdir("serve", "reload");
    write(&dir.join("people.ndjson"), &records(1, 2));
    let path = dir.join("people.toml");
    let original = file_connector(
        "people",
        "people.ndjson",
        "person",
        "frequency = \"manual\"",
    );
    write(&path, &original);
    let served = Served::start(&dir, &["people.toml"], &[]);
    served.finished(served.trigger("people"));
    assert_eq!(dump(&dir, "person")[0]["name"], "CUSTOMER 1");

    // a good edit: the mapping changes, the next run uses it
    write(
        &path,
        &original.replace("upper(data('name'))", "lower(data('name')) & '!'"),
    );
    served.wait_until("the reload", 20, |s| {
        s.log().contains("people.toml: reloaded")
    });
    append(&dir.join("people.ndjson"), &records(3, 3));
    let run = served.finished(served.trigger("people"));
    assert_eq!(run["written"], 1, "{run}");
    assert_eq!(dump(&dir, "person")[2]["name"], "customer 3!");

    // a broken edit: reported, the version before keeps running
    write(
        &path,
        &original.replace("upper(data('name'))", "upper(data('name')"),
    );
    served.wait_until("the failed reload", 20, |s| {
        s.connector("people")["reload_error"].is_string()
    });
    let reload_error = served.connector("people")["reload_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reload_error.contains("E0"), "{reload_error}");
    append(&dir.join("people.ndjson"), &records(4, 4));
    let run = served.finished(served.trigger("people"));
    assert_eq!(run["status"], "succeeded");
    assert_eq!(dump(&dir, "person")[3]["name"], "customer 4!");
    let (_, metrics) = served.get("/metrics");
    assert!(
        metrics.contains("sluice_connector_reload_failed{connector=\"people\"} 1"),
        "{metrics}"
    );

    // deactivated without a restart: no runs; then active again
    write(
        &path,
        &original.replace("type = \"ndjson\"", "type = \"ndjson\"\nactive = false"),
    );
    served.wait_until("the deactivation", 20, |s| {
        s.connector("people")["state"] == "inactive"
    });
    let (status, body) = served.request("POST", "/connectors/people/run", &[], b"");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("E802"), "{body}");
    write(&path, &original);
    served.wait_until("the reactivation", 20, |s| {
        s.connector("people")["state"] == "idle"
    });
    assert_eq!(served.connector("people")["reload_error"], Value::Null);
    assert_eq!(
        served.finished(served.trigger("people"))["status"],
        "succeeded"
    );

    // a new file in a served directory is picked up; a broken new one is listed as broken
    drop(served);
    let served = Served::start(&dir, &["."], &[]);
    write(
        &dir.join("later.toml"),
        &file_connector("later", "people.ndjson", "later", "frequency = \"manual\""),
    );
    write(
        &dir.join("broken.toml"),
        "name = 'broken'\n[inbound]\ntype = 'nope'\n",
    );
    served.wait_until("the new connector", 20, |s| {
        s.json("/connectors")["connectors"]
            .as_array()
            .unwrap()
            .len()
            == 2
            && s.json("/connectors")["broken_files"]
                .as_array()
                .unwrap()
                .len()
                == 1
    });
    assert_eq!(served.finished(served.trigger("later"))["read"], 4);
}

#[test]
fn a_failing_connector_is_retried_with_backoff_and_never_stops_the_others() {
    let dir = tempdir("serve", "failures");
    write(&dir.join("good.ndjson"), &records(1, 3));
    write(
        &dir.join("good.toml"),
        &file_connector("good", "good.ndjson", "good", "frequency = \"1s\""),
    );
    write(
        &dir.join("bad.toml"),
        &file_connector("bad", "missing.ndjson", "bad", "frequency = \"hourly\""),
    );
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("three failures of bad", 30, |s| {
        s.connector("bad")["failures_in_a_row"].as_u64().unwrap() >= 3
    });
    let bad = served.connector("bad");
    assert_eq!(bad["last_run"]["status"], "failed", "{bad}");
    assert!(
        bad["last_run"]["error"]
            .as_str()
            .unwrap()
            .contains("missing.ndjson"),
        "{bad}"
    );
    assert_eq!(bad["last_run"]["trigger"], "retry");
    // the good one kept running meanwhile
    served.wait_until("good runs", 20, |s| {
        totals(s, "good")["runs_succeeded"].as_u64().unwrap() >= 2
    });
    assert_eq!(dump(&dir, "good").len(), 3);
    // the source comes back: the next retry succeeds and the failures are forgotten
    write(&dir.join("missing.ndjson"), &records(1, 1));
    served.wait_until("bad to recover", 30, |s| {
        totals(s, "bad")["runs_succeeded"].as_u64().unwrap() >= 1
    });
    assert_eq!(served.connector("bad")["failures_in_a_row"], 0);
    assert_eq!(dump(&dir, "bad").len(), 1);
}

#[test]
fn kill_9_mid_run_and_a_restart_lose_and_duplicate_nothing() {
    let dir = tempdir("serve", "kill9");
    let n = 200_000;
    write(&dir.join("big.ndjson"), &records(1, n));
    write(
        &dir.join("big.toml"),
        &file_connector("big", "big.ndjson", "person", "frequency = \"hourly\""),
    );
    let served = Served::start(&dir, &["."], &[]);
    // killed once the run has committed part of the file (its progress says when: on a
    // loaded machine a fixed wait could kill it before its first commit — the flake this
    // replaced)
    served.wait_until("the run's first commit", 60, |s| {
        !s.connector("big")["current_run"]["progress"]["last_commit_at"].is_null()
    });
    let committed = served.connector("big")["current_run"]["progress"]["read"].clone();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(served.pid(), libc::SIGKILL) };
    drop(served);
    assert!(
        committed.as_u64().unwrap_or(u64::MAX) < n as u64,
        "the run ended before the kill"
    );
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("the resumed run to finish", 120, |s| {
        totals(s, "big")["runs_succeeded"].as_u64().unwrap() >= 1
    });
    let stored = dump(&dir, "person");
    assert_eq!(stored.len(), n);
    let store = store_in(&dir, "sluice.db");
    let (_, status, _) = run_in(&dir, &["status", "big", "--json", "--store", &store]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status[0]["read"], n as u64, "{status}");
    assert_eq!(status[0]["written"], n as u64, "{status}");
    assert_eq!(status[0]["segments"], 2, "{status}");
}

#[test]
fn sigterm_drains_the_running_sync_and_commits_its_checkpoint() {
    let dir = tempdir("serve", "sigterm");
    let n = 300_000;
    write(&dir.join("big.ndjson"), &records(1, n));
    write(
        &dir.join("big.toml"),
        &file_connector("big", "big.ndjson", "person", "frequency = \"hourly\""),
    );
    let mut served = Served::start(&dir, &["."], &[]);
    served.wait_until("the run to start", 30, |s| {
        s.connector("big")["state"] == "running"
    });
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(served.pid(), libc::SIGTERM) };
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < common::patience(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}\n{}", served.log());
    assert!(served.log().contains("stopping"), "{}", served.log());
    let store = store_in(&dir, "sluice.db");
    let (_, status, _) = run_in(&dir, &["status", "big", "--json", "--store", &store]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status[0]["stopped"], true, "{status}");
    let committed = status[0]["written"].as_u64().unwrap();
    assert_eq!(dump(&dir, "person").len() as u64, committed);
    assert!(
        committed < n as u64,
        "the run should have been stopped mid-way"
    );
    drop(served);
    // the next start finishes it from the checkpoint
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("the rest", 120, |s| {
        totals(s, "big")["runs_succeeded"].as_u64().unwrap() >= 1
    });
    assert_eq!(dump(&dir, "person").len(), n);
}

#[test]
fn realtime_follows_a_growing_file() {
    let dir = tempdir("serve", "realtime");
    write(&dir.join("stream.ndjson"), &records(1, 2));
    write(
        &dir.join("stream.toml"),
        &file_connector(
            "stream",
            "stream.ndjson",
            "event",
            "frequency = \"realtime\"\npoll = \"100ms\"",
        ),
    );
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("the first records", 20, |_| dump(&dir, "event").len() == 2);
    for batch in 0..3 {
        let from = 3 + batch * 2;
        append(&dir.join("stream.ndjson"), &records(from, from + 1));
        served.wait_until("appended records", 20, |_| {
            dump(&dir, "event").len() == from + 1
        });
    }
    let c = served.connector("stream");
    assert!(
        c["frequency"].as_str().unwrap().starts_with("realtime"),
        "{c}"
    );
    assert_eq!(c["totals"]["read"], 8, "{c}");
}

#[test]
fn realtime_polls_an_api_for_changes() {
    let dir = tempdir("serve", "realtime-api");
    let sap = Arc::new(Mutex::new(stubs::Sap {
        partners: stubs::partners(20, 1),
        ..Default::default()
    }));
    let server = stubs::sap(&sap);
    write(
        &dir.join("partners.toml"),
        &format!(
            r#"name = "partners"

[inbound]
type = "SAP B1"
entity = "BusinessPartners"

[inbound.credentials]
company_db = "SBODEMO"
user = "manager"
password = "s3cret!"

[inbound.connection]
url = "{}/b1s/v1"
auth = "session"
page_size = 50
watermark = "UpdateDate"

[outbound]
type = "store"
object = "customer"
primary_key = "erp_id"

[sync]
frequency = "realtime"
poll = "200ms"

[[mappings]]
target = "erp_id"
field = "CardCode"

[[mappings]]
target = "name"
field = "CardName"
"#,
            server.base
        ),
    );
    let served = Served::start(&dir, &["."], &[]);
    served.wait_until("the first 20", 30, |_| dump(&dir, "customer").len() == 20);
    {
        let mut s = sap.lock().unwrap();
        let mut more = stubs::partners(25, 40);
        s.partners.extend(more.drain(20..));
    }
    served.wait_until("the 5 new partners", 30, |_| {
        dump(&dir, "customer").len() == 25
    });
    let gets = sap.lock().unwrap().gets.clone();
    assert!(
        gets.iter().any(|g| g.contains("UpdateDate")),
        "incremental polls: {gets:?}"
    );
}

const BIDIRECTIONAL: &str = r#"name = "customers both ways"

[inbound]
type = "ndjson"
path = "erp.ndjson"

[outbound]
type = "store"
object = "fsmcustomer"
primary_key = "erp_id"

[sync]
direction = "bidirectional"
frequency = "manual"
conflict = "most_recent"

[[mappings]]
target = "erp_id"
field = "CardCode"

[[mappings]]
target = "name"
field = "CardName"

[[mappings]]
target = "updated_at"
field = "UpdateDate"

[reverse]
primary_key = "CardCode"

[[reverse.mappings]]
target = "CardCode"
field = "erp_id"

[[reverse.mappings]]
target = "CardName"
field = "name"

[[reverse.mappings]]
target = "UpdateDate"
field = "updated_at"
"#;

fn erp(code: &str, name: &str, day: u32) -> String {
    format!("{{\"CardCode\": \"{code}\", \"CardName\": \"{name}\", \"UpdateDate\": \"2026-01-{day:02}T00:00:00Z\"}}\n")
}

/// The ERP journal's latest version of each key.
fn erp_state(dir: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(dir.join("erp.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["CardCode"].as_str().unwrap().to_string(),
                v["CardName"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Changes records in the FSM (the store) as a user there would: `sluice objects load`.
fn change_in_fsm(dir: &Path, lines: &str) {
    write(&dir.join("fsm.ndjson"), lines);
    let store = store_in(dir, "sluice.db");
    let args = [
        "objects",
        "load",
        "fsmcustomer",
        "fsm.ndjson",
        "--key",
        "erp_id",
        "--store",
        &store,
    ];
    let (code, _, err) = run_in(dir, &args);
    assert_eq!(code, 0, "{err}");
}

fn fsm_state(dir: &Path) -> std::collections::BTreeMap<String, String> {
    dump(dir, "fsmcustomer")
        .into_iter()
        .map(|v| {
            (
                v["erp_id"].as_str().unwrap().to_string(),
                v["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn bidirectional_sync_between_two_local_systems_with_no_echo() {
    let dir = tempdir("serve", "bidirectional");
    // The ERP: a journal file, one line per change; the FSM: the store's objects.
    write(
        &dir.join("erp.ndjson"),
        &[
            erp("C1", "Acme", 1),
            erp("C2", "Beta", 1),
            erp("C3", "Gamma", 1),
        ]
        .concat(),
    );
    write(&dir.join("both.toml"), BIDIRECTIONAL);
    let served = Served::start(&dir, &["both.toml"], &[]);
    let first = served.finished(served.trigger("customers both ways"));
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["written"], 3);
    // what the way in wrote is not sent back
    assert_eq!(first["reverse"]["written"], 0, "{first}");
    assert_eq!(
        std::fs::read_to_string(dir.join("erp.ndjson"))
            .unwrap()
            .lines()
            .count(),
        3
    );

    // Both systems change: C1 in the ERP only, C2 in the FSM only, C3 in both (the FSM
    // later, so most_recent keeps the FSM's).
    append(
        &dir.join("erp.ndjson"),
        &[erp("C1", "Acme AG", 2), erp("C3", "Gamma ERP", 2)].concat(),
    );
    change_in_fsm(&dir, "{\"erp_id\": \"C2\", \"name\": \"Beta FSM\", \"updated_at\": \"2026-01-02T00:00:00Z\"}\n{\"erp_id\": \"C3\", \"name\": \"Gamma FSM\", \"updated_at\": \"2026-01-03T00:00:00Z\"}\n");
    let second = served.finished(served.trigger("customers both ways"));
    assert_eq!(second["written"], 1, "C1 comes in: {second}");
    assert_eq!(
        second["lost"], 1,
        "C3: the FSM's later change wins: {second}"
    );
    assert_eq!(
        second["reverse"]["written"], 2,
        "C2 and C3 go back: {second}"
    );
    let expected: std::collections::BTreeMap<String, String> =
        [("C1", "Acme AG"), ("C2", "Beta FSM"), ("C3", "Gamma FSM")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(erp_state(&dir), expected);
    assert_eq!(fsm_state(&dir), expected);

    // The lines the way back appended are read by the next way in as echoes: nothing is
    // written either way, and the journal does not grow.
    let lines = std::fs::read_to_string(dir.join("erp.ndjson"))
        .unwrap()
        .lines()
        .count();
    let third = served.finished(served.trigger("customers both ways"));
    assert_eq!(third["read"], 2, "{third}");
    assert_eq!(third["written"], 0, "{third}");
    assert_eq!(third["reverse"]["written"], 0, "{third}");
    assert_eq!(
        std::fs::read_to_string(dir.join("erp.ndjson"))
            .unwrap()
            .lines()
            .count(),
        lines
    );
    assert_eq!(fsm_state(&dir), expected);
}

#[test]
fn the_web_page_shows_connectors_runs_and_dead_letters_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempdir("serve", "page");
    let mut input = records(1, 3);
    input.push_str("not json\n");
    write(&dir.join("people.ndjson"), &input);
    write(
        &dir.join("people.toml"),
        &file_connector(
            "people sync",
            "people.ndjson",
            "person",
            "frequency = \"manual\"",
        ),
    );
    write(
        &dir.join("later.toml"),
        &file_connector(
            "later sync",
            "people.ndjson",
            "later",
            "frequency = \"hourly\"",
        ),
    );
    let served = Served::start(&dir, &["."], &[]);
    served.finished(served.trigger("people sync"));
    let url = format!("http://{}/", served.addr);
    let profile = dir.join("chromium-profile");
    let flags = |extra: &[&str]| -> std::process::Output {
        std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=5000",
                "--window-size=1280,720",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };
    let dom = flags(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    // served as `.`: the set is the directory's own name
    let set = dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(dom.contains(&format!(r#"data-set="{set}""#)), "{dom}");
    // the rows are made by the page's script from /connectors: their presence means it ran
    assert!(dom.contains(r#"data-connector="people sync""#), "{dom}");
    assert!(dom.contains(r#"data-connector="later sync""#), "{dom}");
    assert!(dom.contains("succeeded"), "{dom}");
    assert!(dom.contains("read 4, written 3"), "{dom}");
    assert!(
        dom.contains("E50"),
        "the dead letter's code is shown: {dom}"
    );
    assert!(dom.contains("2 connectors"), "{dom}");
    let shot = dir.join("page.png");
    let out = flags(&[&format!("--screenshot={}", shot.display())]);
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1280, 720));
    let pixels = &pixels[..info.buffer_size()];
    let colours: std::collections::HashSet<&[u8]> =
        pixels.chunks(info.color_type.samples()).collect();
    assert!(
        colours.len() > 20,
        "the screenshot is blank: {} colours",
        colours.len()
    );
    std::fs::copy(
        &shot,
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-page.png"),
    )
    .unwrap();
}

/// Debian's Chromium, when installed; without it the test is skipped and says so (in CI,
/// where `.ci/run` installs it, it fails instead).
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have /usr/bin/chromium"
    );
    let skipped = concat!(env!("CARGO_MANIFEST_DIR"), "/target/skipped-tests.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skipped)
    {
        let _ = writeln!(file, "serve::the_web_page_shows_connectors_runs_and_dead_letters_in_headless_chromium: skipped: no /usr/bin/chromium");
    }
    None
}

#[test]
fn fentu_wins_decides_only_when_both_sides_changed_the_key() {
    let dir = tempdir("serve", "fentu-wins");
    write(
        &dir.join("erp.ndjson"),
        &[erp("C1", "Acme", 1), erp("C2", "Beta", 1)].concat(),
    );
    write(
        &dir.join("both.toml"),
        &BIDIRECTIONAL.replace("conflict = \"most_recent\"", "conflict = \"fentu_wins\""),
    );
    let store = store_in(&dir, "sluice.db");
    let sync = || {
        let (code, _, err) = run_in(&dir, &["run", "both.toml", "--store", &store]);
        assert_eq!(code, 0, "{err}");
        err
    };
    sync();
    // C1 changes in the ERP only: it applies, although the FSM "wins" conflicts
    append(&dir.join("erp.ndjson"), &erp("C1", "Acme AG", 2));
    // C2 changes on both sides: the FSM's version is kept and sent back to the ERP
    append(&dir.join("erp.ndjson"), &erp("C2", "Beta ERP", 2));
    change_in_fsm(
        &dir,
        "{\"erp_id\": \"C2\", \"name\": \"Beta FSM\", \"updated_at\": \"2026-01-01T12:00:00Z\"}\n",
    );
    let err = sync();
    assert!(
        err.contains("customers both ways (reverse): read 2, written 1"),
        "{err}"
    );
    let expected: std::collections::BTreeMap<String, String> =
        [("C1", "Acme AG"), ("C2", "Beta FSM")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(fsm_state(&dir), expected);
    assert_eq!(erp_state(&dir), expected);
    // converged: a third sync writes nothing either way
    let err = sync();
    assert!(err.contains("(reverse): read 2, written 0"), "{err}");
    assert!(
        err.contains("customers both ways: read 1, written 0, filtered 1"),
        "{err}"
    );
}

#[test]
fn a_connector_another_process_is_running_is_skipped_not_failed() {
    use sha2::Digest;
    let dir = tempdir("serve", "skipped");
    write(&dir.join("people.ndjson"), &records(1, 3));
    write(
        &dir.join("people.toml"),
        &file_connector(
            "people",
            "people.ndjson",
            "person",
            "frequency = \"manual\"",
        ),
    );
    let served = Served::start(&dir, &["."], &[]);
    // another process's run holds the connector's run lock (beside the SQLite store)
    let digest: String = sha2::Sha256::digest(b"people")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("sluice.db.{}.lock", &digest[..16])))
        .unwrap();
    lock.lock().unwrap();
    let run = served.finished(served.trigger("people"));
    assert_eq!(run["status"], "skipped", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("another run"),
        "{run}"
    );
    let people = served.connector("people");
    assert_eq!(people["failures_in_a_row"], 0, "{people}");
    assert_eq!(people["totals"]["runs_skipped"], 1, "{people}");
    lock.unlock().unwrap();
    assert_eq!(
        served.finished(served.trigger("people"))["status"],
        "succeeded"
    );
    assert_eq!(dump(&dir, "person").len(), 3);
}
