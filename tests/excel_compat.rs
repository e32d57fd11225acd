//! What a person porting a spreadsheet formula meets: Excel's names and argument orders, a
//! pattern element `text` does not know refused (at compile time when it is a literal), the
//! peers' spellings pointed at Sluice's, every runtime error saying what went wrong, and the
//! JIT giving the interpreter's answers.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::run;

#[test]
fn an_unknown_element_of_a_literal_text_pattern_is_a_compile_error() {
    let (code, _, err) = run(&["eval", "text(5, '0.0@')"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E204") && err.contains("`@`"), "{err}");
    let (code, _, err) = run(&["eval", "text(date(2024, 1, 2), 'yyyy-mm-ddThh')"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E204") && err.contains("`T`"), "{err}");
    // the same pattern from the record is a runtime error: never printed as it is
    let (code, _, err) = run(&["eval", "--record", r#"{"f": "0.0@"}"#, "text(5, data('f'))"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("E306") && err.contains("`@`"), "{err}");
}

#[test]
fn excel_number_and_date_patterns_from_the_cli() {
    for (formula, want) in [
        ("text(5, '0000')", "\"0005\""),
        ("text(0.1234, '0.00%')", "\"12.34%\""),
        ("text(1234.5, '$#,##0.00')", "\"$1,234.50\""),
        ("text(date(2024, 3, 5), 'MM-dd-yyyy')", "\"03-05-2024\""),
        (
            "formatdate(date(2024, 3, 5), 'dd.mm.yyyy')",
            "\"05.03.2024\"",
        ),
        ("formatdate(date(2024, 3, 5), '%d.%m.%Y')", "\"05.03.2024\""),
    ] {
        let (code, out, err) = run(&["eval", formula]);
        assert_eq!((code, out.trim()), (0, want), "{formula}: {err}");
    }
}

#[test]
fn the_peers_spellings_point_at_sluices() {
    let (code, _, err) = run(&["eval", "replace('abcdef', 2, 3, 'x')"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E202") && err.contains("replaceat(text, start, count, new)"),
        "{err}"
    );
    let (code, _, err) = run(&["eval", "average(1, 2)"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("E201") && err.contains("`average` is spelled avg here"),
        "{err}"
    );
    let (code, _, err) = run(&["eval", "concatinate('a', 'b')"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `concatenate`?"), "{err}");
}

#[test]
fn every_runtime_error_says_what_went_wrong() {
    for (formula, code_id, says) in [
        ("mod(3, 0)", "E302", "the divisor is 0"),
        ("15 / 0", "E302", "division by zero"),
        ("quotient(1, 0)", "E302", "the divisor is 0"),
        ("sqrt(-4)", "E306", "a negative number has no square root"),
        ("ln(0)", "E306", "does not exist"),
        (
            "floor(2.5, -1)",
            "E306",
            "a positive number takes a positive significance",
        ),
        (
            "datedif('2024-02-01', '2024-01-01', 'D')",
            "E306",
            "the start is after the end",
        ),
    ] {
        let (code, _, err) = run(&["eval", formula]);
        assert_eq!(code, 1, "{formula}: {err}");
        assert!(
            err.contains(code_id) && err.contains(says),
            "{formula}: {err}"
        );
    }
}

#[test]
fn the_compatibility_table_lists_every_function() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/functions.md")).unwrap();
    let table = doc
        .split("## Compatibility with Excel, Power Fx and JSONata")
        .nth(1)
        .unwrap();
    let (code, out, _) = run(&["functions"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() > 100, "{}", names.len());
    for name in names {
        assert!(
            table.contains(&format!("| `{name}` |")),
            "{name} has no row"
        );
    }
    assert!(table.contains("isblank(' ') is true"));
}

/// The new functions in a connector, run on both engines: the same output.
#[test]
fn the_jit_gives_the_interpreters_answers_for_the_spreadsheet_functions() {
    let dir = common::tempdir("excel", "engines");
    let mappings = [
        ("a", "text(data('n'), '#,##0.00;(#,##0.00)')"),
        ("b", "mround(abs(data('n')), 0.05)"),
        ("c", "floor(data('n'), 0.5)"),
        ("d", "power(abs(data('n')) + 1, 0.5)"),
        ("e", "log(abs(data('n')) + 1)"),
        ("f", "quotient(data('n'), 3)"),
        ("g", "substitute(data('s'), 'a', 'o', 2)"),
        ("h", "search('b?', data('s'))"),
        ("i", "eomonth(data('d'), 1)"),
        ("j", "datedif(data('d'), '2030-01-01', 'YD')"),
        ("k", "weeknum(data('d'), 2)"),
        ("l", "value(data('v'))"),
        ("m", "proper(data('s'))"),
    ];
    let mut toml = String::from(
        "name = \"engines\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"ndjson\"\n",
    );
    for (target, formula) in mappings {
        toml.push_str(&format!(
            "[[mappings]]\ntarget = \"{target}\"\nformula = \"{formula}\"\n"
        ));
    }
    std::fs::write(dir.join("c.toml"), toml).unwrap();
    let mut input = String::new();
    for i in 0..200i64 {
        let n = (i * 7919 % 20011 - 10000) as f64 / 100.0;
        input.push_str(&format!(
            "{{\"n\": {n}, \"s\": \"a{i}banana bay\", \"d\": \"20{:02}-{:02}-{:02}\", \"v\": \"${i},0{}.5\"}}\n",
            i % 30,
            i % 12 + 1,
            i % 28 + 1,
            i % 10
        ));
    }
    std::fs::write(dir.join("in.ndjson"), input).unwrap();
    let mut outputs = Vec::new();
    for engine in ["interp", "jit"] {
        let out = dir.join(format!("{engine}.ndjson"));
        let (code, _, err) = common::run_in(
            &dir,
            &[
                "run",
                "c.toml",
                "--input",
                "in.ndjson",
                "--output",
                out.to_str().unwrap(),
                "--engine",
                engine,
            ],
        );
        assert_eq!(code, 0, "{engine}: {err}");
        outputs.push(std::fs::read_to_string(out).unwrap());
    }
    assert_eq!(outputs[0].lines().count(), 200, "{}", outputs[0]);
    assert_eq!(outputs[0], outputs[1]);
}
