//! Date patterns as a run formats them: several patterns in one transform, record after
//! record (each pattern is compiled once and the one used last is looked up first), the
//! digit-by-digit patterns next to ones chrono writes, under both engines, through the CLI.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{run_in, tempdir};

#[test]
fn several_date_patterns_in_one_transform_each_format_every_record() {
    let dir = tempdir("date-formats", "several");
    std::fs::write(
        dir.join("c.toml"),
        r#"name = "dates"

[inbound]
type = "ndjson"

[outbound]
type = "ndjson"

[[mappings]]
target = "day"
formula = "formatdate(data('at'), '%Y-%m-%d')"

[[mappings]]
target = "stamp"
formula = "formatdate(data('at'), '%d.%m.%Y %H:%M:%S')"

[[mappings]]
target = "named"
formula = "formatdate(data('at'), '%b %d, %Y')"

[[mappings]]
target = "zurich"
formula = "formatdate(data('at'), '%Y-%m-%d %H:%M', 'Europe/Zurich')"

[[mappings]]
target = "excel"
formula = "text(date(2024, 2, 29), 'yyyy/mm/dd')"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("in.ndjson"),
        "{\"at\": \"2024-05-01T07:08:09Z\"}\n{\"at\": \"1999-12-31T23:59:59+02:00\"}\n{\"at\": \"2024-01-02\"}\n",
    )
    .unwrap();
    let want = [
        r#"{"day":"2024-05-01","stamp":"01.05.2024 07:08:09","named":"May 01, 2024","zurich":"2024-05-01 09:08","excel":"2024/02/29"}"#,
        r#"{"day":"1999-12-31","stamp":"31.12.1999 23:59:59","named":"Dec 31, 1999","zurich":"1999-12-31 22:59","excel":"2024/02/29"}"#,
    ];
    for engine in ["interp", "jit"] {
        let (code, _, err) = run_in(
            &dir,
            &[
                "run",
                "c.toml",
                "--input",
                "in.ndjson",
                "--output",
                "out.ndjson",
                "--engine",
                engine,
            ],
        );
        assert_eq!(code, 0, "{engine}: {err}");
        let out = std::fs::read_to_string(dir.join("out.ndjson")).unwrap_or_default();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines, want, "{engine}: {err}");
        // a date has no time of day: the first pattern with one fails that record, named
        let dead = std::fs::read_to_string(dir.join("dates.dead.ndjson")).unwrap_or_default();
        let letter: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
        assert_eq!(letter["line"], 3, "{engine}: {dead}");
        assert_eq!(letter["error"]["code"], "E306", "{engine}: {dead}");
        assert_eq!(letter["error"]["target"], "stamp", "{engine}: {dead}");
        assert_eq!(
            letter["error"]["message"], "'%d.%m.%Y %H:%M:%S' asks for a part a date does not have",
            "{engine}"
        );
        std::fs::remove_file(dir.join("dates.dead.ndjson")).unwrap();
    }
}
