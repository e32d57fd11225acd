//! One pass over a record line: the top-level fields are found, the values no mapping reads
//! are validated and skipped without being built, and the wanted ones are handed over as
//! their raw text. String bodies are scanned eight bytes at a time. A line this pass cannot
//! settle — any error, an escaped key, a value nesting deeper than allowed — is left to the exact
//! serde path, so errors, their messages and positions are the serde path's own; the pass
//! only ever answers "these fields" or "not mine" (the differential tests in
//! `tests/json_scan.rs` hold it to the serde path on millions of generated and mutated
//! lines).

use super::stops::Stops;

/// How many containers a value may nest here (one bit each of the kind stack); a deeper
/// limit is met at this one, and the line left to the exact path.
const MAX_NESTING: u32 = u128::BITS;

/// One top-level field of a line as the pass found it: where its key's body and its raw
/// value lie. The key is compared as bytes and the value taken as text only for the fields
/// a caller wants (each `str` slice checks that it falls on character boundaries, which at
/// quotes and delimiters it always does: a check per field no caller needs).
pub(super) struct Member<'a> {
    line: &'a str,
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

impl<'a> Member<'a> {
    /// The key's body (without escapes: a line with an escaped key is the exact path's).
    pub(super) fn key(&self) -> &'a [u8] {
        self.line
            .as_bytes()
            .get(self.key.clone())
            .unwrap_or_default()
    }

    /// The key as text.
    pub(super) fn key_text(&self) -> Option<&'a str> {
        self.line.get(self.key.clone())
    }

    /// The value's raw JSON text.
    pub(super) fn raw(&self) -> Option<&'a str> {
        self.line.get(self.value.clone())
    }
}

/// Calls `found(member)` for each top-level field of the JSON object `line`, in order,
/// with where the field's key and raw JSON text are ([`Member`]). Each value may nest
/// `depth` containers, counted as `limits::json_depth_exceeds` counts them; a deeper one
/// is left to the exact path, which owns the depth error. Returns `false` when the line
/// must be read by the exact path instead (it, or `found`, met something this pass does
/// not settle).
pub(super) fn scan_object(line: &str, depth: u8, found: impl FnMut(Member<'_>) -> bool) -> bool {
    scan_object_with(line, depth, None, found)
}

/// [`scan_object`], with the line's string stops found ahead ([`Stops`], of `line`'s
/// bytes) when given: each string's end is then read from their bits.
pub(super) fn scan_object_with(
    line: &str,
    depth: u8,
    stops: Option<&Stops>,
    mut found: impl FnMut(Member<'_>) -> bool,
) -> bool {
    let mut scan = Scanner {
        bytes: line.as_bytes(),
        at: 0,
        stops,
    };
    let nesting = u32::from(depth).min(MAX_NESTING);
    if scan.space_then() != Some(b'{') {
        return false;
    }
    scan.at += 1;
    let mut next = scan.space_then();
    if next == Some(b'}') {
        scan.at += 1;
        return scan.rest_is_space();
    }
    while next == Some(b'"') {
        let Some((key, false)) = scan.member_key() else {
            return false;
        };
        let start = scan.at;
        if scan.value(nesting).is_none() {
            return false;
        }
        let member = Member {
            line,
            key,
            value: start..scan.at,
        };
        if !found(member) {
            return false;
        }
        match scan.space_then() {
            Some(b',') => {
                scan.at += 1;
                next = scan.space_then();
            }
            Some(b'}') => {
                scan.at += 1;
                return scan.rest_is_space();
            }
            _ => return false,
        }
    }
    false
}

/// A position in a line's bytes; each method reads one piece of JSON grammar from it and
/// answers `None` for anything else (the line is then the exact path's).
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The stops of `bytes`, when found ahead.
    stops: Option<&'a Stops>,
}

impl Scanner<'_> {
    /// Skips JSON whitespace (space, tab, line feed, carriage return); the byte after it.
    fn space_then(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    /// Whether only whitespace is left.
    fn rest_is_space(&mut self) -> bool {
        self.space_then().is_none()
    }

    /// Steps over `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    /// Reads one whole value (whitespace before it already skipped) that nests at most
    /// `nesting` containers, containers iteratively: each open container is a bit of
    /// `objects` (set for an object). Inlined into its one caller, the loop over a
    /// record's fields, which calls it once a field.
    #[inline(always)]
    fn value(&mut self, nesting: u32) -> Option<()> {
        let mut objects: u128 = 0;
        let mut open: u32 = 0;
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' if open >= nesting => return None,
                b'{' => {
                    self.at += 1;
                    if self.space_then()? == b'}' {
                        self.at += 1;
                    } else {
                        objects |= 1 << open;
                        open += 1;
                        self.member_key()?;
                        continue;
                    }
                }
                b'[' => {
                    self.at += 1;
                    if self.space_then()? == b']' {
                        self.at += 1;
                    } else {
                        objects &= !(1 << open);
                        open += 1;
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // a value ended: close what it ends, or go on to the next member or element
            loop {
                if open == 0 {
                    return Some(());
                }
                let in_object = objects >> (open - 1) & 1 == 1;
                match self.space_then()? {
                    b',' => {
                        self.at += 1;
                        self.space_then()?;
                        if in_object {
                            self.member_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => open -= 1,
                    b']' if !in_object => open -= 1,
                    _ => return None,
                }
                self.at += 1;
            }
        }
    }

    /// An object member's key and colon, and the whitespace before its value: where the
    /// key's body is, and whether it has escapes. Inlined: a call and its register saves
    /// cost as much as a short key's scan, once for every key of a record.
    #[inline(always)]
    fn member_key(&mut self) -> Option<(std::ops::Range<usize>, bool)> {
        if self.space_then()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let escaped = self.string()?;
        let key = start..self.at - 1;
        if self.space_then()? != b':' {
            return None;
        }
        self.at += 1;
        self.space_then()?;
        Some((key, escaped))
    }

    /// Steps over `word` (a literal) if it is next.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Reads a string at its opening quote; whether it has escapes. Control characters and
    /// malformed escapes (as serde_json checks them in strings it skips: an escape letter,
    /// and four hex digits after `\u`) answer `None`. Inlined: a record's strings are
    /// mostly short keys, for which a call costs as much as the scan.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        let bytes = self.bytes;
        let mut at = self.at + 1;
        let mut escaped = false;
        loop {
            at = match self.stops {
                Some(stops) => stops.next(at).unwrap_or(bytes.len()),
                None => super::plain::plain_end(bytes, at),
            };
            match *bytes.get(at)? {
                b'"' => {
                    self.at = at + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    at = escape_end(bytes, at)?;
                }
                _ => return None,
            }
        }
    }

    /// A number in JSON's grammar: `-`?, `0` or digits without a leading zero, then an
    /// optional fraction and exponent, each with at least one digit. Inlined, as the other
    /// pieces of a value are.
    #[inline(always)]
    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        match *self.bytes.get(self.at)? {
            b'0' => {
                self.at += 1;
                if self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits()?,
            _ => return None,
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        Some(())
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }
}

/// Where an escape starting at its backslash `at` ends: after a letter serde_json knows,
/// or after `u` and four hex digits.
fn escape_end(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 2),
        b'u' => {
            let hex = bytes.get(at + 2..at + 6)?;
            hex.iter().all(u8::is_ascii_hexdigit).then_some(at + 6)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        scan_object(line, 127, |m| {
            out.push((
                m.key_text().unwrap().to_string(),
                m.raw().unwrap().to_string(),
            ));
            true
        })
        .then_some(out)
    }

    #[test]
    fn finds_each_field_with_its_raw_text() {
        let got = fields(
            r#" { "a" : 1.50, "b": [1, {"x": "\"y", "z" : [ ] }, {}], "c": "d", "e": -0.5e+3 } "#,
        )
        .unwrap();
        let want = [
            ("a", "1.50"),
            ("b", r#"[1, {"x": "\"y", "z" : [ ] }, {}]"#),
            ("c", r#""d""#),
            ("e", "-0.5e+3"),
        ];
        assert_eq!(got.len(), want.len());
        for ((k, raw), (wk, wraw)) in got.iter().zip(want) {
            assert_eq!((k.as_str(), raw.as_str()), (wk, wraw));
        }
        assert_eq!(fields("{}").unwrap().len(), 0);
        assert_eq!(fields(" {\t}\r\n").unwrap().len(), 0);
        let long = r#"{"s": "a string longer than eight bytes, with é and \u00e9 and \n"}"#;
        assert_eq!(fields(long).unwrap().len(), 1);
    }

    #[test]
    fn leaves_what_it_cannot_settle_to_the_exact_path() {
        for line in [
            r#"{"a": 1} x"#,
            r#"{"a": 1}}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": 1e}"#,
            r#"{"a": -}"#,
            r#"{"a": tru}"#,
            r#"{"a": [1,]}"#,
            r#"{"a": {"b" 1}}"#,
            r#"{"a": {"b": 1,}}"#,
            r#"{"a": [1}"#,
            r#"{"a": {"b": 1]}"#,
            r#"{"a": "\uZZZZ"}"#,
            r#"{"a": ["\u12"]}"#,
            r#"{"a": "\x"}"#,
            r#"{"\u0061": 1}"#,
            "{\"a\": \"tab\there\"}",
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
