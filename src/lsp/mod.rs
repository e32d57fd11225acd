//! `sluice lsp`: a Language Server Protocol server over stdio for connector files. An
//! editor that opens a connector (TOML or JSON) gets the problems `sluice check` finds at
//! their line and column as the file is typed, and inside a formula (`formula = "…"`, the
//! `conditions`) completion of functions and field names, hover docs and types, and
//! signature help — the same analysis the REPL and the page use (`analysis`).

mod document;
mod position;

use std::collections::HashMap;
use std::path::PathBuf;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Completion, HoverRequest, Request as _, SignatureHelpRequest};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, HoverParams, HoverProviderCapability,
    PublishDiagnosticsParams, ServerCapabilities, SignatureHelpOptions, SignatureHelpParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};

use crate::limits::Limits;
use document::Document;

/// The open documents: each one's path and text, by URI.
type Open = HashMap<String, (PathBuf, String)>;

/// Serves the protocol on stdin and stdout until the editor asks it to exit.
pub fn serve_stdio(limits: Limits) -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["(".into(), "'".into(), "$".into()]),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let capabilities = serde_json::to_value(capabilities).map_err(|e| e.to_string())?;
    connection
        .initialize(capabilities)
        .map_err(|e| e.to_string())?;
    let mut open = Open::new();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    break;
                }
                let response = answer(&open, request);
                connection
                    .sender
                    .send(Message::Response(response))
                    .map_err(|e| e.to_string())?;
            }
            Message::Notification(notification) => {
                if let Some(uri) = update(&mut open, notification) {
                    publish(&connection, &open, &uri, &limits)?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
}

/// The path of a `file://` URI (the URI itself for another scheme: a file never saved).
fn path_of(uri: &Uri) -> PathBuf {
    url::Url::parse(uri.as_str())
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .unwrap_or_else(|| PathBuf::from(uri.as_str()))
}

/// Applies a document notification; the URI whose problems are to be published again.
fn update(open: &mut Open, notification: Notification) -> Option<String> {
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let params: DidOpenTextDocumentParams =
                serde_json::from_value(notification.params).ok()?;
            let uri = params.text_document.uri;
            let key = uri.as_str().to_string();
            open.insert(key.clone(), (path_of(&uri), params.text_document.text));
            Some(key)
        }
        DidChangeTextDocument::METHOD => {
            let params: DidChangeTextDocumentParams =
                serde_json::from_value(notification.params).ok()?;
            let key = params.text_document.uri.as_str().to_string();
            let text = params.content_changes.into_iter().last()?.text;
            let entry = open.get_mut(&key)?;
            entry.1 = text;
            Some(key)
        }
        DidCloseTextDocument::METHOD => {
            let params: DidCloseTextDocumentParams =
                serde_json::from_value(notification.params).ok()?;
            open.remove(params.text_document.uri.as_str());
            None
        }
        _ => None,
    }
}

/// Sends the problems of the document at `uri`.
fn publish(connection: &Connection, open: &Open, uri: &str, limits: &Limits) -> Result<(), String> {
    let Some((path, text)) = open.get(uri) else {
        return Ok(());
    };
    let diagnostics = Document::new(path, text).diagnostics(limits);
    let params = PublishDiagnosticsParams {
        uri: uri.parse().map_err(|e| format!("{e:?}"))?,
        diagnostics,
        version: None,
    };
    connection
        .sender
        .send(Message::Notification(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        )))
        .map_err(|e| e.to_string())
}

/// The answer to a request: completion, hover, signature help; an empty one to others.
fn answer(open: &Open, request: Request) -> Response {
    let id = request.id.clone();
    let document = |uri: &Uri| open.get(uri.as_str());
    let result = match request.method.as_str() {
        Completion::METHOD => serde_json::from_value::<CompletionParams>(request.params)
            .ok()
            .and_then(|p| {
                let at = p.text_document_position;
                let (path, text) = document(&at.text_document.uri)?;
                let items = Document::new(path, text).completion(at.position);
                serde_json::to_value(CompletionResponse::Array(items)).ok()
            }),
        HoverRequest::METHOD => serde_json::from_value::<HoverParams>(request.params)
            .ok()
            .and_then(|p| {
                let at = p.text_document_position_params;
                let (path, text) = document(&at.text_document.uri)?;
                serde_json::to_value(Document::new(path, text).hover(at.position)?).ok()
            }),
        SignatureHelpRequest::METHOD => {
            serde_json::from_value::<SignatureHelpParams>(request.params)
                .ok()
                .and_then(|p| {
                    let at = p.text_document_position_params;
                    let (path, text) = document(&at.text_document.uri)?;
                    serde_json::to_value(Document::new(path, text).signature_help(at.position)?)
                        .ok()
                })
        }
        _ => None,
    };
    Response::new_ok(id, result.unwrap_or(serde_json::Value::Null))
}
