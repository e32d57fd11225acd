//! OAuth 2.0 authorization code with PKCE and rotating refresh tokens, through the real
//! binary against a stand-in provider on 127.0.0.1: `sluice auth login` prints the consent
//! page, takes the code on its loopback redirect, and keeps the tokens sealed in the store;
//! runs refresh an expired access token, save each rotated refresh token, and survive a
//! kill between a refresh and its save; a store read without its key reveals nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha2::Digest as _;
use tiny_http::{Header, Response, Server};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CLIENT_SECRET: &str = "s3cret-of-the-client";

/// What the stand-in provider holds.
#[derive(Default)]
struct Provider {
    challenge: String,
    issued: u32,
    access: String,
    refresh: String,
    /// The refresh token rotated out last, taken once more (a provider's grace period).
    previous: Option<String>,
    expires: Option<std::time::Instant>,
    refreshes: u32,
    items: Vec<String>,
    bad_client_auth: u32,
}

impl Provider {
    fn issue(&mut self) -> String {
        self.issued += 1;
        self.access = format!("access-{}", self.issued);
        let old = std::mem::replace(&mut self.refresh, format!("refresh-{}", self.issued));
        self.previous = (!old.is_empty()).then_some(old);
        self.expires = Some(std::time::Instant::now() + std::time::Duration::from_secs(2));
        format!(
            r#"{{"access_token": "{}", "refresh_token": "{}", "expires_in": 2, "token_type": "Bearer"}}"#,
            self.access, self.refresh
        )
    }
}

fn provider() -> (String, Arc<Mutex<Provider>>) {
    let state = Arc::new(Mutex::new(Provider::default()));
    let server = Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let shared = Arc::clone(&state);
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let url = url::Url::parse(&format!("http://x{}", request.url())).unwrap();
            let param = |name: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            let header = |name: &str| {
                request
                    .headers()
                    .iter()
                    .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default()
            };
            let mut p = shared.lock().unwrap();
            let response = match url.path() {
                "/authorize" => {
                    p.challenge = param("code_challenge");
                    assert_eq!(param("code_challenge_method"), "S256");
                    let to = format!(
                        "{}?code=the-code&state={}",
                        param("redirect_uri"),
                        param("state")
                    );
                    Response::from_string("")
                        .with_status_code(302)
                        .with_header(Header::from_bytes("Location", to).unwrap())
                }
                "/token" => {
                    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                        .into_owned()
                        .collect();
                    let get = |k: &str| {
                        form.iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let basic = format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("app:{CLIENT_SECRET}"))
                    );
                    if header("Authorization") != basic {
                        p.bad_client_auth += 1;
                        Response::from_string(r#"{"error": "invalid_client"}"#)
                            .with_status_code(401)
                    } else if get("grant_type") == "authorization_code" {
                        let proof = base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(sha2::Sha256::digest(get("code_verifier").as_bytes()));
                        if get("code") == "the-code" && proof == p.challenge {
                            Response::from_string(p.issue())
                        } else {
                            Response::from_string(r#"{"error": "invalid_grant"}"#)
                                .with_status_code(400)
                        }
                    } else if get("grant_type") == "refresh_token"
                        && (get("refresh_token") == p.refresh
                            || Some(get("refresh_token")) == p.previous)
                    {
                        if Some(get("refresh_token")) == p.previous {
                            p.previous = None;
                        }
                        p.refreshes += 1;
                        Response::from_string(p.issue())
                    } else {
                        Response::from_string(r#"{"error": "invalid_grant"}"#).with_status_code(400)
                    }
                }
                "/api/items" => {
                    let fresh = p.expires.is_some_and(|t| std::time::Instant::now() < t);
                    if header("Authorization") == format!("Bearer {}", p.access) && fresh {
                        p.items.push(body.clone());
                        Response::from_string("{}").with_status_code(201)
                    } else {
                        Response::from_string(r#"{"error": "expired"}"#).with_status_code(401)
                    }
                }
                _ => Response::from_string("").with_status_code(404),
            };
            drop(p);
            let _ = request.respond(response);
        }
    });
    (base, state)
}

fn connector(base: &str) -> String {
    format!(
        r#"name = "books"

[inbound]
type = "ndjson"

[outbound]
type = "Xero"
entity = "items"

[outbound.credentials]
client_id = "app"
client_secret = "env:BOOKS_SECRET"

[outbound.connection]
url = "{base}/api"
auth = "oauth2_code"
authorize_url = "{base}/authorize"
token_url = "{base}/token"
token_auth = "client_secret_basic"
scope = "accounting.transactions"
write = "post"
path = "items"

[[mappings]]
target = "code"
field = "code"
"#
    )
}

/// One GET over a fresh connection: the status line and the `Location` header.
fn get(url: &str) -> (String, Option<String>) {
    let parsed = url::Url::parse(url).unwrap();
    let mut stream =
        TcpStream::connect((parsed.host_str().unwrap(), parsed.port().unwrap())).unwrap();
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut location = None;
    for line in reader.lines().map_while(Result::ok) {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line
            .strip_prefix("Location: ")
            .or_else(|| line.strip_prefix("location: "))
        {
            location = Some(v.trim().to_string());
        }
    }
    (status, location)
}

fn sluice(dir: &std::path::Path) -> std::process::Command {
    let mut command = common::process();
    command
        .current_dir(dir)
        .env_remove("SLUICE_STORE")
        .env("SLUICE_SECRET_KEY", KEY)
        .env("BOOKS_SECRET", CLIENT_SECRET);
    command
}

/// `sluice auth login` started: the process, its output after the consent page's URL, and
/// that URL.
fn start_login(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = sluice(dir)
        .args([
            "auth", "login", "c.toml", "--store", "state.db", "--wait", "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let page = loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no consent page printed"
        );
        if line.starts_with("http") {
            break line.trim().to_string();
        }
    };
    (child, stdout, page)
}

/// `sluice auth login` as a person does it: open the printed page, which sends the
/// browser to the loopback redirect.
fn log_in(dir: &std::path::Path) -> String {
    let (mut child, mut stdout, page) = start_login(dir);
    let (status, redirect) = get(&page);
    assert!(status.contains("302"), "{status}");
    let (status, _) = get(&redirect.unwrap());
    assert!(
        status.contains("200"),
        "the loopback redirect is answered: {status}"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{rest}{err}");
    format!("{page}\n{rest}{err}")
}

/// A run over `records` (in a file of their own: a file a checkpoint was taken on is not
/// rewritten).
fn run(dir: &std::path::Path, records: &str, extra_env: &[(&str, &str)]) -> (i32, String) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "in-{}.ndjson",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    std::fs::write(dir.join(&name), records).unwrap();
    let mut command = sluice(dir);
    command.args(["run", "c.toml", "--input", &name, "--store", "state.db"]);
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sealed(dir: &std::path::Path) -> String {
    rusqlite::Connection::open(dir.join("state.db"))
        .unwrap()
        .query_row(
            "SELECT sealed FROM secrets WHERE connector = 'books'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_login_keeps_sealed_tokens_that_runs_refresh_and_rotate() {
    let (base, provider) = provider();
    let dir = common::tempdir("oauth", "login");
    std::fs::write(dir.join("c.toml"), connector(&base)).unwrap();
    let said = log_in(&dir);
    assert!(said.contains("logged in"), "{said}");
    assert!(
        !said.contains("refresh-1") && !said.contains("access-1") && !said.contains(CLIENT_SECRET),
        "{said}"
    );
    let raw = std::fs::read(dir.join("state.db")).unwrap();
    assert!(
        !raw.windows(9).any(|w| w == b"refresh-1"),
        "the store holds no token in clear"
    );

    let (code, err) = run(&dir, "{\"code\": \"A\"}\n", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(provider.lock().unwrap().items.len(), 1);

    // the access token expires (2 s): the next run refreshes, and the rotated refresh
    // token is kept
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let before = sealed(&dir);
    let (code, err) = run(&dir, "{\"code\": \"B\"}\n", &[]);
    assert_eq!(code, 0, "{err}");
    let p = provider.lock().unwrap();
    assert!(p.refreshes >= 1 && p.items.len() == 2, "{err}");
    assert_eq!(p.bad_client_auth, 0, "client_secret_basic every time");
    drop(p);
    assert_ne!(sealed(&dir), before, "the rotated tokens were saved");

    // the provider revokes the access token before it expires: a 401, a refresh, a retry
    let refreshes = {
        let mut p = provider.lock().unwrap();
        p.access = "revoked".to_string();
        p.expires = Some(std::time::Instant::now() + std::time::Duration::from_secs(60));
        p.refreshes
    };
    let (code, err) = run(&dir, "{\"code\": \"D\"}\n", &[]);
    assert_eq!(code, 0, "{err}");
    let p = provider.lock().unwrap();
    assert_eq!((p.refreshes, p.items.len()), (refreshes + 1, 3), "{err}");
    drop(p);

    // a store read with another key reveals nothing and says why
    std::fs::write(dir.join("other.ndjson"), "{\"code\": \"C\"}\n").unwrap();
    let out = sluice(&dir)
        .env(
            "SLUICE_SECRET_KEY",
            "BBECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .args([
            "run",
            "c.toml",
            "--input",
            "other.ndjson",
            "--store",
            "state.db",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("E622"), "{err}");
    assert!(!err.contains("refresh-"), "{err}");
}

#[test]
fn a_kill_between_a_refresh_and_its_save_loses_no_valid_token() {
    let (base, provider) = provider();
    let dir = common::tempdir("oauth", "kill");
    std::fs::write(dir.join("c.toml"), connector(&base)).unwrap();
    log_in(&dir);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    // the provider rotates the refresh token, and the process dies before it saves it
    let (code, _) = run(
        &dir,
        "{\"code\": \"A\"}\n",
        &[("SLUICE_FAILPOINT", "oauth-refresh-unsaved")],
    );
    assert_ne!(code, 0);
    assert_eq!(provider.lock().unwrap().refreshes, 1);
    // the store still holds the token set from before, intact; the provider takes the
    // refresh token it rotated out once more (its grace period), and the run goes on
    let (code, err) = run(&dir, "{\"code\": \"A\"}\n", &[]);
    assert_eq!(code, 0, "{err}");
    let p = provider.lock().unwrap();
    assert_eq!(p.refreshes, 2);
    assert_eq!(p.items.len(), 1, "{err}");
}

#[test]
fn a_forged_redirect_is_refused() {
    let (base, _) = provider();
    let dir = common::tempdir("oauth", "forged");
    std::fs::write(dir.join("c.toml"), connector(&base)).unwrap();
    let (mut child, _stdout, page) = start_login(&dir);
    let redirect = url::Url::parse(&page)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let (status, _) = get(&format!("{redirect}?code=stolen&state=not-the-one"));
    assert!(status.contains("400"), "{status}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!child.wait().unwrap().success());
    assert!(err.contains("E616") && err.contains("state"), "{err}");
}
