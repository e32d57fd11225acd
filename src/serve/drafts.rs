//! The wizard's connector, as the page builds it (the connector's JSON form): `POST
//! /studio/connectors` checks it as `sluice check` does, shows it as the TOML file it would
//! be, dry-runs it over the sample records (each record's output, the condition that
//! filtered it, or its dead letter's code), counts the sample records each condition passes,
//! and — when asked to write, and only when it has no problem — writes it into the served
//! directory with its sample beside it, keeping the file it replaces. New connectors are
//! written inactive unless activation is asked for. Admin only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{blocking, error, json_body};
use super::Server;
use crate::diagnostics::{codes, Diag};
use crate::transform::connector::{Conflict, Connector};
use crate::{Context, Options, Output, Program};

/// The largest request: a connector and its sample records.
const BODY_LIMIT: usize = 1024 * 1024;
/// The most sample records dry-run.
const RECORDS: usize = 50;

/// What the page sends.
#[derive(Deserialize)]
struct Draft {
    connector: serde_json::Map<String, Value>,
    #[serde(default)]
    records: Vec<serde_json::Map<String, Value>>,
    /// Write the file when the connector has no problem.
    #[serde(default)]
    write: bool,
    /// Credentials typed in for the connector's `secret:NAME` references, sealed into the
    /// store when the file is written.
    #[serde(default)]
    secrets: super::connections::Entered,
}

/// `POST /studio/connectors`.
pub async fn draft(State(server): State<Arc<Server>>, body: Body) -> Response {
    let draft: Draft = match json_body(body, BODY_LIMIT, "{connector, records, write}").await {
        Ok(draft) => draft,
        Err(refused) => return refused,
    };
    blocking(move || answer(&server, draft)).await
}

fn answer(server: &Server, draft: Draft) -> Response {
    let name = draft
        .connector
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(dir) = served_dir(&server.config.paths) else {
        return error(
            StatusCode::CONFLICT,
            &Diag::new(
                codes::E610_INVALID_SETTING,
                "this server serves no directory to write connectors into",
            ),
        );
    };
    let path = dir.join(format!("{}.toml", file_name(&name)));
    let sample = dir.join(format!("{}.sample.ndjson", file_name(&name)));
    let toml = match as_toml(&draft.connector, &sample) {
        Ok(toml) => toml,
        Err(message) => return Json(
            json!({"toml": "", "problems": [{"code": codes::E601_CONNECTOR_SYNTAX.id, "message": message, "line": null}]}),
        )
        .into_response(),
    };
    let mut problems = check(&path, &toml, &server.config.limits);
    let clash = server
        .lock()
        .named(&name)
        .map(|e| e.path.clone())
        .filter(|other| !same_file(other, &path));
    if let Some(other) = clash {
        problems.push(json!({"code": codes::E610_INVALID_SETTING.id, "line": 1, "message": format!("a connector named `{name}` is served already from {}: the name must be unique", other.display())}));
    }
    // the connector itself, read once (it reads whenever `sluice check` found no problem)
    let connector: Option<Connector> =
        serde_json::from_value(Value::Object(draft.connector.clone())).ok();
    if let (true, Some(connector)) = (problems.is_empty(), &connector) {
        for diag in super::connections::sealed_problems(server, connector, &draft.secrets) {
            problems.push(problem(&diag));
        }
    }
    let (mut dry_run, conditions) = match problems.is_empty() {
        true => dry_run(&draft, server.config.limits),
        false => (Vec::new(), Vec::new()),
    };
    if let Some(connector) = &connector {
        against_store(server, connector, &mut dry_run);
    }
    let written = match (draft.write, problems.is_empty()) {
        (true, true) => {
            match seal_and_write(server, connector.as_ref(), &draft, (&path, &toml, &sample)) {
                Ok(()) => Some(path.display().to_string()),
                Err(diag) => {
                    problems.push(problem(&diag));
                    None
                }
            }
        }
        _ => None,
    };
    Json(json!({
        "toml": toml,
        "problems": problems,
        "dry_run": dry_run,
        "conditions": conditions,
        "written": written,
    }))
    .into_response()
}

/// The first directory the server serves: where new connectors go.
fn served_dir(paths: &[PathBuf]) -> Option<PathBuf> {
    paths.iter().find(|p| p.is_dir()).cloned()
}

/// A file name for a connector named `name`: letters, digits, `-` and `_` kept.
fn file_name(name: &str) -> String {
    let safe = sluice_engine::safe_name(name);
    match safe.trim_matches('_').is_empty() {
        true => "connector".into(),
        false => safe,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The connector as its TOML file, naming its sample file in the first line.
fn as_toml(connector: &serde_json::Map<String, Value>, sample: &Path) -> Result<String, String> {
    let body = toml::to_string(connector)
        .map_err(|e| format!("the connector is not a TOML document: {e}"))?;
    let sample = sample
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(format!(
        "# sample: {sample}\n# written by Sluice Studio\n{body}"
    ))
}

/// The problems `sluice check` finds in the file `toml` at `path`.
fn check(path: &Path, toml: &str, limits: &crate::limits::Limits) -> Vec<Value> {
    let shown = path.display().to_string();
    crate::executor::prepare::problems_in(&shown, toml, false, limits)
        .iter()
        .map(|p| {
            let place = p.formula.as_ref().map(|f| f.place.to_string());
            let detail = p
                .formula
                .as_ref()
                .and_then(|f| f.diags.first())
                .map(|d| d.message.clone());
            json!({"code": p.diag.code.id, "message": detail.unwrap_or_else(|| p.diag.message.clone()), "line": p.line, "place": place})
        })
        .collect()
}

/// Each sample record through the connector, and how many pass each condition.
fn dry_run(draft: &Draft, limits: crate::limits::Limits) -> (Vec<Value>, Vec<Value>) {
    let options = Options {
        limits,
        ..Options::default()
    };
    let text = Value::Object(draft.connector.clone()).to_string();
    let Ok(program) = Program::from_json(&text, &options) else {
        return (Vec::new(), Vec::new());
    };
    let ctx = Context::at_instant(chrono::Utc::now().fixed_offset());
    let records: Vec<Value> = draft
        .records
        .iter()
        .take(RECORDS)
        .map(|r| Value::Object(r.clone()))
        .collect();
    let outcomes = records
        .iter()
        .map(|record| match program.execute_json(record, &ctx) {
            Ok(Output::Mapped(fields)) => {
                let line = Output::Mapped(fields).to_json().unwrap_or_default();
                json!({"output": serde_json::from_str::<Value>(&line).unwrap_or(Value::Null)})
            }
            Ok(Output::Filtered { condition }) => json!({"filtered": condition}),
            Err(e) => {
                json!({"dead_letter": {"code": e.code, "message": e.message}})
            }
        })
        .collect();
    let conditions = draft
        .connector
        .get("conditions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(|condition| {
                    let passing = Program::compile_with(condition, &options).map_or(0, |p| {
                        records
                            .iter()
                            .filter(|r| {
                                matches!(p.execute_json(r, &ctx), Ok(Output::Mapped(f))
                                    if f.get("result").is_some_and(|v| v.to_json() == "true"))
                            })
                            .count()
                    });
                    json!({"condition": condition, "passing": passing, "of": records.len()})
                })
                .collect()
        })
        .unwrap_or_default();
    (outcomes, conditions)
}

/// What each mapped record of a dry run would do to the store (for an outbound side into
/// the store): create a record, change some fields of the stored one — under `conflict =
/// "manual_review"` wait for a review instead, under `"fentu_wins"` add only what is
/// missing —, or change nothing.
fn against_store(server: &Server, connector: &Connector, outcomes: &mut [Value]) {
    let outbound = &connector.outbound;
    let (Some(object), Some(key)) = (&outbound.object, &outbound.primary_key) else {
        return;
    };
    if outbound.system != "store" {
        return;
    }
    let looked = server.with_reader(|store| {
        for outcome in outcomes.iter_mut() {
            let Some(output) = outcome.get("output").and_then(Value::as_object) else {
                continue;
            };
            let Some(stored) = output
                .get(key)
                .and_then(|k| crate::value::Value::from_json_value(k).ok())
                .and_then(|k| store.latest_equal(object, key, &k).ok().flatten())
            else {
                outcome["store"] = json!({"action": "create"});
                continue;
            };
            let stored = stored.to_json_value();
            let changed: Vec<&String> = output
                .iter()
                .filter(|(field, value)| stored.get(field.as_str()) != Some(value))
                .map(|(field, _)| field)
                .collect();
            let action = match (changed.is_empty(), connector.sync.conflict) {
                (true, _) => "unchanged",
                (false, Conflict::ManualReview) => "review",
                (false, Conflict::FentuWins) => "keep_stored",
                (false, _) => "update",
            };
            outcome["store"] = json!({"action": action, "fields": changed, "stored": stored});
        }
    });
    // no store file yet: every record would be new
    let store = &server.config.store;
    if looked.is_none() && !store.to_string_lossy().contains("://") && !store.exists() {
        for outcome in outcomes.iter_mut().filter(|o| o.get("output").is_some()) {
            outcome["store"] = json!({"action": "create"});
        }
    }
}

/// A problem of the draft that is not a line of its file, as the page lists it.
fn problem(diag: &Diag) -> Value {
    json!({"code": diag.code.id, "line": null, "message": diag.message, "help": diag.help})
}

/// Seals the credentials typed in, then writes the connector file and its sample (a file
/// is never written whose secrets are not kept).
fn seal_and_write(
    server: &Server,
    connector: Option<&Connector>,
    draft: &Draft,
    (path, toml, sample): (&Path, &str, &Path),
) -> Result<(), Diag> {
    if let Some(connector) = connector {
        super::connections::seal(server, connector, &draft.secrets)?;
    }
    write(path, toml, sample, &draft.records)
        .map_err(|e| sluice_engine::io_diag(&format!("cannot write {}", path.display()), e))
}

/// Writes the connector and its sample, keeping the file it replaces as
/// `<file>.~<seconds>~` (not a connector file: the server does not serve it).
fn write(
    path: &Path,
    toml: &str,
    sample: &Path,
    records: &[serde_json::Map<String, Value>],
) -> std::io::Result<()> {
    let lines: String = records
        .iter()
        .map(|r| format!("{}\n", Value::Object(r.clone())))
        .collect();
    std::fs::write(sample, lines)?;
    keep_and_write(path, toml)
}

/// Writes `text` to the connector file `path`, keeping the file it replaces as
/// `<file>.~<seconds>~` (a later one in the same second gets the next free second).
pub fn keep_and_write(path: &Path, text: &str) -> std::io::Result<()> {
    if path.exists() {
        let mut stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let kept = loop {
            let kept = path.with_extension(format!("toml.~{stamp}~"));
            if !kept.exists() {
                break kept;
            }
            stamp += 1;
        };
        std::fs::copy(path, kept)?;
    }
    // written whole under another name, then renamed: the watcher never reads half a file
    let partial = path.with_extension("toml.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}
