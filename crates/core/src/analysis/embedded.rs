//! Where the formulas of a TOML connector file are: each `conditions` entry and each
//! mapping's `formula` (of the way back too), with the way from a byte of the formula to the
//! byte of the file it was written as (TOML escapes such as `\"` take more bytes in the file
//! than in the formula).

use serde::Deserialize;
use toml::Spanned;

use crate::transform::connector::FormulaPlace;

/// A formula written in a connector file.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// Its place in the connector's terms, for the way in (`None` for the way back's).
    pub place: Option<FormulaPlace>,
    /// Its place as the file reads (`mappings[2].formula`, `reverse.conditions[0]`).
    pub label: String,
    /// The formula as the connector holds it (escapes decoded).
    pub text: String,
    /// For each byte of `text`, and one past its end, the byte of the file it was written
    /// at.
    map: Vec<usize>,
}

impl Embedded {
    /// The byte of the file where byte `at` of the formula was written.
    pub fn to_file(&self, at: usize) -> usize {
        let last = self.map.last().copied().unwrap_or(0);
        self.map.get(at).copied().unwrap_or(last)
    }

    /// The byte of the formula written at byte `at` of the file, when it is inside the
    /// formula (or just after its last byte).
    pub fn from_file(&self, at: usize) -> Option<usize> {
        let (first, last) = (*self.map.first()?, *self.map.last()?);
        if at < first || at > last {
            return None;
        }
        Some(
            self.map
                .iter()
                .position(|&m| m >= at)
                .unwrap_or(self.text.len()),
        )
    }
}

#[derive(Deserialize, Default)]
struct Shape {
    #[serde(default)]
    conditions: Vec<Spanned<String>>,
    #[serde(default)]
    mappings: Vec<MappingShape>,
    #[serde(default)]
    reverse: Option<ReverseShape>,
}

#[derive(Deserialize, Default)]
struct ReverseShape {
    #[serde(default)]
    conditions: Vec<Spanned<String>>,
    #[serde(default)]
    mappings: Vec<MappingShape>,
}

#[derive(Deserialize)]
struct MappingShape {
    #[serde(default)]
    formula: Option<Spanned<String>>,
}

/// The formulas of a TOML connector file, in file order of their kind; none when the file
/// is not TOML of the connector's shape.
pub fn formulas_in(file: &str) -> Vec<Embedded> {
    let Ok(shape) = toml::from_str::<Shape>(file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add = |place: Option<FormulaPlace>, label: String, value: &Spanned<String>| {
        out.push(Embedded {
            place,
            label,
            text: value.get_ref().clone(),
            map: byte_map(file, value),
        });
    };
    for (i, c) in shape.conditions.iter().enumerate() {
        add(
            Some(FormulaPlace::Condition(i)),
            format!("conditions[{i}]"),
            c,
        );
    }
    for (i, m) in shape.mappings.iter().enumerate() {
        if let Some(f) = &m.formula {
            add(
                Some(FormulaPlace::Mapping(i)),
                format!("mappings[{i}].formula"),
                f,
            );
        }
    }
    if let Some(reverse) = &shape.reverse {
        for (i, c) in reverse.conditions.iter().enumerate() {
            add(None, format!("reverse.conditions[{i}]"), c);
        }
        for (i, m) in reverse.mappings.iter().enumerate() {
            if let Some(f) = &m.formula {
                add(None, format!("reverse.mappings[{i}].formula"), f);
            }
        }
    }
    out
}

/// For each byte of the string `value` (and one past its end), the byte of `file` it was
/// written at. A string whose escapes are not followed byte by byte maps every byte to the
/// start of its text.
fn byte_map(file: &str, value: &Spanned<String>) -> Vec<usize> {
    let span = value.span();
    let raw = file.get(span.clone()).unwrap_or("");
    let text = value.get_ref();
    let (open, literal) = match raw {
        r if r.starts_with("'''") => (3, true),
        r if r.starts_with("\"\"\"") => (3, false),
        r if r.starts_with('\'') => (1, true),
        _ => (1, false),
    };
    let mut start = span.start + open;
    // a multi-line string's first line break, right after the quotes, is not its text
    if open == 3 {
        if file.get(start..).is_some_and(|r| r.starts_with("\r\n")) {
            start += 2;
        } else if file.get(start..).is_some_and(|r| r.starts_with('\n')) {
            start += 1;
        }
    }
    let mapped = match literal {
        true => Some((0..=text.len()).map(|i| start + i).collect()),
        false => basic_map(file, start, text),
    };
    mapped.unwrap_or_else(|| vec![start; text.len() + 1])
}

/// The byte map of a basic (escaped) string whose text starts at byte `start` of `file`,
/// when decoding its escapes gives `text` back.
fn basic_map(file: &str, start: usize, text: &str) -> Option<Vec<usize>> {
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut decoded = String::with_capacity(text.len());
    let mut at = start;
    let bytes = file.as_bytes();
    while decoded.len() < text.len() {
        let c = file.get(at..)?.chars().next()?;
        if c == '\\' {
            let escape = *bytes.get(at + 1)?;
            let (ch, width) = match escape {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'n' => ('\n', 2),
                b't' => ('\t', 2),
                b'r' => ('\r', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'e' => ('\u{1b}', 2),
                b'u' | b'U' => {
                    let digits = if escape == b'u' { 4 } else { 8 };
                    let hex = file.get(at + 2..at + 2 + digits)?;
                    (
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?,
                        2 + digits,
                    )
                }
                _ => return None,
            };
            for _ in 0..ch.len_utf8() {
                map.push(at);
            }
            decoded.push(ch);
            at += width;
        } else {
            for k in 0..c.len_utf8() {
                map.push(at + k);
            }
            decoded.push(c);
            at += c.len_utf8();
        }
    }
    map.push(at);
    (decoded == text).then_some(map)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn formulas_are_found_with_their_bytes_in_the_file() {
        let file = r#"name = "c"
conditions = ["data('a') = 'x'", 'not isblank($b)']
[inbound]
type = "ndjson"
[outbound]
type = "ndjson"
[[mappings]]
target = "t"
formula = "concat(data('a'), \"-\", data('b'))"
[[mappings]]
target = "u"
field = "u"
"#;
        let found = formulas_in(file);
        let labels: Vec<_> = found.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            ["conditions[0]", "conditions[1]", "mappings[0].formula"]
        );
        let m = &found[2];
        assert_eq!(m.text, r#"concat(data('a'), "-", data('b'))"#);
        // `data('b')` after the escaped quotes is where it is in the file
        let in_formula = m.text.find("data('b')").unwrap();
        let in_file = file.find("data('b')").unwrap();
        assert_eq!(m.to_file(in_formula), in_file);
        assert_eq!(m.from_file(in_file), Some(in_formula));
        let c = &found[1];
        assert_eq!(c.to_file(0), file.find("not isblank").unwrap());
        assert_eq!(found[0].place, Some(FormulaPlace::Condition(0)));
    }
}
