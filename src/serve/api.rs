//! The HTTP API of `sluice serve` (axum): connectors and their runs as JSON, manual
//! triggers, webhooks, `/metrics` for Prometheus, and the web page at `/`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use http_body_util::BodyExt as _;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::answer::{blocking, error, too_large, unknown};
use super::hooks::{self, HookHeaders, Refusal, LEGACY_SIGNATURE_HEADER};
use super::state::Trigger;
use super::Server;
use crate::diagnostics::{codes, Diag};

/// The largest webhook body taken (larger ones are answered 413).
const HOOK_BODY_LIMIT: u64 = 64 << 20;

/// The largest body of any other request (a login).
const SMALL_BODY_LIMIT: usize = 16 << 10;

/// The dead letters `GET /connectors/<name>/dead-letters` shows.
const LETTERS_SHOWN: u64 = 100;

/// The routes, behind the access guard (host, origin, token and role; security headers).
pub fn router(server: Arc<Server>) -> Router {
    let mut routes = Router::new();
    for asset in super::assets::ASSETS {
        routes = routes.route(
            &format!("/{}", asset.path),
            get(move || async move { super::assets::serve(asset) }),
        );
    }
    routes
        .route("/session", get(session))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/connectors", get(super::listing::connectors))
        .route("/connectors/{name}", get(super::listing::connector))
        .route("/connectors/{name}/run", post(run_now))
        .route("/connectors/{name}/retry", post(retry_letters))
        .route("/connectors/{name}/dead-letters", get(dead_letters))
        .route(
            "/connectors/{name}/dead-letters/edit",
            post(super::monitor::edit_letter),
        )
        .route("/connectors/{name}/history", get(super::monitor::history))
        .route("/reviews", get(super::monitor::reviews))
        .route("/reviews/{id}/{decision}", post(super::monitor::decide))
        .route("/runs", get(runs))
        .route("/studio/formula", post(super::studio::formula))
        .route("/studio/connectors", post(super::drafts::draft))
        .route("/studio/connections/test", post(super::connections::test))
        .route("/studio/connectors/{name}", get(super::versions::connector))
        .route(
            "/studio/connectors/{name}/revert",
            post(super::versions::revert),
        )
        .route("/runs/{id}", get(run_of))
        .route("/hooks/{name}", post(hook))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&server),
            super::access::guard,
        ))
        .with_state(server)
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        &Diag::new(codes::E801_UNKNOWN_CONNECTOR, "no such route"),
    )
}

async fn session(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    blocking(move || Json(super::access::whoami(&server, &headers)).into_response()).await
}

async fn login(State(server): State<Arc<Server>>, body: Body) -> Response {
    let body = match axum::body::to_bytes(body, SMALL_BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => return too_large(SMALL_BODY_LIMIT as u64),
    };
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    blocking(move || match server.access.log_in(&server, &token) {
        Ok((id, principal)) => super::access::logged_in(&id, &principal),
        Err(refused) => refused.into_response(),
    })
    .await
}

async fn logout(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    server.access.log_out(&headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = header::HeaderValue::from_str(&super::access::session_cookie_header(None)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn health(State(server): State<Arc<Server>>) -> Response {
    let registry = server.lock();
    let running = registry
        .connectors
        .values()
        .filter(|e| e.running.is_some())
        .count();
    let body = json!({
        "status": if server.stopping() { "draining" } else { "ok" },
        "connectors": registry.connectors.len(),
        "running": running,
        "broken_files": registry.broken.len(),
        "started_at": server.started,
    });
    let status = if server.stopping() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

async fn run_now(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    start_run(&server, &name, Trigger::Manual)
}

/// `POST /connectors/{name}/retry`: a run over the connector's dead letters.
async fn retry_letters(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    start_run(&server, &name, Trigger::DeadLetters)
}

/// Queues a run of `name`: its id and where to follow it, or why not.
fn start_run(server: &Server, name: &str, trigger: Trigger) -> Response {
    match server.trigger(name, trigger, None) {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({"run": id, "status_url": format!("/runs/{id}")})),
        )
            .into_response(),
        Err(diag) if diag.code == codes::E801_UNKNOWN_CONNECTOR => unknown(name),
        Err(diag) => error(StatusCode::CONFLICT, &diag),
    }
}

async fn dead_letters(
    State(server): State<Arc<Server>>,
    Path(name): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let page = LetterPage {
        offset: query
            .get("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        limit: query
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(LETTERS_SHOWN)
            .clamp(1, LETTERS_SHOWN),
        code: query.get("code").cloned().filter(|c| !c.is_empty()),
    };
    blocking(move || letters_of(&server, &name, &page)).await
}

/// Which of a connector's dead letters a request asks for: those with `code` (all when
/// none), `limit` of them after the first `offset`, oldest first.
struct LetterPage {
    offset: u64,
    limit: u64,
    code: Option<String>,
}

/// The error code of a dead letter's line.
fn code_of(letter: &str) -> String {
    serde_json::from_str::<Value>(letter)
        .ok()
        .and_then(|v| v.get("error")?.get("code")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn raw(letter: String) -> Box<RawValue> {
    RawValue::from_string(letter.clone()).unwrap_or_else(|_| {
        serde_json::value::to_raw_value(&letter).unwrap_or_else(|_| RawValue::NULL.to_owned())
    })
}

fn letters_of(server: &Server, name: &str, page: &LetterPage) -> Response {
    if server.lock().named(name).is_none() {
        return unknown(name);
    }
    // one read: the letters in input order, the newest of them last
    let all = server
        .with_reader(|s| s.dead_letters(name).ok())
        .flatten()
        .unwrap_or_default();
    let latest: Vec<String> = all
        .iter()
        .rev()
        .take(usize::try_from(LETTERS_SHOWN).unwrap_or(usize::MAX))
        .cloned()
        .collect();
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    for letter in &all {
        *codes.entry(code_of(letter)).or_default() += 1;
    }
    let matching: Vec<String> = all
        .iter()
        .filter(|l| page.code.as_ref().is_none_or(|c| code_of(l) == *c))
        .cloned()
        .collect();
    let letters = matching
        .iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .cloned()
        .map(raw)
        .collect();
    Json(DeadLetters {
        connector: name,
        count: all.len() as u64,
        latest: latest.into_iter().map(raw).collect(),
        codes,
        matching: matching.len() as u64,
        letters,
    })
    .into_response()
}

/// `GET /connectors/{name}/dead-letters`: the newest lines kept as they were written
/// (exact numbers, fields in order), or as a string when one is not JSON.
#[derive(serde::Serialize)]
struct DeadLetters<'a> {
    connector: &'a str,
    count: u64,
    latest: Vec<Box<RawValue>>,
    /// How many letters carry each error code.
    codes: std::collections::BTreeMap<String, u64>,
    /// How many the request's code matches.
    matching: u64,
    /// The page of them asked for, oldest first.
    letters: Vec<Box<RawValue>>,
}

/// How many runs `GET /runs` lists unless `?limit=N` says otherwise.
const RUNS_LISTED: usize = 100;

async fn runs(
    State(server): State<Arc<Server>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(RUNS_LISTED);
    let registry = server.lock();
    let latest: Vec<&super::state::RunInfo> = registry
        .runs
        .values()
        .rev()
        .filter(|run| registry.listed(run))
        .take(limit)
        .collect();
    Json(json!({ "runs": latest, "kept": registry.runs.len() }))
}

async fn run_of(State(server): State<Arc<Server>>, Path(id): Path<String>) -> Response {
    let registry = server.lock();
    match id.parse::<u64>().ok().and_then(|id| registry.runs.get(&id)) {
        Some(run) => Json(json!(run)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": codes::E801_UNKNOWN_CONNECTOR.id, "message": format!("no run {id} (the server keeps the runs since it started)")}})),
        )
            .into_response(),
    }
}

async fn metrics(State(server): State<Arc<Server>>) -> Response {
    blocking(move || {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            super::metrics::render(&server, Utc::now()),
        )
            .into_response()
    })
    .await
}

/// What a webhook's connector asks of it.
struct HookSettings {
    key: Vec<u8>,
    legacy: bool,
    tolerance: i64,
}

/// The webhook settings of connector `name`, its secret read (a `file:` secret is read
/// here, off the async threads); the answer when it takes no hooks.
fn hook_settings(server: &Server, name: &str) -> Result<HookSettings, Box<Response>> {
    let (secret, sync) = {
        let registry = server.lock();
        match registry.named(name) {
            Some(entry) => (
                entry.loaded.file.connector.sync.webhook_secret.clone(),
                entry.loaded.file.connector.sync.clone(),
            ),
            None => return Err(Box::new(unknown(name))),
        }
    };
    let Some(secret) = secret else {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            &Diag::new(
                codes::E804_WEBHOOK_REFUSED,
                format!("`{name}` takes no webhooks: it has no `[sync] webhook_secret`"),
            ),
        )));
    };
    let secret = secret
        .resolve(&format!("{name}: sync.webhook_secret"))
        .map_err(|diag| Box::new(error(StatusCode::INTERNAL_SERVER_ERROR, &diag)))?;
    let key = crate::transform::connector::webhook_key(&secret);
    if key.len() < crate::transform::connector::MIN_WEBHOOK_SECRET {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            &Diag::new(
                codes::E620_WEAK_WEBHOOK_SECRET,
                format!("`{name}` takes no webhooks: its webhook_secret is too short"),
            ),
        )));
    }
    Ok(HookSettings {
        key,
        legacy: sync.legacy_signature,
        tolerance: i64::try_from(sync.webhook_tolerance().as_secs()).unwrap_or(300),
    })
}

/// `POST /hooks/<name>`: the headers are checked before the body is read (credentials,
/// timestamp, a delivery already received); the body streams into a spool file, split
/// into records as it arrives, within the spool quota and the body limit, and is kept only
/// when its signature matches.
async fn hook(
    State(server): State<Arc<Server>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let settings = {
        let (server, name) = (Arc::clone(&server), name.clone());
        match tokio::task::spawn_blocking(move || hook_settings(&server, &name)).await {
            Ok(Ok(settings)) => settings,
            Ok(Err(answer)) => return *answer,
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    };
    let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let hook_headers = HookHeaders {
        id: text("webhook-id"),
        timestamp: text("webhook-timestamp"),
        signature: text("webhook-signature"),
        legacy_signature: text(LEGACY_SIGNATURE_HEADER),
        bearer: text("authorization").and_then(|v| v.strip_prefix("Bearer ")),
    };
    let refuse = |refusal: Refusal| {
        error(
            StatusCode::UNAUTHORIZED,
            &Diag::new(codes::E804_WEBHOOK_REFUSED, refusal.message(&name)),
        )
    };
    let credentials = match hooks::authenticate(
        &settings.key,
        &hook_headers,
        settings.legacy,
        Utc::now().timestamp(),
        settings.tolerance,
    ) {
        Ok(credentials) => credentials,
        Err(refusal) => return refuse(refusal),
    };
    let delivery = match &credentials {
        hooks::Credentials::Standard { id, .. } => Some(id.clone()),
        _ => None,
    };
    if let Some(id) = &delivery {
        let (server, connector, id) = (Arc::clone(&server), name.clone(), id.clone());
        let seen = tokio::task::spawn_blocking(move || {
            server
                .with_reader(|s| s.delivery_seen(&connector, &id).ok())
                .flatten()
        })
        .await;
        if matches!(seen, Ok(Some(true))) {
            return replayed(&name);
        }
    }
    let signing = hooks::Signing::new(&settings.key, credentials);
    let spooled = match receive(&server, &name, body, signing).await {
        Ok(spooled) => spooled,
        Err(answer) => return *answer,
    };
    if let Some(id) = delivery {
        let tolerance = chrono::Duration::seconds(settings.tolerance.saturating_mul(2));
        let (server, connector) = (Arc::clone(&server), name.clone());
        let file = spooled.file.clone();
        let fresh = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            let fresh =
                server.with_writer(|s| s.record_delivery(&connector, &id, now, now - tolerance));
            if !matches!(fresh, Some(Ok(true))) {
                if let Some(file) = file {
                    let _ = std::fs::remove_file(file);
                }
            }
            fresh
        })
        .await;
        match fresh {
            Ok(Some(Ok(true))) => {}
            Ok(Some(Ok(false))) => return replayed(&name),
            Ok(Some(Err(e))) => return error(StatusCode::SERVICE_UNAVAILABLE, &e.to_diag()),
            _ => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &Diag::new(
                        codes::E705_STORE_FAILED,
                        "the store cannot record the delivery",
                    ),
                )
            }
        }
    }
    let records = spooled.file.is_some();
    match server.trigger(&name, Trigger::Webhook, spooled.file) {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({"run": id, "records": records, "status_url": format!("/runs/{id}")})),
        )
            .into_response(),
        Err(diag) => error(StatusCode::CONFLICT, &diag),
    }
}

/// The answer to a delivery received before: 200, and nothing ingested.
fn replayed(name: &str) -> Response {
    let diag = Diag::new(
        codes::E808_WEBHOOK_REPLAYED,
        format!("this delivery of `{name}` was received before: its records are not taken again"),
    );
    (
        StatusCode::OK,
        Json(json!({"duplicate": true, "error": {"code": diag.code.id, "message": diag.message}})),
    )
        .into_response()
}

/// A body received into the spool: its file (none for an empty body, a nudge).
struct Spooled {
    file: Option<std::path::PathBuf>,
}

/// How long a webhook body may pause between two of its chunks.
const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Streams `body` into a new spool file of `name` (written on a blocking thread), signing
/// it as it comes; refuses it past the body limit or the spool quota, and keeps it only
/// when its signature matches (the file becomes a spool file only then).
async fn receive(
    server: &Arc<Server>,
    name: &str,
    body: Body,
    mut signing: hooks::Signing,
) -> Result<Spooled, Box<Response>> {
    let quota = server.config.spool_quota;
    let spool_dir = server.config.spool_dir();
    let used = {
        let (dir, name) = (spool_dir.clone(), name.to_string());
        tokio::task::spawn_blocking(move || hooks::spool_bytes(&dir, &name))
            .await
            .unwrap_or(0)
    };
    let reservation = server.reserve_spool(name);
    let (chunks, mut writes) = tokio::sync::mpsc::channel::<Bytes>(8);
    let (verdict, decided) = tokio::sync::oneshot::channel::<bool>();
    let writer = {
        let (dir, name) = (spool_dir, name.to_string());
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<std::path::PathBuf>> {
            let mut file = hooks::SpoolFile::create(&dir, &name)?;
            while let Some(chunk) = writes.blocking_recv() {
                if let Err(e) = file.write(&chunk) {
                    file.abort();
                    return Err(e);
                }
            }
            match decided.blocking_recv() {
                Ok(true) => file.commit(),
                _ => {
                    file.abort();
                    Ok(None)
                }
            }
        })
    };
    let mut body = body;
    let mut read: u64 = 0;
    let failure = loop {
        let frame = match tokio::time::timeout(BODY_IDLE, body.frame()).await {
            Err(_) => {
                break Some(error(
                    StatusCode::REQUEST_TIMEOUT,
                    &Diag::new(codes::E804_WEBHOOK_REFUSED, "the body stopped arriving"),
                ))
            }
            Ok(None) => break None,
            Ok(Some(Err(e))) => {
                break Some(error(
                    StatusCode::BAD_REQUEST,
                    &Diag::new(
                        codes::E804_WEBHOOK_REFUSED,
                        format!("the body could not be read: {e}"),
                    ),
                ))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read += data.len() as u64;
        if read > HOOK_BODY_LIMIT {
            break Some(too_large(HOOK_BODY_LIMIT));
        }
        if used + reservation.add(data.len() as u64) > quota {
            break Some(error(
                StatusCode::INSUFFICIENT_STORAGE,
                &Diag::new(
                    codes::E809_SPOOL_FULL,
                    format!("the spool of `{name}` is full ({quota} bytes): retry later"),
                ),
            ));
        }
        signing.update(&data);
        if chunks.send(data).await.is_err() {
            break None;
        }
    };
    drop(chunks);
    let failure = failure.or_else(|| {
        signing.verify().err().map(|refusal| {
            error(
                StatusCode::UNAUTHORIZED,
                &Diag::new(codes::E804_WEBHOOK_REFUSED, refusal.message(name)),
            )
        })
    });
    let _ = verdict.send(failure.is_none());
    let written = writer.await;
    match (failure, written) {
        (Some(answer), _) => Err(Box::new(answer)),
        (None, Ok(Ok(file))) => Ok(Spooled { file }),
        (None, Ok(Err(e))) => Err(Box::new(error(
            StatusCode::INSUFFICIENT_STORAGE,
            &sluice_engine::io_diag("cannot keep the hook's records", e),
        ))),
        (None, Err(e)) => Err(Box::new(
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        )),
    }
}
