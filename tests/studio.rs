//! Sluice Studio in a real headless browser: `tests/browser/studio.py` (Playwright on
//! Debian's Chromium) clicks and types through the connector list and the formula
//! playground of a real `sluice serve`; the screenshots it takes are kept in the target
//! directory to be looked at. Also `POST /studio/formula` as the page calls it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::served::Served;
use serde_json::{json, Value};

/// A connector reading `records.ndjson` of its directory into the store.
fn connector(name: &str) -> String {
    format!(
        r#"name = "{name}"
[inbound]
type = "ndjson"
path = "records.ndjson"
[outbound]
type = "store"
object = "{name}"
primary_key = "id"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#
    )
}

/// Twelve connectors in two sets (`erp`, `crm`), each directory with its records.
fn connector_sets(dir: &Path) {
    for (set, names) in [
        ("erp", ["orders-1", "orders-2", "partners", "items", "prices", "stock", "invoices"].as_slice()),
        ("crm", ["contacts", "leads", "orders-3", "visits", "tickets"].as_slice()),
    ] {
        let folder = dir.join(set);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("records.ndjson"), "{\"id\": 1, \"name\": \"a\"}\n").unwrap();
        for name in names {
            let name = format!("{set}-{name}");
            std::fs::write(folder.join(format!("{name}.toml")), connector(&name)).unwrap();
        }
    }
}

fn browser_ready() -> bool {
    let ready = std::process::Command::new("python3")
        .args(["-c", "import playwright"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/bin/chromium").exists();
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Playwright and Chromium"
        );
        let skipped = concat!(env!("CARGO_MANIFEST_DIR"), "/target/skipped-tests.txt");
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(skipped) {
            let _ = writeln!(f, "studio::a_mapping_author_uses_the_studio…: skipped: no Playwright or Chromium");
        }
    }
    ready
}

#[test]
fn a_mapping_author_uses_the_connector_list_and_the_playground_in_a_browser() {
    if !browser_ready() {
        return;
    }
    let dir = common::tempdir("studio", "browser");
    connector_sets(&dir);
    let served = Served::start(&dir, &["erp", "crm"], &[]);
    served.wait_until("twelve connectors", 30, |s| {
        s.json("/connectors")["connectors"].as_array().unwrap().len() == 12
    });
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/studio.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(format!("http://{}", served.addr))
        .arg(&shots)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.contains("ok"), "{said}\n{}", served.log());
    for shot in ["studio-connectors.png", "studio-playground.png", "studio-playground-zoom.png"] {
        assert!(shots.join(shot).exists(), "{shot}");
    }
}

#[test]
fn the_formula_endpoint_answers_problems_types_values_and_completions() {
    let dir = common::tempdir("studio", "endpoint");
    connector_sets(&dir);
    let served = Served::start(&dir, &["erp"], &[]);
    let ask = |body: Value| -> Value {
        let (status, answer) = served.request(
            "POST",
            "/studio/formula",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
        serde_json::from_str(&answer).unwrap()
    };
    let records = json!([{"n": 4, "name": "x"}, {"n": 0, "name": "y"}]);
    let answer = ask(json!({"formula": "round(10 / data('n'), 1)", "records": records}));
    assert_eq!(answer["findings"], json!([]));
    assert_eq!(answer["values"][0]["value"], json!(2.5));
    assert!(answer["values"][1]["error"]["code"].as_str().unwrap().starts_with('E'), "{answer}");
    assert!(answer["type"].as_str().unwrap().contains("number"), "{answer}");
    assert!(answer["ir"].as_str().is_some_and(|ir| !ir.is_empty()), "{answer}");
    let answer = ask(json!({"formula": "upper(nmae)", "records": records}));
    assert_eq!(answer["findings"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["values"], json!([]));
    let answer = ask(json!({"formula": "upper(data('na", "records": records, "cursor": 15}));
    assert_eq!(answer["completion"]["items"][0]["label"], "name", "{answer}");
    assert_eq!(answer["signature"]["label"].as_str().unwrap().split('(').next(), Some("data"));
    let (status, _) = served.request("POST", "/studio/formula", &[], b"not json");
    assert_eq!(status, 400);
}
