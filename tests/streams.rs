//! NATS JetStream streams as sources and sinks, through the real binary against the
//! broker of this machine (127.0.0.1:4222, JetStream on): records published from a file
//! with the broker's acknowledgement and a `Nats-Msg-Id` (published twice, stored once),
//! read through a durable consumer into the store and acknowledged only after the commit,
//! a kill -9 mid-stream that loses and duplicates nothing. Each test makes its own stream
//! and deletes it. Skipped without a broker, outside CI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BROKER: &str = "nats://127.0.0.1:4222";

/// A stream name of this test's own, or none: no broker (skipped outside CI).
fn stream_name(test: &str) -> Option<String> {
    if std::net::TcpStream::connect("127.0.0.1:4222").is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test} must run on NATS in CI"
        );
        return None;
    }
    Some(format!(
        "SLUICE_{}_{}",
        test.to_uppercase(),
        std::process::id()
    ))
}

/// Deletes the stream when the test ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.0.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            if let Ok(client) = async_nats::connect(BROKER).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&name)
                    .await;
            }
        });
    }
}

fn writer(stream: &str, subject: &str) -> String {
    format!(
        r#"name = "publisher"
[inbound]
type = "ndjson"
[outbound]
type = "Order events"
[outbound.stream]
url = "{BROKER}"
stream = "{stream}"
subject = "{subject}"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
field = "name"
"#
    )
}

fn reader(stream: &str, subject: &str, consumer: &str, batch: u64) -> String {
    format!(
        r#"name = "{consumer}"
[inbound]
type = "Order events"
[inbound.stream]
url = "{BROKER}"
stream = "{stream}"
subject = "{subject}"
consumer = "{consumer}"
batch = {batch}
ack_wait = "2s"
[outbound]
type = "store"
object = "order"
primary_key = "id"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#
    )
}

fn records(n: u64) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"))
        .collect()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = common::process()
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .args(["run"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stored(dir: &Path, db: &str) -> (i64, i64) {
    rusqlite::Connection::open(dir.join(db))
        .and_then(|c| {
            c.query_row(
                "SELECT count(*), count(DISTINCT json_extract(data, '$.id')) FROM objects WHERE type = 'order'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap_or((0, 0))
}

#[test]
fn records_go_through_a_stream_into_the_store_once() {
    let Some(stream) = stream_name("once") else {
        return;
    };
    let _cleanup = Cleanup(stream.clone());
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = common::tempdir("streams", "once");
    std::fs::write(dir.join("pub.toml"), writer(&stream, &subject)).unwrap();
    std::fs::write(
        dir.join("a.toml"),
        reader(&stream, &subject, "reader-a", 64),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.toml"),
        reader(&stream, &subject, "reader-b", 64),
    )
    .unwrap();
    std::fs::write(dir.join("in.ndjson"), records(500)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("written 500"), "{err}");
    // published again: the broker's duplicate window drops every one
    let (code, err) = run(
        &dir,
        &[
            "pub.toml",
            "--input",
            "in.ndjson",
            "--store",
            "pub.db",
            "--from-start",
        ],
    );
    assert_eq!(code, 0, "{err}");

    let (code, err) = run(&dir, &["a.toml", "--store", "a.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 500, written 500"),
        "each message once: {err}"
    );
    assert_eq!(stored(&dir, "a.db"), (500, 500));
    let (code, err) = run(&dir, &["a.toml", "--store", "a.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 0"),
        "acknowledged messages are not read again: {err}"
    );
    // a second consumer of its own reads the stream whole
    let (code, err) = run(&dir, &["b.toml", "--store", "b.db"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir, "b.db"), (500, 500), "{err}");
}

#[test]
fn a_stream_read_killed_mid_run_loses_and_duplicates_nothing() {
    let Some(stream) = stream_name("kill") else {
        return;
    };
    let _cleanup = Cleanup(stream.clone());
    const N: u64 = 20_000;
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = common::tempdir("streams", "kill");
    std::fs::write(dir.join("pub.toml"), writer(&stream, &subject)).unwrap();
    std::fs::write(dir.join("r.toml"), reader(&stream, &subject, "reader", 200)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(N)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");

    let mut child = common::process()
        .current_dir(&dir)
        .env_remove("SLUICE_STORE")
        .args(["run", "r.toml", "--store", "r.db", "--batch", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never committed"
        );
        std::thread::sleep(Duration::from_millis(10));
        if stored(&dir, "r.db").0 > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = stored(&dir, "r.db").0;
    assert!(before < N as i64, "killed mid-stream");
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db", "--batch", "500"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir, "r.db"), (N as i64, N as i64), "{err}");
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 0"), "nothing left unacknowledged: {err}");
}

/// Many machines through the broker: three workers share one durable consumer
/// (`shared = true`) into one PostgreSQL store; one is killed with SIGKILL mid-stream, the
/// broker hands its unacknowledged messages to the others after `ack_wait`, and every
/// record is stored exactly once.
#[test]
fn three_workers_share_a_consumer_and_a_killed_ones_messages_go_to_the_others() {
    let Some(stream) = stream_name("shared") else {
        return;
    };
    if !common::postgres::use_fresh_database("streams::shared") {
        return;
    }
    let store = common::postgres::current().unwrap();
    let _cleanup = Cleanup(stream.clone());
    const N: u64 = 30_000;
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = common::tempdir("streams", "shared");
    std::fs::write(dir.join("pub.toml"), writer(&stream, &subject)).unwrap();
    std::fs::write(
        dir.join("r.toml"),
        reader(&stream, &subject, "workers", 100)
            .replace("ack_wait = \"2s\"", "ack_wait = \"2s\"\nshared = true"),
    )
    .unwrap();
    std::fs::write(dir.join("in.ndjson"), records(N)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");

    let worker = || {
        common::process()
            .current_dir(&dir)
            .env_remove("SLUICE_STORE")
            .args(["run", "r.toml", "--store", &store, "--batch", "200"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut workers = vec![worker(), worker(), worker()];
    let mut client = postgres::Client::connect(&store, postgres::NoTls).unwrap();
    let count = |client: &mut postgres::Client| -> (i64, i64) {
        // nothing yet until a worker has made the store's tables
        client
            .query_one(
                "SELECT count(*), count(DISTINCT data) FROM objects WHERE type = 'order'",
                &[],
            )
            .map_or((0, 0), |row| (row.get(0), row.get(1)))
    };
    let started = Instant::now();
    while count(&mut client).0 < 2_000 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the workers never committed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut victim = workers.remove(0);
    victim.kill().unwrap();
    victim.wait().unwrap();
    for mut survivor in workers {
        let status = survivor.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut survivor.stderr.take().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{err}");
    }
    assert_eq!(
        count(&mut client),
        (N as i64, N as i64),
        "every record stored once"
    );
}

/// Regression: publishing a batch larger than the client's window of publishes awaiting
/// their acknowledgement waited for ever (every publish was sent before any ack was
/// awaited).
#[test]
fn a_batch_larger_than_the_clients_ack_window_is_published() {
    let Some(stream) = stream_name("bigbatch") else {
        return;
    };
    let _cleanup = Cleanup(stream.clone());
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = common::tempdir("streams", "bigbatch");
    std::fs::write(dir.join("pub.toml"), writer(&stream, &subject)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(12_000)).unwrap();
    let mut child = common::process()
        .current_dir(&dir)
        .env_remove("SLUICE_STORE")
        .args([
            "run",
            "pub.toml",
            "--input",
            "in.ndjson",
            "--store",
            "pub.db",
            "--batch",
            "12000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the publish of one large batch never ended");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(child.wait().unwrap().success(), "{err}");
    assert!(err.contains("written 12000"), "{err}");
}

/// Publishes `bodies` to `subject` of `stream` (made when it does not exist), each
/// acknowledged by the broker.
fn publish(stream: &str, subject: &str, bodies: &[String]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(BROKER).await.unwrap();
        let context = async_nats::jetstream::new(client);
        context
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: stream.to_string(),
                subjects: vec![format!("{}.>", stream.to_lowercase())],
                ..Default::default()
            })
            .await
            .unwrap();
        for body in bodies {
            context
                .publish(subject.to_string(), body.clone().into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
}

/// `sluice serve` follows a stream that a realtime connector reads: its run stays up and
/// stores each message as it arrives. The connector polls once an hour, so only a run
/// that follows the stream stores the messages published after it started; a reload ends
/// that run and the new version follows on; SIGTERM ends it at once.
#[test]
fn serve_follows_a_stream_and_stores_each_message_as_it_arrives() {
    let Some(stream) = stream_name("follow") else {
        return;
    };
    let _cleanup = Cleanup(stream.clone());
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = common::tempdir("streams", "follow");
    let connector = format!(
        "{}\n[sync]\nfrequency = \"realtime\"\npoll = \"1h\"\n",
        reader(&stream, &subject, "follower", 64)
    );
    publish(&stream, &subject, &[]);
    std::fs::write(dir.join("r.toml"), &connector).unwrap();
    let served = common::served::Served::start(&dir, &["r.toml"], &[]);
    let count = || stored(&dir, "sluice.db").0;
    served.wait_until("the run that follows the stream", 30, |s| {
        s.connector("follower")["state"] == "running"
    });
    assert_eq!(
        served.connector("follower")["frequency"],
        "realtime (follows its stream)"
    );
    for i in 0..5u64 {
        publish(
            &stream,
            &subject,
            &[records(i + 1).lines().last().unwrap().to_string()],
        );
        served.wait_until("the message in the store", 20, |_| count() == i as i64 + 1);
    }
    // an NDJSON body of many records, and a batch of messages at once
    publish(
        &stream,
        &subject,
        &[records(8).lines().skip(5).collect::<Vec<_>>().join("\n")],
    );
    let more: Vec<String> = records(300).lines().skip(8).map(str::to_string).collect();
    publish(&stream, &subject, &more);
    served.wait_until("the burst in the store", 30, |_| count() == 300);
    assert_eq!(stored(&dir, "sluice.db"), (300, 300));

    // a reload ends the run that follows; the new version follows on
    std::fs::write(
        dir.join("r.toml"),
        connector.replace("upper(data('name'))", "lower(data('name'))"),
    )
    .unwrap();
    served.wait_until("the reload", 20, |s| s.log().contains("reloaded"));
    served.wait_until("the first run to end", 20, |s| {
        s.json("/runs")["runs"]
            .as_array()
            .is_some_and(|runs| runs.iter().any(|r| r["status"] == "succeeded"))
    });
    publish(
        &stream,
        &subject,
        &[r#"{"id": 1000, "name": "LATE"}"#.to_string()],
    );
    served.wait_until("the message after the reload", 20, |_| count() == 301);
    let name: String = rusqlite::Connection::open(dir.join("sluice.db"))
        .unwrap()
        .query_row(
            "SELECT json_extract(data, '$.name') FROM objects WHERE json_extract(data, '$.id') = 1000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(name, "late", "the reloaded version stored it");

    // SIGTERM ends the run that follows, and the server, promptly
    let started = Instant::now();
    let mut served = served;
    sigterm(served.pid());
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{}", served.log());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the server took {:?} to stop",
        started.elapsed()
    );
}

/// Sends SIGTERM to `pid` with the `kill` command.
fn sigterm(pid: i32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
