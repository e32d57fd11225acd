//! A served connector as the wizard edits it, and its versions: `GET
//! /studio/connectors/{name}` gives its file as the wizard's JSON, its sample records and
//! the versions kept beside it (each save keeps the file it replaces as
//! `<file>.~<seconds>~`), with their texts for a diff; `POST
//! /studio/connectors/{name}/revert` puts a version back (keeping the file it replaces, so a
//! revert can be reverted), and the server reloads it. Admin only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::answer::{blocking, error, json_body, unknown};
use super::Server;
use crate::diagnostics::{codes, Diag};

/// The sample records sent to the wizard, at most.
const SAMPLE_RECORDS: usize = 50;

/// The file of the connector named `name`, when it is served.
fn file_of(server: &Server, name: &str) -> Option<PathBuf> {
    server.lock().named(name).map(|e| e.path.clone())
}

/// The versions kept beside `path`, newest first: their stamp and file.
fn versions(path: &Path) -> Vec<(u64, PathBuf)> {
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.~", file.to_string_lossy());
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stamp = name
                .strip_prefix(&prefix)?
                .strip_suffix('~')?
                .parse()
                .ok()?;
            Some((stamp, entry.path()))
        })
        .collect();
    found.sort_by_key(|v| std::cmp::Reverse(v.0));
    found
}

/// `GET /studio/connectors/{name}`.
pub async fn connector(
    State(server): State<Arc<Server>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    blocking(move || {
        let Some(path) = file_of(&server, &name) else {
            return unknown(&name);
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let as_json = toml::from_str::<toml::Value>(&text)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or(Value::Null);
        let records: Vec<Value> = crate::transform::connector_file::ConnectorFile::from_text(
            &path.display().to_string(),
            &text,
            false,
        )
        .map(|f| f.sample_records(SAMPLE_RECORDS))
        .unwrap_or_default()
        .into_iter()
        .map(Value::Object)
        .collect();
        let kept: Vec<Value> = versions(&path)
            .into_iter()
            .map(|(stamp, file)| {
                json!({"version": stamp.to_string(), "text": std::fs::read_to_string(file).unwrap_or_default()})
            })
            .collect();
        Json(json!({"connector": as_json, "file": path.display().to_string(), "text": text,
                    "records": records, "versions": kept}))
        .into_response()
    })
    .await
}

/// What a revert asks for.
#[derive(serde::Deserialize)]
struct Revert {
    /// The version's stamp (its seconds).
    version: String,
}

/// `POST /studio/connectors/{name}/revert` with `{"version": "<seconds>"}`.
pub async fn revert(
    State(server): State<Arc<Server>>,
    UrlPath(name): UrlPath<String>,
    body: Body,
) -> Response {
    let version = match json_body::<Revert>(body, 4096, "{version}").await {
        Ok(asked) => asked.version,
        Err(refused) => return refused,
    };
    blocking(move || {
        let Some(path) = file_of(&server, &name) else {
            return unknown(&name);
        };
        let Some((_, kept)) = versions(&path)
            .into_iter()
            .find(|(stamp, _)| stamp.to_string() == version)
        else {
            return error(
                StatusCode::NOT_FOUND,
                &Diag::new(
                    codes::E801_UNKNOWN_CONNECTOR,
                    format!("`{name}` has no version {version}"),
                ),
            );
        };
        match put_back(&path, &kept) {
            Ok(()) => Json(json!({"reverted": version, "file": path.display().to_string()}))
                .into_response(),
            Err(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &sluice_engine::io_diag(&format!("cannot revert {}", path.display()), e),
            ),
        }
    })
    .await
}

/// Puts `kept` back at `path`, keeping the file it replaces as a version of its own.
fn put_back(path: &Path, kept: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(kept)?;
    super::drafts::keep_and_write(path, &text)
}
