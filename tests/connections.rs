//! REST/OData connections through the real binary, against HTTP stand-ins started in this
//! process on 127.0.0.1: an SAP Business One Service Layer as the source (session login and
//! its expiry, paging, `$filter` on `UpdateDate`, incremental runs, outages) and an FSM REST
//! API as the sink (upserts by match keys, PUT by key, POST with idempotency keys, batches,
//! OAuth 2.0, API keys, basic auth; 429s, 500s, slow answers, dropped connections), and a
//! run killed with SIGKILL half-way that delivers every record exactly once after resuming.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/stubs.rs"]
mod stubs;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use stubs::{Fsm, Sap};

/// Runs `sluice ARGS` in `dir` with the stubs' credentials in the environment.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::outcome(
        common::sluice()
            .current_dir(dir)
            .env("SAP_USER", "manager")
            .env("SAP_PASSWORD", "s3cret!")
            .env("FSM_SECRET", "t0ps3cret")
            .args(args),
    )
}

/// A connector from SAP B1 (`base` is the stub) into the store, with `extra` added to
/// `[inbound.connection]`.
fn sap_connector(base: &str, extra: &str) -> String {
    format!(
        r#"name = "partners"

[inbound]
type = "SAP B1"
object = "sap_businesspartner"
entity = "BusinessPartners"
query_filter = "CardType eq 'C'"

[inbound.credentials]
company_db = "SBODEMO"
user = "env:SAP_USER"
password = "env:SAP_PASSWORD"

[inbound.connection]
url = "{base}/b1s/v1"
auth = "session"
page_size = 20
select = "CardCode,CardName,CardType,UpdateDate,Balance"
watermark = "UpdateDate"
overlap = "1d"
backoff = "10ms"
{extra}

[outbound]
type = "store"
object = "customer"
primary_key = "erp_id"

[[mappings]]
target = "erp_id"
field = "CardCode"

[[mappings]]
target = "name"
formula = "upper(data('CardName'))"

[[mappings]]
target = "balance"
field = "Balance"

[[mappings]]
target = "updated"
field = "UpdateDate"
"#
    )
}

fn sap_state(partners: usize) -> Arc<Mutex<Sap>> {
    Arc::new(Mutex::new(Sap {
        partners: stubs::partners(partners, 1),
        ..Sap::default()
    }))
}

/// The stored customers, by `erp_id`.
fn stored(dir: &Path) -> Vec<Value> {
    let (code, out, err) = run(dir, &["objects", "dump", "customer"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sap_b1_pages_are_read_after_a_session_login_with_the_filter_and_select() {
    let dir = common::tempdir("http", "sap-pages");
    let sap = sap_state(95);
    let server = stubs::sap(&sap);
    std::fs::write(dir.join("c.toml"), sap_connector(&server.base, "")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 48, written 48"), "{err}");
    assert!(!err.contains("s3cret"), "a credential was printed: {err}");
    let customers = stored(&dir);
    assert_eq!(customers.len(), 48);
    assert_eq!(customers[0]["name"], "CUSTOMER 1");
    assert_eq!(customers[0]["balance"].to_string(), "3.01");
    let s = sap.lock().unwrap();
    assert_eq!(s.logins, 1);
    assert_eq!(s.gets.len(), 3, "{:?}", s.gets);
    assert!(
        s.gets[0].contains("$filter=CardType%20eq%20%27C%27"),
        "{}",
        s.gets[0]
    );
    assert!(s.gets[0].contains("$select=CardCode"), "{}", s.gets[0]);
    assert!(s.gets[2].contains("%24skip=40"), "{}", s.gets[2]);
}

#[test]
fn an_expired_session_logs_in_again_and_the_run_goes_on() {
    let dir = common::tempdir("http", "sap-expiry");
    let sap = sap_state(200);
    sap.lock().unwrap().session_requests = 2;
    let server = stubs::sap(&sap);
    std::fs::write(dir.join("c.toml"), sap_connector(&server.base, "")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir).len(), 100);
    let s = sap.lock().unwrap();
    assert_eq!(s.gets.len(), 5);
    assert_eq!(s.logins, 3, "a login per two pages");
}

#[test]
fn a_wrong_password_is_e616_and_never_printed() {
    let dir = common::tempdir("http", "sap-badlogin");
    let sap = sap_state(5);
    let server = stubs::sap(&sap);
    let connector = sap_connector(&server.base, "").replace("env:SAP_PASSWORD", "hunter2-wrong");
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    let (code, out, err) = run(&dir, &["run", "c.toml"]);
    assert_ne!(code, 0);
    assert!(err.contains("E616"), "{err}");
    assert!(err.contains("Login failed"), "{err}");
    assert!(
        !err.contains("hunter2") && !out.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn the_next_run_reads_only_what_changed_since_the_watermark_less_the_overlap() {
    let dir = common::tempdir("http", "sap-incremental");
    let sap = sap_state(60);
    let server = stubs::sap(&sap);
    std::fs::write(dir.join("c.toml"), sap_connector(&server.base, "")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir).len(), 30);
    // The highest UpdateDate read is day 6 (records 51..60): 2024-01-06.
    {
        let mut s = sap.lock().unwrap();
        s.gets.clear();
        let mut changed = s.partners[0].clone();
        changed["CardName"] = "renamed".into();
        changed["UpdateDate"] = stubs::date_of(9).into();
        s.partners[0] = changed;
        let mut new = stubs::partners(61, 1).pop().unwrap();
        new["UpdateDate"] = stubs::date_of(10).into();
        s.partners.push(new);
    }
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    let s = sap.lock().unwrap();
    assert!(
        s.gets[0].contains("UpdateDate%20ge%20%272024-01-05%27"),
        "the filter starts a day (the overlap) before the watermark: {}",
        s.gets[0]
    );
    // Records of days 5 and 6 come again (the overlap), with the changed and the new one.
    assert!(err.contains("read 12,"), "{err}");
    drop(s);
    let customers = stored(&dir);
    assert_eq!(customers.len(), 31);
    assert!(customers.iter().any(|c| c["name"] == "RENAMED"));
    // A run with --from-start is a full sync again.
    sap.lock().unwrap().gets.clear();
    let (code, _, err) = run(&dir, &["run", "c.toml", "--from-start"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 31,"), "{err}");
    assert!(!sap.lock().unwrap().gets[0].contains("UpdateDate+ge"));
}

#[test]
fn a_source_that_goes_down_stops_the_run_and_the_next_run_catches_up_from_the_page() {
    let dir = common::tempdir("http", "sap-down");
    let sap = sap_state(200);
    sap.lock().unwrap().down_after = 3;
    let server = stubs::sap(&sap);
    std::fs::write(
        dir.join("c.toml"),
        sap_connector(&server.base, "retries = 2"),
    )
    .unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml", "--batch", "20"]);
    assert_ne!(code, 0);
    assert!(err.contains("E614"), "{err}");
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(err.contains("gave up after 3"), "{err}");
    assert_eq!(stored(&dir).len(), 60, "three pages were committed");
    {
        let mut s = sap.lock().unwrap();
        s.down_after = 0;
        s.gets.clear();
    }
    let (code, _, err) = run(&dir, &["run", "c.toml", "--batch", "20"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir).len(), 100);
    let s = sap.lock().unwrap();
    assert!(
        s.gets[0].contains("%24skip=60"),
        "resumed at the fourth page: {}",
        s.gets[0]
    );
    assert_eq!(s.gets.len(), 2);
}

#[test]
fn busy_answers_are_retried_with_backoff() {
    let dir = common::tempdir("http", "sap-busy");
    let sap = sap_state(40);
    sap.lock().unwrap().fail_next = 3;
    let server = stubs::sap(&sap);
    std::fs::write(dir.join("c.toml"), sap_connector(&server.base, "")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir).len(), 20);
}

#[test]
fn nothing_listening_is_e614_after_the_retries() {
    let dir = common::tempdir("http", "sap-refused");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(dir.join("c.toml"), sap_connector(&base, "retries = 2")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_ne!(code, 0);
    assert!(err.contains("E614"), "{err}");
    assert!(err.contains("gave up after 3"), "{err}");
}

/// A connector from an NDJSON file into the FSM stub; `connection` is the body of
/// `[outbound.connection]` after `url`.
fn fsm_connector(base: &str, connection: &str, credentials: &str) -> String {
    format!(
        r#"name = "to-fsm"

[inbound]
type = "ndjson"

[outbound]
type = "Fentu-FSM"
entity = "customers"
primary_key = "erp_id"

[outbound.credentials]
{credentials}

[outbound.connection]
url = "{base}/api"
records = "data"
backoff = "10ms"
max_backoff = "1s"
{connection}

[[mappings]]
target = "erp_id"
field = "code"

[[mappings]]
target = "name"
field = "name"

[[mappings]]
target = "email"
formula = "lower(data('email'))"
"#
    )
}

/// `n` input records `E1`…; record `bad` (1-based) has no name.
fn write_input(dir: &Path, n: usize, bad: Option<usize>, suffix: &str) {
    let lines: String = (1..=n)
        .map(|i| {
            let name = if Some(i) == bad {
                String::new()
            } else {
                format!("Customer {i}{suffix}")
            };
            format!("{{\"code\":\"E{i}\",\"name\":\"{name}\",\"email\":\"C{i}@Example.COM\"}}\n")
        })
        .collect();
    std::fs::write(dir.join("in.ndjson"), lines).unwrap();
}

fn fsm_state() -> Arc<Mutex<Fsm>> {
    Arc::new(Mutex::new(Fsm::default()))
}

/// Every `erp_id` created exactly once, `n` customers in all.
fn assert_once(fsm: &Arc<Mutex<Fsm>>, n: usize) {
    let s = fsm.lock().unwrap();
    assert_eq!(s.customers.len(), n, "customers");
    let twice: Vec<_> = s.creates.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "created more than once: {twice:?}");
}

#[test]
fn upserts_by_match_keys_through_429s_and_500s_and_a_refused_record_is_a_dead_letter() {
    let dir = common::tempdir("http", "fsm-upsert");
    let fsm = fsm_state();
    {
        let mut s = fsm.lock().unwrap();
        s.every_429 = 7;
        s.every_500 = 11;
    }
    let server = stubs::fsm(&fsm);
    let connector = fsm_connector(
        &server.base,
        &format!(
            "auth = \"oauth2\"\ntoken_url = \"{}/oauth/token\"\nmatch_keys = [\"erp_id\", \"email\"]",
            server.base
        ),
        "client_id = \"sluice\"\nclient_secret = \"env:FSM_SECRET\"",
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    write_input(&dir, 60, Some(17), "");
    let (code, _, err) = run(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 60, written 59, filtered 0, failed 1"),
        "{err}"
    );
    assert!(!err.contains("t0ps3cret"), "{err}");
    assert_once(&fsm, 59);
    let letters = std::fs::read_to_string(dir.join("to-fsm.dead.ndjson")).unwrap();
    let letter: Value = serde_json::from_str(letters.trim()).unwrap();
    assert_eq!(letter["line"], 17);
    assert_eq!(letter["error"]["code"], "E615");
    assert!(
        letter["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 422"),
        "{letter}"
    );
    assert!(
        letter["error"]["message"]
            .as_str()
            .unwrap()
            .contains("name is required"),
        "{letter}"
    );
    assert_eq!(fsm.lock().unwrap().tokens_issued, 1, "the token is cached");
    // The FSM now takes it: a retry of the letters delivers it and empties the file.
    fsm.lock().unwrap().accept_nameless = true;
    let (code, _, err) = run(&dir, &["run", "c.toml", "--retry-dead-letters"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("read 1, written 1"), "{err}");
    assert_once(&fsm, 60);
    let letters = std::fs::read_to_string(dir.join("to-fsm.dead.ndjson")).unwrap_or_default();
    assert!(letters.trim().is_empty(), "{letters}");
    fsm.lock().unwrap().accept_nameless = false;
    // The same records again, renamed: updates, no creates.
    write_input(&dir, 60, None, " renamed");
    let (code, _, err) = run(
        &dir,
        &["run", "c.toml", "--input", "in.ndjson", "--from-start"],
    );
    assert_eq!(code, 0, "{err}");
    assert_once(&fsm, 60);
    let s = fsm.lock().unwrap();
    assert!(s
        .customers
        .values()
        .all(|c| c["name"].as_str().unwrap().ends_with("renamed")));
    assert!(s.updates >= 59, "{}", s.updates);
}

#[test]
fn a_create_whose_answer_is_lost_is_not_made_twice() {
    let dir = common::tempdir("http", "fsm-lost");
    let fsm = fsm_state();
    {
        let mut s = fsm.lock().unwrap();
        s.slow_every = 5;
        s.slow_for = Duration::from_millis(1500);
        s.drop_every = 7;
    }
    let server = stubs::fsm(&fsm);
    let connector = fsm_connector(&server.base, "timeout = \"400ms\"", "");
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    write_input(&dir, 40, None, "");
    let (code, _, err) = run(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("written 40"), "{err}");
    assert_once(&fsm, 40);
}

#[test]
fn posts_carry_an_idempotency_key_so_a_retried_create_is_applied_once() {
    let dir = common::tempdir("http", "fsm-idempotent");
    let fsm = fsm_state();
    {
        let mut s = fsm.lock().unwrap();
        s.slow_every = 3;
        s.slow_for = Duration::from_millis(1200);
    }
    let server = stubs::fsm(&fsm);
    let connector = fsm_connector(
        &server.base,
        "write = \"post\"\nidempotency_header = \"Idempotency-Key\"\ntimeout = \"400ms\"",
        "",
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    write_input(&dir, 20, None, "");
    let (code, _, err) = run(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_once(&fsm, 20);
}

#[test]
fn put_puts_the_key_in_the_url_with_an_api_key_header() {
    let dir = common::tempdir("http", "fsm-put");
    let fsm = fsm_state();
    fsm.lock().unwrap().require_header = Some(("X-API-Key".into(), "k-123".into()));
    let server = stubs::fsm(&fsm);
    let connector = fsm_connector(
        &server.base,
        "auth = \"api_key\"\nwrite = \"put\"\npath = \"customers/by-erp/{erp_id}\"",
        "api_key = \"k-123\"",
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    write_input(&dir, 10, None, "");
    for _ in 0..2 {
        let (code, _, err) = run(
            &dir,
            &["run", "c.toml", "--input", "in.ndjson", "--from-start"],
        );
        assert_eq!(code, 0, "{err}");
    }
    assert_once(&fsm, 10);
    assert_eq!(fsm.lock().unwrap().updates, 10);
}

#[test]
fn batches_go_to_the_batch_endpoint_and_refused_items_are_dead_letters() {
    let dir = common::tempdir("http", "fsm-batch");
    let fsm = fsm_state();
    fsm.lock().unwrap().require_query = Some(("api_key".into(), "q-9".into()));
    let server = stubs::fsm(&fsm);
    let connector = fsm_connector(
        &server.base,
        "auth = \"api_key\"\napi_key_query = \"api_key\"\nbatch_path = \"customers/batch\"\nbatch_size = 25",
        "api_key = \"q-9\"",
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    write_input(&dir, 100, Some(30), "");
    let (code, _, err) = run(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("written 99, filtered 0, failed 1"), "{err}");
    assert!(!err.contains("q-9"), "{err}");
    assert_once(&fsm, 99);
    assert_eq!(fsm.lock().unwrap().batches, 4);
    let letters = std::fs::read_to_string(dir.join("to-fsm.dead.ndjson")).unwrap();
    assert!(
        letters.contains("\"line\":30") && letters.contains("E615"),
        "{letters}"
    );
}

#[test]
fn basic_auth_is_sent_and_a_refusal_names_no_secret() {
    let dir = common::tempdir("http", "fsm-basic");
    let fsm = fsm_state();
    // "ops:pa55" in base64.
    fsm.lock().unwrap().require_header =
        Some(("Authorization".into(), "Basic b3BzOnBhNTU=".into()));
    let server = stubs::fsm(&fsm);
    let good = fsm_connector(
        &server.base,
        "auth = \"basic\"",
        "user = \"ops\"\npassword = \"pa55\"",
    );
    std::fs::write(dir.join("c.toml"), &good).unwrap();
    write_input(&dir, 5, None, "");
    let (code, _, err) = run(&dir, &["run", "c.toml", "--input", "in.ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_once(&fsm, 5);
    std::fs::write(dir.join("c.toml"), good.replace("pa55", "wrong-pa55")).unwrap();
    let (code, _, err) = run(
        &dir,
        &["run", "c.toml", "--input", "in.ndjson", "--from-start"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("E616"), "{err}");
    assert!(!err.contains("wrong-pa55"), "{err}");
}

/// SAP B1 into the FSM API, SIGKILLed while it delivers; the rerun resumes from the
/// checkpoint's page and every customer is created exactly once.
#[test]
fn a_run_killed_mid_way_delivers_every_record_exactly_once_after_resuming() {
    let dir = common::tempdir("http", "kill");
    let sap = sap_state(1200);
    let fsm = fsm_state();
    let sap_server = stubs::sap(&sap);
    let fsm_server = stubs::fsm(&fsm);
    let connector = sap_connector(&sap_server.base, "")
        .replace(
            "[outbound]\ntype = \"store\"\nobject = \"customer\"\nprimary_key = \"erp_id\"",
            &format!(
                "[outbound]\ntype = \"Fentu-FSM\"\nentity = \"customers\"\nprimary_key = \"erp_id\"\n\n\
                 [outbound.connection]\nurl = \"{}/api\"\nrecords = \"data\"\nconcurrency = 2",
                fsm_server.base
            ),
        );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sluice"))
        .current_dir(&dir)
        .env("SAP_USER", "manager")
        .env("SAP_PASSWORD", "s3cret!")
        .args(["run", "c.toml", "--batch", "50"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fsm.lock().unwrap().customers.len() < 230 {
        assert!(
            started.elapsed() < common::patience(60),
            "the run did not get going"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let gets_before = sap.lock().unwrap().gets.len();
    let delivered = fsm.lock().unwrap().customers.len();
    assert!(
        delivered < 600,
        "killed half-way, not at the end: {delivered}"
    );
    let (code, _, err) = run(&dir, &["run", "c.toml", "--batch", "50"]);
    assert_eq!(code, 0, "{err}");
    assert_once(&fsm, 600);
    let s = sap.lock().unwrap();
    assert!(
        s.gets[gets_before].contains("%24skip="),
        "the rerun resumed at a page, not from the start: {}",
        s.gets[gets_before]
    );
}

#[test]
fn check_reports_connection_mistakes_with_codes_and_did_you_mean() {
    let dir = common::tempdir("http", "check");
    let base = sap_connector("http://127.0.0.1:9", "");
    let cases = [
        (
            base.replace("auth = \"session\"", "auth = \"sesion\""),
            "E610",
            "did you mean `session`?",
        ),
        (
            base.replace("page_size = 20", "page_sise = 20"),
            "E602",
            "did you mean `page_size`?",
        ),
        (
            base.replace("overlap = \"1d\"", "overlap = \"one day\""),
            "E610",
            "does not parse as a duration",
        ),
        (
            base.replace("password = \"env:SAP_PASSWORD\"", ""),
            "E603",
            "needs `inbound.credentials.password`",
        ),
        (
            base.replace("url = \"http://127.0.0.1:9/b1s/v1\"", "url = \"ftp://x\""),
            "E610",
            "is not an http:// or https:// URL",
        ),
        (
            base.replace("auth = \"session\"", "auth = \"oauth2\""),
            "E603",
            "needs `token_url`",
        ),
    ];
    for (text, code, message) in cases {
        std::fs::write(dir.join("c.toml"), &text).unwrap();
        let (exit, out, err) = run(&dir, &["check", "c.toml"]);
        assert_eq!(exit, 2, "{out}{err}");
        assert!(
            err.contains(code) && err.contains(message),
            "{code} {message}: {err}"
        );
    }
    std::fs::write(
        dir.join("c.toml"),
        base.replace("env:SAP_USER", "literal-user"),
    )
    .unwrap();
    let (exit, _, err) = run(&dir, &["check", "c.toml"]);
    assert_eq!(exit, 0, "{err}");
    let (exit, out, err) = run(&dir, &["export", "c.toml"]);
    assert_eq!(exit, 0, "{err}");
    let exported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(exported["inbound"]["credentials"]["user"], "***");
    assert_eq!(
        exported["inbound"]["credentials"]["password"],
        "env:SAP_PASSWORD"
    );
    assert_eq!(exported["inbound"]["connection"]["auth"], "session");
    assert!(!out.contains("literal-user"));
}

#[test]
fn every_connection_example_checks() {
    let mut seen = 0;
    for entry in std::fs::read_dir("examples/connections").unwrap() {
        let path = entry.unwrap().path();
        let (code, out, err) = common::run(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {out}{err}", path.display());
        seen += 1;
    }
    assert!(seen >= 5);
}

#[test]
fn a_client_certificate_opens_a_mutual_tls_source_and_a_stranger_is_refused() {
    let dir = common::tempdir("http", "mtls");
    let server = stubs::mutual_tls(serde_json::json!({
        "value": [{"CardCode": "T1", "CardName": "over tls"}, {"CardCode": "T2", "CardName": "also"}]
    }));
    std::fs::write(dir.join("ca.pem"), &server.ca).unwrap();
    std::fs::write(dir.join("client.pem"), &server.client.0).unwrap();
    std::fs::write(dir.join("client.key"), &server.client.1).unwrap();
    std::fs::write(dir.join("stranger.pem"), &server.stranger.0).unwrap();
    std::fs::write(dir.join("stranger.key"), &server.stranger.1).unwrap();
    let connector = |cert: &str| {
        format!(
            r#"name = "tls"

[inbound]
type = "ABAS-ERP"
entity = "Partners"

[inbound.credentials]
client_cert = "file:{cert}.pem"
client_key = "file:{cert}.key"
ca_cert = "file:ca.pem"

[inbound.connection]
url = "{}/odata"
paging = "none"
retries = 1
backoff = "10ms"

[outbound]
type = "store"
object = "customer"
primary_key = "erp_id"

[[mappings]]
target = "erp_id"
field = "CardCode"

[[mappings]]
target = "name"
field = "CardName"
"#,
            server.base
        )
    };
    std::fs::write(dir.join("c.toml"), connector("client")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(&dir).len(), 2);
    std::fs::write(dir.join("c.toml"), connector("stranger")).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml", "--from-start"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("E614"), "{err}");
    // Without the CA the server itself is not trusted.
    std::fs::write(
        dir.join("c.toml"),
        connector("client").replace("ca_cert = \"file:ca.pem\"\n", ""),
    )
    .unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml", "--from-start"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("E614"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
    // A CA the platform trusts (here through SSL_CERT_FILE, as an OS-installed CA would be)
    // is trusted without `ca_cert`.
    let (code, _, err) = common::outcome(
        common::sluice()
            .current_dir(&dir)
            .env("SSL_CERT_FILE", dir.join("ca.pem"))
            .args(["run", "c.toml", "--from-start"]),
    );
    assert_eq!(code, 0, "the platform's roots are trusted: {err}");
}

#[test]
fn skip_page_cursor_and_link_paging_read_every_record_once_in_order() {
    for (style, connection, requests) in [
        ("skip", "paging = \"skip\"\npage_size_param = \"limit\"", 3),
        ("page", "paging = \"page\"", 3),
        (
            "cursor",
            "paging = \"cursor\"\ncursor_path = \"meta.next_cursor\"",
            3,
        ),
        (
            "link",
            "paging = \"next_link\"\nnext_link_path = \"links.next\"\npage_size_param = \"limit\"",
            3,
        ),
    ] {
        let dir = common::tempdir("http", &format!("paging-{style}"));
        let pager = Arc::new(Mutex::new(stubs::Pager {
            style: style.into(),
            count: 25,
            ..Default::default()
        }));
        let server = stubs::pager(&pager);
        let connector = format!(
            r#"name = "items"

[inbound]
type = "Shopware"
entity = "items"

[inbound.connection]
url = "{}/v1"
records = "data.items"
page_size = 10
{connection}

[outbound]
type = "ndjson"

[[mappings]]
target = "n"
field = "n"
"#,
            server.base
        );
        std::fs::write(dir.join("c.toml"), connector).unwrap();
        let (code, out, err) = run(&dir, &["run", "c.toml", "--output", "-"]);
        assert_eq!(code, 0, "{style}: {err}");
        let expected: String = (1..=25).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        assert_eq!(out, expected, "{style}");
        let asked = pager.lock().unwrap().requests.clone();
        assert_eq!(asked.len(), requests, "{style}: {asked:?}");
    }
}

#[test]
fn a_watermark_param_carries_the_high_water_mark_even_when_the_last_page_was_empty() {
    let dir = common::tempdir("http", "watermark-param");
    let pager = Arc::new(Mutex::new(stubs::Pager {
        style: "page".into(),
        count: 20,
        ..Default::default()
    }));
    let server = stubs::pager(&pager);
    let connector = format!(
        r#"name = "items"

[inbound]
type = "Shopware"
entity = "items"

[inbound.connection]
url = "{}/v1"
records = "data.items"
paging = "page"
page_size = 10
watermark = "updated"
watermark_param = "updated_since"

[outbound]
type = "store"
object = "customer"
primary_key = "n"

[[mappings]]
target = "n"
field = "n"
"#,
        server.base
    );
    std::fs::write(dir.join("c.toml"), connector).unwrap();
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    pager.lock().unwrap().count = 22;
    let (code, _, err) = run(&dir, &["run", "c.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read 3,"),
        "the last one again, and the two new: {err}"
    );
    let asked = pager.lock().unwrap().requests.clone();
    assert!(
        asked.last().unwrap().contains("updated_since=2024-01-20"),
        "{asked:?}"
    );
    assert_eq!(stored_count(&dir), 22);
}

fn stored_count(dir: &Path) -> usize {
    stored(dir).len()
}
