//! The served connectors as `GET /connectors` and `GET /connectors/{name}` show them: each
//! with its state, schedule, runs (this server's and the store's latest), the running run's
//! progress, its lag and its dead letters; the list searched and paged on the server.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use super::answer::{blocking, unknown};
use super::state::Entry;
use super::Server;

/// What the store says of the served connectors (or of the one named), read before the
/// registry is locked: no store query runs under the registry's lock.
#[derive(Default)]
struct FromStore {
    /// Dead letters per connector.
    letters: std::collections::HashMap<String, u64>,
    /// The latest run of each connector that read records, whoever ran it (this server or
    /// a `sluice run` on the same store, before the server started too).
    runs: std::collections::HashMap<String, Value>,
}

/// What the store says of the connectors `names` (one of them: `only`).
fn from_store(server: &Server, names: &[String], only: Option<&str>) -> FromStore {
    server
        .with_reader(|s| FromStore {
            runs: s
                .last_runs(only)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| !r.run.noop)
                .map(|r| {
                    let m = r.run;
                    let status = if m.stopped { "stopped" } else { "succeeded" };
                    (
                        m.connector.clone(),
                        json!({"status": status, "started_at": m.started_at, "ended_at": m.ended_at,
                               "read": m.counts.read, "written": m.counts.written,
                               "filtered": m.counts.filtered, "failed": m.counts.failed,
                               "error_rate": m.error_rate, "p50_us": m.p50_us}),
                    )
                })
                .collect(),
            letters: names
                .iter()
                .cloned()
                .filter_map(|n| s.dead_letter_count(&n).ok().map(|c| (n, c)))
                .collect(),
        })
        .unwrap_or_default()
}

/// One connector as `GET /connectors` shows it, with what the store says of it.
fn describe(entry: &Entry, registry: &super::state::Registry, stored: &FromStore) -> Value {
    let loaded = &entry.loaded;
    let state = match (entry.running, loaded.active(), entry.queue.is_empty()) {
        (Some(_), _, _) => "running",
        (None, false, _) => "inactive",
        (None, true, false) => "queued",
        (None, true, true) => "idle",
    };
    let last = entry.last_run.and_then(|id| registry.runs.get(&id));
    let current = entry.running.and_then(|id| registry.runs.get(&id));
    let synced_at = synced_at(entry, current, stored.runs.get(loaded.name()));
    json!({
        "name": loaded.name(),
        "set": entry.set,
        "file": entry.path.display().to_string(),
        "direction": loaded.file.connector.sync.direction,
        "frequency": loaded.describe_schedule(),
        "active": loaded.active(),
        "state": state,
        "running_run": entry.running,
        "current_run": current,
        "synced_at": synced_at,
        "lag_seconds": synced_at.map(|t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0),
        "queued_runs": entry.queue,
        "next_run": entry.next_run,
        "last_run": last,
        "last_stored_run": stored.runs.get(loaded.name()),
        "last_success": entry.last_success,
        "failures_in_a_row": entry.failures,
        "failing": entry.failing,
        "last_checked": entry.last_checked,
        "runnable": loaded.reads_without_input(),
        "reload_error": entry.reload_error,
        "totals": entry.totals,
        "dead_letters": stored.letters.get(loaded.name()),
    })
}

/// When the connector's synced data was last brought up to date: the running run's last
/// commit, else the end of its last successful run (this server's, or the store's latest).
/// Its age is the connector's lag.
fn synced_at(
    entry: &Entry,
    current: Option<&super::state::RunInfo>,
    stored: Option<&Value>,
) -> Option<chrono::DateTime<Utc>> {
    let committed = current
        .and_then(|r| r.progress.as_ref())
        .and_then(|p| p.now().last_commit_at);
    let stored = stored
        .and_then(|r| r["ended_at"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    [committed, entry.last_success, stored]
        .into_iter()
        .flatten()
        .max()
}

/// `GET /connectors[?q=&offset=&limit=]`: the served connectors by name — all of them, or
/// those whose name contains `q` (any case), `limit` of them from `offset` (the page's list
/// asks for one page: with thousands of connectors it counts the dead letters of those
/// only; the latest runs are one query for all) — with the files that do not load.
pub async fn connectors(
    State(server): State<Arc<Server>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page = Page {
        q: query.get("q").map(|q| q.to_lowercase()).unwrap_or_default(),
        offset: query
            .get("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        limit: query.get("limit").and_then(|v| v.parse().ok()),
    };
    blocking(move || Json(list_connectors(&server, &page)).into_response()).await
}

/// Which connectors a list asks for.
struct Page {
    q: String,
    offset: usize,
    limit: Option<usize>,
}

fn list_connectors(server: &Server, page: &Page) -> Value {
    let (total, matching, names) = {
        let registry = server.lock();
        let mut names: Vec<String> = registry
            .connectors
            .values()
            .map(|e| e.loaded.name().to_string())
            .collect();
        let total = names.len();
        names.retain(|n| n.to_lowercase().contains(&page.q));
        names.sort();
        let matching = names.len();
        let shown: Vec<String> = names
            .into_iter()
            .skip(page.offset)
            .take(page.limit.unwrap_or(usize::MAX))
            .collect();
        (total, matching, shown)
    };
    let stored = from_store(server, &names, None);
    let registry = server.lock();
    let list: Vec<Value> = names
        .iter()
        .filter_map(|n| registry.named(n))
        .map(|e| describe(e, &registry, &stored))
        .collect();
    let broken: Vec<Value> = registry
        .broken
        .iter()
        .map(|(path, (_, problems))| json!({"file": path.display().to_string(), "problems": problems}))
        .collect();
    json!({"connectors": list, "total": total, "matching": matching, "offset": page.offset, "broken_files": broken})
}

/// `GET /connectors/{name}`: one connector as the list shows it.
pub async fn connector(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    blocking(move || {
        let stored = from_store(&server, std::slice::from_ref(&name), Some(&name));
        let registry = server.lock();
        match registry.named(&name) {
            Some(entry) => Json(describe(entry, &registry, &stored)).into_response(),
            None => unknown(&name),
        }
    })
    .await
}
