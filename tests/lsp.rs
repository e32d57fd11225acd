//! `sluice lsp` driven as an editor drives it: the real binary over stdio with real
//! Language Server Protocol messages (Content-Length framed JSON-RPC). A connector is
//! opened with a misspelt function in a formula and a problem outside the formulas; the
//! problems come back at their line and column, and go when the text is fixed; completion
//! offers functions and the sample's field names inside a formula; hover and signature
//! help answer; shutdown and exit end the process cleanly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{json, Value};

/// An `sluice lsp` process and its pipes.
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Server {
    fn start() -> Server {
        let mut child = common::process()
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Server {
            input: child.stdin.take().unwrap(),
            output: BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.input.flush().unwrap();
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.until(|m| m["id"] == id)["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message.
    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut header = String::new();
            assert!(
                self.output.read_line(&mut header).unwrap() > 0,
                "the server closed"
            );
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some(n) = header.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The next message that `wanted` takes (others are passed over).
    fn until(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..100 {
            let message = self.receive();
            if wanted(&message) {
                return message;
            }
        }
        panic!("no such message in 100");
    }

    /// The next diagnostics published.
    fn diagnostics(&mut self) -> Vec<Value> {
        let message = self.until(|m| m["method"] == "textDocument/publishDiagnostics");
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

const CONNECTOR: &str = r#"# sample: partners.ndjson
name = "partners"
conditions = ["not isblank(data('CardName'))"]

[inbound]
type = "SAP B1"

[outbound]
type = "ndjson"

[[mappings]]
target = "name"
formula = "concat(data('CardName'), \" \", uper(data('CardCode')))"

[[mappings]]
target = "balance"
formula = "round(data('Balance'), 2)"
"#;

/// The position (line, UTF-16 column) of the first `needle` in `text`, plus `after` bytes.
fn position_of(text: &str, needle: &str, after: usize) -> Value {
    let at = text.find(needle).unwrap() + after;
    let line = text[..at].matches('\n').count();
    let column = text[..at]
        .rsplit('\n')
        .next()
        .unwrap()
        .encode_utf16()
        .count();
    json!({"line": line, "character": column})
}

#[test]
fn an_editor_gets_checks_completion_hover_and_signatures_for_a_connector() {
    let dir = common::tempdir("lsp", "editor");
    std::fs::write(
        dir.join("partners.ndjson"),
        "{\"CardCode\": \"C1\", \"CardName\": \"Acme\", \"Balance\": 10.5, \"Country\": \"DE\"}\n",
    )
    .unwrap();
    let path = dir.join("partners.toml");
    std::fs::write(&path, CONNECTOR).unwrap();
    let uri = format!("file://{}", path.display());
    let mut server = Server::start();

    let init = server.request(
        1,
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    assert!(
        init["capabilities"]["completionProvider"].is_object(),
        "{init}"
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    server.notify("initialized", json!({}));

    // a misspelt function inside a formula with escaped quotes: at its own line and columns
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": CONNECTOR}}),
    );
    let found = server.diagnostics();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "E201", "{found:?}");
    assert_eq!(
        found[0]["range"]["start"],
        position_of(CONNECTOR, "uper(", 0)
    );
    assert_eq!(found[0]["range"]["end"], position_of(CONNECTOR, "uper(", 4));
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("mappings[0].formula"),
        "{found:?}"
    );

    // fixed: the problem goes; a problem outside the formulas is at its line
    let fixed = CONNECTOR.replace("uper(", "upper(");
    let broken = fixed.replace(
        "[outbound]\ntype = \"ndjson\"",
        "[outbound]\ntype = \"ndjson\"\nfrequncy = 3",
    );
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(server.diagnostics(), Vec::<Value>::new());
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": broken}]}),
    );
    let found = server.diagnostics();
    assert!(!found.is_empty(), "an unknown key is a problem");
    assert_eq!(
        found[0]["range"]["start"]["line"],
        position_of(&broken, "frequncy", 0)["line"],
        "{found:?}"
    );

    // completion: functions after a word, the sample's fields inside data('…')
    let typing = fixed.replace("round(data('Balance'), 2)", "round(data('Bal'), 2) + conc");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": typing}]}),
    );
    server.diagnostics();
    let items = server.request(
        2,
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typing, "+ conc", 6)}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"concat"), "{labels:?}");
    let items = server.request(
        3,
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typing, "data('Bal'", 9)}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Balance"], "the sample's fields");
    assert_eq!(items[0]["textEdit"]["newText"], "Balance");

    // hover on a function, signature help inside its call
    let hover = server.request(
        4,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typing, "round(", 1)}),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("round("),
        "{hover}"
    );
    let help = server.request(
        5,
        "textDocument/signatureHelp",
        json!({"textDocument": {"uri": uri}, "position": position_of(&typing, "round(data('Bal'), ", 19)}),
    );
    assert!(
        help["signatures"][0]["label"]
            .as_str()
            .unwrap()
            .starts_with("round("),
        "{help}"
    );
    assert_eq!(help["activeParameter"], 1, "{help}");

    // outside any formula there is nothing to complete
    let items = server.request(
        6,
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 3}}),
    );
    assert_eq!(items, json!([]));

    let shutdown = server.request(7, "shutdown", Value::Null);
    assert_eq!(shutdown, Value::Null);
    server.notify("exit", Value::Null);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
