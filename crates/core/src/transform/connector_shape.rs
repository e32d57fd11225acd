//! The shape of a TOML connector checked against the format's reference table before it is
//! deserialized: every unknown key, missing required key, value of the wrong TOML type and
//! value outside its closed set, all in one pass (serde stops at the first). A file this
//! finds nothing wrong with is then deserialized as before.

use super::connector_reference::{spec, KeySpec, KEYS};
use super::problem::ConnectorProblem;
use crate::diagnostics::one_of;
use crate::diagnostics::{codes, did_you_mean, Diag};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Every structural problem of `text` (empty when the shape is right or the text is not
/// TOML at all: the parser then reports its own syntax error).
pub fn shape_problems(text: &str) -> Vec<ConnectorProblem> {
    let Ok(root) = DeTable::parse(text) else {
        return Vec::new();
    };
    let mut walk = Walk {
        text,
        problems: Vec::new(),
    };
    walk.table(root.get_ref(), "", "", root.span().start);
    walk.problems.sort_by_key(|p| p.line);
    walk.problems
}

struct Walk<'t> {
    text: &'t str,
    problems: Vec<ConnectorProblem>,
}

impl Walk<'_> {
    fn line(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .map_or(1, |before| before.matches('\n').count() + 1)
    }

    fn push(&mut self, diag: Diag, at: usize) {
        let line = Some(self.line(at));
        self.problems.push(ConnectorProblem {
            diag,
            line,
            rendered: None,
            formula: None,
        });
    }

    /// Checks the keys of `table`, whose reference table is `kind` and whose place in the
    /// file is `path` (`inbound.connection`); `at` is where the table starts.
    fn table(&mut self, table: &DeTable<'_>, kind: &str, path: &str, at: usize) {
        for spec in KEYS.iter().filter(|k| k.table == kind && k.required) {
            if !table.keys().any(|k| k.get_ref().as_ref() == spec.key) {
                let place = if path.is_empty() {
                    String::new()
                } else {
                    format!(" in [{path}]")
                };
                self.push(
                    Diag::new(
                        codes::E603_CONNECTOR_MISSING,
                        format!("missing key `{}`{place}", spec.key),
                    )
                    .help(format!("add it, e.g. `{}`", spec.example)),
                    at,
                );
            }
        }
        for (key, value) in table {
            let name = key.get_ref().as_ref();
            let key_at = key.span().start;
            let Some(spec) = spec(kind, name) else {
                let known = KEYS.iter().filter(|k| k.table == kind).map(|k| k.key);
                let place = if path.is_empty() {
                    String::from("at the top level")
                } else {
                    format!("in [{path}]")
                };
                self.push(
                    Diag::new(
                        codes::E602_CONNECTOR_UNKNOWN_KEY,
                        format!("unknown key `{name}` {place}"),
                    )
                    .maybe_help(did_you_mean(name, known).map(|k| format!("did you mean `{k}`?"))),
                    key_at,
                );
                continue;
            };
            let inner = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            self.value(spec, value, &inner);
        }
    }

    fn value(&mut self, spec: &KeySpec, value: &Spanned<DeValue<'_>>, path: &str) {
        let at = value.span().start;
        match (spec.ty, value.get_ref()) {
            ("string", DeValue::String(s)) => {
                let s = s.as_ref();
                if !spec.allowed.is_empty() && !spec.allowed.contains(&s) {
                    self.push(
                        Diag::new(
                            codes::E610_INVALID_SETTING,
                            format!("{path}: `{s}` is not one of {}", spec.allowed.join(", ")),
                        )
                        .help(one_of(s, spec.allowed)),
                        at,
                    );
                }
            }
            ("boolean", DeValue::Boolean(_))
            | ("integer", DeValue::Integer(_))
            | ("any TOML value", _)
            | ("string or table", DeValue::String(_) | DeValue::Table(_)) => {}
            ("array of strings", DeValue::Array(items)) => {
                for item in items.iter() {
                    if !matches!(item.get_ref(), DeValue::String(_)) {
                        self.wrong_type(spec, path, item.span().start);
                    }
                }
            }
            ("array of tables", DeValue::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            self.table(t, spec.key, &format!("{path}[{i}]"), item.span().start)
                        }
                        _ => self.wrong_type(spec, path, item.span().start),
                    }
                }
            }
            ("table", DeValue::Table(t)) => self.subtable(spec, t, path, at),
            _ => self.wrong_type(spec, path, at),
        }
    }

    /// The keys of a table-valued key, by what the table is.
    fn subtable(&mut self, spec: &KeySpec, table: &DeTable<'_>, path: &str, at: usize) {
        match (spec.table, spec.key) {
            ("", "inbound" | "outbound") => self.table(table, "side", path, at),
            ("", "objects") => {
                for (object, schema) in table {
                    let DeValue::Table(schema) = schema.get_ref() else {
                        continue;
                    };
                    let object = object.get_ref().as_ref();
                    for (key, fields) in schema {
                        match (key.get_ref().as_ref(), fields.get_ref()) {
                            ("fields", DeValue::Table(fields)) => self.fields(fields, object),
                            (other, _) => self.push(
                                Diag::new(
                                    codes::E602_CONNECTOR_UNKNOWN_KEY,
                                    format!("unknown key `{other}` in [objects.{object}]"),
                                )
                                .help("a Connect Object's schema is its `fields` table"),
                                key.span().start,
                            ),
                        }
                    }
                }
            }
            ("", kind) | ("side", kind @ "connection") => {
                let kind = if spec.table.is_empty() {
                    kind.to_string()
                } else {
                    format!("side.{kind}")
                };
                if KEYS.iter().any(|k| k.table == kind) {
                    self.table(table, &kind, path, at);
                }
            }
            // Credentials and extra query parameters take any keys.
            _ => {}
        }
    }

    fn fields(&mut self, fields: &DeTable<'_>, object: &str) {
        let Some(spec) = spec("objects.<type>.fields", "<field>") else {
            return;
        };
        for (field, ty) in fields {
            let path = format!("objects.{object}.fields.{}", field.get_ref());
            self.value(spec, ty, &path);
        }
    }

    fn wrong_type(&mut self, spec: &KeySpec, path: &str, at: usize) {
        self.push(
            Diag::new(
                codes::E601_CONNECTOR_SYNTAX,
                format!("`{path}` must be {}", article(spec.ty)),
            )
            .help(format!("for example `{}`", spec.example)),
            at,
        );
    }
}

fn article(ty: &str) -> String {
    match ty.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') if !ty.starts_with("any") => format!("an {ty}"),
        _ if ty.starts_with("any") => ty.to_string(),
        _ => format!("a {ty}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const BASE: &str = "name = 'n'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n";

    #[test]
    fn a_right_file_has_no_problem() {
        let text = format!(
            "{BASE}[sync]\nconflict = 'most_recent'\nfrequency = {{ interval = '5m' }}\n\
             [[mappings]]\ntarget = 'a'\nraw = 1\n[objects.x.fields]\nA = 'string'\n\
             [outbound.credentials]\nuser = 'env:U'\n"
        );
        assert!(shape_problems(&text).is_empty());
    }

    #[test]
    fn three_typos_are_three_problems_in_one_pass() {
        let text = "nmae = 'n'\n[inbound]\ntyp = 'ndjson'\n[outbound]\ntype = 'ndjson'\n\
                    [sync]\nconflikt = 'most_recent'\n";
        let problems = shape_problems(text);
        let messages: Vec<String> = problems.iter().map(|p| p.diag.message.clone()).collect();
        assert_eq!(
            messages,
            [
                "missing key `name`",
                "unknown key `nmae` at the top level",
                "missing key `type` in [inbound]",
                "unknown key `typ` in [inbound]",
                "unknown key `conflikt` in [sync]",
            ],
        );
        assert_eq!(problems[1].line, Some(1));
        assert_eq!(problems[4].line, Some(7));
        assert_eq!(
            problems[4].diag.help.as_deref(),
            Some("did you mean `conflict`?")
        );
    }

    #[test]
    fn values_of_the_wrong_type_or_outside_their_set() {
        let text = format!(
            "{BASE}[sync]\nconflict = 'newest'\ndirection = 3\n[[mappings]]\ntarget = 'a'\n\
             formula = 1\n[objects.x.fields]\nA = 'text'\n"
        );
        let messages: Vec<String> = shape_problems(&text)
            .iter()
            .map(|p| p.diag.message.clone())
            .collect();
        assert_eq!(
            messages,
            [
                "sync.conflict: `newest` is not one of fentu_wins, external_wins, most_recent, manual_review",
                "`sync.direction` must be a string",
                "`mappings[0].formula` must be a string",
                "objects.x.fields.A: `text` is not one of string, number, boolean, date, datetime, array, object, any",
            ],
        );
    }
}
