//! What the page's monitoring shows beyond the connector list: a connector's run history
//! from the store (for its charts), and the manual review queue — conflicts a
//! `manual_review` connector held back, the stored and the incoming record side by side —
//! with the decisions on them (take the incoming record, or keep the stored one).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{blocking, error, json_body};
use super::Server;
use crate::diagnostics::{codes, Diag};
use crate::store::sync::{Decision, ReviewFilter};
use crate::store::StoreError;

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

/// The largest edited record.
const EDIT_LIMIT: usize = 1024 * 1024;

/// An edited record, as the page sends it.
#[derive(Deserialize)]
struct Edited {
    record: serde_json::Map<String, Value>,
}

/// `POST /reviews/{id}/{accept|reject|edit}`: takes the incoming record into the store,
/// keeps the stored one, or takes the incoming one as edited (`{record}`).
pub async fn decide(
    State(server): State<Arc<Server>>,
    Path((id, decision)): Path<(String, String)>,
    body: Body,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let decision = match decision.as_str() {
        "accept" => Decision::Take,
        "reject" => Decision::Keep,
        "edit" => match json_body::<Edited>(body, EDIT_LIMIT, "{record}").await {
            Ok(edited) => Decision::TakeEdited(Value::Object(edited.record).to_string()),
            Err(refused) => return refused,
        },
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    blocking(move || {
        let decided = server.with_writer(|s| s.decide_review(id, &decision, chrono::Utc::now()));
        let status = decision.status();
        stored(
            decided,
            || json!({"review": id, "status": status}),
            || format!("no pending review {id}"),
        )
    })
    .await
}

/// A dead letter's record as a person fixed it.
#[derive(Deserialize)]
struct LetterEdit {
    input: String,
    line: u64,
    record: serde_json::Map<String, Value>,
}

/// `POST /connectors/{name}/dead-letters/edit`: replaces a dead letter's record
/// (`{input, line, record}`) with the one a person fixed; a retry then runs it. Admin only,
/// as the letters are.
pub async fn edit_letter(
    State(server): State<Arc<Server>>,
    Path(name): Path<String>,
    body: Body,
) -> Response {
    let edit: LetterEdit = match json_body(body, EDIT_LIMIT, "{input, line, record}").await {
        Ok(edit) => edit,
        Err(refused) => return refused,
    };
    blocking(move || {
        if server.lock().named(&name).is_none() {
            return super::answer::unknown(&name);
        }
        let edited =
            server.with_writer(|s| s.edit_dead_letter(&name, &edit.input, edit.line, &edit.record));
        stored(
            edited,
            || json!({"connector": name, "input": edit.input, "line": edit.line, "status": "edited"}),
            || format!("connector `{name}` has no dead letter at line {} of {}", edit.line, edit.input),
        )
    })
    .await
}

/// The answer to a change of the store: `done` when made, 404 with `missing` when there
/// was nothing to change, the store's error otherwise.
fn stored(
    result: Option<Result<bool, StoreError>>,
    done: impl FnOnce() -> Value,
    missing: impl FnOnce() -> String,
) -> Response {
    match result {
        Some(Ok(true)) => Json(done()).into_response(),
        Some(Ok(false)) => error(
            StatusCode::NOT_FOUND,
            &Diag::new(codes::E801_UNKNOWN_CONNECTOR, missing()),
        ),
        Some(Err(e @ StoreError::Refused(_))) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_diag())
        }
        Some(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_diag()),
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            &Diag::new(codes::E705_STORE_FAILED, "the store cannot be opened"),
        ),
    }
}
