//! What the page's monitoring shows beyond the connector list: a connector's run history
//! from the store (for its charts), and the manual review queue — conflicts a
//! `manual_review` connector held back, the stored and the incoming record side by side —
//! with the decisions on them (take the incoming record, or keep the stored one).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::answer::blocking;
use super::Server;
use crate::diagnostics::codes;
use crate::store::sync::ReviewFilter;

/// The runs a history shows unless `?limit=N` says otherwise, and the most it shows.
const HISTORY: u64 = 50;
const HISTORY_MAX: u64 = 1000;

/// `GET /connectors/{name}/history`: its runs that read something, newest first.
pub async fn history(
    State(server): State<Arc<Server>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(HISTORY)
        .clamp(1, HISTORY_MAX);
    blocking(move || {
        if server.lock().named(&name).is_none() {
            return super::answer::unknown(&name);
        }
        let runs = server
            .with_reader(|s| s.run_history(&name, limit).ok())
            .flatten()
            .unwrap_or_default();
        Json(json!({"connector": name, "runs": runs})).into_response()
    })
    .await
}

/// `GET /reviews[?status=pending|lost|all]`: the review queue, oldest first.
pub async fn reviews(
    State(server): State<Arc<Server>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let which = match query.get("status").map(String::as_str) {
        Some("lost") => ReviewFilter::Lost,
        Some("all") => ReviewFilter::All,
        _ => ReviewFilter::Pending,
    };
    blocking(move || {
        let reviews = server
            .with_reader(|s| s.reviews(which).ok())
            .flatten()
            .unwrap_or_default();
        Json(json!({"reviews": reviews})).into_response()
    })
    .await
}

/// `POST /reviews/{id}/{accept|reject}`: takes the incoming record into the store, or
/// keeps the stored one.
pub async fn decide(
    State(server): State<Arc<Server>>,
    Path((id, decision)): Path<(String, String)>,
) -> Response {
    let accept = match decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let Ok(id) = id.parse::<i64>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    blocking(move || {
        let decided = server.with_writer(|s| s.decide_review(id, accept, chrono::Utc::now()));
        match decided {
            Some(Ok(true)) => Json(json!({"review": id, "status": if accept { "accepted" } else { "rejected" }})).into_response(),
            Some(Ok(false)) => (
                StatusCode::NOT_FOUND,
                Json(json!({"error": {"code": codes::E801_UNKNOWN_CONNECTOR.id, "message": format!("no pending review {id}")}})),
            )
                .into_response(),
            Some(Err(e)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": {"code": codes::E705_STORE_FAILED.id, "message": e.to_string()}})),
            )
                .into_response(),
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": {"code": codes::E705_STORE_FAILED.id, "message": "the store cannot be opened"}})),
            )
                .into_response(),
        }
    })
    .await
}
