//! `sluice serve` against someone who should not get in, over real sockets: API tokens and
//! their roles, revocation, the page's session cookie, DNS rebinding and cross-site
//! requests, security headers, a network listener without tokens, TLS, slow clients,
//! Standard Webhooks (replays, stale timestamps, legacy signatures, weak secrets), bodies
//! that are never read unauthenticated, the spool quota, spool names that cannot collide,
//! and a closed log pipe.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::served::Served;
use common::{run_in, store_in, tempdir};

on_postgres!(
    tokens_and_roles_decide_what_a_request_may_see_and_do,
    webhooks_are_never_replayed_nor_taken_stale_and_old_style_ones_only_when_allowed,
);

const SECRET: &str = "whsec_c2VjdXJpdHktdGVzdHMtd2ViaG9vay1rZXk=";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A connector reading `feed.ndjson` into the store object `object`, with `sync` lines.
fn connector(name: &str, object: &str, sync: &str) -> String {
    format!(
        r#"name = "{name}"

[inbound]
type = "ndjson"
path = "feed.ndjson"

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
field = "name"
"#
    )
}

/// A manual connector `h` (object `h`) taking webhooks signed with `$SECRET`.
fn hooked(dir: &Path) {
    write(&dir.join("feed.ndjson"), "");
    write(
        &dir.join("h.toml"),
        &connector(
            "h",
            "h",
            "frequency = \"manual\"\nwebhook_secret = \"env:SECRET\"",
        ),
    );
}

/// Makes a token with `role` in the test's store: the token.
fn token(dir: &Path, name: &str, role: &str) -> String {
    let store = store_in(dir, "sluice.db");
    let (code, out, err) = run_in(
        dir,
        &["token", "create", name, "--role", role, "--store", &store],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not shown again"), "{err}");
    out.trim().to_string()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn code_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn served_with_feed(dir: &Path, args: &[&str]) -> Served {
    write(&dir.join("feed.ndjson"), "{\"id\": 1, \"name\": \"a\"}\n");
    write(
        &dir.join("c.toml"),
        &connector("c", "thing", "frequency = \"manual\""),
    );
    Served::start_with(dir, &["c.toml"], &[], args)
}

#[test]
fn tokens_and_roles_decide_what_a_request_may_see_and_do() {
    let dir = tempdir("serve-security", "roles");
    let read = token(&dir, "grafana", "read");
    let operate = token(&dir, "ops", "operate");
    let admin = token(&dir, "alice", "admin");
    let (code, _, err) = run_in(
        &dir,
        &[
            "token",
            "create",
            "ops",
            "--role",
            "read",
            "--store",
            &store_in(&dir, "sluice.db"),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("E811"), "{err}");
    let served = served_with_feed(&dir, &[]);

    // no token, a wrong one: 401 everywhere but the health check
    for path in [
        "/connectors",
        "/connectors/c",
        "/runs",
        "/metrics",
        "/connectors/c/dead-letters",
    ] {
        let (status, body) = served.get(path);
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(code_of(&body), "E805", "{path}");
        let (status, _) = served.request("GET", path, &[("Authorization", "Bearer slt_nope")], b"");
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = served.request("POST", "/connectors/c/run", &[], b"");
    assert_eq!(status, 401);
    assert_eq!(served.get("/healthz").0, 200);

    let as_ = |token: &str, method: &str, path: &str| {
        served.request(method, path, &[("Authorization", &bearer(token))], b"")
    };
    // read: status, runs, metrics; not runs, not letters
    assert_eq!(as_(&read, "GET", "/connectors").0, 200);
    assert_eq!(as_(&read, "GET", "/metrics").0, 200);
    let (status, body) = as_(&read, "POST", "/connectors/c/run");
    assert_eq!((status, code_of(&body).as_str()), (403, "E806"), "{body}");
    let (status, body) = as_(&read, "GET", "/connectors/c/dead-letters");
    assert_eq!((status, code_of(&body).as_str()), (403, "E806"), "{body}");
    // operate: runs; not letters
    let (status, body) = as_(&operate, "POST", "/connectors/c/run");
    assert_eq!(status, 202, "{body}");
    assert_eq!(as_(&operate, "GET", "/connectors/c/dead-letters").0, 403);
    // admin: everything
    assert_eq!(as_(&admin, "GET", "/connectors/c/dead-letters").0, 200);

    // revoked: refused from the next second on; the others still work
    let (code, _, err) = run_in(
        &dir,
        &[
            "token",
            "revoke",
            "ops",
            "--store",
            &store_in(&dir, "sluice.db"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    served.wait_until("the revoked token to be refused", 10, |s| {
        s.request(
            "GET",
            "/connectors",
            &[("Authorization", &bearer(&operate))],
            b"",
        )
        .0 == 401
    });
    assert_eq!(as_(&admin, "GET", "/connectors").0, 200);
    let (code, out, _) = run_in(
        &dir,
        &["token", "list", "--store", &store_in(&dir, "sluice.db")],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("alice\tadmin") && out.contains("grafana\tread") && !out.contains("ops"),
        "{out}"
    );
    // only hashes rest in the store
    let bytes = match common::postgres::current() {
        Some(url) => {
            std::process::Command::new("pg_dump")
                .arg(url)
                .output()
                .unwrap()
                .stdout
        }
        None => std::fs::read(dir.join("sluice.db")).unwrap(),
    };
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("grafana"), "the dump holds the tokens' names");
    for t in [&read, &operate, &admin] {
        assert!(!text.contains(&t[4..]), "a token rests in the store");
    }
}

#[test]
fn metrics_can_stay_open_and_the_page_logs_in_with_a_session_cookie() {
    let dir = tempdir("serve-security", "session");
    let admin = token(&dir, "alice", "admin");
    let served = served_with_feed(&dir, &["--open-metrics"]);
    assert_eq!(served.get("/metrics").0, 200);
    assert_eq!(served.get("/connectors").0, 401);

    let (status, answer) = served.request(
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
        br#"{"token": "slt_wrong"}"#,
    );
    assert_eq!(status, 401, "{answer}");
    let (head, body) = served.exchange(
        "POST",
        "/login",
        &[],
        format!("{{\"token\": \"{admin}\"}}").as_bytes(),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    let cookie_line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie_line.contains(flag), "{cookie_line}");
    }
    let cookie = cookie_line
        .split_once(':')
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_string();
    let (status, body) = served.request("GET", "/connectors", &[("Cookie", &cookie)], b"");
    assert_eq!(status, 200, "{body}");
    let (status, body) = served.request("GET", "/session", &[("Cookie", &cookie)], b"");
    assert_eq!(status, 200);
    assert!(
        body.contains("\"alice\"") && body.contains("\"admin\""),
        "{body}"
    );
    // the session ends with its token
    let store = store_in(&dir, "sluice.db");
    assert_eq!(
        run_in(&dir, &["token", "revoke", "alice", "--store", &store]).0,
        0
    );
    served.wait_until("the session to end with its token", 10, |s| {
        s.request("GET", "/connectors", &[("Cookie", &cookie)], b"")
            .0
            == 401
    });
}

#[test]
fn foreign_hosts_and_cross_site_requests_are_refused_and_answers_carry_security_headers() {
    let dir = tempdir("serve-security", "rebinding");
    let served = served_with_feed(&dir, &["--allowed-host", "sluice.internal"]);
    // DNS rebinding: a page on attacker.example whose name now points here
    let (status, body) = served.request(
        "GET",
        "/connectors/c/dead-letters",
        &[("Host", "attacker.example")],
        b"",
    );
    assert_eq!(status, 421, "{body}");
    assert_eq!(code_of(&body), "E807");
    assert_eq!(
        served
            .request(
                "GET",
                "/connectors",
                &[("Host", "sluice.internal:8377")],
                b""
            )
            .0,
        200
    );
    assert_eq!(
        served
            .request("GET", "/connectors", &[("Host", "localhost")], b"")
            .0,
        200
    );
    // CSRF: a form or fetch from another site
    for headers in [
        vec![("Origin", "http://attacker.example")],
        vec![("Origin", "null")],
        vec![("Sec-Fetch-Site", "cross-site")],
    ] {
        let (status, body) = served.request("POST", "/connectors/c/run", &headers, b"");
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert_eq!(code_of(&body), "E807");
    }
    let own_origin = format!("http://{}", served.addr);
    let (status, body) = served.request(
        "POST",
        "/connectors/c/run",
        &[("Origin", &own_origin), ("Sec-Fetch-Site", "same-origin")],
        b"",
    );
    assert_eq!(status, 202, "{body}");
    // security headers on the page, its script and the API; no inline script
    for path in ["/", "/app.js", "/connectors", "/nowhere"] {
        let (head, body) = served.exchange("GET", path, &[], b"");
        let head = head.to_ascii_lowercase();
        for header in [
            "x-content-type-options: nosniff",
            "x-frame-options: deny",
            "frame-ancestors 'none'",
            "script-src 'self'",
        ] {
            assert!(head.contains(header), "{path}: {header} missing in\n{head}");
        }
        if path == "/" {
            assert!(body.contains("<script src=\"/app.js\"></script>"), "{body}");
            assert_eq!(
                body.matches("<script").count(),
                body.matches("<script src=\"/").count(),
                "no inline script: {body}"
            );
            assert!(
                !body.contains(" on") || !body.contains("onclick"),
                "no inline handlers"
            );
        }
        if path == "/nowhere" {
            assert!(head.starts_with("http/1.1 404"), "{head}");
            assert!(body.contains("\"code\""), "errors are JSON: {body}");
        }
    }
}

#[test]
fn a_network_listener_without_tokens_refuses_to_start_unless_told() {
    let dir = tempdir("serve-security", "network");
    write(&dir.join("feed.ndjson"), "");
    write(
        &dir.join("c.toml"),
        &connector("c", "thing", "frequency = \"manual\""),
    );
    let store = store_in(&dir, "sluice.db");
    let out = common::process()
        .current_dir(&dir)
        .args([
            "serve",
            "c.toml",
            "--listen",
            "0.0.0.0:0",
            "--store",
            &store,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("E810"), "{err}");
    assert!(err.contains("sluice token create"), "{err}");
    // told: it serves, and says at start that anyone may
    let served = Served::start_with(
        &dir,
        &["c.toml"],
        &[],
        &["--listen", "0.0.0.0:0", "--insecure-no-auth"],
    );
    let _ = &served;
    assert!(
        served.log().contains("warning: --insecure-no-auth"),
        "{}",
        served.log()
    );
}

#[test]
fn tls_serves_https_and_a_slow_client_is_cut_off() {
    let dir = tempdir("serve-security", "tls");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    write(&dir.join("cert.pem"), &cert.cert.pem());
    write(&dir.join("key.pem"), &cert.signing_key.serialize_pem());
    write(&dir.join("feed.ndjson"), "");
    write(
        &dir.join("c.toml"),
        &connector("c", "thing", "frequency = \"manual\""),
    );
    let served = Served::start_with(
        &dir,
        &["c.toml"],
        &[],
        &[
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--header-timeout",
            "1s",
        ],
    );
    assert!(
        served.log().contains("listening on https://"),
        "{}",
        served.log()
    );
    let port = served.addr.rsplit(':').next().unwrap();
    let root = ureq::tls::Certificate::from_der(cert.cert.der()).to_owned();
    let agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
                .build(),
        )
        .build()
        .new_agent();
    let mut answer = agent
        .get(format!("https://localhost:{port}/healthz"))
        .call()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert!(answer
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("\"ok\""));
    // plain HTTP to the TLS port gets no answer; a client trickling its handshake or
    // headers is cut off after the header timeout
    let mut slow = TcpStream::connect(&served.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: local")
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "no HTTP answer without TLS"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut off, not left hanging"
    );
}

#[test]
fn a_plain_listener_cuts_off_a_client_that_trickles_its_headers() {
    let dir = tempdir("serve-security", "slow-headers");
    let served = served_with_feed(&dir, &["--header-timeout", "1s"]);
    let mut slow = TcpStream::connect(&served.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    for part in [&b"GET /healthz HTTP/1.1\r\n"[..], b"Host: 127"] {
        slow.write_all(part).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut off after the header timeout"
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    assert_eq!(served.get("/healthz").0, 200, "others are served");
}

/// The Standard Webhooks headers of a delivery signed now with `secret`.
fn signed(secret: &str, id: &str, at: i64, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), at.to_string()),
        (
            "webhook-signature".into(),
            sluice::serve::sign(secret, id, at, body),
        ),
    ]
}

fn post(served: &Served, path: &str, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    served.request("POST", path, &headers, body)
}

fn dump(dir: &Path, object: &str) -> Vec<Value> {
    let (code, out, err) = run_in(
        dir,
        &[
            "objects",
            "dump",
            object,
            "--store",
            &store_in(dir, "sluice.db"),
        ],
    );
    if code != 0 {
        assert!(err.contains("E706") || err.contains("E701"), "{err}");
        return Vec::new();
    }
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_for(served: &Served, dir: &Path, object: &str, n: usize) -> Vec<Value> {
    served.wait_until(&format!("{n} {object}s"), 30, |_| {
        dump(dir, object).len() >= n
    });
    dump(dir, object)
}

#[test]
fn webhooks_are_never_replayed_nor_taken_stale_and_old_style_ones_only_when_allowed() {
    let dir = tempdir("serve-security", "replay");
    write(&dir.join("feed.ndjson"), "");
    let hooked = |name: &str, object: &str, extra: &str| {
        connector(
            name,
            object,
            &format!("frequency = \"event\"\nwebhook_secret = \"env:SECRET\"\n{extra}"),
        )
    };
    write(
        &dir.join("std.toml"),
        &hooked("std", "std", "webhook_tolerance = \"1m\""),
    );
    write(
        &dir.join("old.toml"),
        &hooked("old", "old", "legacy_signature = true"),
    );
    let served = Served::start(&dir, &["std.toml", "old.toml"], &[("SECRET", SECRET)]);
    let now = chrono::Utc::now().timestamp();

    let v1 = br#"[{"id": "r1", "name": "v1"}]"#;
    let v2 = br#"[{"id": "r1", "name": "v2"}]"#;
    let (status, body) = post(&served, "/hooks/std", &signed(SECRET, "d1", now, v1), v1);
    assert_eq!(status, 202, "{body}");
    wait_for(&served, &dir, "std", 1);
    let (status, body) = post(&served, "/hooks/std", &signed(SECRET, "d2", now, v2), v2);
    assert_eq!(status, 202, "{body}");
    served.wait_until("r1 at v2", 30, |_| dump(&dir, "std")[0]["name"] == "v2");
    // replaying the old delivery does not roll r1 back
    for _ in 0..3 {
        let (status, body) = post(&served, "/hooks/std", &signed(SECRET, "d1", now, v1), v1);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("E808"), "{body}");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(dump(&dir, "std")[0]["name"], "v2");
    // outside the tolerance, either way
    for at in [now - 3600, now + 3600] {
        let (status, body) = post(&served, "/hooks/std", &signed(SECRET, "d3", at, v1), v1);
        assert_eq!(status, 401, "{body}");
        assert!(
            body.contains("E804") && body.contains("tolerance"),
            "{body}"
        );
    }
    // the old style: refused by `std`, taken by `old`, which allows it
    let legacy = vec![(
        "X-Sluice-Signature".to_string(),
        sluice::serve::sign_legacy(SECRET, v1),
    )];
    assert_eq!(post(&served, "/hooks/std", &legacy, v1).0, 401);
    assert_eq!(
        post(
            &served,
            "/hooks/std",
            &[("Authorization".into(), bearer(SECRET))],
            v1
        )
        .0,
        401
    );
    let (status, body) = post(&served, "/hooks/old", &legacy, v1);
    assert_eq!(status, 202, "{body}");
    wait_for(&served, &dir, "old", 1);
    // a secret rotated: a delivery signed with the old and the new secret passes
    let other = "whsec_YW5vdGhlci1zZWNyZXQtbm90LXRoZS1vbmU=";
    let mut rotated = signed(other, "d4", now, v2);
    let current = sluice::serve::sign(SECRET, "d4", now, v2);
    rotated[2].1 = format!("{} {current}", rotated[2].1);
    assert_eq!(post(&served, "/hooks/std", &rotated, v2).0, 202);
}

#[test]
fn an_unauthenticated_body_is_never_read_and_the_spool_has_a_quota() {
    let dir = tempdir("serve-security", "quota");
    hooked(&dir);
    let served = Served::start_with(
        &dir,
        &["h.toml"],
        &[("SECRET", SECRET)],
        &["--spool-quota", "64KiB"],
    );
    // 60 MiB announced, none sent: answered at once from the headers
    let mut stream = TcpStream::connect(&served.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /hooks/h HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
        served.addr,
        60 << 20
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("E804"), "{answer}");
    // a signed body past the quota: 507, and nothing left in the spool
    let big: Vec<String> = (0..4000)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"x\"}}"))
        .collect();
    let big = format!("[{}]", big.join(","));
    let now = chrono::Utc::now().timestamp();
    let (status, body) = post(
        &served,
        "/hooks/h",
        &signed(SECRET, "big", now, big.as_bytes()),
        big.as_bytes(),
    );
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("E809"), "{body}");
    let leftovers: Vec<_> = walk(&dir.join("sluice-serve/spool"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // a small one still fits; the manual connector keeps it until it runs
    let small = br#"[{"id": 1, "name": "fits"}]"#;
    assert_eq!(
        post(
            &served,
            "/hooks/h",
            &signed(SECRET, "small", now, small),
            small
        )
        .0,
        202
    );
    wait_for(&served, &dir, "h", 1);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[test]
fn a_large_signed_body_streams_into_the_spool_without_being_held_in_memory() {
    let dir = tempdir("serve-security", "stream");
    hooked(&dir);
    let served = Served::start(&dir, &["h.toml"], &[("SECRET", SECRET)]);
    let peak = |pid: i32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse().ok())
            .unwrap()
    };
    let before = peak(served.pid());
    // 24 MiB of `{}` elements: parsed whole it cost +624 MiB
    let body = format!("[{}{{}}]", "{},".repeat(8 << 20));
    let now = chrono::Utc::now().timestamp();
    let (status, answer) = post(
        &served,
        "/hooks/h",
        &signed(SECRET, "bulk", now, body.as_bytes()),
        body.as_bytes(),
    );
    assert_eq!(status, 202, "{answer}");
    let grew_mib = (peak(served.pid()).saturating_sub(before)) / 1024;
    assert!(
        grew_mib < 100,
        "the server's peak memory grew by {grew_mib} MiB"
    );
    let spooled = walk(&dir.join("sluice-serve/spool"));
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    let lines = std::fs::read_to_string(&spooled[0]).unwrap();
    assert_eq!(lines.lines().count(), (8 << 20) + 1);
    assert!(lines.lines().all(|l| l == "{}"));
}

#[test]
fn weak_webhook_secrets_are_refused_by_check_and_not_served() {
    let dir = tempdir("serve-security", "weak");
    write(&dir.join("feed.ndjson"), "");
    write(&dir.join("newline"), "\n");
    for (file, secret) in [
        ("empty.toml", "\"\""),
        ("env.toml", "\"env:EMPTY_SECRET\""),
        ("file.toml", "\"file:newline\""),
        ("short.toml", "\"fifteen-bytes!!\""),
    ] {
        write(
            &dir.join(file),
            &connector("w", "w", &format!("webhook_secret = {secret}")),
        );
        let out = common::sluice()
            .current_dir(&dir)
            .env("EMPTY_SECRET", "")
            .args(["check", file])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains("E620"), "{file}: {err}");
    }
    let _ = std::fs::remove_file(dir.join("empty.toml"));
    let _ = std::fs::remove_file(dir.join("file.toml"));
    let _ = std::fs::remove_file(dir.join("short.toml"));
    let served = Served::start(&dir, &["env.toml"], &[("EMPTY_SECRET", "")]);
    let list = served.json("/connectors");
    assert_eq!(list["connectors"].as_array().unwrap().len(), 0, "{list}");
    assert!(list["broken_files"].to_string().contains("E620"), "{list}");
    let (status, _) = served.request(
        "POST",
        "/hooks/w",
        &[("Authorization", "Bearer ")],
        b"[{\"id\":1}]",
    );
    assert_eq!(status, 404);
}

#[test]
fn connectors_whose_names_look_alike_keep_their_spools_apart_and_old_spools_move() {
    let dir = tempdir("serve-security", "names");
    write(&dir.join("feed.ndjson"), "");
    for (file, name, object) in [("a.toml", "orders EU", "a"), ("b.toml", "orders_EU", "b")] {
        write(
            &dir.join(file),
            &connector(
                name,
                object,
                "frequency = \"manual\"\nwebhook_secret = \"env:SECRET\"",
            ),
        );
    }
    write(
        &dir.join("c.toml"),
        &connector("Kunden → FSM", "c", "frequency = \"event\""),
    );
    // what an older server left for `Kunden → FSM` under its old directory name
    let old = dir.join("sluice-serve/spool/Kunden___FSM");
    std::fs::create_dir_all(&old).unwrap();
    write(
        &old.join("00000000000000000001-000000.ndjson"),
        "{\"id\": 7, \"name\": \"left\"}\n",
    );
    let served = Served::start(&dir, &["a.toml", "b.toml", "c.toml"], &[("SECRET", SECRET)]);
    wait_for(&served, &dir, "c", 1);
    assert!(!old.exists(), "the old spool moved");
    let now = chrono::Utc::now().timestamp();
    let body = br#"[{"id": 1, "name": "for the first"}]"#;
    let (status, answer) = post(
        &served,
        "/hooks/orders%20EU",
        &signed(SECRET, "x1", now, body),
        body,
    );
    assert_eq!(status, 202, "{answer}");
    let dirs: Vec<String> = std::fs::read_dir(dir.join("sluice-serve/spool"))
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("orders_EU"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    // restarted, each connector reads only its own spool
    drop(served);
    let served = Served::start(&dir, &["a.toml", "b.toml", "c.toml"], &[("SECRET", SECRET)]);
    wait_for(&served, &dir, "a", 1);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        dump(&dir, "b").is_empty(),
        "`orders_EU` took the records of `orders EU`"
    );
}

#[test]
fn the_server_outlives_its_log_reader() {
    let dir = tempdir("serve-security", "sigpipe");
    write(&dir.join("feed.ndjson"), "{\"id\": 1}\n{\"id\": 2}\n");
    write(
        &dir.join("c.toml"),
        &connector("c", "c", "frequency = \"1s\""),
    );
    let mut child = Served::command(&dir, &["c.toml"], &["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    drop(lines); // the log reader goes away
                 // runs go on logging (a failing source logs every try): the server must not die
    write(
        &dir.join("c.toml"),
        &connector("c", "c", "frequency = \"1s\"").replace("feed.ndjson", "gone.ndjson"),
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "the server died");
    let mut stream = TcpStream::connect(&addr).unwrap();
    write_get(&mut stream, &addr);
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}

fn write_get(stream: &mut TcpStream, addr: &str) {
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
}

#[test]
fn a_person_logs_in_to_the_page_runs_a_connector_and_logs_out() {
    let dir = tempdir("serve-security", "browser");
    if !common::browser::ready(
        "serve_security::a_person_logs_in_to_the_page_runs_a_connector_and_logs_out",
    ) {
        return;
    }
    let admin = token(&dir, "alice", "admin");
    let served = served_with_feed(&dir, &[]);
    let shot = dir.join("page.png");
    common::browser::drive(
        &served,
        "login",
        &[std::ffi::OsStr::new(&admin), shot.as_os_str()],
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a real screenshot"
    );
}
