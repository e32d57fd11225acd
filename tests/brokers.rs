//! RabbitMQ queues and MQTT topics as sources and sinks, through the real binary against
//! the brokers of this machine (RabbitMQ on 127.0.0.1:5672 as guest, Mosquitto on
//! 127.0.0.1:1883): records published with the broker's confirmation, read into the store
//! and acknowledged only after the commit, a kill -9 mid-read that loses and duplicates
//! nothing, three workers sharing a queue, a topic followed until SIGTERM, and the checks
//! of a stream's keys. Each test uses queues and topics of its own. Skipped without the
//! broker, outside CI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const MQTT: &str = "mqtt://127.0.0.1:1883";

/// A name of this test's own on the broker at `port`, or none: no broker (skipped
/// outside CI).
fn name_on(port: u16, test: &str) -> Option<String> {
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test} must run on the broker at port {port} in CI"
        );
        return None;
    }
    Some(format!("sluice-{test}-{}", std::process::id()))
}

/// Deletes a RabbitMQ queue when the test ends.
struct Queue(String);

impl Drop for Queue {
    fn drop(&mut self) {
        let name = self.0.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            if let Ok(connection) =
                lapin::Connection::connect(AMQP, lapin::ConnectionProperties::default()).await
            {
                if let Ok(channel) = connection.create_channel().await {
                    let _ = channel
                        .queue_delete(name.as_str().into(), Default::default())
                        .await;
                }
            }
        });
    }
}

/// Deletes a NATS JetStream stream when the test ends.
struct NatsStream(String);

impl Drop for NatsStream {
    fn drop(&mut self) {
        let name = self.0.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            if let Ok(client) = async_nats::connect("nats://127.0.0.1:4222").await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&name)
                    .await;
            }
        });
    }
}

/// Publishes `body` to `queue` through the default exchange, as another system would:
/// no message id.
fn publish_raw(queue: &str, body: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(AMQP, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel.confirm_select(Default::default()).await.unwrap();
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                Default::default(),
                body.as_bytes(),
                lapin::BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    });
}

/// A connector publishing its input's records to `stream` (the keys of a `[stream]`).
fn writer(url: &str, stream: &str) -> String {
    format!(
        r#"name = "publisher"
[inbound]
type = "ndjson"
[outbound]
type = "Order events"
[outbound.stream]
url = "{url}"
{stream}
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
field = "name"
"#
    )
}

/// A connector reading `stream` into the store's `order` objects.
fn reader(name: &str, url: &str, stream: &str) -> String {
    format!(
        r#"name = "{name}"
[inbound]
type = "Order events"
[inbound.stream]
url = "{url}"
{stream}
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

fn records(from: u64, to: u64) -> String {
    (from..to)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"))
        .collect()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = common::process()
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    common::process()
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .arg("run")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Rows of `order` objects in the SQLite store `db`, and distinct ids among them.
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

/// Waits until `ready` holds, failing with `what` after a minute (the child must still run).
fn wait_for(what: &str, child: &mut Child, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < common::patience(60),
            "{what}: timed out"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what}: the run ended first"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills `child` with SIGKILL and waits for it.
fn kill_9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn records_go_through_a_rabbitmq_queue_into_the_store_once() {
    let Some(queue) = name_on(5672, "rmq-once") else {
        return;
    };
    let _queue = Queue(queue.clone());
    let dir = common::tempdir("brokers", "rmq-once");
    let keys = format!("queue = \"{queue}\"");
    std::fs::write(dir.join("pub.toml"), writer(AMQP, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", AMQP, &keys)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, 500)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("written 500"), "{err}");
    // another system's message: no id, an NDJSON body of three records
    publish_raw(&queue, &records(500, 503));

    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 503, written 503"), "{err}");
    assert_eq!(stored(&dir, "r.db"), (503, 503));
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 0"),
        "acknowledged messages are not read again: {err}"
    );
}

#[test]
fn a_rabbitmq_read_killed_mid_run_loses_and_duplicates_nothing() {
    let Some(queue) = name_on(5672, "rmq-kill") else {
        return;
    };
    let _queue = Queue(queue.clone());
    const N: u64 = 20_000;
    let dir = common::tempdir("brokers", "rmq-kill");
    let keys = format!("queue = \"{queue}\"\nbatch = 200");
    std::fs::write(dir.join("pub.toml"), writer(AMQP, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", AMQP, &keys)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, N)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");

    let mut child = spawn(&dir, &["r.toml", "--store", "r.db", "--batch", "500"]);
    wait_for("a first commit", &mut child, || stored(&dir, "r.db").0 > 0);
    kill_9(&mut child);
    let before = stored(&dir, "r.db").0;
    assert!(before < N as i64, "killed mid-read");
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db", "--batch", "500"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir, "r.db"), (N as i64, N as i64), "{err}");
    // the run's counts span both segments: a message redelivered after its commit is
    // skipped, not read again
    assert!(err.contains(&format!("read {N}, written {N}")), "{err}");
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 0"), "nothing left unacknowledged: {err}");
}

/// Many machines through the broker: three workers consume one queue (`shared = true`) into
/// one PostgreSQL store; one is killed with SIGKILL mid-stream, RabbitMQ gives its
/// unacknowledged messages to the others as its connection drops, and every record is
/// stored exactly once.
#[test]
fn three_workers_share_a_rabbitmq_queue_and_a_killed_ones_messages_go_to_the_others() {
    let Some(queue) = name_on(5672, "rmq-shared") else {
        return;
    };
    if !common::postgres::use_fresh_database("brokers::rmq_shared") {
        return;
    }
    let store = common::postgres::current().unwrap();
    let _queue = Queue(queue.clone());
    const N: u64 = 30_000;
    let dir = common::tempdir("brokers", "rmq-shared");
    std::fs::write(
        dir.join("pub.toml"),
        writer(AMQP, &format!("queue = \"{queue}\"")),
    )
    .unwrap();
    std::fs::write(
        dir.join("r.toml"),
        reader(
            "workers",
            AMQP,
            &format!("queue = \"{queue}\"\nbatch = 100\nshared = true"),
        ),
    )
    .unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, N)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");

    let mut workers: Vec<Child> = (0..3)
        .map(|_| spawn(&dir, &["r.toml", "--store", &store, "--batch", "200"]))
        .collect();
    let mut client = postgres::Client::connect(&store, postgres::NoTls).unwrap();
    let count = |client: &mut postgres::Client| -> (i64, i64) {
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
            started.elapsed() < common::patience(60),
            "the workers never committed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut victim = workers.remove(0);
    kill_9(&mut victim);
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

#[test]
fn records_go_through_an_mqtt_topic_into_the_store_once() {
    let Some(topic) = name_on(1883, "mqtt-once") else {
        return;
    };
    let dir = common::tempdir("brokers", "mqtt-once");
    let keys = format!("topic = \"sluice/{topic}/orders\"\nconsumer = \"{topic}\"");
    std::fs::write(dir.join("pub.toml"), writer(MQTT, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", MQTT, &keys)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, 800)).unwrap();
    // the first read subscribes: the broker keeps what is published after it for the session
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 0"), "{err}");
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("written 800"), "{err}");

    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 800, written 800"), "{err}");
    assert_eq!(stored(&dir, "r.db"), (800, 800));
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 0"),
        "acknowledged messages are not read again: {err}"
    );
}

#[test]
fn an_mqtt_read_killed_mid_run_loses_and_duplicates_nothing() {
    let Some(topic) = name_on(1883, "mqtt-kill") else {
        return;
    };
    // within what the broker keeps for a session while no run reads (Mosquitto: 1000)
    const N: u64 = 1_000;
    let dir = common::tempdir("brokers", "mqtt-kill");
    let keys = format!("topic = \"sluice/{topic}/orders\"\nconsumer = \"{topic}\"\nbatch = 20");
    std::fs::write(dir.join("pub.toml"), writer(MQTT, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", MQTT, &keys)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, N)).unwrap();
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");

    let mut child = spawn(&dir, &["r.toml", "--store", "r.db", "--batch", "20"]);
    wait_for("a first commit", &mut child, || stored(&dir, "r.db").0 > 0);
    kill_9(&mut child);
    assert!(stored(&dir, "r.db").0 < N as i64, "killed mid-read");
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db", "--batch", "20"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir, "r.db"), (N as i64, N as i64), "{err}");
    assert!(err.contains(&format!("read {N}, written {N}")), "{err}");
}

/// `sluice run --follow` keeps reading a topic as messages arrive, committing each as it
/// comes, and ends cleanly on SIGTERM with everything it read stored.
#[test]
fn run_follow_stores_an_mqtt_topics_messages_as_they_arrive_until_sigterm() {
    let Some(topic) = name_on(1883, "mqtt-follow") else {
        return;
    };
    let dir = common::tempdir("brokers", "mqtt-follow");
    let keys = format!("topic = \"sluice/{topic}/orders\"\nconsumer = \"{topic}\"\nbatch = 5");
    std::fs::write(dir.join("pub.toml"), writer(MQTT, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", MQTT, &keys)).unwrap();
    let mut follower = spawn(&dir, &["r.toml", "--store", "r.db", "--follow"]);
    // one message, then exactly a batch, then many — fewer than Mosquitto keeps queued for
    // a session (1000): a reader slowed by a loaded machine must not have the broker drop
    // any (MQTT QoS 1 holds only so many for a subscriber that falls behind)
    for (from, to) in [(0, 1), (1, 6), (6, 900)] {
        std::fs::write(dir.join("in.ndjson"), records(from, to)).unwrap();
        let started = Instant::now();
        loop {
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
            std::thread::sleep(Duration::from_millis(100));
            // before the follower subscribed, the first message went nowhere: again
            if stored(&dir, "r.db").0 >= to as i64 || from > 0 {
                break;
            }
            assert!(started.elapsed() < common::patience(30), "never subscribed");
        }
        wait_for("the messages in the store", &mut follower, || {
            stored(&dir, "r.db").0 == to as i64
        });
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &follower.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = follower.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert_eq!(stored(&dir, "r.db"), (900, 900), "{err}");
}

#[test]
fn a_streams_keys_are_checked_for_its_broker() {
    let dir = common::tempdir("brokers", "checks");
    let cases = [
        (AMQP, "batch = 10", "E603", "needs `queue`"),
        (
            MQTT,
            "topic = \"a/b\"\nshared = true",
            "E603",
            "MQTT has no queue",
        ),
        (
            "nats://127.0.0.1:4222",
            "subject = \"a\"",
            "E603",
            "needs `stream`",
        ),
        (
            AMQP,
            "queue = \"q\"\ntopic = \"a/b\"",
            "E603",
            "topic is not a key of a RabbitMQ stream",
        ),
        (
            "kafka://127.0.0.1:9092",
            "topic = \"t\"",
            "E610",
            "is not a broker's URL",
        ),
    ];
    for (url, keys, code, message) in cases {
        std::fs::write(dir.join("c.toml"), reader("c", url, keys)).unwrap();
        let (exit, out, err) = common::run(&["check", dir.join("c.toml").to_str().unwrap()]);
        assert_ne!(exit, 0, "{url} {keys}: {out}{err}");
        let text = format!("{out}{err}");
        assert!(
            text.contains(code) && text.contains(message),
            "{url} {keys}: {text}"
        );
    }
    // a password in the URL is not shown
    std::fs::write(
        dir.join("c.toml"),
        reader(
            "c",
            "amqp://guest:s3cret-pw@127.0.0.1:5672/%2f",
            "batch = 1",
        ),
    )
    .unwrap();
    let (_, out, err) = common::run(&["check", dir.join("c.toml").to_str().unwrap()]);
    assert!(!format!("{out}{err}").contains("s3cret-pw"), "{out}{err}");
}

/// Reads `N` records published to the stream of `keys` with a reader that aborts right after
/// its first commit, before acknowledging what it committed (the failpoint a kill -9 hits
/// at the worst moment), then again without it: the redelivered messages already committed
/// are recognized and skipped, so the run's counts say each record was read once.
fn a_kill_between_commit_and_ack_reads_nothing_twice(dir: &Path, url: &str, keys: &str) {
    const N: u64 = 600;
    std::fs::write(dir.join("pub.toml"), writer(url, keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", url, keys)).unwrap();
    std::fs::write(dir.join("in.ndjson"), records(0, N)).unwrap();
    // an MQTT session exists before the publish
    let (code, err) = run(dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");
    let out = common::process()
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .env("SLUICE_FAILPOINT", "stream-committed-unacked")
        .args(["run", "r.toml", "--store", "r.db", "--batch", "50"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the failpoint aborts the run");
    let committed = stored(dir, "r.db").0;
    assert!(committed > 0 && committed < N as i64, "{committed}");
    let (code, err) = run(dir, &["r.toml", "--store", "r.db", "--batch", "50"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("read {N}, written {N}")), "{err}");
    assert_eq!(stored(dir, "r.db"), (N as i64, N as i64), "{err}");
}

#[test]
fn a_rabbitmq_message_committed_before_a_kill_that_lost_its_ack_is_skipped() {
    let Some(queue) = name_on(5672, "rmq-unacked") else {
        return;
    };
    let _queue = Queue(queue.clone());
    let dir = common::tempdir("brokers", "rmq-unacked");
    a_kill_between_commit_and_ack_reads_nothing_twice(
        &dir,
        AMQP,
        &format!("queue = \"{queue}\"\nbatch = 50"),
    );
}

#[test]
fn an_mqtt_message_committed_before_a_kill_that_lost_its_ack_is_skipped() {
    let Some(topic) = name_on(1883, "mqtt-unacked") else {
        return;
    };
    let dir = common::tempdir("brokers", "mqtt-unacked");
    a_kill_between_commit_and_ack_reads_nothing_twice(
        &dir,
        MQTT,
        &format!("topic = \"sluice/{topic}/orders\"\nconsumer = \"{topic}\"\nbatch = 50"),
    );
}

#[test]
fn a_nats_message_committed_before_a_kill_that_lost_its_ack_is_skipped() {
    let Some(name) = name_on(4222, "nats-unacked") else {
        return;
    };
    let stream = name.to_uppercase().replace('-', "_");
    let _stream = NatsStream(stream.clone());
    let dir = common::tempdir("brokers", "nats-unacked");
    a_kill_between_commit_and_ack_reads_nothing_twice(
        &dir,
        "nats://127.0.0.1:4222",
        &format!(
            "stream = \"{stream}\"\nsubject = \"{}.orders\"\nconsumer = \"reader\"\nbatch = 50\nack_wait = \"1s\"",
            stream.to_lowercase()
        ),
    );
}

/// Regression: a followed stream's delivery that filled a whole batch was not committed
/// until another message came (the run commits when the source has caught up, and a full
/// delivery did not count as caught up), so a burst of exactly `batch` messages waited.
#[test]
fn a_followed_delivery_that_fills_a_batch_is_committed_without_waiting_for_more() {
    let Some(topic) = name_on(1883, "mqtt-full-batch") else {
        return;
    };
    let dir = common::tempdir("brokers", "mqtt-full-batch");
    let keys = format!("topic = \"sluice/{topic}/orders\"\nconsumer = \"{topic}\"\nbatch = 4");
    std::fs::write(dir.join("pub.toml"), writer(MQTT, &keys)).unwrap();
    std::fs::write(dir.join("r.toml"), reader("reader", MQTT, &keys)).unwrap();
    // the session exists (subscribed) before the follower starts and the burst is published
    let (code, err) = run(&dir, &["r.toml", "--store", "r.db"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("in.ndjson"), records(0, 4)).unwrap();
    let (code, err) = run(
        &dir,
        &["pub.toml", "--input", "in.ndjson", "--store", "pub.db"],
    );
    assert_eq!(code, 0, "{err}");
    let mut follower = spawn(&dir, &["r.toml", "--store", "r.db", "--follow"]);
    wait_for("a full batch in the store", &mut follower, || {
        stored(&dir, "r.db").0 == 4
    });
    kill_9(&mut follower);
}
