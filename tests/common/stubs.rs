//! HTTP stand-ins the connection tests start in-process on 127.0.0.1 (a free port): an SAP
//! Business One Service Layer (session login, OData paging by `odata.nextLink`, `$filter`
//! on `UpdateDate`, sessions that expire) and an FSM REST API (lookups, creates, updates,
//! batches, with 429s, 500s, slow answers and dropped connections on demand). Each keeps
//! what it was asked and holds, for the tests to check.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tiny_http::{Header, Method, Request, Response, Server};

/// A running stub: its base URL; it stops when the test process ends.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

fn start<S: Send + 'static>(state: Arc<Mutex<S>>, handle: fn(&Arc<Mutex<S>>, Request)) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    no_delay(&listener);
    let server = Arc::new(Server::from_listener(listener, None).unwrap());
    let port = server.server_addr().to_ip().unwrap().port();
    for _ in 0..8 {
        let server = Arc::clone(&server);
        let state = Arc::clone(&state);
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                handle(&state, request);
            }
        });
    }
    Running {
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Sets TCP_NODELAY on the listener, which the sockets it accepts inherit: tiny_http writes
/// an answer's head and body apart, and with Nagle's algorithm the body would wait for the
/// client's delayed acknowledgement of the head (40 ms a page, the stand-in's cost, not
/// the client's).
fn no_delay(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, a pointer to a c_int with its size.
    let _ = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            std::ptr::addr_of!(on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn reply(request: Request, status: u16, body: &Value, headers: Vec<Header>) {
    let mut response = Response::from_string(body.to_string())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"));
    for h in headers {
        response = response.with_header(h);
    }
    let _ = request.respond(response);
}

fn header_of(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

fn body_of(request: &mut Request) -> String {
    let mut body = String::new();
    request.as_reader().read_to_string(&mut body).unwrap();
    body
}

fn query_of(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Answers with a body cut short: the connection ends mid-answer.
fn drop_connection(request: Request) {
    let mut writer = request.into_writer();
    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"val");
    let _ = writer.flush();
}

// ---------------------------------------------------------------------------------------
// SAP Business One Service Layer

/// The Service Layer's state: business partners, sessions, and what was asked.
#[derive(Default)]
pub struct Sap {
    /// The business partners, in `CardCode` order.
    pub partners: Vec<Value>,
    /// Valid session ids, with the requests each has left before it expires.
    pub sessions: HashMap<String, u32>,
    /// Requests a session serves before it expires (0: never).
    pub session_requests: u32,
    /// Logins made.
    pub logins: u32,
    /// Every GET's path and query, in order.
    pub gets: Vec<String>,
    /// Answer the next this many GETs with 503.
    pub fail_next: u32,
    /// Stop answering page requests after this many (a source that goes down); 0: never.
    pub down_after: u32,
}

/// `n` business partners `C00001`…, half of them customers, updated on consecutive days
/// of 2024 from `first_day`.
pub fn partners(n: usize, first_day: u32) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            let day = first_day + (i as u32 - 1) / 10;
            json!({
                "CardCode": format!("C{i:05}"),
                "CardName": format!("customer {i}"),
                "CardType": if i % 2 == 0 { "S" } else { "C" },
                "UpdateDate": date_of(day),
                "Balance": format!("{}.{:02}", i * 3, i % 100).parse::<serde_json::Number>().unwrap(),
            })
        })
        .collect()
}

/// Day `n` of 2024 (1 = 2024-01-01) as `YYYY-MM-DD`.
pub fn date_of(day: u32) -> String {
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        + chrono::Duration::days(i64::from(day) - 1);
    date.format("%Y-%m-%d").to_string()
}

/// Starts a Service Layer under `/b1s/v1` (user `manager`, password `s3cret!`, company
/// `SBODEMO`).
pub fn sap(state: &Arc<Mutex<Sap>>) -> Running {
    start(Arc::clone(state), handle_sap)
}

fn handle_sap(state: &Arc<Mutex<Sap>>, mut request: Request) {
    let url = request.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    if request.method() == &Method::Post && path == "/b1s/v1/Login" {
        let body: Value = serde_json::from_str(&body_of(&mut request)).unwrap_or_default();
        let mut s = state.lock().unwrap();
        if body == json!({"CompanyDB": "SBODEMO", "UserName": "manager", "Password": "s3cret!"}) {
            s.logins += 1;
            let id = format!("session-{}", s.logins);
            let budget = s.session_requests;
            s.sessions.insert(id.clone(), budget);
            drop(s);
            return reply(
                request,
                200,
                &json!({"SessionId": id, "SessionTimeout": 30}),
                vec![
                    header("Set-Cookie", &format!("B1SESSION={id}; HttpOnly")),
                    header("Set-Cookie", "ROUTEID=.node1; path=/b1s"),
                ],
            );
        }
        drop(s);
        return reply(
            request,
            401,
            &json!({"error": {"code": 100000027, "message": {"value": "Login failed"}}}),
            vec![],
        );
    }
    if request.method() != &Method::Get || path != "/b1s/v1/BusinessPartners" {
        return reply(request, 404, &json!({"error": "no such resource"}), vec![]);
    }
    let mut s = state.lock().unwrap();
    let session = header_of(&request, "Cookie").and_then(|c| {
        c.split("; ")
            .find_map(|p| p.strip_prefix("B1SESSION=").map(str::to_string))
    });
    let limited = s.session_requests > 0;
    match session.as_ref().and_then(|id| s.sessions.get_mut(id)) {
        Some(left) if !limited || *left > 0 => *left = left.saturating_sub(1),
        _ => {
            drop(s);
            return reply(
                request,
                401,
                &json!({"error": {"code": 301, "message": {"value": "Invalid session or session already timeout."}}}),
                vec![],
            );
        }
    }
    s.gets.push(url.clone());
    if s.down_after > 0 && s.gets.len() as u32 > s.down_after {
        drop(s);
        return reply(request, 503, &json!({"error": "down"}), vec![]);
    }
    if s.fail_next > 0 {
        s.fail_next -= 1;
        drop(s);
        return reply(request, 503, &json!({"error": "busy"}), vec![]);
    }
    let query = query_of(&url);
    let filter = query.get("$filter").cloned().unwrap_or_default();
    let skip: usize = query.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let size: usize = header_of(&request, "Prefer")
        .and_then(|p| {
            p.strip_prefix("odata.maxpagesize=")
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(20);
    let selected: Vec<&Value> = s
        .partners
        .iter()
        .filter(|p| matches_filter(p, &filter))
        .collect();
    let page: Vec<Value> = selected
        .iter()
        .skip(skip)
        .take(size)
        .map(|v| (*v).clone())
        .collect();
    let mut body = json!({"odata.metadata": "$metadata#BusinessPartners", "value": page});
    if skip + size < selected.len() {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &query {
            if k != "$skip" {
                next.append_pair(k, v);
            }
        }
        next.append_pair("$skip", &(skip + size).to_string());
        body["odata.nextLink"] = json!(format!("BusinessPartners?{}", next.finish()));
    }
    drop(s);
    reply(request, 200, &body, vec![]);
}

/// `Field eq 'v'` and `Field ge 'v'` clauses joined by `and`, in parentheses or not.
fn matches_filter(record: &Value, filter: &str) -> bool {
    filter
        .split(" and ")
        .map(|c| c.trim().trim_start_matches('(').trim_end_matches(')'))
        .filter(|c| !c.is_empty())
        .all(|clause| {
            let parts: Vec<&str> = clause.splitn(3, ' ').collect();
            let [field, op, value] = parts[..] else {
                panic!("the stub does not understand the clause `{clause}`");
            };
            let value = value.trim_matches('\'');
            let actual = record.get(field).and_then(Value::as_str).unwrap_or("");
            match op {
                "eq" => actual == value,
                "ge" => actual >= value,
                _ => panic!("the stub does not understand `{op}`"),
            }
        })
}

// ---------------------------------------------------------------------------------------
// FSM REST API

/// The FSM API's state: customers by id, and the faults to play.
#[derive(Default)]
pub struct Fsm {
    /// Customers by their FSM id.
    pub customers: BTreeMap<u64, Value>,
    /// Customer ids by `erp_id`.
    pub by_erp: HashMap<String, u64>,
    /// Creates per `erp_id` (a second create of one is a duplicate).
    pub creates: HashMap<String, u32>,
    /// Updates made.
    pub updates: u32,
    /// Requests seen.
    pub requests: u32,
    /// Every Nth request is answered 429 with `Retry-After: 1` (0: never).
    pub every_429: u32,
    /// Every Nth request is answered 500 (0: never).
    pub every_500: u32,
    /// Every Nth create is applied and then answered only after this long (0: never).
    pub slow_every: u32,
    /// How long a slow answer takes.
    pub slow_for: Duration,
    /// Every Nth create is applied and then its connection dropped (0: never).
    pub drop_every: u32,
    /// Creates seen, for the two above.
    pub create_attempts: u32,
    /// The last bearer token issued (OAuth 2.0); once one is, every request must carry
    /// one of those issued.
    pub token: Option<String>,
    /// Tokens issued.
    pub tokens_issued: u32,
    /// Idempotency keys seen, with the id they created.
    pub idempotency: HashMap<String, u64>,
    /// Batch requests seen.
    pub batches: u32,
    /// Take customers without a name too.
    pub accept_nameless: bool,
    /// A header every request must carry (name, value): an API key, basic auth.
    pub require_header: Option<(String, String)>,
    /// A query parameter every request must carry (name, value): an API key.
    pub require_query: Option<(String, String)>,
}

impl Fsm {
    /// Replaces the customer with this `erp_id`, or creates one; its id.
    fn upsert_by_erp(&mut self, erp: String, mut record: Value) -> u64 {
        let id = match self.by_erp.get(&erp).copied() {
            Some(id) => {
                self.updates += 1;
                id
            }
            None => {
                *self.creates.entry(erp.clone()).or_default() += 1;
                self.customers.len() as u64 + 1
            }
        };
        record["id"] = json!(id);
        self.by_erp.insert(erp, id);
        self.customers.insert(id, record);
        id
    }
}

/// Starts an FSM API under `/api`: `GET /api/customers?erp_id=..` (answers
/// `{"data": [...]}`), `POST /api/customers`, `PATCH /api/customers/{id}`,
/// `PUT /api/customers/by-erp/{erp_id}`, `POST /api/customers/batch`, and
/// `POST /oauth/token` (client `sluice`, secret `t0ps3cret`).
pub fn fsm(state: &Arc<Mutex<Fsm>>) -> Running {
    start(Arc::clone(state), handle_fsm)
}

fn handle_fsm(state: &Arc<Mutex<Fsm>>, mut request: Request) {
    let url = request.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    let body = body_of(&mut request);
    let method = request.method().clone();
    let mut s = state.lock().unwrap();
    if method == Method::Post && path == "/oauth/token" {
        let form = query_of(&format!("?{body}"));
        let good = form.get("grant_type").map(String::as_str) == Some("client_credentials")
            && form.get("client_id").map(String::as_str) == Some("sluice")
            && form.get("client_secret").map(String::as_str) == Some("t0ps3cret");
        if !good {
            drop(s);
            return reply(request, 401, &json!({"error": "invalid_client"}), vec![]);
        }
        s.tokens_issued += 1;
        let token = format!("token-{}", s.tokens_issued);
        s.token = Some(token.clone());
        drop(s);
        return reply(
            request,
            200,
            &json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
            vec![],
        );
    }
    if s.token.is_some() {
        let bearer = header_of(&request, "Authorization").unwrap_or_default();
        let issued = bearer
            .strip_prefix("Bearer token-")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 1 && n <= s.tokens_issued);
        if !issued {
            drop(s);
            return reply(request, 401, &json!({"error": "invalid_token"}), vec![]);
        }
    }
    let header_ok = s
        .require_header
        .as_ref()
        .is_none_or(|(k, v)| header_of(&request, k).as_ref() == Some(v));
    let query_ok = s
        .require_query
        .as_ref()
        .is_none_or(|(k, v)| query_of(&url).get(k) == Some(v));
    if !header_ok || !query_ok {
        drop(s);
        return reply(request, 401, &json!({"error": "unauthorized"}), vec![]);
    }
    s.requests += 1;
    let n = s.requests;
    if s.every_429 > 0 && n.is_multiple_of(s.every_429) {
        drop(s);
        return reply(
            request,
            429,
            &json!({"error": "slow down"}),
            vec![header("Retry-After", "1")],
        );
    }
    if s.every_500 > 0 && n.is_multiple_of(s.every_500) {
        drop(s);
        return reply(request, 500, &json!({"error": "internal"}), vec![]);
    }
    let record: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    match (method, path.as_str()) {
        (Method::Get, "/api/customers") => {
            let query = query_of(&url);
            let candidates: Vec<&Value> = match query.get("erp_id") {
                Some(erp) => s
                    .by_erp
                    .get(erp)
                    .and_then(|id| s.customers.get(id))
                    .into_iter()
                    .collect(),
                None => s.customers.values().collect(),
            };
            let found: Vec<Value> = candidates
                .into_iter()
                .filter(|c| {
                    query
                        .iter()
                        .filter(|(k, _)| s.require_query.as_ref().is_none_or(|(q, _)| q != *k))
                        .all(|(k, v)| c.get(k).map(text) == Some(v.clone()))
                })
                .cloned()
                .collect();
            drop(s);
            reply(request, 200, &json!({"data": found}), vec![])
        }
        (Method::Post, "/api/customers/batch") => {
            s.batches += 1;
            let items: Vec<Value> = record.as_array().cloned().unwrap_or_default();
            let results: Vec<Value> = items
                .into_iter()
                .map(|item| match invalid(&item) {
                    Some(why) => json!({"status": 422, "error": why}),
                    None => {
                        let id = s.upsert_by_erp(text(&item["erp_id"]), item);
                        json!({"status": 200, "id": id})
                    }
                })
                .collect();
            drop(s);
            reply(request, 200, &json!(results), vec![])
        }
        (Method::Post, "/api/customers") => {
            if let Some(why) = invalid(&record).filter(|_| !s.accept_nameless) {
                drop(s);
                return reply(request, 422, &json!({"error": why}), vec![]);
            }
            let key = header_of(&request, "Idempotency-Key");
            if let Some(id) = key.as_ref().and_then(|k| s.idempotency.get(k)) {
                let id = *id;
                drop(s);
                return reply(request, 201, &json!({"id": id}), vec![]);
            }
            s.create_attempts += 1;
            let attempt = s.create_attempts;
            let id = s.customers.len() as u64 + 1;
            let mut stored = record.clone();
            stored["id"] = json!(id);
            *s.creates.entry(text(&record["erp_id"])).or_default() += 1;
            s.by_erp.insert(text(&record["erp_id"]), id);
            s.customers.insert(id, stored);
            if let Some(k) = key {
                s.idempotency.insert(k, id);
            }
            let slow = s.slow_every > 0 && attempt.is_multiple_of(s.slow_every);
            let dropped = s.drop_every > 0 && attempt.is_multiple_of(s.drop_every);
            let wait = s.slow_for;
            drop(s);
            if dropped {
                return drop_connection(request);
            }
            if slow {
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    reply(request, 201, &json!({"id": id}), vec![]);
                });
                return;
            }
            reply(request, 201, &json!({"id": id}), vec![])
        }
        (Method::Patch, p) if p.starts_with("/api/customers/") => {
            let id: u64 = p.trim_start_matches("/api/customers/").parse().unwrap_or(0);
            if let Some(why) = invalid(&record).filter(|_| !s.accept_nameless) {
                drop(s);
                return reply(request, 422, &json!({"error": why}), vec![]);
            }
            match s.customers.get_mut(&id) {
                Some(existing) => {
                    for (k, v) in record.as_object().cloned().unwrap_or_default() {
                        existing[k] = v;
                    }
                    s.updates += 1;
                    drop(s);
                    reply(request, 200, &json!({"id": id}), vec![])
                }
                None => {
                    drop(s);
                    reply(request, 404, &json!({"error": "no such customer"}), vec![])
                }
            }
        }
        (Method::Put, p) if p.starts_with("/api/customers/by-erp/") => {
            let erp = p.trim_start_matches("/api/customers/by-erp/").to_string();
            let id = s.upsert_by_erp(erp, record);
            drop(s);
            reply(request, 200, &json!({"id": id}), vec![])
        }
        _ => {
            drop(s);
            reply(request, 404, &json!({"error": "no such resource"}), vec![])
        }
    }
}

/// Why the FSM refuses a customer: no name.
fn invalid(record: &Value) -> Option<String> {
    match record.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => None,
        _ => Some("name is required".into()),
    }
}

/// A JSON scalar as text.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// A server behind mutual TLS

/// A server that wants a client certificate from its own CA, with the PEM files a client
/// needs: the CA, a client certificate it signed, and one it did not (a stranger's).
pub struct MutualTls {
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The CA that signed the server's and the client's certificates.
    pub ca: String,
    /// A client certificate signed by the CA, and its key.
    pub client: (String, String),
    /// A self-signed client certificate, and its key.
    pub stranger: (String, String),
}

/// Starts a server on 127.0.0.1 that answers every request whose TLS client presented a
/// certificate of its CA with `body` (JSON), and ends every other handshake.
pub fn mutual_tls(body: Value) -> MutualTls {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    let stranger_key = KeyPair::generate().unwrap();
    let stranger_cert = CertificateParams::new(vec!["stranger".to_string()])
        .unwrap()
        .self_signed(&stranger_key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server_cert.der().clone()], key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = body.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            let body = body.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match std::io::Read::read(&mut tls, &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    MutualTls {
        base: format!("https://127.0.0.1:{port}"),
        ca: ca_cert.pem(),
        client: (client_cert.pem(), client_key.serialize_pem()),
        stranger: (stranger_cert.pem(), stranger_key.serialize_pem()),
    }
}

// ---------------------------------------------------------------------------------------
// A generic REST list endpoint with each kind of paging

/// A list endpoint `/v1/items`: `count` items `{"n": i, "updated": "2024-01-DD"}` paged as
/// `style` says (`skip`, `page`, `cursor`, `link`), answering `{"data": {"items": [...]},
/// "meta": {"next_cursor": ...}, "links": {"next": absolute URL}}`; `updated_since` filters.
#[derive(Default)]
pub struct Pager {
    /// `skip`, `page`, `cursor` or `link`.
    pub style: String,
    /// How many items there are.
    pub count: usize,
    /// Every request's path and query.
    pub requests: Vec<String>,
    /// The base URL, for absolute links.
    pub base: String,
    /// How long each answer takes.
    pub delay: Duration,
}

/// Starts a list endpoint.
pub fn pager(state: &Arc<Mutex<Pager>>) -> Running {
    let running = start(Arc::clone(state), handle_pager);
    state.lock().unwrap().base = running.base.clone();
    running
}

fn handle_pager(state: &Arc<Mutex<Pager>>, request: Request) {
    let url = request.url().to_string();
    let query = query_of(&url);
    let mut s = state.lock().unwrap();
    s.requests.push(url.clone());
    let since = query.get("updated_since").cloned().unwrap_or_default();
    let updated = |n: usize| format!("2024-01-{:02}", n.min(28));
    let total = match since.is_empty() {
        true => s.count,
        false => (1..=s.count).filter(|n| updated(*n) >= since).count(),
    };
    let first = s.count - total + 1;
    let number = |k: &str| query.get(k).and_then(|v| v.parse::<usize>().ok());
    let size = number("limit").or(number("$top")).unwrap_or(10);
    let start = match s.style.as_str() {
        "skip" => number("$skip").unwrap_or(0),
        "page" => (number("page").unwrap_or(1) - 1) * size,
        "cursor" => query
            .get("cursor")
            .map_or(0, |c| c.trim_start_matches("at-").parse().unwrap()),
        _ => number("from").unwrap_or(0),
    };
    let page: Vec<Value> = (first + start..=s.count)
        .take(size)
        .map(|n| json!({"n": n, "updated": updated(n)}))
        .collect();
    let more = start + size < total;
    let mut body = json!({"data": {"items": page}, "meta": {}, "links": {}});
    let delay = s.delay;
    if more && s.style == "cursor" {
        body["meta"]["next_cursor"] = json!(format!("at-{}", start + size));
    }
    if more && s.style == "link" {
        body["links"]["next"] = json!(format!(
            "{}/v1/items?from={}&limit={size}",
            s.base,
            start + size
        ));
    }
    drop(s);
    std::thread::sleep(delay);
    reply(request, 200, &body, vec![]);
}
