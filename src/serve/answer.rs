//! How the API answers: an error as a diagnostic's code and message in JSON under an HTTP
//! status (used by the routes and by access control alike), the common refusals, and work
//! that reads the store done off the async threads.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::diagnostics::{codes, Diag};

/// A diagnostic as a JSON error answer.
pub fn error(status: StatusCode, diag: &Diag) -> Response {
    (
        status,
        Json(json!({"error": {"code": diag.code.id, "message": diag.message}})),
    )
        .into_response()
}

/// The answer for a connector not served.
pub fn unknown(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &Diag::new(
            codes::E801_UNKNOWN_CONNECTOR,
            format!("no connector named `{name}` is served"),
        ),
    )
}

/// The answer for a body over `limit` bytes.
pub fn too_large(limit: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &Diag::new(
            codes::E804_WEBHOOK_REFUSED,
            format!("the body is larger than {limit} bytes"),
        ),
    )
}

/// Runs `answer` off the async threads: it reads the store, whose PostgreSQL client
/// blocks (and may not run inside the server's runtime).
pub async fn blocking(answer: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(answer)
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

/// A request's JSON body of at most `limit` bytes read as `T`; otherwise the answer that
/// says why (413 too large, or 400 naming the `shape` expected).
pub async fn json_body<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    limit: usize,
    shape: &str,
) -> Result<T, Response> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit as u64))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &Diag::new(
                codes::E610_INVALID_SETTING,
                format!("the request is not {shape}: {e}"),
            ),
        )
    })
}
