//! A connector file as read from disk or given as text: the text beside the parsed model,
//! so that problems point at lines and formulas at their place in the file.

use std::path::Path;

use super::connector::Connector;
use super::connector_parse::parse_connector_file;
use super::problem::{ConnectorProblem, FormulaPlace};
use crate::diagnostics::{codes, Diag, Report};
use crate::syntax::Span;

/// A connector file read from disk: the text and the parsed model.
#[derive(Debug, Clone)]
pub struct ConnectorFile {
    /// The path as given.
    pub path: String,
    /// The file text.
    pub text: String,
    /// The connector.
    pub connector: Connector,
}

impl ConnectorFile {
    /// Reads and parses a connector (`.json` as JSON, anything else as TOML).
    pub fn load(path: &Path) -> Result<ConnectorFile, Vec<ConnectorProblem>> {
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            vec![ConnectorProblem {
                diag: Diag::new(codes::E506_READ_FILE, format!("cannot read {display}: {e}")),
                line: None,
                rendered: None,
                formula: None,
            }]
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            vec![ConnectorProblem {
                diag: Diag::new(
                    codes::E601_CONNECTOR_SYNTAX,
                    format!("{display}: not valid UTF-8 ({e})"),
                ),
                line: None,
                rendered: None,
                formula: None,
            }]
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let connector = parse_connector_file(&text, is_json)?;
        Ok(ConnectorFile {
            path: display,
            text,
            connector,
        })
    }

    /// A connector from text already read (`is_json` picks the format).
    pub fn from_text(
        path: &str,
        text: &str,
        is_json: bool,
    ) -> Result<ConnectorFile, Vec<ConnectorProblem>> {
        let connector = parse_connector_file(text, is_json)?;
        Ok(ConnectorFile {
            path: path.to_string(),
            text: text.to_string(),
            connector,
        })
    }

    /// The way back of a bidirectional connector as a file of its own (it has no text: its
    /// formulas' problems are reported without a line), writing to the inbound `path`.
    pub fn reverse_file(&self) -> Option<ConnectorFile> {
        let mut connector = self.connector.reverse_connector()?;
        connector.outbound.path = self.inbound_path();
        Some(ConnectorFile {
            path: format!("{} [reverse]", self.path),
            text: String::new(),
            connector,
        })
    }

    /// The inbound side's `path`, relative to the directory of the connector file.
    pub fn inbound_path(&self) -> Option<String> {
        let path = self.connector.inbound.path.as_deref()?;
        let dir = Path::new(&self.path).parent().unwrap_or(Path::new(""));
        Some(dir.join(path).display().to_string())
    }

    /// The 1-based line of byte offset `at`.
    pub fn line_at(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .map_or(1, |before| before.matches('\n').count() + 1)
    }

    /// The byte offset of the `target` key of mapping `index` (0-based), in TOML
    /// (`target = ...`, also in inline tables) or JSON (`"target": ...`).
    pub fn mapping_offset(&self, index: usize) -> Option<usize> {
        target_keys(&self.text).nth(index)
    }

    /// The 1-based line of mapping `index`'s `target` key.
    pub fn mapping_line(&self, index: usize) -> Option<usize> {
        self.mapping_offset(index).map(|at| self.line_at(at))
    }

    /// Where the text of a formula starts in the file, when it is written there verbatim
    /// (no TOML escapes in it): searched after the mapping's `target` key, or after the
    /// `conditions` key.
    pub fn formula_offset(&self, place: FormulaPlace, formula: &str) -> Option<usize> {
        let from = match place {
            FormulaPlace::Condition(_) => self.text.find("conditions")?,
            FormulaPlace::Mapping(i) => self.mapping_offset(i)?,
        };
        self.text
            .get(from..)?
            .find(formula)
            .map(|at| from + at)
            .filter(|_| !formula.is_empty())
    }

    /// Renders diagnostics of a formula at its place in the file, so that every location
    /// reads `file:line:column`; `offset` is [`ConnectorFile::formula_offset`]. A formula
    /// not written verbatim in the file is shown on its own, under `file:line`.
    pub fn render_formula(
        &self,
        place: FormulaPlace,
        offset: Option<usize>,
        formula: &str,
        diags: Vec<Diag>,
    ) -> String {
        let label = place.to_string();
        let report = match offset {
            Some(at) => Report {
                source_name: self.path.clone(),
                source: self.text.clone(),
                diags: diags
                    .into_iter()
                    .map(|d| {
                        let located = if d.labels.is_empty() {
                            format!("{}:{}: ", self.path, self.line_at(at))
                        } else {
                            String::new()
                        };
                        Diag {
                            message: format!(
                                "{located}{label}: {}",
                                without_formula_position(&d.message)
                            ),
                            labels: d
                                .labels
                                .into_iter()
                                .map(|(span, text)| {
                                    (Span::new(span.start + at, span.end + at), text)
                                })
                                .collect(),
                            ..d
                        }
                    })
                    .collect(),
            },
            None => Report {
                source_name: format!(
                    "{}:{} {label}",
                    self.path,
                    self.line_of(formula).unwrap_or(1)
                ),
                source: formula.to_string(),
                diags,
            },
        };
        crate::diagnostics::render_plain(&report)
    }

    /// The sample records a `# sample: FILE` comment at the top of the file names, relative
    /// to the file's directory: what `sluice test` and `sluice repl --connector` read when
    /// no sample is given.
    pub fn sample_path(&self) -> Option<std::path::PathBuf> {
        let name = self
            .text
            .lines()
            .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix('#')?
                    .trim()
                    .strip_prefix("sample:")
            })?
            .trim();
        let dir = Path::new(&self.path).parent().unwrap_or(Path::new(""));
        (!name.is_empty()).then(|| dir.join(name))
    }

    /// The first `limit` records (JSON objects) of the `# sample:` file, when it names one
    /// that reads as NDJSON; other lines are passed over.
    pub fn sample_records(&self, limit: usize) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let text = self
            .sample_path()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        text.lines()
            .filter_map(|line| match serde_json::from_str(line) {
                Ok(serde_json::Value::Object(record)) => Some(record),
                _ => None,
            })
            .take(limit)
            .collect()
    }

    /// The 1-based line where `needle` first occurs in the file.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        if needle.is_empty() {
            return None;
        }
        self.text.find(needle).map(|at| {
            self.text
                .get(..at)
                .map_or(1, |before| before.matches('\n').count() + 1)
        })
    }
}

/// The byte offsets of the `target` keys in a connector's text, in order: `target` (quoted
/// or not) after the start, white space, `{` or `,`, and before `=` or `:`. A plain scan:
/// building a regex for it cost 0.4 M instructions at every start of the program.
fn target_keys(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.match_indices("target").filter_map(move |(at, key)| {
        let before = text.get(..at)?;
        let before = before.strip_suffix('"').unwrap_or(before);
        let opens = before
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
        let after = text.get(at + key.len()..)?;
        let after = after.strip_prefix('"').unwrap_or(after).trim_start();
        (opens && after.starts_with(['=', ':'])).then_some(at)
    })
}

/// A syntax message without its formula-relative ` at line L, column C` (the rendered
/// location in the file says where).
fn without_formula_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message.get(at..).is_some_and(|t| t.contains(", column ")) => {
            message.get(..at).unwrap_or(message)
        }
        _ => message,
    }
}

#[cfg(test)]
mod target_key_tests {
    use super::target_keys;

    #[test]
    fn target_keys_are_found_in_toml_inline_tables_and_json_and_nowhere_else() {
        let toml = "name = \"t\"\n[[mappings]]\ntarget = \"a\"\nformula = \"data('target')\"\n\n[[mappings]]\n  target=\"b\"\nmappings = [{ target = \"c\" },{target= \"d\"}]\n";
        let found: Vec<&str> = target_keys(toml)
            .map(|at| toml.get(at..at + 10).unwrap_or_default())
            .collect();
        assert_eq!(
            found,
            ["target = \"", "target=\"b\"", "target = \"", "target= \"d"]
        );
        let json = "{\"mappings\": [{\"target\": \"a\"}, {\"target\"\n : \"b\", \"formula\": \"target\"}]}";
        assert_eq!(target_keys(json).count(), 2);
        assert!(json
            .get(target_keys(json).nth(1).unwrap_or(0)..)
            .is_some_and(|t| t.starts_with("target\"\n :")));
        assert_eq!(target_keys("retarget = 1\ntargets = 2\n").count(), 0);
        assert_eq!(target_keys("target = 1").collect::<Vec<_>>(), [0]);
    }
}
