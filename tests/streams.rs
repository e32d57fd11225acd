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
