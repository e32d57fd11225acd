//! Publish → store latency of `sluice serve` following a message stream: a realtime
//! connector reading a NATS JetStream stream (127.0.0.1:4222) into the SQLite store, the
//! release `sluice` binary as a user runs it. Messages are published at a steady rate, then
//! in one burst; a watcher reads the store every millisecond and notes when each record
//! appears. Prints p50, p90, p99 and the worst, per phase.
//! `cargo bench --bench stream_latency [-- MESSAGES [RATE_PER_S]]` (default 10000, 1000/s).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BROKER: &str = "nats://127.0.0.1:4222";

/// When each record id was published, and when it was seen in the store.
#[derive(Default)]
struct Times {
    sent: HashMap<u64, Instant>,
    seen: HashMap<u64, Instant>,
}

fn connector(stream: &str, subject: &str) -> String {
    format!(
        r#"name = "latency"
[inbound]
type = "Order events"
[inbound.stream]
url = "{BROKER}"
stream = "{stream}"
subject = "{subject}"
[outbound]
type = "store"
object = "order"
primary_key = "id"
[sync]
frequency = "realtime"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#
    )
}

/// Starts `sluice serve` in `dir`; returns once it listens.
fn serve(dir: &Path) -> Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .args([
            "serve",
            "c.toml",
            "--store",
            "sluice.db",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(());
            }
            if line.contains("failed") {
                eprintln!("serve: {line}");
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("sluice serve did not start");
    child
}

/// Reads the store every millisecond, noting when each record id first appears.
fn watch(db: &Path, times: &Arc<Mutex<Times>>, done: &Arc<AtomicBool>) {
    let mut last_rowid = 0i64;
    while !done.load(Ordering::SeqCst) {
        let Ok(conn) = rusqlite::Connection::open(db) else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        while !done.load(Ordering::SeqCst) {
            let rows: Vec<(i64, u64)> = conn
                .prepare_cached(
                    "SELECT rowid, json_extract(data, '$.id') FROM objects WHERE rowid > ?1",
                )
                .and_then(|mut s| {
                    s.query_map([last_rowid], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect()
                })
                .unwrap_or_default();
            let now = Instant::now();
            let mut times = times.lock().unwrap();
            for (rowid, id) in rows {
                last_rowid = last_rowid.max(rowid);
                times.seen.entry(id).or_insert(now);
            }
            drop(times);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Publishes ids `from..to`, `every` apart (back to back when zero), noting when each went.
fn publish(
    runtime: &tokio::runtime::Runtime,
    context: &async_nats::jetstream::Context,
    subject: &str,
    (from, to): (u64, u64),
    every: Duration,
    times: &Arc<Mutex<Times>>,
) {
    runtime.block_on(async {
        let started = Instant::now();
        let mut acks = Vec::new();
        for id in from..to {
            if !every.is_zero() {
                let due = started + every * u32::try_from(id - from).unwrap();
                tokio::time::sleep_until(due.into()).await;
            }
            let body = format!("{{\"id\": {id}, \"name\": \"n{id}\"}}");
            times.lock().unwrap().sent.insert(id, Instant::now());
            acks.push(
                context
                    .publish(subject.to_string(), body.into())
                    .await
                    .unwrap(),
            );
            if acks.len() >= 256 {
                for ack in acks.drain(..) {
                    ack.await.unwrap();
                }
            }
        }
        for ack in acks {
            ack.await.unwrap();
        }
    });
}

/// Waits until every id in `from..to` was seen; prints the latencies of the phase.
fn report(phase: &str, (from, to): (u64, u64), times: &Arc<Mutex<Times>>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let seen = {
            let t = times.lock().unwrap();
            (from..to).filter(|id| t.seen.contains_key(id)).count() as u64
        };
        if seen == to - from {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{phase}: only {seen} of {} messages reached the store",
            to - from
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = times.lock().unwrap();
    let mut ms: Vec<f64> = (from..to)
        .map(|id| (t.seen[&id].saturating_duration_since(t.sent[&id])).as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "{phase:<28} {:>6} messages   p50 {:>7.1} ms   p90 {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms",
        ms.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        ms[ms.len() - 1]
    );
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let messages = args.first().copied().unwrap_or(10_000);
    let rate = args.get(1).copied().unwrap_or(1_000).max(1);
    if std::net::TcpStream::connect("127.0.0.1:4222").is_err() {
        eprintln!("no NATS server on 127.0.0.1:4222: nothing measured");
        return;
    }
    let stream = format!("SLUICE_LATENCY_{}", std::process::id());
    let subject = format!("{}.orders", stream.to_lowercase());
    let dir = std::env::temp_dir().join(format!("sluice-bench-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("c.toml"), connector(&stream, &subject)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let context = runtime.block_on(async {
        let context = async_nats::jetstream::new(async_nats::connect(BROKER).await.unwrap());
        context
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{}.>", stream.to_lowercase())],
                ..Default::default()
            })
            .await
            .unwrap();
        context
    });
    let mut server = serve(&dir);
    let times = Arc::new(Mutex::new(Times::default()));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (db, times, done) = (dir.join("sluice.db"), Arc::clone(&times), Arc::clone(&done));
        std::thread::spawn(move || watch(&db, &times, &done))
    };
    // one message first: the run that follows is up once it is stored
    publish(&runtime, &context, &subject, (0, 1), Duration::ZERO, &times);
    report("warm-up", (0, 1), &times);
    println!(
        "sluice serve following a JetStream stream into its SQLite store (release binary); \
         the store read every 1 ms\n"
    );
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    publish(
        &runtime,
        &context,
        &subject,
        (1, 1 + messages),
        every,
        &times,
    );
    report(&format!("steady, {rate}/s"), (1, 1 + messages), &times);
    let burst = (1 + messages, 1 + 2 * messages);
    publish(&runtime, &context, &subject, burst, Duration::ZERO, &times);
    report("one burst, back to back", burst, &times);
    done.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    let _ = server.kill();
    let _ = server.wait();
    runtime.block_on(async {
        let _ = context.delete_stream(&stream).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
