//! Credentials stay with their origin and never rest in the store: a REST source whose
//! pages link to a second origin (127.0.0.2, also loopback) is stopped before it sends
//! that host anything, for each of the five kinds of credential; an allow-listed origin is
//! trusted; and after paged runs whose server repeats the API key in its links, neither
//! the SQLite file nor a `pg_dump` of the PostgreSQL store holds any secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tiny_http::{Header, Response, Server};

on_postgres!(no_secret_of_any_kind_rests_in_the_store_after_a_paged_run);

/// Every secret the five kinds of credential use, as the tests give them.
const SECRETS: &[&str] = &[
    "key-secret-header-1234",
    "key-secret-query-5678",
    "basic-secret-password",
    "client-secret-9999",
    "tok-secret-bearer-0000",
    "session-secret-password",
    "sess-secret-cookie-1111",
];

/// One request as a stand-in saw it: its path and query, and its headers.
#[derive(Clone, Debug)]
struct Seen {
    url: String,
    headers: Vec<(String, String)>,
}

/// A stand-in: a login, a token endpoint and `/items` in pages of 3 (9 items) whose next
/// link goes to `next_base` (another origin) after the first page, or to itself. It repeats
/// the request's query in its links, as SAP's do (so an API key in the query comes back).
struct Origin {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn origin(ip: &str, next_base: Arc<Mutex<Option<String>>>) -> Origin {
    let server = Arc::new(Server::http(format!("{ip}:0")).unwrap());
    let base = format!(
        "http://{ip}:{}",
        server.server_addr().to_ip().unwrap().port()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..4 {
        let server = Arc::clone(&server);
        let seen = Arc::clone(&seen);
        let next_base = Arc::clone(&next_base);
        let own = base.clone();
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                let url = request.url().to_string();
                let headers = request
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect();
                seen.lock().unwrap().push(Seen {
                    url: url.clone(),
                    headers,
                });
                let (body, cookie) = answer(&url, &own, next_base.lock().unwrap().clone());
                let mut response = Response::from_string(body.to_string())
                    .with_header(Header::from_bytes("Content-Type", "application/json").unwrap());
                if let Some(cookie) = cookie {
                    response =
                        response.with_header(Header::from_bytes("Set-Cookie", cookie).unwrap());
                }
                let _ = request.respond(response);
            }
        });
    }
    Origin { base, seen }
}

fn answer(url: &str, own: &str, next_base: Option<String>) -> (Value, Option<&'static str>) {
    if url.starts_with("/Login") {
        return (
            json!({"SessionId": "x"}),
            Some("B1SESSION=sess-secret-cookie-1111; Path=/"),
        );
    }
    if url.starts_with("/token") {
        return (
            json!({"access_token": "tok-secret-bearer-0000", "expires_in": 3600}),
            None,
        );
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let page: usize = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    let items: Vec<Value> = (1..=3).map(|i| json!({"n": (page - 1) * 3 + i})).collect();
    let mut body = json!({ "value": items });
    if page < 3 {
        let rest: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "page"),
            )
            .append_pair("page", &(page + 1).to_string())
            .finish();
        let base = next_base.unwrap_or_else(|| own.to_string());
        body["@odata.nextLink"] = json!(format!("{base}/items?{rest}"));
    }
    (body, None)
}

/// The five kinds of credential: `[inbound.connection]` lines and `[inbound.credentials]`.
fn kinds() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "api key header",
            "auth = \"api_key\"",
            "api_key = \"key-secret-header-1234\"",
        ),
        (
            "api key query",
            "auth = \"api_key\"\napi_key_query = \"api_key\"",
            "api_key = \"key-secret-query-5678\"",
        ),
        (
            "basic",
            "auth = \"basic\"",
            "user = \"u\"\npassword = \"basic-secret-password\"",
        ),
        (
            "oauth2",
            "auth = \"oauth2\"\ntoken_url = \"token\"",
            "client_id = \"c\"\nclient_secret = \"client-secret-9999\"",
        ),
        (
            "session",
            "auth = \"session\"",
            "user = \"u\"\npassword = \"session-secret-password\"",
        ),
    ]
}

fn connector(base: &str, connection: &str, credentials: &str, extra: &str) -> String {
    format!(
        r#"name = "items"

[inbound]
type = "Shopware"
object = "item"
entity = "items"

[inbound.credentials]
{credentials}

[inbound.connection]
url = "{base}"
{connection}
page_size = 3
retries = 0
{extra}

[outbound]
type = "store"
object = "item"
primary_key = "n"

[[mappings]]
target = "n"
field = "n"
"#
    )
}

fn stored(dir: &Path) -> Vec<i64> {
    let (code, out, err) = common::run_in(dir, &["objects", "dump", "item"]);
    assert_eq!(code, 0, "{err}");
    let mut n: Vec<i64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    n.sort_unstable();
    n
}

/// Whether a request carried any of the secrets, in its URL or a header.
fn carries_a_secret(seen: &Seen) -> bool {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("u:basic-secret-password");
    SECRETS
        .iter()
        .map(|s| s.to_string())
        .chain([basic])
        .any(|secret| {
            seen.url.contains(&secret) || seen.headers.iter().any(|(_, v)| v.contains(&secret))
        })
}

#[test]
fn a_link_to_another_origin_is_refused_before_any_credential_leaves() {
    for (kind, connection, credentials) in kinds() {
        let stranger = origin("127.0.0.2", Arc::new(Mutex::new(None)));
        let home = origin(
            "127.0.0.1",
            Arc::new(Mutex::new(Some(stranger.base.clone()))),
        );
        let dir = common::tempdir(
            "credentials",
            &format!("foreign-{}", kind.replace(' ', "-")),
        );
        std::fs::write(
            dir.join("c.toml"),
            connector(&home.base, connection, credentials, ""),
        )
        .unwrap();
        let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
        assert_ne!(code, 0, "{kind}: {err}");
        assert!(err.contains("E619"), "{kind}: {err}");
        assert!(
            err.contains("127.0.0.2"),
            "{kind}: the message names the link: {err}"
        );
        for secret in SECRETS {
            assert!(!err.contains(secret), "{kind}: {err}");
        }
        assert!(
            stranger.seen.lock().unwrap().is_empty(),
            "{kind}: the other origin was asked: {:?}",
            stranger.seen.lock().unwrap()
        );
        assert!(
            home.seen.lock().unwrap().iter().any(carries_a_secret),
            "{kind}: the connection's own origin gets the credential"
        );
        assert_eq!(
            stored(&dir),
            vec![1, 2, 3],
            "{kind}: what was read is committed"
        );
    }
}

#[test]
fn an_allow_listed_origin_is_trusted_with_the_credentials() {
    let (kind, connection, credentials) = kinds().swap_remove(0);
    let stranger = origin("127.0.0.2", Arc::new(Mutex::new(None)));
    let home = origin(
        "127.0.0.1",
        Arc::new(Mutex::new(Some(stranger.base.clone()))),
    );
    let dir = common::tempdir("credentials", "allowed");
    let allowed = format!("allowed_origins = [\"{}\"]", stranger.base);
    std::fs::write(
        dir.join("c.toml"),
        connector(&home.base, connection, credentials, &allowed),
    )
    .unwrap();
    let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{kind}: {err}");
    assert_eq!(stored(&dir), (1..=9).collect::<Vec<i64>>());
    assert!(stranger.seen.lock().unwrap().iter().all(carries_a_secret));
}

#[test]
fn check_refuses_an_allowed_origin_that_is_not_an_origin() {
    let home = origin("127.0.0.1", Arc::new(Mutex::new(None)));
    let dir = common::tempdir("credentials", "bad-origin");
    std::fs::write(
        dir.join("c.toml"),
        connector(
            &home.base,
            "auth = \"none\"",
            "",
            "allowed_origins = [\"https://ok.example.com\", \"https://x.example.com/path\", \"ftp://y\"]",
        ),
    )
    .unwrap();
    let (code, _, err) = common::run_in(&dir, &["check", "c.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`https://x.example.com/path` is not an origin"),
        "{err}"
    );
    assert!(err.contains("`ftp://y` is not an origin"), "{err}");
    assert!(!err.contains("`https://ok.example.com` is not"), "{err}");
}

#[test]
fn no_secret_of_any_kind_rests_in_the_store_after_a_paged_run() {
    for (kind, connection, credentials) in kinds() {
        let home = origin("127.0.0.1", Arc::new(Mutex::new(None)));
        let dir = common::tempdir(
            "credentials",
            &format!("at-rest-{}", kind.replace(' ', "-")),
        );
        std::fs::write(
            dir.join("c.toml"),
            connector(&home.base, connection, credentials, ""),
        )
        .unwrap();
        let (code, _, err) = common::run_in(&dir, &["run", "c.toml"]);
        assert_eq!(code, 0, "{kind}: {err}");
        assert_eq!(stored(&dir), (1..=9).collect::<Vec<i64>>(), "{kind}");
        // The key the server repeats in its links is sent once per request, not piled up.
        if kind == "api key query" {
            for seen in home.seen.lock().unwrap().iter() {
                assert_eq!(
                    seen.url.matches("key-secret-query-5678").count(),
                    1,
                    "{}",
                    seen.url
                );
            }
        }
        let bytes = match common::postgres::current() {
            Some(url) => {
                let dump = std::process::Command::new("pg_dump")
                    .arg(&url)
                    .output()
                    .unwrap();
                assert!(
                    dump.status.success(),
                    "{}",
                    String::from_utf8_lossy(&dump.stderr)
                );
                dump.stdout
            }
            None => {
                let mut bytes = std::fs::read(dir.join("sluice.db")).unwrap();
                if let Ok(wal) = std::fs::read(dir.join("sluice.db-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("items"),
            "{kind}: the cursor is there to look at"
        );
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{kind}: `{secret}` rests in the store"
            );
        }
    }
}

#[test]
fn export_and_store_errors_never_show_a_password() {
    let dir = common::tempdir("credentials", "shown");
    std::fs::write(
        dir.join("c.toml"),
        connector(
            "https://sapuser:PW-hunter2-secret@sap.example.com:50000/b1s/v1",
            "auth = \"none\"\nquery = { api_key = \"K-query-secret\", page = \"1\" }",
            "",
            "",
        ),
    )
    .unwrap();
    let (code, out, err) = common::run_in(&dir, &["export", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("PW-hunter2-secret") && !out.contains("K-query-secret"),
        "{out}"
    );
    assert!(out.contains("sapuser:***@sap.example.com"), "{out}");
    // A store URL that does not parse, or with its password as a parameter.
    for store in [
        "postgres://u:hunter2secret@127.0.0.1:99999/db",
        "postgres://u@127.0.0.1:1/db?password=hunter2secret",
    ] {
        let (code, out, err) = common::run_in(&dir, &["status", "--store", store]);
        assert_ne!(code, 0);
        assert!(
            !out.contains("hunter2secret") && !err.contains("hunter2secret"),
            "{err}"
        );
        assert!(err.contains("E70"), "{err}");
    }
}
