//! `sluice check` on connector files as a mapping author writes them: every problem with
//! its code, the right line, and what to do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{run_in, tempdir};

const EXAMPLE: &str = include_str!("../examples/customers.toml");

/// `sluice check` of the example with `from` replaced by `to`: exit code and stderr.
fn check_edited(name: &str, from: &str, to: &str) -> (i32, String) {
    assert!(EXAMPLE.contains(from), "{from}");
    let dir = tempdir("check", name);
    std::fs::write(dir.join("c.toml"), EXAMPLE.replacen(from, to, 1)).unwrap();
    let (code, _, err) = run_in(&dir, &["check", "c.toml"]);
    (code, err)
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn double_quotes_inside_a_basic_string_say_how_to_quote() {
    let (code, err) = check_edited(
        "dq",
        "proper(trim(data('CardName')))",
        r#"proper(trim(data("CardName")))"#,
    );
    assert_eq!(code, 2);
    assert!(err.contains("E601"), "{err}");
    assert!(
        err.contains(r#"formula = 'proper(trim(data("CardName")))'"#),
        "{err}"
    );
    assert!(
        err.contains(r#"formula = "proper(trim(data('CardName')))""#),
        "{err}"
    );
}

#[test]
fn backslash_in_a_basic_string_says_use_a_literal_string() {
    let (code, err) = check_edited(
        "bs",
        "proper(trim(data('CardName')))",
        r"regexreplace(data('CardName'), '\d{4}', '')",
    );
    assert_eq!(code, 2);
    assert!(err.contains("a backslash starts a TOML escape"), "{err}");
    assert!(
        err.contains(r"formula = '''regexreplace(data('CardName'), '\d{4}', '')'''"),
        "{err}"
    );
}

#[test]
fn bad_conflict_rule_is_e610_with_did_you_mean() {
    let (code, err) = check_edited("conflict", "\"external_wins\"", "\"externl_wins\"");
    assert_eq!(code, 2);
    let line = line_of(EXAMPLE, "conflict =");
    assert!(err.contains(&format!("E610: c.toml:{line}:")), "{err}");
    assert!(err.contains("did you mean `external_wins`?"), "{err}");
}

#[test]
fn duplicate_target_points_at_the_second_mapping() {
    let edited = EXAMPLE.replacen(
        "target = \"city\"\nfield",
        "target = \"name\"\nraw = 1\nfield",
        1,
    );
    let dir = tempdir("check", "dup");
    std::fs::write(dir.join("c.toml"), &edited).unwrap();
    let (code, _, err) = run_in(&dir, &["check", "c.toml"]);
    assert_eq!(code, 2);
    let second = edited.match_indices("target = \"name\"").nth(1).unwrap().0;
    let line = edited[..second].matches('\n').count() + 1;
    assert!(err.contains(&format!("E609: c.toml:{line}:")), "{err}");
    assert!(err.contains(&format!("E604: c.toml:{line}:")), "{err}");
}

#[test]
fn formula_problem_is_located_at_file_line_and_column() {
    let (code, err) = check_edited(
        "loc",
        "round(data('CurrentAccountBalance'), 2)",
        "round(data('CurrentAccountBalance'), 2) +",
    );
    assert_eq!(code, 2);
    let line = line_of(EXAMPLE, "round(data('CurrentAccountBalance')");
    let column = "formula = \"round(data('CurrentAccountBalance'), 2) +".len();
    assert!(err.contains(&format!("[c.toml:{line}:{column}]")), "{err}");
    assert!(err.contains("mappings[5]: formula ends too early"), "{err}");
}

#[test]
fn credential_written_as_a_number_is_never_echoed() {
    let (code, err) = check_edited(
        "cred",
        "[outbound]",
        "[inbound.credentials]\npassword = 123456789\n\n[outbound]",
    );
    assert_eq!(code, 2);
    assert!(err.contains("a credential must be text"), "{err}");
    assert!(!err.contains("123456789"), "{err}");
}

#[test]
fn unknown_time_zone_of_a_connector_is_e610() {
    let (code, err) = check_edited("zone", "[inbound]", "zone = \"Europe/Berln\"\n\n[inbound]");
    assert_eq!(code, 2);
    assert!(err.contains("E610"), "{err}");
    assert!(err.contains("Europe/Berlin"), "{err}");
}

#[test]
fn serve_settings_are_checked_frequency_cron_poll_and_path() {
    let (code, err) = check_edited(
        "cron",
        r#"frequency = { interval = "15m" }"#,
        r#"frequency = { cron = "61 * * * *" }"#,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("E610") && err.contains("cron `61 * * * *`"),
        "{err}"
    );
    let (code, err) = check_edited(
        "cron4",
        r#"frequency = { interval = "15m" }"#,
        r#"frequency = { cron = "0 2 * *" }"#,
    );
    assert_eq!(code, 2);
    assert!(err.contains("has 4 fields, not five"), "{err}");
    for ok in [
        r#""hourly""#,
        r#""daily""#,
        r#""15m""#,
        r#""realtime"
poll = "250ms""#,
        r#"{ cron = "*/5 8-18 * * 1-5" }"#,
    ] {
        let (code, err) = check_edited("freq-ok", r#"{ interval = "15m" }"#, ok);
        assert_eq!(code, 0, "{ok}: {err}");
    }
    let (code, err) = check_edited("freq-bad", r#"{ interval = "15m" }"#, r#""weekly""#);
    assert_eq!(code, 2);
    assert!(err.contains("unknown frequency `weekly`"), "{err}");
    let (code, err) = check_edited(
        "poll",
        r#"frequency = { interval = "15m" }"#,
        "frequency = \"realtime\"\npoll = \"soon\"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("poll `soon`"), "{err}");
    let (code, err) = check_edited(
        "outpath",
        "primary_key = \"erp_id\"",
        "primary_key = \"erp_id\"\npath = \"out.ndjson\"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("only the inbound side has one"), "{err}");
}

#[test]
fn a_bidirectional_connector_needs_a_reverse_way_with_its_key() {
    let (code, err) = check_edited(
        "bidi-none",
        r#"direction = "inbound""#,
        r#"direction = "bidirectional""#,
    );
    assert_eq!(code, 2);
    assert!(err.contains("E603") && err.contains("[reverse]"), "{err}");
    let reverse = "\n[reverse]\nprimary_key = \"CardCode\"\n[[reverse.mappings]]\ntarget = \"CardName\"\nformula = \"upper(data('name')\"\n";
    let dir = tempdir("check", "bidi-key");
    let text = EXAMPLE
        .replacen(
            r#"direction = "inbound""#,
            r#"direction = "bidirectional""#,
            1,
        )
        .replacen(
            r#"query_filter = "CardType eq 'C'""#,
            r#"path = "bp.ndjson""#,
            1,
        )
        + reverse;
    std::fs::write(dir.join("c.toml"), &text).unwrap();
    let (code, _, err) = run_in(&dir, &["check", "c.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("a reverse mapping with target `CardCode`"),
        "{err}"
    );
    // with its key, the reverse formulas are compiled too
    let fixed = text.replace("target = \"CardName\"", "target = \"CardCode\"");
    std::fs::write(dir.join("c.toml"), &fixed).unwrap();
    let (code, _, err) = run_in(&dir, &["check", "c.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("[reverse]") && err.contains("E0"), "{err}");
    let good = fixed.replace("upper(data('name')", "upper(data('name'))");
    std::fs::write(dir.join("c.toml"), &good).unwrap();
    let (code, out, err) = run_in(&dir, &["check", "c.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    // a [reverse] on a one-way connector is a mistake, not ignored
    let (code, err) = check_edited(
        "rev-oneway",
        "[[mappings]]",
        &format!("{reverse}\n[[mappings]]"),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("only when `[sync] direction = \"bidirectional\"`"),
        "{err}"
    );
}

#[test]
fn the_served_examples_pass_check() {
    for entry in std::fs::read_dir("examples/serve/erp").unwrap() {
        let path = entry.unwrap().path();
        let (code, out, err) = common::run(&["check", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {out}{err}", path.display());
    }
}

/// A side's type is open: a system of the user's own checks and runs like a named one,
/// and only a name close to a known one is taken for a misspelling.
#[test]
fn a_system_of_ones_own_runs_and_a_misspelt_type_says_which_was_meant() {
    let (code, err) = check_edited("own-type", "type = \"SAP B1\"", "type = \"Odoo\"");
    assert_eq!(code, 0, "{err}");

    let (code, err) = check_edited(
        "misspelt-system",
        "type = \"SAP B1\"",
        "type = \"Salesfroce\"",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("E610")
            && err.contains("unknown inbound type `Salesfroce`")
            && err.contains("did you mean `Salesforce`?"),
        "{err}"
    );
    let (code, err) = check_edited("misspelt-kind", "type = \"SAP B1\"", "type = \"ndjsn\"");
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `ndjson`?"), "{err}");
    assert!(
        err.contains(&format!("c.toml:{}", line_of(EXAMPLE, "type = \"SAP B1\""))),
        "{err}"
    );

    let dir = tempdir("check", "own-type-run");
    std::fs::write(
        dir.join("c.toml"),
        "name = \"odoo\"\n[inbound]\ntype = \"Odoo\"\n[outbound]\ntype = \"My FSM\"\n[[mappings]]\ntarget = \"id\"\nfield = \"Code\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("in.ndjson"), "{\"Code\": \"C1\"}\n").unwrap();
    let (code, out, err) = run_in(
        &dir,
        &["run", "c.toml", "--input", "in.ndjson", "--output", "-"],
    );
    assert_eq!((code, out.as_str()), (0, "{\"id\":\"C1\"}\n"), "{err}");
}

/// `[sync] partitions` makes every run a worker of a partitioned run, which needs a
/// PostgreSQL store: on SQLite the run says so; zero partitions and a lease that is no
/// duration are refused by `check`.
#[test]
fn a_partitioned_connector_is_checked_and_needs_a_postgres_store() {
    let (code, err) = check_edited("zero-partitions", "[sync]\n", "[sync]\npartitions = 0\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("E610") && err.contains("partitions = 0"),
        "{err}"
    );
    let (code, err) = check_edited(
        "bad-lease",
        "[sync]\n",
        "[sync]\npartitions = 4\nlease = \"soon\"\n",
    );
    assert_eq!(code, 2);
    assert!(err.contains("lease `soon` is not a duration"), "{err}");

    let dir = tempdir("check", "partitions-on-sqlite");
    std::fs::write(
        dir.join("c.toml"),
        EXAMPLE.replacen("[sync]\n", "[sync]\npartitions = 4\n", 1),
    )
    .unwrap();
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"CardCode\": \"C1\", \"CardType\": \"C\", \"CardName\": \"x\"}\n",
    )
    .unwrap();
    let (code, _, err) = run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--store",
            "local.db",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("E610") && err.contains("PostgreSQL store"),
        "{err}"
    );
    let (code, _, err) = run_in(
        &dir,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--output",
            "-",
            "--store",
            "local.db",
        ],
    );
    assert_eq!(code, 0, "a run to --output is not partitioned: {err}");
}
