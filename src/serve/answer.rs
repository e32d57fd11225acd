//! How the API answers with an error: a diagnostic's code and message as JSON, under an
//! HTTP status (used by the routes and by access control alike).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::diagnostics::Diag;

/// A diagnostic as a JSON error answer.
pub fn error(status: StatusCode, diag: &Diag) -> Response {
    (
        status,
        Json(json!({"error": {"code": diag.code.id, "message": diag.message}})),
    )
        .into_response()
}
