//! The connector model (SPEC §6): loaded from TOML, or the same structure as JSON, with
//! unknown keys rejected; then validated as a whole, so that `sluice check` reports every
//! problem at once.

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::diagnostics::{codes, did_you_mean, Diag};
use crate::types::{Schema, TypeSet};

/// A connector: conditions, mappings and the two sides of a sync.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    /// Unique name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Formulas that must all hold for a record to sync.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Where records come from.
    pub inbound: Side,
    /// Where mapped records go.
    pub outbound: Side,
    /// Direction, frequency and conflict rule.
    #[serde(default)]
    pub sync: SyncSettings,
    /// Output fields, in order.
    #[serde(default)]
    pub mappings: Vec<Mapping>,
    /// Optional schemas of Connect Objects: object type → fields.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub objects: IndexMap<String, ObjectSchema>,
}

/// One side of a connector.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Side {
    /// The system type (SAP B1, Fentu-FSM, ..., ndjson, csv, store).
    #[serde(rename = "type")]
    pub system: String,
    /// Whether this side syncs; an inactive outbound side makes a run a dry run.
    #[serde(default = "yes")]
    pub active: bool,
    /// The Connect Object type of its records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The entity in the remote system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// A filter passed to the source system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_filter: Option<String>,
    /// The upsert key of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    /// Credentials: literal values or `env:VAR` references.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// The `[sync]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// inbound | outbound | bidirectional
    #[serde(default = "default_direction")]
    pub direction: String,
    /// manual | realtime | event | { interval = "15m" } | { cron = "0 2 * * *" }
    #[serde(default)]
    pub frequency: Frequency,
    /// fentu_wins | external_wins | most_recent | manual_review
    #[serde(default)]
    pub conflict: Conflict,
}

fn default_direction() -> String {
    "inbound".to_string()
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            direction: default_direction(),
            frequency: Frequency::default(),
            conflict: Conflict::default(),
        }
    }
}

/// When a connector syncs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Frequency {
    /// `manual`, `realtime` or `event`.
    Named(String),
    /// `{ interval = "15m" }`
    Interval {
        /// A number and a unit: s, m, h, d.
        interval: String,
    },
    /// `{ cron = "0 2 * * *" }`
    Cron {
        /// A five-field cron expression.
        cron: String,
    },
}

impl Default for Frequency {
    fn default() -> Self {
        Frequency::Named("manual".to_string())
    }
}

/// How an incoming record meets a stored one with the same primary key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    /// The stored record is kept; only keys it lacks are added.
    FentuWins,
    /// The incoming record replaces the stored one.
    #[default]
    ExternalWins,
    /// The record with the later `updated_at` wins.
    MostRecent,
    /// A differing incoming record is queued for review and not applied.
    ManualReview,
}

/// One output field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The output field.
    pub target: String,
    /// Copy this source field (a path is allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A static value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
    /// A formula.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
}

/// The declared fields of a Connect Object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ObjectSchema {
    /// Field → type name.
    #[serde(default)]
    pub fields: IndexMap<String, String>,
}

/// The system types a side may name.
pub const SYSTEM_TYPES: &[&str] = &[
    "SAP B1",
    "Fentu-FSM",
    "Salesforce",
    "Acumatica",
    "Shopware",
    "ABAS-ERP",
    "HRlab",
    "Window Maker",
    "Internal Connect",
    "Jsonblob Shopware",
    "ndjson",
    "csv",
    "store",
];

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "conditions",
    "inbound",
    "outbound",
    "sync",
    "mappings",
    "objects",
];
const SIDE_KEYS: &[&str] = &[
    "type",
    "active",
    "object",
    "entity",
    "query_filter",
    "primary_key",
    "credentials",
];
const MAPPING_KEYS: &[&str] = &["target", "field", "raw", "formula"];
const SYNC_KEYS: &[&str] = &["direction", "frequency", "conflict"];

/// A problem in a connector file, with the line it is on when known.
#[derive(Debug, Clone)]
pub struct ConnectorProblem {
    /// The diagnostic.
    pub diag: Diag,
    /// 1-based line in the file.
    pub line: Option<usize>,
    /// The rendered diagnostic of a formula, pointing into the formula text.
    pub rendered: Option<String>,
}

impl ConnectorProblem {
    /// Attaches the rendered formula diagnostic.
    pub fn with_rendered(mut self, rendered: String) -> Self {
        self.rendered = Some(rendered);
        self
    }

    /// The text `sluice check` prints for this problem.
    pub fn render(&self, path: &str) -> String {
        match &self.rendered {
            Some(r) => r.clone(),
            None => {
                let at = self.line.map_or(String::new(), |l| format!(":{l}"));
                let help = self
                    .diag
                    .help
                    .as_ref()
                    .map_or(String::new(), |h| format!("\n  help: {h}"));
                format!(
                    "{}: {path}{at}: {}{help}\n",
                    self.diag.code.id, self.diag.message
                )
            }
        }
    }
}

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
            }]
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let connector = parse_connector(&text, is_json).map_err(|p| vec![*p])?;
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
        let connector = parse_connector(text, is_json).map_err(|p| vec![*p])?;
        Ok(ConnectorFile {
            path: path.to_string(),
            text: text.to_string(),
            connector,
        })
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

/// Parses connector text (TOML, or JSON when `is_json`).
pub fn parse_connector(text: &str, is_json: bool) -> Result<Connector, Box<ConnectorProblem>> {
    if is_json {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            problem_from_message(&message, Some(e.line()))
        })
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.get(..s.start)
                    .map_or(1, |b| b.matches('\n').count() + 1)
            });
            problem_from_message(e.message(), line)
        })
    }
}

/// Turns serde's message into a problem: unknown keys get their own code and a hint.
fn problem_from_message(message: &str, line: Option<usize>) -> Box<ConnectorProblem> {
    let first = message.lines().next().unwrap_or(message).to_string();
    let diag = match unknown_field(&first) {
        Some(key) => {
            let known: Vec<&str> = [TOP_KEYS, SIDE_KEYS, MAPPING_KEYS, SYNC_KEYS].concat();
            Diag::new(
                codes::E602_CONNECTOR_UNKNOWN_KEY,
                format!("unknown key `{key}`"),
            )
            .maybe_help(did_you_mean(&key, known).map(|k| format!("did you mean `{k}`?")))
        }
        None if first.starts_with("missing field") => {
            Diag::new(codes::E603_CONNECTOR_MISSING, first)
        }
        None => Diag::new(codes::E601_CONNECTOR_SYNTAX, first),
    };
    Box::new(ConnectorProblem {
        diag,
        line,
        rendered: None,
    })
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_string)
}

impl Connector {
    /// Every problem that is not a formula's own (formulas are checked when compiled).
    pub fn validate(&self, file: &ConnectorFile) -> Vec<ConnectorProblem> {
        let mut problems = Vec::new();
        let mut push = |diag: Diag, needle: &str| {
            problems.push(ConnectorProblem {
                diag,
                line: file.line_of(needle),
                rendered: None,
            })
        };
        if self.name.trim().is_empty() {
            push(
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "the connector `name` is empty",
                ),
                "name",
            );
        }
        for (label, side) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            if !SYSTEM_TYPES.contains(&side.system.as_str()) {
                let hint = did_you_mean(&side.system, SYSTEM_TYPES.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("system types: {}", SYSTEM_TYPES.join(", ")));
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("unknown {label} type `{}`", side.system),
                    )
                    .help(hint),
                    &format!("\"{}\"", side.system),
                );
            }
        }
        if !["inbound", "outbound", "bidirectional"].contains(&self.sync.direction.as_str()) {
            push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("unknown direction `{}`", self.sync.direction),
                )
                .help("directions: inbound, outbound, bidirectional"),
                "direction",
            );
        }
        match &self.sync.frequency {
            Frequency::Named(n) if !["manual", "realtime", "event"].contains(&n.as_str()) => push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("unknown frequency `{n}`"),
                )
                .help(
                    "manual, realtime, event, { interval = \"15m\" } or { cron = \"0 2 * * *\" }",
                ),
                "frequency",
            ),
            Frequency::Interval { interval } if parse_interval(interval).is_none() => push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("interval `{interval}` does not parse"),
                )
                .help("a whole number and a unit: 30s, 15m, 2h, 1d"),
                "interval",
            ),
            Frequency::Cron { cron } if cron.split_whitespace().count() != 5 => push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("cron `{cron}` does not have five fields"),
                ),
                "cron",
            ),
            _ => {}
        }
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.mappings.iter().enumerate() {
            let needle = format!("\"{}\"", m.target);
            if m.target.trim().is_empty() {
                push(
                    Diag::new(
                        codes::E603_CONNECTOR_MISSING,
                        format!("mappings[{i}] has an empty target"),
                    ),
                    "target",
                );
            }
            let sources = [m.field.is_some(), m.raw.is_some(), m.formula.is_some()]
                .iter()
                .filter(|s| **s)
                .count();
            if sources != 1 {
                push(
                    Diag::new(
                        codes::E604_MAPPING_SOURCE,
                        format!(
                            "mapping `{}` has {sources} of field/raw/formula, needs exactly one",
                            m.target
                        ),
                    ),
                    &needle,
                );
            }
            if !seen.insert(m.target.as_str()) {
                push(
                    Diag::new(
                        codes::E609_DUPLICATE_TARGET,
                        format!("target `{}` is mapped twice", m.target),
                    ),
                    &needle,
                );
            }
        }
        for (object, schema) in &self.objects {
            for (field, ty) in &schema.fields {
                if TypeSet::from_name(ty).is_none() {
                    push(
                        Diag::new(
                            codes::E605_SCHEMA_TYPE,
                            format!("objects.{object}: field `{field}` has unknown type `{ty}`"),
                        )
                        .help("types: string, number, boolean, date, datetime, array, object, any"),
                        &format!("\"{ty}\""),
                    );
                }
            }
        }
        if self.outbound.active
            && self.outbound.system == "store"
            && self.outbound.primary_key.is_none()
        {
            push(
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store-bound outbound side needs `primary_key`",
                ),
                "[outbound]",
            );
        }
        problems
    }

    /// The schema of the inbound object, when declared.
    pub fn inbound_schema(&self) -> Option<Schema> {
        let object = self.inbound.object.as_ref()?;
        let declared = self.objects.get(object)?;
        Some(Schema::new(declared.fields.iter().map(|(k, v)| {
            (k.clone(), TypeSet::from_name(v).unwrap_or(TypeSet::ANY))
        })))
    }

    /// A copy with every credential value replaced by `***` (env: references are kept
    /// as references, since they hold no secret).
    pub fn redacted(&self) -> Connector {
        let mut c = self.clone();
        for side in [&mut c.inbound, &mut c.outbound] {
            for value in side.credentials.values_mut() {
                if !value.starts_with("env:") {
                    *value = "***".to_string();
                }
            }
        }
        c
    }

    /// Resolves `env:VAR` credentials (values are never printed).
    pub fn resolve_credentials(&self) -> Result<BTreeMap<String, String>, Diag> {
        let mut resolved = BTreeMap::new();
        for (label, side) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            for (key, value) in &side.credentials {
                let v = match value.strip_prefix("env:") {
                    Some(var) => std::env::var(var).map_err(|_| {
                        Diag::new(
                            codes::E606_CREDENTIAL,
                            format!(
                                "{label}.credentials.{key}: environment variable {var} is not set"
                            ),
                        )
                    })?,
                    None => value.clone(),
                };
                resolved.insert(format!("{label}.{key}"), v);
            }
        }
        Ok(resolved)
    }
}

/// `30s`, `15m`, `2h`, `1d` → seconds.
pub fn parse_interval(text: &str) -> Option<u64> {
    let t = text.trim();
    let unit = t.chars().last()?;
    let n: u64 = t.get(..t.len() - unit.len_utf8())?.parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|s| *s > 0)
}
