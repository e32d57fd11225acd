//! What `docs/serve.md` promises, kept: an unfinished run is resumed at start whatever the
//! connector's frequency (killed by SIGKILL or stopped by SIGTERM), a failing connector
//! backs off instead of spinning, a connector with no source of its own is not started by
//! hand, a realtime connector's idle looks are not runs (nor listed while they look), and
//! `/runs` lists as many as asked.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/stubs.rs"]
mod stubs;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use common::served::Served;
use common::{run_in, store_in, tempdir};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn records(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"person {i}\"}}\n"))
        .collect()
}

/// A connector of `path` into the store object `object`, with `[sync]` lines.
fn connector(name: &str, path: Option<&str>, sync: &str) -> String {
    let path = path
        .map(|p| format!("path = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        r#"name = "{name}"

[inbound]
type = "ndjson"
{path}
[outbound]
type = "store"
object = "{name}"
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

fn status(dir: &Path, name: &str) -> Value {
    let store = store_in(dir, "sluice.db");
    let (_, out, _) = run_in(dir, &["status", name, "--json", "--store", &store]);
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

fn stored(dir: &Path, object: &str) -> usize {
    let store = store_in(dir, "sluice.db");
    let (code, out, _) = run_in(dir, &["objects", "dump", object, "--store", &store]);
    if code != 0 {
        return 0;
    }
    out.lines().count()
}

#[test]
fn an_unfinished_run_resumes_at_start_whatever_the_frequency() {
    let n = 120_000;
    let hook = "whsec_cmVzdW1lLXRlc3RzLXdlYmhvb2stc2VjcmV0";
    let frequencies = [
        "\"manual\"",
        "\"1h\"",
        "{ cron = \"0 3 * * *\" }",
        "\"event\"",
        "\"realtime\"",
    ];
    for (frequency, signal) in frequencies
        .iter()
        .flat_map(|f| [(*f, libc::SIGKILL), (*f, libc::SIGTERM)])
    {
        let label = format!("{frequency} {signal}");
        let dir = tempdir(
            "serve-promises",
            &format!(
                "resume-{}",
                label.replace(['"', ' ', '{', '}', '*', '='], "")
            ),
        );
        write(&dir.join("big.ndjson"), &records(0, n));
        let sync = format!("frequency = {frequency}\nwebhook_secret = \"{hook}\"");
        write(
            &dir.join("big.toml"),
            &connector("big", Some("big.ndjson"), &sync),
        );
        let served = Served::start(&dir, &["big.toml"], &[]);
        // start it the way its frequency does; interval and realtime start on their own
        match frequency {
            "\"manual\"" => {
                served.trigger("big");
            }
            "\"event\"" => {
                let now = chrono::Utc::now().timestamp();
                let headers = [
                    ("webhook-id", "nudge-1".to_string()),
                    ("webhook-timestamp", now.to_string()),
                    (
                        "webhook-signature",
                        sluice::serve::sign(hook, "nudge-1", now, b""),
                    ),
                ];
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                assert_eq!(served.request("POST", "/hooks/big", &headers, b"").0, 202);
            }
            f if f.contains("cron") => {
                served.trigger("big");
            }
            _ => {}
        }
        served.wait_until("the run to start", 30, |s| {
            s.connector("big")["state"] == "running"
        });
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: a signal to our own child process.
        unsafe { libc::kill(served.pid(), signal) };
        let mut served = served;
        let _ = served.child.wait();
        drop(served);
        let before = stored(&dir, "big");
        assert!(
            before < n,
            "{label}: the run was interrupted ({before} of {n} stored)"
        );
        // restarted, nobody triggers anything: the run is owed and resumes
        let served = Served::start(&dir, &["big.toml"], &[]);
        served.wait_until(
            &format!("{label}: the run to resume and finish"),
            120,
            |_| stored(&dir, "big") == n,
        );
        served.wait_until(&format!("{label}: the run to be recorded"), 30, |_| {
            status(&dir, "big")[0]["read"].as_u64() == Some(n as u64)
        });
        let last = &status(&dir, "big")[0];
        assert_eq!(last["written"].as_u64(), Some(n as u64), "{label}: {last}");
    }
}

#[test]
fn a_failing_realtime_connector_backs_off_instead_of_spinning() {
    let dir = tempdir("serve-promises", "spin");
    write(
        &dir.join("rt.toml"),
        &connector(
            "rt",
            Some("rotated-away.ndjson"),
            "frequency = \"realtime\"\npoll = \"50ms\"",
        ),
    );
    let served = Served::start_with(
        &dir,
        &["rt.toml"],
        &[],
        &["--retries", "1", "--retry-backoff", "100ms"],
    );
    std::thread::sleep(Duration::from_secs(3));
    let runs = served.json("/runs?limit=10000");
    let tried = runs["runs"].as_array().unwrap().len();
    // 100 ms, 200, 400, 800, 1600: at most about six tries in three seconds
    assert!(tried <= 8, "{tried} runs in 3 s: it spins");
    let c = served.connector("rt");
    assert!(c["failing"].as_str().unwrap().contains("E50"), "{c}");
    let (_, metrics) = served.get("/metrics");
    assert!(
        metrics.contains("sluice_connector_failing{connector=\"rt\"} 1"),
        "{metrics}"
    );
    // the file comes back: it recovers at its next try
    write(&dir.join("rotated-away.ndjson"), &records(0, 3));
    served.wait_until("the connector to recover", 30, |s| {
        s.connector("rt")["failing"].is_null()
    });
    assert_eq!(stored(&dir, "rt"), 3);
    let (_, metrics) = served.get("/metrics");
    assert!(
        metrics.contains("sluice_connector_failing{connector=\"rt\"} 0"),
        "{metrics}"
    );
}

#[test]
fn a_connector_without_a_source_of_its_own_is_not_started_by_hand() {
    let dir = tempdir("serve-promises", "no-source");
    write(
        &dir.join("hooked.toml"),
        &connector("hooked", None, "frequency = \"event\"\nwebhook_secret = \"whsec_bm8tc291cmNlLW9mLWl0cy1vd24tc2VjcmV0\""),
    );
    let served = Served::start(&dir, &["hooked.toml"], &[]);
    let c = served.connector("hooked");
    assert_eq!(c["runnable"], false, "{c}");
    let (status, body) = served.request("POST", "/connectors/hooked/run", &[], b"");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("E608"), "{body}");
    std::thread::sleep(Duration::from_millis(500));
    let c = served.connector("hooked");
    assert_eq!(
        c["failures_in_a_row"], 0,
        "nothing ran, nothing failed: {c}"
    );
}

#[test]
fn a_realtime_connectors_idle_looks_are_not_runs() {
    let dir = tempdir("serve-promises", "idle");
    write(&dir.join("feed.ndjson"), "");
    write(
        &dir.join("rt.toml"),
        &connector(
            "rt",
            Some("feed.ndjson"),
            "frequency = \"realtime\"\npoll = \"50ms\"",
        ),
    );
    let served = Served::start(&dir, &["rt.toml"], &[]);
    std::thread::sleep(Duration::from_millis(500));
    // 100 lines, 50 of them without a name (upper() of a missing field fails? no: null) —
    // half of them are not JSON, so they are dead letters
    let lines: String = (0..100)
        .map(|i| match i % 2 {
            0 => format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"),
            _ => format!("{{\"id\": {i}, \"name\": \n"),
        })
        .collect();
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("feed.ndjson"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, lines.as_bytes()))
        .unwrap();
    served.wait_until("the lines to be read", 30, |s| {
        s.connector("rt")["totals"]["read"].as_u64() == Some(100)
    });
    // several idle looks later, the last run is still the one that read them
    std::thread::sleep(Duration::from_millis(600));
    let c = served.connector("rt");
    assert_eq!(c["last_run"]["read"], 100, "{c}");
    assert_eq!(c["last_run"]["failed"], 50, "{c}");
    assert!(c["last_checked"].is_string(), "{c}");
    let (_, metrics) = served.get("/metrics");
    assert!(
        metrics.contains("sluice_error_rate{connector=\"rt\"} 0.5"),
        "{metrics}"
    );
    let runs = served.json("/runs?limit=10000");
    let listed = runs["runs"].as_array().unwrap();
    assert!(
        listed.iter().all(|r| r["read"].as_u64() > Some(0)),
        "idle looks listed: {runs}"
    );
    let one = served.json("/runs?limit=1");
    assert_eq!(one["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn a_realtime_look_in_progress_is_not_listed_until_it_reads() {
    use std::sync::{Arc, Mutex};
    let dir = tempdir("serve-promises", "look");
    // each answer of the REST stand-in takes a second: a look waits in it, running, having
    // read nothing (under load, a file look was caught so too: listed with `read` 0)
    let pager = Arc::new(Mutex::new(stubs::Pager {
        style: "page".into(),
        count: 0,
        delay: Duration::from_millis(1000),
        ..Default::default()
    }));
    let stand_in = stubs::pager(&pager);
    let rest = format!(
        "[inbound.connection]\nurl = \"{}/v1\"\nrecords = \"data.items\"\npaging = \"page\"\n",
        stand_in.base
    );
    let text = connector("rt", None, "frequency = \"realtime\"\npoll = \"50ms\"")
        .replace(
            "type = \"ndjson\"\n",
            &format!("type = \"Shopware\"\nentity = \"items\"\n\n{rest}"),
        )
        .replace("field = \"id\"", "field = \"n\"");
    write(&dir.join("rt.toml"), &text);
    let served = Served::start(&dir, &["rt.toml"], &[]);
    let asked = || pager.lock().unwrap().requests.len();
    served.wait_until("a look to ask for its page", 30, |_| asked() > 0);
    for _ in 0..3 {
        let runs = served.json("/runs");
        assert_eq!(runs["runs"], serde_json::json!([]), "{runs}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // once there is something to read, the look that reads it is a run
    pager.lock().unwrap().count = 3;
    served.wait_until("the items to be read", 30, |s| {
        s.connector("rt")["totals"]["read"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    });
    let runs = served.json("/runs");
    let listed = runs["runs"].as_array().unwrap();
    assert!(!listed.is_empty(), "{runs}");
    assert!(
        listed.iter().all(|r| r["read"].as_u64() > Some(0)),
        "a look listed before it read: {runs}"
    );
}

/// The value of metric `name` for `connector` (and `extra` labels) in a metrics page.
fn metric(page: &str, name: &str, connector: &str, extra: &str) -> f64 {
    let labels = format!("connector=\"{connector}\"{extra}");
    common::served::samples(page)
        .into_iter()
        .find(|(n, l, _)| n == name && l.trim_matches(|c| c == '{' || c == '}') == labels)
        .map_or(f64::NAN, |(_, _, v)| v)
}

#[test]
fn metrics_agree_with_the_store_after_mixed_runs() {
    if common::postgres::current().is_some() {
        return;
    }
    let dir = tempdir("serve-promises", "metrics");
    // good: 10 records, 2 filtered by the condition, 3 that fail (not JSON)
    let mut lines = records(0, 5);
    lines.push_str("{\"id\": 5, \"name\": \"skip\"}\n{\"id\": 6, \"name\": \"skip\"}\n");
    lines.push_str("{\"id\": 7,\n{\"id\": 8,\n{\"id\": 9,\n");
    write(&dir.join("good.ndjson"), &lines);
    let good = format!(
        "conditions = [\"data('name') <> 'skip'\"]\n{}",
        connector("good", Some("good.ndjson"), "frequency = \"1h\"")
    );
    write(&dir.join("good.toml"), &good);
    write(
        &dir.join("broken.toml"),
        &connector("broken", Some("missing.ndjson"), "frequency = \"manual\""),
    );
    write(&dir.join("rt.ndjson"), "");
    write(
        &dir.join("rt.toml"),
        &connector(
            "rt",
            Some("rt.ndjson"),
            "frequency = \"realtime\"\npoll = \"50ms\"",
        ),
    );
    let served = Served::start_with(
        &dir,
        &["good.toml", "broken.toml", "rt.toml"],
        &[],
        &["--retries", "0"],
    );
    served.trigger("broken");
    served.wait_until("the good run", 30, |s| {
        s.connector("good")["totals"]["read"] == 10
    });
    std::thread::sleep(Duration::from_millis(400)); // idle looks of rt
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("rt.ndjson"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, records(100, 4).as_bytes()))
        .unwrap();
    served.wait_until("rt to read", 30, |s| {
        s.connector("rt")["totals"]["read"] == 4
    });
    std::thread::sleep(Duration::from_millis(400)); // more idle looks
    served.wait_until("broken to fail", 30, |s| {
        s.connector("broken")["failures_in_a_row"] == 1
    });
    let (_, page) = served.get("/metrics");
    let db = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    for name in ["good", "rt", "broken"] {
        let (read, written, filtered, failed, runs): (i64, i64, i64, i64, i64) = db
            .query_row(
                "SELECT coalesce(sum(read),0), coalesce(sum(written),0), coalesce(sum(filtered),0), coalesce(sum(failed),0), count(*)
                 FROM runs WHERE connector = ?1 AND noop = 0",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        let letters: i64 = db
            .query_row(
                "SELECT count(*) FROM dead_letters WHERE connector = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        for (metric_name, stored) in [
            ("sluice_records_read_total", read),
            ("sluice_records_written_total", written),
            ("sluice_records_filtered_total", filtered),
            ("sluice_records_failed_total", failed),
        ] {
            assert_eq!(
                metric(&page, metric_name, name, ""),
                stored as f64,
                "{name} {metric_name}\n{page}"
            );
        }
        assert_eq!(
            metric(&page, "sluice_runs_total", name, ",status=\"succeeded\""),
            runs as f64,
            "{name}: runs that read are the succeeded runs the store records\n{page}"
        );
        let dead = metric(&page, "sluice_dead_letters", name, "");
        assert!(
            dead.is_nan() && letters == 0 || dead == letters as f64,
            "{name} dead letters {dead} vs {letters}"
        );
    }
    let listed = served.json("/runs?limit=10000");
    let failed_runs = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["connector"] == "broken" && r["status"] == "failed")
        .count();
    assert_eq!(
        metric(&page, "sluice_runs_total", "broken", ",status=\"failed\""),
        failed_runs as f64
    );
    assert_eq!(metric(&page, "sluice_connector_failing", "broken", ""), 1.0);
    assert_eq!(metric(&page, "sluice_connector_failing", "good", ""), 0.0);
    assert_eq!(metric(&page, "sluice_error_rate", "good", ""), 0.3);
    assert_eq!(
        metric(&page, "sluice_error_rate", "rt", ""),
        0.0,
        "the last run that read, not an idle look"
    );
}

#[test]
fn every_error_answer_is_json_with_a_code() {
    let dir = tempdir("serve-promises", "json-errors");
    write(
        &dir.join("h.toml"),
        &connector(
            "h",
            None,
            "frequency = \"event\"\nwebhook_secret = \"whsec_ZXZlcnktZXJyb3ItaXMtanNvbi10b28=\"",
        ),
    );
    let served = Served::start(&dir, &["h.toml"], &[]);
    let big = vec![b' '; (64 << 20) + 10];
    let now = chrono::Utc::now().timestamp();
    let headers = [
        ("webhook-id", "big".to_string()),
        ("webhook-timestamp", now.to_string()),
        (
            "webhook-signature",
            sluice::serve::sign("whsec_ZXZlcnktZXJyb3ItaXMtanNvbi10b28=", "big", now, &big),
        ),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (status, body) in [
        served.request("POST", "/hooks/h", &headers, &big),
        served.get("/runs/424242"),
        served.get("/no/such/route"),
        served.get("/connectors/nobody"),
    ] {
        assert!(status >= 400, "{status} {body}");
        let parsed: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"));
        assert!(
            parsed["error"]["code"]
                .as_str()
                .is_some_and(|c| c.starts_with('E')),
            "{status}: {body}"
        );
    }
}
