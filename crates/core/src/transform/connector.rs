//! The connector model (reference: `docs/connectors.md`): loaded from TOML, or the same structure as JSON, with
//! unknown keys rejected; then validated as a whole, so that `sluice check` reports every
//! problem at once.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use super::credential::Credential;
pub use super::problem::{ConnectorProblem, FormulaPlace, ProblemFormula};
use crate::diagnostics::{codes, Diag};
use crate::value::{Schema, TypeSet};

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
    /// The IANA time zone of the connector's runs, unless `--tz` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The store of the connector's runs, unless `--store` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreSettings>,
    /// The way back of a bidirectional connector: from the stored object to the inbound side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<Reverse>,
    /// Set on the connector [`Connector::reverse_connector`] makes: the name of the
    /// bidirectional connector whose way back it is.
    #[serde(skip)]
    pub back_of: Option<String>,
}

/// The `[reverse]` table: how a bidirectional connector maps the stored object (the
/// outbound side) back to the inbound system.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Reverse {
    /// The key of the inbound system's records: a reverse mapping target, and the field
    /// that keys the records read from it.
    pub primary_key: String,
    /// Formulas over the stored record that must all hold for it to be sent back.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// The fields of the record sent back, in order.
    #[serde(default)]
    pub mappings: Vec<Mapping>,
}

/// The `[store]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// An SQLite file or a `postgres://` URL; `env:VAR` reads it from the environment.
    pub url: String,
}

impl StoreSettings {
    /// The store's location, an `env:` reference resolved.
    pub fn resolve(&self) -> Result<String, Diag> {
        match self.url.strip_prefix("env:") {
            Some(var) => std::env::var(var).map_err(|_| {
                Diag::new(
                    codes::E606_CREDENTIAL,
                    format!("store.url: environment variable {var} is not set"),
                )
            }),
            None => Ok(self.url.clone()),
        }
    }
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
    /// Credentials: literal values, `env:VAR` or `file:PATH` references, or `secret:NAME`
    /// (sealed in the store).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, Credential>,
    /// How this side reaches a REST/OData system, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<super::connection::Connection>,
    /// The SQL table this side reads or writes, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<super::table::Table>,
    /// The message stream this side reads or writes, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<super::stream::Stream>,
    /// The file of an inbound side (NDJSON, or CSV by extension), read by runs without
    /// `--input`; relative to the connector file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
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
    /// The mapping target holding the time each record last changed (default `updated_at`):
    /// `most_recent` compares it, and every rule stores it as the record's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `realtime`: how long `sluice serve` waits between looks at the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<String>,
    /// The secret of `POST /hooks/<name>` (a literal, `env:VAR` or `file:PATH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<Credential>,
    /// How far a webhook's timestamp may be from the server's clock (default `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_tolerance: Option<String>,
    /// Also take `X-Sluice-Signature` and bearer webhooks (no replay protection).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_signature: bool,
    /// Every run is a worker of a partitioned run of this many partitions (a PostgreSQL
    /// store), in `sluice run` and `sluice serve` alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u64>,
    /// How long a worker's claim on a partition lasts without a commit (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<String>,
}

/// The HMAC key of a webhook secret: a Standard Webhooks `whsec_<base64>` secret is the
/// key's base64; any other is its bytes, surrounding white space (a file's last newline)
/// trimmed.
pub fn webhook_key(secret: &str) -> Vec<u8> {
    use base64::Engine as _;
    let secret = secret.trim();
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The shortest webhook secret taken, in bytes (after trimming).
pub const MIN_WEBHOOK_SECRET: usize = 16;

impl SyncSettings {
    /// The lease of a partitioned run's claims: `[sync] lease`, else 30 seconds.
    pub fn lease(&self) -> std::time::Duration {
        self.lease
            .as_deref()
            .and_then(crate::transform::connection::parse_duration)
            .filter(|d| !d.is_zero())
            .unwrap_or(std::time::Duration::from_secs(30))
    }

    /// The record field holding the time each record changed.
    pub fn time_field(&self) -> &str {
        self.updated_at.as_deref().unwrap_or(DEFAULT_TIME_FIELD)
    }

    /// How far a webhook's timestamp may be from the server's clock.
    pub fn webhook_tolerance(&self) -> std::time::Duration {
        self.webhook_tolerance
            .as_deref()
            .and_then(crate::transform::connection::parse_duration)
            .unwrap_or(std::time::Duration::from_secs(300))
    }
}

/// The mapping target whose time is a record's `updated_at` when `[sync] updated_at` names
/// none.
pub const DEFAULT_TIME_FIELD: &str = "updated_at";

fn default_direction() -> String {
    "inbound".to_string()
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            direction: default_direction(),
            frequency: Frequency::default(),
            conflict: Conflict::default(),
            updated_at: None,
            poll: None,
            webhook_secret: None,
            webhook_tolerance: None,
            legacy_signature: false,
            partitions: None,
            lease: None,
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::value::serde_value"
    )]
    pub raw: Option<crate::value::Value>,
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

impl Connector {
    /// The way back of a bidirectional connector as a connector of its own: the stored
    /// object (read from the store) mapped by `[reverse]` and written to the inbound side.
    pub fn reverse_connector(&self) -> Option<Connector> {
        let reverse = self.reverse.as_ref()?;
        let stored = Side {
            system: "store".to_string(),
            active: self.outbound.active,
            object: self.outbound.object.clone(),
            entity: None,
            query_filter: None,
            primary_key: self.outbound.primary_key.clone(),
            credentials: BTreeMap::new(),
            connection: None,
            table: None,
            stream: None,
            path: None,
        };
        let external = Side {
            primary_key: Some(reverse.primary_key.clone()),
            ..self.inbound.clone()
        };
        Some(Connector {
            name: format!("{} (reverse)", self.name),
            description: None,
            conditions: reverse.conditions.clone(),
            inbound: stored,
            outbound: external,
            sync: SyncSettings {
                direction: "outbound".to_string(),
                // The way back's time is the field its mappings copy the stored time to.
                updated_at: reverse
                    .mappings
                    .iter()
                    .find(|m| m.field.as_deref() == Some(self.sync.time_field()))
                    .map(|m| m.target.clone()),
                partitions: None,
                ..self.sync.clone()
            },
            mappings: reverse.mappings.clone(),
            objects: self.objects.clone(),
            zone: self.zone.clone(),
            store: self.store.clone(),
            reverse: None,
            back_of: Some(self.name.clone()),
        })
    }

    /// The time zone of a run: `--tz` when given, else the connector's `zone`, else UTC
    /// (an invalid `zone` was reported by [`Connector::validate`]).
    pub fn zone_or(&self, tz: Option<chrono_tz::Tz>) -> chrono_tz::Tz {
        tz.or_else(|| self.zone.as_deref().and_then(|z| z.parse().ok()))
            .unwrap_or(chrono_tz::Tz::UTC)
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
    /// as references, since they hold no secret), and the password of a literal store URL.
    pub fn redacted(&self) -> Connector {
        let mut c = self.clone();
        if let Some(store) = &mut c.store {
            store.url = crate::diagnostics::redact::without_password(&store.url);
        }
        for side in [&mut c.inbound, &mut c.outbound] {
            if let Some(connection) = &mut side.connection {
                connection.url = crate::diagnostics::redact::without_password(&connection.url);
                for (name, value) in connection.query.iter_mut() {
                    if crate::diagnostics::redact::is_secret_name(name) {
                        *value = "***".to_string();
                    }
                }
            }
        }
        for side in [&mut c.inbound, &mut c.outbound] {
            side.table = side.table.as_ref().map(super::table::Table::redacted);
            for credential in side.credentials.values_mut() {
                if credential.is_literal() {
                    *credential = Credential("***".to_string());
                }
            }
        }
        if let Some(secret) = &mut c.sync.webhook_secret {
            if secret.is_literal() {
                *secret = Credential("***".to_string());
            }
        }
        c
    }

    /// Checks that every `env:VAR` and `file:PATH` credential resolves (values are never
    /// printed); `secret:NAME` ones are opened by the connection that uses them.
    pub fn check_credentials(&self) -> Result<(), Diag> {
        for (label, side) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            side.resolve_credentials(label, &|_| Ok(String::new()))?;
        }
        Ok(())
    }
}

impl Side {
    /// Resolves this side's credentials, key → value (values are never printed): `env:VAR`
    /// and `file:PATH` here, `secret:NAME` by `open_sealed(NAME)` (the run's store);
    /// `label` names the side in errors.
    pub fn resolve_credentials(
        &self,
        label: &str,
        open_sealed: &dyn Fn(&str) -> Result<String, Diag>,
    ) -> Result<BTreeMap<String, String>, Diag> {
        let mut resolved = BTreeMap::new();
        for (key, credential) in &self.credentials {
            let v = match credential.sealed() {
                Some(name) => open_sealed(name)?,
                None => credential.resolve(&format!("{label}.credentials.{key}"))?,
            };
            resolved.insert(key.clone(), v);
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

#[cfg(test)]
mod store_url_tests {
    #![allow(clippy::unwrap_used)]
    use crate::transform::connector_parse::parse_connector;

    #[test]
    fn export_hides_the_password_of_a_literal_store_url_and_keeps_env_references() {
        let text = "name = 'n'\n[store]\nurl = 'postgres://sync:s3cret@db.example.com/sluice'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n";
        let c = parse_connector(text, false).unwrap();
        let url = c.redacted().store.unwrap().url;
        assert_eq!(url, "postgres://sync:***@db.example.com/sluice");
        let env = parse_connector(
            &text.replace(
                "postgres://sync:s3cret@db.example.com/sluice",
                "env:DATABASE_URL",
            ),
            false,
        )
        .unwrap();
        assert_eq!(env.redacted().store.unwrap().url, "env:DATABASE_URL");
    }
}
