//! One pass over a record line with sonic-rs (SIMD): the top-level fields are found, the
//! values no mapping reads are validated and skipped without being built, and only the
//! wanted ones are read. A line this pass cannot settle — any error, an escaped key, a
//! `\u` escape without four hex digits (sonic-rs does not check them in skipped strings), a
//! value that may nest too deep — is left to the exact serde path, so errors, their
//! messages and positions are the serde path's own.

use sonic_rs::parser::{Parser, Reference};
use sonic_rs::Read;

/// Calls `found(key, raw)` for each top-level field of the JSON object `line`, in order,
/// with the field's raw JSON text; each value may nest `depth` levels. Returns `false` when
/// the line must be read by the exact path instead (it, or `found`, met something this
/// pass does not settle).
pub(super) fn scan_object(
    line: &str,
    depth: u8,
    mut found: impl FnMut(&str, &str) -> bool,
) -> bool {
    if !unicode_escapes_well_formed(line.as_bytes()) {
        return false;
    }
    let mut parser = Parser::new(Read::from(line));
    // only escaped keys are copied here, and those are left to the exact path
    let mut copied = Vec::new();
    if parser.skip_space() != Some(b'{') {
        return false;
    }
    let mut next = parser.skip_space();
    if next == Some(b'}') {
        return rest_is_space(line, parser.offset());
    }
    while next == Some(b'"') {
        let Ok(Reference::Borrowed(key)) = parser.parse_str(&mut copied) else {
            return false;
        };
        if parser.skip_space() != Some(b':') {
            return false;
        }
        let Ok((raw, _)) = parser.skip_one(true) else {
            return false;
        };
        let end = parser.offset();
        let Some(raw) = line.get(end.saturating_sub(raw.len())..end) else {
            return false;
        };
        if may_nest_too_deep(raw, depth) || !found(key, raw) {
            return false;
        }
        match parser.skip_space() {
            Some(b',') => next = parser.skip_space(),
            Some(b'}') => return rest_is_space(line, parser.offset()),
            _ => return false,
        }
    }
    false
}

/// Whether `line` holds only whitespace from byte `at` on.
fn rest_is_space(line: &str, at: usize) -> bool {
    line.get(at..)
        .is_some_and(|rest| rest.trim_start_matches(is_json_space).is_empty())
}

/// JSON's whitespace: space, tab, line feed, carriage return.
fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether a value is a container long enough to nest more than `depth` levels (each
/// level takes two bytes, so shorter ones cannot), and does.
fn may_nest_too_deep(raw: &str, depth: u8) -> bool {
    raw.len() > 2 * usize::from(depth)
        && crate::limits::json_depth_exceeds(raw.as_bytes(), usize::from(depth))
}

/// Whether every `\u` escape of a line (whose backslashes are all inside strings, as in
/// any line sonic-rs accepts) has four hex digits. Lines without a backslash cost one
/// memchr pass.
fn unicode_escapes_well_formed(line: &[u8]) -> bool {
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\\', line.get(at..).unwrap_or_default()) {
        let escape = at + found + 1;
        if line.get(escape) == Some(&b'u') {
            let hex = line.get(escape + 1..escape + 5).unwrap_or_default();
            if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
        }
        at = escape + 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        scan_object(line, 127, |k, raw| {
            out.push((k.to_string(), raw.to_string()));
            true
        })
        .then_some(out)
    }

    #[test]
    fn finds_each_field_with_its_raw_text() {
        let got = fields(r#" { "a" : 1.50, "b": [1, {"x": "\"y"}], "c": "d" } "#).unwrap();
        let want = [
            ("a", "1.50"),
            ("b", r#"[1, {"x": "\"y"}]"#),
            ("c", r#""d""#),
        ];
        assert_eq!(got.len(), want.len());
        for ((k, raw), (wk, wraw)) in got.iter().zip(want) {
            assert_eq!((k.as_str(), raw.as_str()), (wk, wraw));
        }
        assert_eq!(fields("{}").unwrap().len(), 0);
        assert_eq!(fields(" {\t}\r\n").unwrap().len(), 0);
    }

    #[test]
    fn leaves_what_it_cannot_settle_to_the_exact_path() {
        for line in [
            r#"{"a": 1} x"#,
            r#"{"a": 1}}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 01}"#,
            r#"{"a": "\uZZZZ"}"#,
            r#"{"a": ["\u12"]}"#,
            r#"{"\u0061": 1}"#,
            "[1]",
            "{",
            "",
            r#"{"a": "x
y"}"#,
        ] {
            assert!(fields(line).is_none(), "{line}");
        }
        let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(fields(&deep).is_none());
        assert!(fields(r#"{"a": "\\u", "b": "\u00e9"}"#).is_some());
    }
}
