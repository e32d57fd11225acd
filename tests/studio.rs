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
#[path = "common/stubs.rs"]
mod stubs;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::browser::drive;
use common::served::Served;
use serde_json::{json, Value};

/// `sluice serve` over the twelve connectors of [`connector_sets`], once it serves them.
fn serve_connector_sets(dir: &Path) -> Served {
    connector_sets(dir);
    serve_sets(dir)
}

/// `sluice serve` over the `erp` and `crm` sets already written in `dir`, once it serves
/// their twelve connectors.
fn serve_sets(dir: &Path) -> Served {
    let served = Served::start(dir, &["erp", "crm"], &[]);
    served.wait_until("twelve connectors", 30, |s| {
        s.json("/connectors")["connectors"]
            .as_array()
            .unwrap()
            .len()
            == 12
    });
    served
}

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
        (
            "erp",
            [
                "orders-1", "orders-2", "partners", "items", "prices", "stock", "invoices",
            ]
            .as_slice(),
        ),
        (
            "crm",
            ["contacts", "leads", "orders-3", "visits", "tickets"].as_slice(),
        ),
    ] {
        let folder = dir.join(set);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("records.ndjson"),
            "{\"id\": 1, \"name\": \"a\"}\n",
        )
        .unwrap();
        for name in names {
            let name = format!("{set}-{name}");
            std::fs::write(folder.join(format!("{name}.toml")), connector(&name)).unwrap();
        }
    }
}

#[test]
fn a_mapping_author_uses_the_connector_list_and_the_playground_in_a_browser() {
    if !common::browser::ready(
        "studio::a_mapping_author_uses_the_connector_list_and_the_playground_in_a_browser",
    ) {
        return;
    }
    let dir = common::tempdir("studio", "browser");
    let served = serve_connector_sets(&dir);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    drive(&served, "studio", &[shots.as_os_str()]);
    for shot in [
        "studio-connectors.png",
        "studio-playground.png",
        "studio-playground-zoom.png",
    ] {
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
    assert!(
        answer["values"][1]["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with('E'),
        "{answer}"
    );
    assert!(
        answer["type"].as_str().unwrap().contains("number"),
        "{answer}"
    );
    assert!(
        answer["ir"].as_str().is_some_and(|ir| !ir.is_empty()),
        "{answer}"
    );
    let answer = ask(json!({"formula": "upper(nmae)", "records": records}));
    assert_eq!(answer["findings"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["values"], json!([]));
    let answer = ask(json!({"formula": "upper(data('na", "records": records, "cursor": 15}));
    assert_eq!(
        answer["completion"]["items"][0]["label"], "name",
        "{answer}"
    );
    assert_eq!(
        answer["signature"]["label"]
            .as_str()
            .unwrap()
            .split('(')
            .next(),
        Some("data")
    );
    let (status, _) = served.request("POST", "/studio/formula", &[], b"not json");
    assert_eq!(status, 400);
}

/// The wizard's connector as the page sends it.
fn draft(name: &str, formula: &str, active: bool) -> Value {
    json!({
        "name": name,
        "description": "made in the wizard",
        "conditions": ["data('Balance') > 0"],
        "inbound": {"type": "ndjson", "active": active, "path": "records.ndjson"},
        "outbound": {"type": "store", "active": true, "object": "customer", "primary_key": "id"},
        "mappings": [
            {"target": "id", "field": "CardCode"},
            {"target": "source", "raw": "SAP"},
            {"target": "name", "formula": formula},
        ],
    })
}

#[test]
fn the_wizard_endpoint_checks_dry_runs_and_writes_a_connector_only_when_it_passes() {
    let dir = common::tempdir("studio", "drafts");
    connector_sets(&dir);
    let erp = dir.join("erp");
    let served = Served::start(&dir, &["erp", "crm"], &[]);
    let records = json!([
        {"CardCode": "C1", "CardName": "Acme", "Balance": 10},
        {"CardCode": "C2", "CardName": "Bolt", "Balance": -5},
        {"CardCode": "C3", "CardName": null, "Balance": 3}
    ]);
    let send = |connector: Value, write: bool| -> Value {
        let body = json!({"connector": connector, "records": records, "write": write});
        let (status, answer) = served.request(
            "POST",
            "/studio/connectors",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
        serde_json::from_str(&answer).unwrap()
    };

    // a misspelt function: the problem, its place, nothing written
    let answer = send(draft("wizard-made", "uper(data('CardName'))", false), true);
    assert_eq!(answer["problems"][0]["code"], "E201", "{answer}");
    assert_eq!(answer["problems"][0]["place"], "mappings[2]", "{answer}");
    assert_eq!(answer["written"], Value::Null);
    assert!(!erp.join("wizard-made.toml").exists());

    // fixed: the TOML, the dry run (mapped, filtered, dead letter), the conditions' counts
    let fixed = draft("wizard-made", "upper(data('CardName')) & '!'", false);
    let answer = send(fixed.clone(), false);
    assert_eq!(answer["problems"], json!([]), "{answer}");
    assert!(
        answer["toml"].as_str().unwrap().contains("[[mappings]]"),
        "{answer}"
    );
    assert_eq!(
        answer["dry_run"][0]["output"],
        json!({"id": "C1", "source": "SAP", "name": "ACME!"})
    );
    assert_eq!(answer["dry_run"][1]["filtered"], 1, "{answer}");
    assert_eq!(answer["conditions"][0]["passing"], 2, "{answer}");
    assert_eq!(answer["conditions"][0]["of"], 3, "{answer}");

    // written: inactive, with its sample, served, and `sluice check` passes it
    let answer = send(fixed, true);
    let path = erp.join("wizard-made.toml");
    assert!(
        answer["written"]
            .as_str()
            .unwrap()
            .ends_with("erp/wizard-made.toml"),
        "{answer}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("active = false"), "{text}");
    assert!(erp.join("wizard-made.sample.ndjson").exists());
    served.wait_until("the new connector served", 20, |s| {
        s.json("/connectors")["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "wizard-made" && c["active"] == false)
    });
    let (code, out, err) = common::run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");

    // activated: written again, the previous file kept beside it
    let answer = send(
        draft("wizard-made", "upper(data('CardName')) & '!'", true),
        true,
    );
    assert_eq!(answer["problems"], json!([]), "{answer}");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("active = true"));
    let kept = std::fs::read_dir(&erp)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("wizard-made.toml.~")
        })
        .count();
    assert_eq!(kept, 1, "the previous version is kept");
    served.wait_until("the connector active", 20, |s| {
        s.connector("wizard-made")["active"] == true
    });

    // the name of a connector served from another file is refused (new files go to the
    // first directory served)
    let answer = send(draft("crm-leads", "upper(data('CardName'))", false), true);
    assert!(
        answer["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unique"),
        "{answer}"
    );
}

#[test]
fn a_mapping_author_creates_a_connector_through_the_six_steps_and_activates_it() {
    if !common::browser::ready(
        "studio::a_mapping_author_creates_a_connector_through_the_six_steps_and_activates_it",
    ) {
        return;
    }
    let dir = common::tempdir("studio", "wizard");
    connector_sets(&dir);
    let erp = dir.join("erp");
    let sample = dir.join("partners.sample.ndjson");
    let records = "{\"CardCode\": \"C001\", \"CardName\": \"Acme GmbH\", \"Balance\": 10}\n\
                   {\"CardCode\": \"C002\", \"CardName\": \"Bolt AG\", \"Balance\": -5}\n\
                   {\"CardCode\": \"C003\", \"CardName\": \"Cog KG\", \"Balance\": 3}\n";
    std::fs::write(&sample, records).unwrap();
    std::fs::write(erp.join("partners.ndjson"), records).unwrap();
    let served = serve_sets(&dir);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    drive(&served, "wizard", &[sample.as_os_str(), shots.as_os_str()]);
    // on disk: the connector, active, passing `sluice check`; its sample; the inactive
    // version it replaced
    let path = erp.join("partners-to-fsm.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("active = true") && text.contains("upper(data('CardName'))"),
        "{text}"
    );
    let (code, out, err) = common::run(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(erp.join("partners-to-fsm.sample.ndjson").exists());
    let versions: Vec<String> = std::fs::read_dir(&erp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("partners-to-fsm.toml.~"))
        .collect();
    // the first save (inactive), the activated one, and the edited one put aside by the
    // revert
    assert_eq!(versions.len(), 3, "{versions:?}");
    // in the store: the run from the list stored the two records that pass the condition
    let store = rusqlite::Connection::open(dir.join("sluice.db")).unwrap();
    let stored: i64 = store
        .query_row(
            "SELECT count(*) FROM objects WHERE type = 'fsmcustomer'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 2);
}

#[test]
fn an_operator_watches_a_connectors_runs_and_resolves_the_review_queue() {
    if !common::browser::ready(
        "studio::an_operator_watches_a_connectors_runs_and_resolves_the_review_queue",
    ) {
        return;
    }
    let dir = common::tempdir("studio", "monitor");
    std::fs::write(
        dir.join("people.toml"),
        r#"name = "people"
[inbound]
type = "ndjson"
path = "people.ndjson"
[outbound]
type = "store"
object = "person"
primary_key = "id"
[sync]
conflict = "manual_review"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "name"
formula = "upper(data('name'))"
"#,
    )
    .unwrap();
    let store = common::store_in(&dir, "sluice.db");
    let run = |records: &str| {
        std::fs::write(dir.join("people.ndjson"), records).unwrap();
        let (code, out, err) = common::run_in(
            &dir,
            &["run", "people.toml", "--store", &store, "--from-start"],
        );
        assert_eq!(code, 0, "{out}{err}");
    };
    run("{\"id\": 1, \"name\": \"first\"}\n{\"id\": 2, \"name\": \"two\"}\n");
    run("{\"id\": 1, \"name\": \"second\"}\n{\"id\": 2, \"name\": \"two\"}\n{\"id\": 3, \"name\": \"three\"}\n");
    run("{\"id\": 3, \"name\": \"third\"}\n{\"id\": 2, \"name\": \"two\"}\n");
    run("{\"id\": 2, \"name\": \"deux\"}\n");
    std::fs::write(
        dir.join("orders.toml"),
        r#"name = "orders"
[inbound]
type = "ndjson"
path = "orders.ndjson"
[outbound]
type = "store"
object = "order"
primary_key = "id"
[[mappings]]
target = "id"
field = "id"
[[mappings]]
target = "share"
formula = "100 / data('parts')"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("orders.ndjson"),
        "{\"id\": 1, \"parts\": 4}\n{\"id\": 2, \"parts\": 0}\n{\"id\": 3, \"parts\": 0}\n",
    )
    .unwrap();
    let served = Served::start(&dir, &["people.toml", "orders.toml"], &[]);
    // regression: a connector run before the server started showed "never ran"
    let people = served.connector("people");
    assert_eq!(
        people["last_run"],
        Value::Null,
        "no run under this server yet"
    );
    assert_eq!(people["last_stored_run"]["read"], 1, "{people}");
    assert_eq!(people["last_stored_run"]["status"], "succeeded", "{people}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let orders = dir.join("orders.toml");
    drive(&served, "monitor", &[orders.as_os_str(), shots.as_os_str()]);
    // the taken conflict is in the store, the kept one left as it was
    let names: Vec<String> = rusqlite::Connection::open(dir.join("sluice.db"))
        .unwrap()
        .prepare("SELECT json_extract(data, '$.name') FROM objects WHERE type = 'person' ORDER BY json_extract(data, '$.id')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // the edited one as the operator edited it
    assert_eq!(names, ["SECOND", "DEUX, checked", "THREE"]);
    // the retried letter went through the fixed mapping into the store
    let shares: Vec<String> = rusqlite::Connection::open(dir.join("sluice.db"))
        .unwrap()
        .prepare(
            "SELECT data FROM objects WHERE type = 'order' ORDER BY json_extract(data, '$.id')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // and the letter whose record was edited in the page, with its fixed record
    assert_eq!(
        shares,
        [
            r#"{"id":1,"share":25}"#,
            r#"{"id":2,"share":0}"#,
            r#"{"id":3,"share":20}"#
        ]
    );
}

#[test]
fn every_studio_view_has_no_serious_accessibility_violation() {
    if !common::browser::ready("studio::every_studio_view_has_no_serious_accessibility_violation") {
        return;
    }
    let axe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    if !axe.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have axe-core (npm ci in tests/browser)"
        );
        return;
    }
    let dir = common::tempdir("studio", "axe");
    connector_sets(&dir);
    let served = Served::start(&dir, &["erp"], &[]);
    served.wait_until("the connectors", 30, |s| {
        !s.json("/connectors")["connectors"]
            .as_array()
            .unwrap()
            .is_empty()
    });
    drive(&served, "axe", &[axe.as_os_str()]);
}

/// 32 bytes in base64: the key the test's secrets are sealed with.
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn a_rest_side_made_in_the_wizard_keeps_its_typed_credentials_sealed_in_the_store() {
    if !common::browser::ready(
        "studio::a_rest_side_made_in_the_wizard_keeps_its_typed_credentials_sealed_in_the_store",
    ) {
        return;
    }
    let sap = Arc::new(Mutex::new(stubs::Sap {
        partners: stubs::partners(25, 1),
        ..stubs::Sap::default()
    }));
    let service = stubs::sap(&sap);
    let dir = common::tempdir("studio", "rest");
    std::fs::create_dir_all(dir.join("erp")).unwrap();
    let env = [("SLUICE_SECRET_KEY", SECRET_KEY), ("SAP_USER", "manager")];
    let served = Served::start(&dir, &["erp"], &env);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    drive(&served, "rest", &[service.base.as_ref(), shots.as_os_str()]);
    // the file names where each credential is, never the typed values
    let path = dir.join("erp/sap-partners.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#"password = "secret:password""#), "{text}");
    assert!(
        text.contains(r#"company_db = "secret:company_db""#),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("SBODEMO"),
        "{text}"
    );
    // the store holds them sealed: not one byte of the password in the clear
    let store = dir.join("sluice.db");
    let bytes = std::fs::read(&store).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"s3cret!"));
    let sealed: i64 = rusqlite::Connection::open(&store)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM secrets WHERE connector = 'sap-partners'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sealed, 2, "company_db and password");
    // the served connector as the wizard reads it back shows the references only
    let back = served.json("/studio/connectors/sap-partners").to_string();
    assert!(
        !back.contains("s3cret") && back.contains("secret:password"),
        "{back}"
    );
    // a run against that store opens them and reads every partner
    let run = |env: &[(&str, &str)]| {
        let mut command = common::sluice();
        command.args([
            "run",
            path.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
        command.env_remove("SLUICE_SECRET_KEY");
        for (k, v) in env {
            command.env(k, v);
        }
        common::outcome(&mut command)
    };
    let (code, out, err) = run(&env);
    assert_eq!(code, 0, "{out}{err}");
    let stored: i64 = rusqlite::Connection::open(&store)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM objects WHERE type = 'partner'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 25);
    // without the key, the run says so and reads nothing
    let (code, out, err) = run(&[("SAP_USER", "manager")]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("E621"), "{err}");
    // a second origin: the file's URL changed to another address, the kept password is
    // not sent there — the run stops before any request
    let logins = sap.lock().unwrap().logins;
    let moved = text.replace("127.0.0.1", "127.0.0.2");
    std::fs::write(&path, &moved).unwrap();
    let (code, out, err) = run(&env);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("E606") && err.contains("was entered for") && err.contains("127.0.0.2"),
        "{err}"
    );
    assert_eq!(sap.lock().unwrap().logins, logins);
}

#[test]
fn a_running_run_shows_its_progress_and_the_connector_its_lag() {
    let dir = common::tempdir("studio", "progress");
    let erp = dir.join("erp");
    std::fs::create_dir_all(&erp).unwrap();
    let mut lines = String::new();
    for i in 0..150_000 {
        lines.push_str(&format!(
            "{{\"id\": {i}, \"name\": \"customer number {i}\"}}\n"
        ));
    }
    std::fs::write(erp.join("records.ndjson"), &lines).unwrap();
    std::fs::write(erp.join("big.toml"), connector("big")).unwrap();
    std::fs::write(erp.join("watched.toml"), connector("watched")).unwrap();
    let served = Served::start(&dir, &["erp"], &[]);
    served.wait_until("the connectors", 30, |s| {
        s.connector("big")["name"] == "big" && s.connector("watched")["name"] == "watched"
    });
    // never synced: no lag to show
    assert!(served.connector("big")["lag_seconds"].is_null());
    let id = served.trigger("big");
    // while it runs: its counts grow, it knows how far into the file it is
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    while started.elapsed() < common::patience(60) {
        let c = served.connector("big");
        if c["running_run"].as_u64() == Some(id) {
            let progress = &c["current_run"]["progress"];
            if progress["read"].as_u64().unwrap_or(0) > 0 {
                assert_eq!(
                    progress["total_bytes"].as_u64(),
                    Some(lines.len() as u64),
                    "{c}"
                );
                assert!(progress["bytes"].as_u64().unwrap() <= lines.len() as u64);
                seen.push(progress["read"].as_u64().unwrap());
            }
        } else if !seen.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!seen.is_empty(), "no progress was seen while the run ran");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let run = served.finished(id);
    assert_eq!(run["read"], 150_000);
    assert!(
        run.get("progress").is_none(),
        "a finished run shows its counts, not progress: {run}"
    );
    // synced: the lag counts from the run's end
    let c = served.connector("big");
    assert!(c["current_run"].is_null());
    let lag = c["lag_seconds"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&lag), "{c}");
    // and in the page: the other connector's run watched as it goes
    if common::browser::ready("studio::a_running_run_shows_its_progress_and_the_connector_its_lag")
    {
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        drive(&served, "progress", &[shots.as_os_str()]);
    }
}

#[test]
fn the_connector_list_is_searched_and_paged_on_the_server() {
    let dir = common::tempdir("studio", "paged");
    let served = serve_connector_sets(&dir);
    let names = |body: &Value| -> Vec<String> {
        body["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    // a search (any case), by name, one page of two from the second
    let page = served.json("/connectors?q=ORDERS&offset=1&limit=2");
    assert_eq!(page["total"], 12);
    assert_eq!(page["matching"], 3, "crm-orders-3 and two of erp");
    assert_eq!(names(&page), ["erp-orders-1", "erp-orders-2"]);
    // past the end: nothing, the counts still there for the page to go back
    let beyond = served.json("/connectors?q=orders&offset=10&limit=5");
    assert_eq!(names(&beyond), Vec::<String>::new());
    assert_eq!(beyond["matching"], 3);
    // without paging: every connector, sorted
    let all = served.json("/connectors");
    let all = names(&all);
    assert_eq!(all.len(), 12);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
}
