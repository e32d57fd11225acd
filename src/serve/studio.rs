//! The page's formula playground and editor: `POST /studio/formula` analyses a formula
//! against sample records — the problems `sluice check` finds (with their spans), the type
//! and the IR, each record's value or runtime error, and, at a cursor, completion and
//! signature help. The analysis is the library's own (`analysis`); evaluation goes through
//! the embedding API with the server's limits and no store lookups. It changes nothing, so
//! the read role may use it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{blocking, json_body};
use super::Server;
use crate::analysis;
use crate::compile::{compile, CompileOptions};
use crate::{Context, Options, Output, Program};

/// The largest request: a formula and its sample records.
const BODY_LIMIT: usize = 256 * 1024;
/// The most sample records evaluated.
const RECORDS: usize = 20;

/// What the page asks.
#[derive(Deserialize)]
struct Ask {
    formula: String,
    #[serde(default)]
    records: Vec<serde_json::Map<String, Value>>,
    /// The cursor (a byte offset into the formula), for completion and signature help.
    #[serde(default)]
    cursor: Option<usize>,
}

/// `POST /studio/formula`.
pub async fn formula(State(server): State<Arc<Server>>, body: Body) -> Response {
    let ask: Ask = match json_body(body, BODY_LIMIT, "{formula, records, cursor}").await {
        Ok(ask) => ask,
        Err(refused) => return refused,
    };
    let limits = server.config.limits;
    blocking(move || Json(analyse(&ask, limits)).into_response()).await
}

fn analyse(ask: &Ask, limits: crate::limits::Limits) -> Value {
    let options = CompileOptions {
        limits,
        ..CompileOptions::default()
    };
    let text = &ask.formula;
    // compiled once: its diagnostics are the findings, its IR the type
    let (compiled, diags) = match compile(text, &options) {
        Ok(formula) => (Some(formula), Vec::new()),
        Err(diags) => (None, diags),
    };
    let findings: Vec<Value> = diags
        .iter()
        .map(|d| analysis::Finding::of(d, text.len()))
        .map(|f| {
            json!({"code": f.code, "message": f.message, "start": f.start, "end": f.end,
                   "label": f.label, "help": f.help})
        })
        .collect();
    let mut fields: Vec<String> = ask.records.iter().flat_map(|r| r.keys().cloned()).collect();
    fields.sort();
    fields.dedup();
    let (completion, signature) = match ask.cursor {
        Some(at) => {
            let (start, items) = analysis::complete(text, at, &fields);
            let items: Vec<Value> = items
                .into_iter()
                .map(|c| {
                    let kind = match c.kind {
                        analysis::CompletionKind::Function => "function",
                        analysis::CompletionKind::Field => "field",
                        analysis::CompletionKind::Keyword => "keyword",
                    };
                    json!({"label": c.label, "insert": c.insert, "kind": kind, "detail": c.detail, "doc": c.doc})
                })
                .collect();
            let signature = analysis::signature_help(text, at).map(
                |s| json!({"label": s.label, "params": s.params, "active": s.active, "doc": s.doc}),
            );
            (json!({"start": start, "items": items}), signature)
        }
        None => (Value::Null, None),
    };
    json!({
        "findings": findings,
        "type": compiled.as_ref().map(|f| f.ir.ty.to_string()),
        "ir": compiled.as_ref().map(|f| f.ir.dump()),
        "values": if findings.is_empty() { values(text, &ask.records, limits) } else { Vec::new() },
        "fields": fields,
        "completion": completion,
        "signature": signature,
    })
}

/// Each sample record's value of the formula, or its runtime error.
fn values(
    text: &str,
    records: &[serde_json::Map<String, Value>],
    limits: crate::limits::Limits,
) -> Vec<Value> {
    let options = Options {
        limits,
        ..Options::default()
    };
    let Ok(program) = Program::compile_with(text, &options) else {
        return Vec::new();
    };
    let ctx = Context::at_instant(chrono::Utc::now().fixed_offset());
    records
        .iter()
        .take(RECORDS)
        .map(
            |record| match program.execute_json(&Value::Object(record.clone()), &ctx) {
                Ok(Output::Mapped(fields)) => {
                    let shown = fields
                        .get("result")
                        .map_or_else(|| "null".to_string(), |v| v.to_json());
                    json!({"value": serde_json::from_str::<Value>(&shown).unwrap_or(Value::Null)})
                }
                Ok(_) => json!({"value": null}),
                Err(e) => {
                    json!({"error": {"code": e.code, "message": e.message}})
                }
            },
        )
        .collect()
}
