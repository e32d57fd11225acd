//! A side that is a SQL table (`[inbound.table]`, `[outbound.table]`): where the table is
//! and how it is read or written. This is the connector format as data; the engine's
//! `connections/table/` reads and writes it.

use serde::{Deserialize, Serialize};

use super::credential::Credential;

/// A SQL table on this side.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The database: `postgres://…` or `mysql://…` (a literal, `env:VAR` or `file:PATH`;
    /// `sluice export` hides the password of a literal).
    pub url: Credential,
    /// The table, optionally schema-qualified (`staging.customers`).
    pub name: String,
    /// The key column: the order of a full read, the tie-break of an incremental one, the
    /// conflict target of an upsert.
    pub key: String,
    /// Read incrementally by this column (rows after the last one read, by this column and
    /// then the key, so rows with equal values are never skipped); without it, every run
    /// reads the whole table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// Rows per query or per upsert statement (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
}

impl Table {
    /// Rows per query or per upsert statement.
    pub fn batch(&self) -> u64 {
        self.batch.unwrap_or(1000).clamp(1, 100_000)
    }

    /// The table with a literal URL's password hidden (`sluice export`).
    pub fn redacted(&self) -> Table {
        let url = match self.url.is_literal() {
            true => Credential(crate::diagnostics::redact::without_password(&self.url.0)),
            false => self.url.clone(),
        };
        Table {
            url,
            ..self.clone()
        }
    }

    /// The parts of `name`, `table` or `schema.table`, each to be quoted as an identifier;
    /// `None` when a part is empty or there are more than two.
    pub fn name_parts(&self) -> Option<Vec<&str>> {
        let parts: Vec<&str> = self.name.split('.').collect();
        (parts.len() <= 2 && parts.iter().all(|p| !p.is_empty())).then_some(parts)
    }
}
