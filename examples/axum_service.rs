//! A minimal transform service embedding Sluice in Axum: connectors are compiled from a
//! request body and kept by name; NDJSON posted to a connector comes back transformed.
//!
//! ```text
//! axum_service [ADDR]                       (default 127.0.0.1:0; prints the address)
//! PUT  /connectors/{name}      TOML body    → 201 {"targets": [...], "input_fields": [...]}
//!                                             or 422 {"error": {kind, code, message, line, span, target}}
//! POST /connectors/{name}/run  NDJSON body  → one line per record: the mapped record,
//!                                             {"filtered": N} or {"error": {...}}
//! ```
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

type Programs = Arc<RwLock<HashMap<String, sluice::Program>>>;

fn error_json(e: &sluice::Error) -> Value {
    json!({"error": {
        "kind": format!("{:?}", e.kind),
        "code": e.code,
        "message": e.message,
        "line": e.line,
        "span": e.span.as_ref().map(|s| [s.start, s.end]),
        "target": e.target,
        "condition": e.condition,
    }})
}

async fn compile(
    State(programs): State<Programs>,
    Path(name): Path<String>,
    body: String,
) -> (StatusCode, Json<Value>) {
    match sluice::Program::from_toml(&body, &sluice::Options::default()) {
        Ok(program) => {
            let answer = json!({
                "targets": program.targets().collect::<Vec<_>>(),
                "input_fields": program.input_fields(),
            });
            if let Ok(mut programs) = programs.write() {
                programs.insert(name, program);
            }
            (StatusCode::CREATED, Json(answer))
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Json(error_json(&e))),
    }
}

async fn run(
    State(programs): State<Programs>,
    Path(name): Path<String>,
    body: Bytes,
) -> (StatusCode, String) {
    let Some(program) = programs.read().ok().and_then(|p| p.get(&name).cloned()) else {
        return (StatusCode::NOT_FOUND, format!("no connector `{name}`\n"));
    };
    let Ok(ctx) = sluice::Context::at(&chrono::Utc::now().to_rfc3339()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
    };
    let transformed = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let answer = match program.execute_ndjson(line, &ctx) {
                Ok(sluice::Output::Filtered { condition }) => {
                    json!({ "filtered": condition }).to_string()
                }
                Ok(mapped) => mapped.to_json().unwrap_or_default(),
                Err(e) => error_json(&e).to_string(),
            };
            out.push_str(&answer);
            out.push('\n');
        }
        out
    })
    .await;
    match transformed {
        Ok(out) => (StatusCode::OK, out),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let programs: Programs = Arc::default();
    let app = Router::new()
        .route("/connectors/{name}", put(compile))
        .route("/connectors/{name}/run", post(run))
        .with_state(programs);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
