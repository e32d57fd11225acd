//! What the REST/OData connections promise, against scripted stand-ins on 127.0.0.1:
//! `Retry-After` honoured on writes, a stop during a retry is a stop (E613, 143), an
//! untrusted certificate is not retried as an outage, OData queries are percent-encoded
//! (`%20`, not `+`) and links with raw spaces are followed, and OAuth client credentials
//! can go as HTTP Basic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tiny_http::{Header, Response, Server};

/// One request as a stand-in saw it.
#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Answer = (u16, Vec<(&'static str, String)>, Value);

/// A stand-in answering each request with `answer(request, requests seen before)`.
fn stand_in(answer: fn(&Seen, &[Seen]) -> Answer) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
    let base = format!(
        "http://127.0.0.1:{}",
        server.server_addr().to_ip().unwrap().port()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..4 {
        let (server, seen) = (Arc::clone(&server), Arc::clone(&seen));
        std::thread::spawn(move || {
            while let Ok(mut request) = server.recv() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let this = Seen {
                    at: Instant::now(),
                    method: request.method().to_string(),
                    url: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                };
                let (status, headers, body) = {
                    let mut seen = seen.lock().unwrap();
                    let answer = answer(&this, &seen);
                    seen.push(this);
                    answer
                };
                let mut response = Response::from_string(body.to_string())
                    .with_status_code(status)
                    .with_header(Header::from_bytes("Content-Type", "application/json").unwrap());
                for (k, v) in headers {
                    response = response.with_header(Header::from_bytes(k, v.as_bytes()).unwrap());
                }
                let _ = request.respond(response);
            }
        });
    }
    (base, seen)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A connector from a REST source at `base` (entity `items`) into the store, with
/// `inbound` lines in `[inbound]` and `connection` lines in `[inbound.connection]`.
fn source_connector(base: &str, inbound: &str, connection: &str) -> String {
    format!(
        r#"name = "in"

[inbound]
type = "Salesforce"
entity = "items"
{inbound}

[inbound.connection]
url = "{base}"
{connection}

[outbound]
type = "store"
object = "item"
primary_key = "id"

[[mappings]]
target = "id"
field = "id"
"#
    )
}

/// A connector from `in.ndjson` to a REST sink at `base` upserting by `id`.
fn sink_connector(base: &str, extra: &str) -> String {
    format!(
        r#"name = "out"

[inbound]
type = "ndjson"

[outbound]
type = "Fentu-FSM"
entity = "items"
primary_key = "id"

[outbound.connection]
url = "{base}"
retries = 3
backoff = "10ms"
max_backoff = "5s"
{extra}

[[mappings]]
target = "id"
field = "id"
"#
    )
}

#[test]
fn retry_after_is_honoured_on_upsert_writes() {
    let (base, seen) = stand_in(|req, before| {
        let writes = before.iter().filter(|s| s.method == "POST").count();
        match (req.method.as_str(), writes) {
            ("GET", _) => (200, vec![], json!({"value": []})),
            ("POST", 0) => (
                429,
                vec![("Retry-After", "1".to_string())],
                json!({"error": "slow down"}),
            ),
            _ => (201, vec![], json!({"id": "r1"})),
        }
    });
    let dir = common::tempdir("http-promises", "retry-after");
    write(&dir, "in.ndjson", "{\"id\": \"a\"}\n");
    write(&dir, "c.toml", &sink_connector(&base, ""));
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    let seen = seen.lock().unwrap();
    let refused = seen.iter().position(|s| s.method == "POST").unwrap();
    let next = &seen[refused + 1];
    let waited = next.at - seen[refused].at;
    assert!(
        waited >= Duration::from_millis(900),
        "the next request came {waited:?} after a 429 with Retry-After: 1"
    );
}

#[test]
fn sigterm_while_a_request_waits_to_be_retried_stops_the_run_as_a_stop() {
    let (base, _) = stand_in(|_, _| (503, vec![("Retry-After", "30".to_string())], json!({})));
    let dir = common::tempdir("http-promises", "sigterm");
    write(&dir, "in.ndjson", "{\"id\": \"a\"}\n");
    write(
        &dir,
        "c.toml",
        &sink_connector(&base, "").replace("max_backoff = \"5s\"", "max_backoff = \"30s\""),
    );
    let child = common::process()
        .current_dir(&dir)
        .args(["run", "c.toml", "--input", "in.ndjson"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child process.
    unsafe {
        libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM);
    }
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped without waiting out Retry-After"
    );
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(err.contains("E613"), "{err}");
    assert!(!err.contains("E614"), "{err}");
}

#[test]
fn an_untrusted_certificate_is_final_not_an_outage() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.signing_key.serialize_der(),
    ));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(Mutex::new(0));
    {
        let handshakes = Arc::clone(&handshakes);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                *handshakes.lock().unwrap() += 1;
                let mut tls = rustls::StreamOwned::new(
                    rustls::ServerConnection::new(Arc::clone(&config)).unwrap(),
                    stream,
                );
                let _ = std::io::Read::read(&mut tls, &mut [0u8; 64]);
            }
        });
    }
    let dir = common::tempdir("http-promises", "untrusted");
    write(&dir, "in.ndjson", "{\"id\": \"a\"}\n");
    write(
        &dir,
        "c.toml",
        &sink_connector(&format!("https://127.0.0.1:{port}"), ""),
    );
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_ne!(code, 0);
    assert!(err.contains("E614") && err.contains("TLS"), "{err}");
    assert_eq!(
        *handshakes.lock().unwrap(),
        1,
        "a bad certificate is not retried: {err}"
    );
}

#[test]
fn odata_queries_use_percent_20_and_raw_links_are_followed() {
    let (base, seen) = stand_in(|req, _| {
        if req.url.contains("page=2") {
            return (200, vec![], json!({"value": [{"id": 2}]}));
        }
        // a server that writes its next link with raw spaces and quotes
        (
            200,
            vec![],
            json!({"value": [{"id": 1}], "@odata.nextLink": "/items?$filter=name eq 'a b'&page=2"}),
        )
    });
    let dir = common::tempdir("http-promises", "odata");
    write(
        &dir,
        "c.toml",
        &source_connector(
            &base,
            r#"query_filter = "name eq 'a b' and n gt 1+1""#,
            r#"retries = 0"#,
        ),
    );
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    let seen = seen.lock().unwrap();
    let first = &seen[0].url;
    assert!(
        first.contains("$filter=name%20eq%20%27a%20b%27%20and%20n%20gt%201%2B1"),
        "{first}"
    );
    assert!(!first.contains('+'), "{first}");
    assert!(
        seen.iter()
            .any(|s| s.url.contains("page=2") && s.url.contains("a%20b")),
        "{seen:?}"
    );
}

#[test]
fn oauth_client_credentials_go_as_http_basic_when_asked() {
    let (base, seen) = stand_in(|req, _| {
        if req.url.starts_with("/token") {
            return (
                200,
                vec![],
                json!({"access_token": "tok-1", "expires_in": 3600}),
            );
        }
        (200, vec![], json!({"value": [{"id": 1}]}))
    });
    let dir = common::tempdir("http-promises", "oauth-basic");
    write(
        &dir,
        "c.toml",
        &source_connector(
            &base,
            r#"[inbound.credentials]
client_id = "my client"
client_secret = "s3cret:with/odd chars""#,
            r#"auth = "oauth2"
token_url = "token"
token_auth = "client_secret_basic"
paging = "none""#,
        ),
    );
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    let seen = seen.lock().unwrap();
    let token = seen.iter().find(|s| s.url.starts_with("/token")).unwrap();
    use base64::Engine as _;
    let expected =
        base64::engine::general_purpose::STANDARD.encode("my+client:s3cret%3Awith%2Fodd+chars");
    assert_eq!(
        token.header("Authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert!(!token.body.contains("client_secret"), "{}", token.body);
    assert!(
        token.body.contains("grant_type=client_credentials"),
        "{}",
        token.body
    );
    let page = seen.iter().find(|s| s.url.starts_with("/items")).unwrap();
    assert_eq!(page.header("Authorization"), Some("Bearer tok-1"));
}

#[test]
fn retry_after_is_honoured_on_a_token_request() {
    let (base, seen) = stand_in(|req, before| {
        let tokens = before
            .iter()
            .filter(|s| s.url.starts_with("/token"))
            .count();
        match (req.url.starts_with("/token"), tokens) {
            (true, 0) => (429, vec![("Retry-After", "1".to_string())], json!({})),
            (true, _) => (
                200,
                vec![],
                json!({"access_token": "tok-2", "expires_in": 3600}),
            ),
            _ => (200, vec![], json!({"value": [{"id": 1}]})),
        }
    });
    let dir = common::tempdir("http-promises", "token-retry-after");
    write(
        &dir,
        "c.toml",
        &source_connector(
            &base,
            r#"[inbound.credentials]
client_id = "c"
client_secret = "s""#,
            r#"auth = "oauth2"
token_url = "token"
paging = "none"
backoff = "10ms""#,
        ),
    );
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    let seen = seen.lock().unwrap();
    let tokens: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.url.starts_with("/token"))
        .collect();
    assert_eq!(tokens.len(), 2);
    let waited = tokens[1].at - tokens[0].at;
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
}
