//! Many writers on one store: connectors writing the same object type at once, each key
//! stored once with the value its conflict rule must keep (on PostgreSQL, and on SQLite as
//! the control); a run whose lock session dies stops at its next commit while the run that
//! took the lock over goes on alone; a store URL's password is never printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

on_postgres!(
    writers_of_one_object_store_every_key_once_under_every_rule,
    a_run_whose_lock_session_dies_stops_and_the_next_goes_on_alone,
    twenty_workers_fit_a_default_server,
    a_wrong_database_role_or_port_is_said_at_once,
    a_key_an_older_sluice_stored_twice_is_merged_when_written_again,
    partitions_whose_input_has_a_key_twice_store_it_once,
);

fn connector(name: &str, conflict: &str) -> String {
    format!(
        r#"name = "{name}"

[inbound]
type = "ndjson"

[outbound]
type = "store"
object = "customer"
primary_key = "id"

[sync]
conflict = "{conflict}"

[[mappings]]
target = "id"
field = "id"

[[mappings]]
target = "value"
field = "value"

[[mappings]]
target = "updated_at"
field = "updated_at"
"#
    )
}

/// `n` records of keys 0..n whose value names `writer`, dated day `day`.
fn input(writer: &str, n: usize, day: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\": \"K{i:05}\", \"value\": \"{writer}\", \"updated_at\": \"2024-02-{day:02}T00:00:00Z\"}}\n"
            )
        })
        .collect()
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    common::process()
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The stored customers: key → values stored under it.
fn stored(dir: &Path) -> HashMap<String, Vec<String>> {
    let (code, out, err) = common::run_in(dir, &["objects", "dump", "customer"]);
    assert_eq!(code, 0, "{err}");
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for line in out.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        by_key
            .entry(record["id"].as_str().unwrap().to_string())
            .or_default()
            .push(record["value"].as_str().unwrap().to_string());
    }
    by_key
}

#[test]
fn writers_of_one_object_store_every_key_once_under_every_rule() {
    let n = 3000;
    for conflict in ["external_wins", "most_recent", "fentu_wins"] {
        let dir = common::tempdir("many-writers", conflict);
        // three connectors (three run locks) on the same keys, started together; `c`'s
        // records are the newest
        for (name, day) in [("a", 1), ("b", 5), ("c", 9)] {
            std::fs::write(dir.join(format!("{name}.toml")), connector(name, conflict)).unwrap();
            std::fs::write(dir.join(format!("{name}.ndjson")), input(name, n, day)).unwrap();
        }
        let children: Vec<Child> = ["a", "b", "c"]
            .iter()
            .map(|name| {
                let (toml, data) = (format!("{name}.toml"), format!("{name}.ndjson"));
                spawn(&dir, &["run", &toml, "--input", &data, "--batch", "200"])
            })
            .collect();
        for (name, child) in ["a", "b", "c"].iter().zip(children) {
            let (code, err) = finish(child);
            // SQLite has one writer at a time: on a loaded machine a writer can wait longer
            // than the busy timeout and give up (E703, as documented); run again, it goes
            // on from its checkpoint
            if code != 0 && err.contains("E703") && common::postgres::current().is_none() {
                let (toml, data) = (format!("{name}.toml"), format!("{name}.ndjson"));
                let (code, _, err) = common::run_in(&dir, &["run", &toml, "--input", &data]);
                assert_eq!(code, 0, "{conflict}: {err}");
                continue;
            }
            assert_eq!(code, 0, "{conflict}: {err}");
        }
        let by_key = stored(&dir);
        assert_eq!(by_key.len(), n, "{conflict}: every key is stored");
        for (key, values) in &by_key {
            assert_eq!(
                values.len(),
                1,
                "{conflict}: {key} is stored {} times: {values:?}",
                values.len()
            );
            if conflict == "most_recent" {
                assert_eq!(values[0], "c", "{conflict}: {key} kept an older value");
            }
        }
        // fentu_wins keeps the first writer's record of each key, whichever it was
        if conflict == "fentu_wins" {
            assert!(by_key
                .values()
                .all(|v| ["a", "b", "c"].contains(&v[0].as_str())));
        }
    }
}

#[test]
fn a_run_whose_lock_session_dies_stops_and_the_next_goes_on_alone() {
    let Some(url) = common::postgres::current() else {
        return; // a file lock cannot be lost while its process lives: PostgreSQL only
    };
    let n = 120_000;
    let dir = common::tempdir("many-writers", "lost-lock");
    std::fs::write(dir.join("p.toml"), connector("people", "external_wins")).unwrap();
    std::fs::write(dir.join("in.ndjson"), input("x", n, 1)).unwrap();
    let first = spawn(
        &dir,
        &["run", "p.toml", "--input", "in.ndjson", "--batch", "500"],
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // wait for the first commits, then end the lock's session (as an idle-session timeout,
    // a proxy or a failover would)
    let waiting = std::time::Instant::now();
    let holder = loop {
        assert!(
            waiting.elapsed() < common::patience(120),
            "the first run never committed under its lock"
        );
        let rows = admin
            .query(
                "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
                   AND a.application_name LIKE 'sluice % (run lock)'",
                &[],
            )
            .unwrap();
        let committed: i64 = admin
            .query_one("SELECT count(*) FROM checkpoints", &[])
            .map(|r| r.get(0))
            .unwrap_or(0);
        if let (Some(row), true) = (rows.first(), committed > 0) {
            break row.get::<_, i32>(0);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&holder])
        .unwrap();
    // the same command again, meanwhile: it takes the lock and resumes from the checkpoint
    let second = spawn(
        &dir,
        &["run", "p.toml", "--input", "in.ndjson", "--batch", "500"],
    );
    let (code, err) = finish(first);
    assert_eq!(code, 1, "the first run stops: {err}");
    assert!(err.contains("E708"), "{err}");
    let (code, err) = finish(second);
    assert_eq!(code, 0, "{err}");
    let by_key = stored(&dir);
    assert_eq!(by_key.len(), n);
    assert!(
        by_key.values().all(|v| v.len() == 1),
        "a key was written twice"
    );
}

#[test]
fn a_store_password_is_never_printed_however_it_is_given() {
    let dir = common::tempdir("many-writers", "password");
    std::fs::write(dir.join("p.toml"), connector("people", "external_wins")).unwrap();
    std::fs::write(dir.join("in.ndjson"), input("x", 3, 1)).unwrap();
    let secret = "hunter2secret";
    let urls = [
        format!("postgres://u:{secret}@127.0.0.1:99999/db"),
        format!("postgres://u:{secret}@127.0.0.1:1/db"),
        format!("postgres://u@127.0.0.1:1/db?password={secret}"),
        format!("postgresql://u:{secret}@[::1/db"),
        format!("postgres://u:{secret}@127.0.0.1:5432/no_such_db_for_sluice"),
    ];
    for url in &urls {
        let runs: Vec<Vec<String>> = vec![
            vec!["status".into(), "--store".into(), url.clone()],
            vec![
                "run".into(),
                "p.toml".into(),
                "--input".into(),
                "in.ndjson".into(),
                "--store".into(),
                url.clone(),
            ],
            vec![
                "run".into(),
                "p.toml".into(),
                "--input".into(),
                "in.ndjson".into(),
                "--partitions".into(),
                "2".into(),
                "--store".into(),
                url.clone(),
            ],
            vec![
                "run".into(),
                "p.toml".into(),
                "--slot".into(),
                "s1".into(),
                "--input".into(),
                "in.ndjson".into(),
                "--store".into(),
                url.clone(),
            ],
        ];
        for args in runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, out, err) = common::run_in(&dir, &args);
            assert_ne!(code, 0, "{args:?}");
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{args:?}: {err}"
            );
        }
        // through the environment and the connector's [store] url
        let out = common::sluice()
            .current_dir(&dir)
            .env("SLUICE_STORE", url)
            .args(["status"])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
        std::fs::write(
            dir.join("env.toml"),
            format!(
                "{}\n[store]\nurl = \"env:DB_URL\"\n",
                connector("people", "external_wins")
            ),
        )
        .unwrap();
        let out = common::sluice()
            .current_dir(&dir)
            .env("DB_URL", url)
            .args(["run", "env.toml", "--input", "in.ndjson"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains(secret), "{err}");
        assert!(err.contains("E70"), "{err}");
    }
}

/// The server's certificate file when it serves TLS (`None` when it does not, or the file is
/// not readable here).
fn server_certificate(admin: &mut postgres::Client) -> Option<String> {
    let on: String = admin.query_one("SHOW ssl", &[]).ok()?.get(0);
    let file: String = admin.query_one("SHOW ssl_cert_file", &[]).ok()?.get(0);
    (on == "on" && std::fs::read(&file).is_ok()).then_some(file)
}

#[test]
fn the_store_on_postgresql_speaks_tls_and_verify_full_checks_the_certificate() {
    let Ok(url) = common::postgres::fresh_database("many_writers::tls") else {
        return;
    };
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let Some(cert) = server_certificate(&mut admin) else {
        eprintln!("skipped: the PostgreSQL server here serves no TLS");
        return;
    };
    let dir = common::tempdir("many-writers", "tls");
    std::fs::write(dir.join("p.toml"), connector("people", "external_wins")).unwrap();
    std::fs::write(dir.join("in.ndjson"), input("x", 20_000, 1)).unwrap();
    // require: encrypted (the session shows in pg_stat_ssl while the run goes on)
    let required = format!("{url}?sslmode=require");
    let child = spawn(
        &dir,
        &[
            "run",
            "p.toml",
            "--input",
            "in.ndjson",
            "--batch",
            "100",
            "--store",
            &required,
        ],
    );
    let mut encrypted = false;
    for _ in 0..500 {
        let rows = admin
            .query(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
                 WHERE a.datname = current_database() AND a.application_name LIKE 'sluice%'",
                &[],
            )
            .unwrap();
        if !rows.is_empty() {
            encrypted = rows.iter().all(|r| r.get::<_, bool>(0));
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, err) = finish(child);
    assert_eq!(code, 0, "{err}");
    assert!(encrypted, "the run's sessions were not encrypted");
    // verify-full: a certificate that does not name the host is refused, one that does passes
    let by_ip = format!("{url}?sslmode=verify-full&sslrootcert={cert}");
    let (code, _, err) = common::run_in(&dir, &["status", "--store", &by_ip]);
    assert_ne!(code, 0);
    assert!(err.contains("certificate"), "{err}");
    let named = url::Url::parse(&url).unwrap();
    let host = format!(
        "postgres://{}@localhost:{}{}?sslmode=verify-full&sslrootcert={cert}",
        named.username(),
        named.port().unwrap_or(5432),
        named.path()
    );
    let (code, out, err) = common::run_in(&dir, &["status", "people", "--json", "--store", &host]);
    if err.contains("not valid for name") {
        eprintln!("skipped the positive check: the server's certificate does not name localhost");
        return;
    }
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"read\": 20000") || out.contains("\"read\":20000"),
        "{out}"
    );
}

#[test]
fn twenty_workers_fit_a_default_server() {
    let Some(url) = common::postgres::current() else {
        return; // partitions are PostgreSQL's
    };
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let allowed: String = admin.query_one("SHOW max_connections", &[]).unwrap().get(0);
    let dir = common::tempdir("many-writers", "twenty");
    let n = 20_000;
    std::fs::write(dir.join("p.toml"), connector("people", "external_wins")).unwrap();
    std::fs::write(dir.join("in.ndjson"), input("x", n, 1)).unwrap();
    let workers: Vec<Child> = (0..20)
        .map(|_| {
            spawn(
                &dir,
                &[
                    "run",
                    "p.toml",
                    "--input",
                    "in.ndjson",
                    "--partitions",
                    "20",
                    "--lease",
                    "60s",
                ],
            )
        })
        .collect();
    let mut peak = 0i64;
    // sample the sessions while the partitions are worked on (at most two minutes)
    for _ in 0..2400 {
        let now: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'sluice%'",
                &[],
            )
            .unwrap()
            .get(0);
        peak = peak.max(now);
        let running: i64 = admin
            .query_one("SELECT count(*) FROM partitions WHERE done = 0", &[])
            .map(|r| r.get(0))
            .unwrap_or(1);
        if running == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for worker in workers {
        let (code, err) = finish(worker);
        assert_eq!(
            code, 0,
            "a worker failed (max_connections {allowed}, peak {peak}): {err}"
        );
    }
    let by_key = stored(&dir);
    assert_eq!(by_key.len(), n);
    assert!(by_key.values().all(|v| v.len() == 1));
    // the documented bound (docs/executor.md): a process's pool keeps at most one
    // connection per core plus two; under load every worker may reach it, and twenty of
    // them still fit the server
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(16) as i64;
    let allowed: i64 = allowed.parse().unwrap();
    assert!(
        peak <= 20 * (cores + 2) && peak < allowed,
        "{peak} sessions for 20 workers (max_connections {allowed})"
    );
}

#[test]
fn a_wrong_database_role_or_port_is_said_at_once() {
    if common::postgres::current().is_none() {
        return;
    }
    let server = url::Url::parse(&common::postgres::server()).unwrap();
    let dir = common::tempdir("many-writers", "errors");
    let mut url = server.clone();
    url.set_path("/no_such_database_for_sluice");
    let mut role = server.clone();
    let _ = role.set_username("no_such_role_for_sluice");
    let mut port = server.clone();
    let _ = port.set_port(Some(1));
    for (url, code, says) in [
        (url.to_string(), "E701", "does not exist"),
        (
            role.to_string(),
            "E705",
            "\"no_such_role_for_sluice\" does not exist",
        ),
        (port.to_string(), "E705", "Connection refused"),
    ] {
        let started = std::time::Instant::now();
        let (exit, _, err) = common::run_in(&dir, &["status", "--store", &url]);
        assert_ne!(exit, 0);
        assert!(err.contains(code) && err.contains(says), "{url}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{url}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_key_an_older_sluice_stored_twice_is_merged_when_written_again() {
    let dir = common::tempdir("many-writers", "merge");
    std::fs::write(dir.join("p.toml"), connector("people", "most_recent")).unwrap();
    // the same three keys loaded twice without a key: each stored twice, the second newer
    std::fs::write(dir.join("old.ndjson"), input("old", 3, 1)).unwrap();
    std::fs::write(dir.join("newer.ndjson"), input("newer", 3, 5)).unwrap();
    for file in ["old.ndjson", "newer.ndjson"] {
        let (code, _, err) = common::run_in(&dir, &["objects", "load", "customer", file]);
        assert_eq!(code, 0, "{err}");
    }
    assert!(stored(&dir).values().all(|v| v.len() == 2));
    // an incoming record older than both: most_recent keeps the newest stored version
    std::fs::write(dir.join("in.ndjson"), input("incoming", 3, 3)).unwrap();
    let (code, _, err) = common::run_in(&dir, &["run", "p.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let by_key = stored(&dir);
    assert_eq!(by_key.len(), 3);
    for (key, values) in by_key {
        assert_eq!(values, vec!["newer".to_string()], "{key}");
    }
}

#[test]
fn partitions_whose_input_has_a_key_twice_store_it_once() {
    if common::postgres::current().is_none() {
        return; // partitions are PostgreSQL's
    }
    let dir = common::tempdir("many-writers", "shared-keys");
    let n = 4000;
    std::fs::write(dir.join("p.toml"), connector("people", "most_recent")).unwrap();
    // every key twice, far apart: in different partitions, the later one newer
    let lines = format!("{}{}", input("first", n, 1), input("second", n, 9));
    std::fs::write(dir.join("in.ndjson"), lines).unwrap();
    let workers: Vec<Child> = (0..3)
        .map(|_| {
            spawn(
                &dir,
                &[
                    "run",
                    "p.toml",
                    "--input",
                    "in.ndjson",
                    "--partitions",
                    "8",
                    "--batch",
                    "100",
                ],
            )
        })
        .collect();
    for worker in workers {
        let (code, err) = finish(worker);
        assert_eq!(code, 0, "{err}");
    }
    let by_key = stored(&dir);
    assert_eq!(by_key.len(), n);
    for (key, values) in by_key {
        assert_eq!(values, vec!["second".to_string()], "{key}");
    }
}
