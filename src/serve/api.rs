//! The HTTP API of `sluice serve` (axum): connectors and their runs as JSON, manual
//! triggers, webhooks, `/metrics` for Prometheus, and the web page at `/`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::hooks::{self, Refusal, SIGNATURE_HEADER};
use super::state::{Entry, Trigger};
use super::Server;
use crate::diagnostics::{codes, Diag};

/// The largest webhook body taken (larger ones are answered 413).
const HOOK_BODY_LIMIT: usize = 64 << 20;

/// The routes.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/connectors", get(connectors))
        .route("/connectors/{name}", get(connector))
        .route("/connectors/{name}/run", post(run_now))
        .route("/connectors/{name}/dead-letters", get(dead_letters))
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run_of))
        .route("/hooks/{name}", post(hook))
        .layer(axum::extract::DefaultBodyLimit::max(HOOK_BODY_LIMIT))
        .with_state(server)
}

/// A diagnostic as a JSON error answer.
fn error(status: StatusCode, diag: &Diag) -> Response {
    (
        status,
        Json(json!({"error": {"code": diag.code.id, "message": diag.message}})),
    )
        .into_response()
}

fn unknown(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &Diag::new(
            codes::E801_UNKNOWN_CONNECTOR,
            format!("no connector named `{name}` is served"),
        ),
    )
}

async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
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

/// One connector as `GET /connectors` shows it.
fn describe(server: &Server, entry: &Entry, registry: &super::state::Registry) -> Value {
    let loaded = &entry.loaded;
    let state = match (entry.running, loaded.active(), entry.queue.is_empty()) {
        (Some(_), _, _) => "running",
        (None, false, _) => "inactive",
        (None, true, false) => "queued",
        (None, true, true) => "idle",
    };
    let last = entry.last_run.and_then(|id| registry.runs.get(&id));
    json!({
        "name": loaded.name(),
        "set": entry.set,
        "file": entry.path.display().to_string(),
        "direction": loaded.file.connector.sync.direction,
        "frequency": loaded.schedule.describe(),
        "active": loaded.active(),
        "state": state,
        "running_run": entry.running,
        "queued_runs": entry.queue,
        "next_run": entry.next_run,
        "last_run": last,
        "last_success": entry.last_success,
        "failures_in_a_row": entry.failures,
        "reload_error": entry.reload_error,
        "totals": entry.totals,
        "dead_letters": server.with_reader(|s| s.dead_letter_count(loaded.name()).ok()).flatten(),
    })
}

/// Runs `answer` off the async threads: it reads the store, whose PostgreSQL client
/// blocks (and may not run inside the server's runtime).
async fn blocking(answer: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(answer)
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

async fn connectors(State(server): State<Arc<Server>>) -> Response {
    blocking(move || Json(list_connectors(&server)).into_response()).await
}

fn list_connectors(server: &Server) -> Value {
    let registry = server.lock();
    let list: Vec<Value> = registry
        .connectors
        .values()
        .map(|e| describe(server, e, &registry))
        .collect();
    let broken: Vec<Value> = registry
        .broken
        .iter()
        .map(|(path, (_, problems))| json!({"file": path.display().to_string(), "problems": problems}))
        .collect();
    json!({"connectors": list, "broken_files": broken})
}

async fn connector(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    blocking(move || {
        let registry = server.lock();
        match registry.named(&name) {
            Some(entry) => Json(describe(&server, entry, &registry)).into_response(),
            None => unknown(&name),
        }
    })
    .await
}

async fn run_now(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    match server.trigger(&name, Trigger::Manual, None) {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({"run": id, "status_url": format!("/runs/{id}")})),
        )
            .into_response(),
        Err(diag) if diag.code == codes::E801_UNKNOWN_CONNECTOR => unknown(&name),
        Err(diag) => error(StatusCode::CONFLICT, &diag),
    }
}

async fn dead_letters(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    blocking(move || letters_of(&server, &name)).await
}

fn letters_of(server: &Server, name: &str) -> Response {
    if server.lock().named(name).is_none() {
        return unknown(name);
    }
    let letters = server
        .with_reader(|s| s.dead_letters(name).ok())
        .flatten()
        .unwrap_or_default();
    let parsed: Vec<Value> = letters
        .iter()
        .rev()
        .take(100)
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.clone())))
        .collect();
    Json(json!({"connector": name, "count": letters.len(), "latest": parsed})).into_response()
}

async fn runs(State(server): State<Arc<Server>>) -> Json<Value> {
    let registry = server.lock();
    let latest: Vec<&super::state::RunInfo> = registry.runs.values().rev().take(100).collect();
    Json(json!({ "runs": latest }))
}

async fn run_of(State(server): State<Arc<Server>>, Path(id): Path<String>) -> Response {
    let registry = server.lock();
    match id.parse::<u64>().ok().and_then(|id| registry.runs.get(&id)) {
        Some(run) => Json(json!(run)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"message": format!("no run {id} (the server keeps the runs since it started)")}})),
        )
            .into_response(),
    }
}

async fn metrics(State(server): State<Arc<Server>>) -> Response {
    blocking(move || {
        (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            super::metrics::render(&server, Utc::now()),
        )
            .into_response()
    })
    .await
}

async fn hook(
    State(server): State<Arc<Server>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let secret = {
        let registry = server.lock();
        match registry.named(&name) {
            Some(entry) => entry.loaded.file.connector.sync.webhook_secret.clone(),
            None => return unknown(&name),
        }
    };
    let refuse = |message: String| {
        error(
            StatusCode::UNAUTHORIZED,
            &Diag::new(codes::E804_WEBHOOK_REFUSED, message),
        )
    };
    let Some(secret) = secret else {
        return error(
            StatusCode::FORBIDDEN,
            &Diag::new(
                codes::E804_WEBHOOK_REFUSED,
                format!("`{name}` takes no webhooks: it has no `[sync] webhook_secret`"),
            ),
        );
    };
    let secret = match secret.resolve(&format!("{name}: sync.webhook_secret")) {
        Ok(s) => s,
        Err(diag) => return error(StatusCode::INTERNAL_SERVER_ERROR, &diag),
    };
    let header_text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let bearer = header_text("authorization").and_then(|v| v.strip_prefix("Bearer "));
    match hooks::verify(secret.trim_end_matches('\n'), header_text(SIGNATURE_HEADER), bearer, &body) {
        Ok(()) => {}
        Err(Refusal::Unsigned) => {
            return refuse(format!(
                "a hook of `{name}` needs `Authorization: Bearer <secret>` or `{SIGNATURE_HEADER}: sha256=<HMAC>`"
            ))
        }
        Err(Refusal::Mismatch) => {
            return refuse(format!(
                "the signature or token of this hook of `{name}` does not match its secret"
            ))
        }
    }
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match hooks::spool(&server.config.spool_dir(), &name, &hooks::as_ndjson(&body)) {
            Ok(path) => Some(path),
            Err(e) => {
                return error(
                    StatusCode::INSUFFICIENT_STORAGE,
                    &crate::executor::io_diag("cannot keep the hook's records", e),
                )
            }
        }
    };
    let records = input.is_some();
    match server.trigger(&name, Trigger::Webhook, input) {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({"run": id, "records": records, "status_url": format!("/runs/{id}")})),
        )
            .into_response(),
        Err(diag) => error(StatusCode::CONFLICT, &diag),
    }
}
