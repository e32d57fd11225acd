//! The connector format as data: every key with its type, default, allowed values, doc and
//! an example. `sluice check` validates against these tables (allowed values, known keys for
//! did-you-mean) and `docs/connectors.md` is generated from them, so the two cannot drift.

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

/// The values of `[sync] direction`.
pub const DIRECTIONS: &[&str] = &["inbound", "outbound", "bidirectional"];

/// The named values of `[sync] frequency` (besides `{ interval }` and `{ cron }`).
pub const NAMED_FREQUENCIES: &[&str] = &["manual", "realtime", "event"];

/// The values of `[sync] conflict`.
pub const CONFLICT_RULES: &[&str] = &[
    "fentu_wins",
    "external_wins",
    "most_recent",
    "manual_review",
];

/// The field types of `[objects.<type>.fields]`.
pub const FIELD_TYPES: &[&str] = &[
    "string", "number", "boolean", "date", "datetime", "array", "object", "any",
];

/// One key of the connector format.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The table it belongs to: `""` (top level), `inbound`/`outbound` (written `side`),
    /// `sync`, `mappings`, `objects.<type>.fields`.
    pub table: &'static str,
    /// The key.
    pub key: &'static str,
    /// Its TOML type.
    pub ty: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// The default when absent (empty when none).
    pub default: &'static str,
    /// The allowed values, when the set is closed.
    pub allowed: &'static [&'static str],
    /// What it means.
    pub doc: &'static str,
    /// A TOML line showing it.
    pub example: &'static str,
}

const fn key(
    table: &'static str,
    key: &'static str,
    ty: &'static str,
    doc: &'static str,
    example: &'static str,
) -> KeySpec {
    KeySpec {
        table,
        key,
        ty,
        required: false,
        default: "",
        allowed: &[],
        doc,
        example,
    }
}

impl KeySpec {
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn default(mut self, default: &'static str) -> Self {
        self.default = default;
        self
    }

    const fn allowed(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
}

/// The tables of the format, in the order the reference presents them, with their doc.
pub const TABLES: &[(&str, &str)] = &[
    ("", "The top level of the file: the connector's identity and its conditions."),
    (
        "side",
        "`[inbound]` (where records come from) and `[outbound]` (where mapped records go) take \
         the same keys.",
    ),
    ("side.credentials", "`[inbound.credentials]` / `[outbound.credentials]`: any keys, each a text value or an `env:VAR` reference (resolved when a run starts, never printed; `sluice export` shows literal values as `***`)."),
    ("sync", "`[sync]`: direction, frequency and the conflict rule of store-bound runs."),
    (
        "mappings",
        "`[[mappings]]`, one table per output field, in output order; each has a `target` and \
         exactly one of `field`, `raw`, `formula`.",
    ),
    (
        "objects.<type>.fields",
        "`[objects.<type>.fields]`: an optional schema of a Connect Object, field name → type. \
         With a schema for the inbound object, formulas are checked statically (unknown \
         fields are E104) and input values are checked against their declared type.",
    ),
];

/// Every key of the connector format.
pub const KEYS: &[KeySpec] = &[
    key("", "name", "string", "The connector's unique name; runs, checkpoints and metrics are kept under it.", r#"name = "SAP-to-FSM Customer Sync""#).required(),
    key("", "description", "string", "Free text.", r#"description = "Business partners into FSM customers""#),
    key("", "conditions", "array of strings", "Formulas that must all hold (be true) for a record to sync; null counts as false.", r#"conditions = ["data('CardType') = 'C'"]"#).default("[]"),
    key("", "zone", "string", "The IANA time zone of the connector's runs (today(), dates without an offset, most_recent on date-only values); `--tz` overrides it.", r#"zone = "Europe/Berlin""#).default("UTC"),
    key("", "inbound", "table", "Where records come from (see [inbound] and [outbound]).", r#"[inbound]"#).required(),
    key("", "outbound", "table", "Where mapped records go (see [inbound] and [outbound]).", r#"[outbound]"#).required(),
    key("", "sync", "table", "Direction, frequency and conflict rule (see [sync]).", r#"[sync]"#).default("{}"),
    key("", "mappings", "array of tables", "The output fields (see [[mappings]]).", r#"[[mappings]]"#).default("[]"),
    key("", "objects", "table", "Schemas of Connect Objects (see [objects.<type>.fields]).", r#"[objects.sap_businesspartner.fields]"#).default("{}"),
    key("side", "type", "string", "The system on this side. `ndjson` and `csv` are files or streams (`--input`), `store` reads or writes the Connect Object store; the named systems describe where the records come from.", r#"type = "SAP B1""#).required().allowed(SYSTEM_TYPES),
    key("side", "active", "boolean", "Whether this side syncs; an inactive outbound side makes every run a dry run.", "active = true").default("true"),
    key("side", "object", "string", "The Connect Object type of this side's records: the schema applied to inbound records, the type written by a store-bound outbound side.", r#"object = "fsmcustomer""#),
    key("side", "entity", "string", "The entity (table, endpoint) in the remote system.", r#"entity = "BusinessPartners""#),
    key("side", "query_filter", "string", "A filter passed to the source system.", r#"query_filter = "CardType eq 'C'""#),
    key("side", "primary_key", "string", "The mapping target that keys upserts into the store; required for a store-bound active outbound side. A record whose key is null, an array or an object is a dead letter (E607).", r#"primary_key = "erp_id""#),
    key("side", "credentials", "table", "Credentials of this side (see below).", r#"credentials = { user = "env:SAP_USER", password = "env:SAP_PASSWORD" }"#).default("{}"),
    key("sync", "direction", "string", "Which way records flow.", r#"direction = "inbound""#).default("inbound").allowed(DIRECTIONS),
    key("sync", "frequency", "string or table", "When the connector syncs: a named frequency, `{ interval = \"15m\" }` (a whole number and s, m, h or d) or `{ cron = \"0 2 * * *\" }` (five fields).", r#"frequency = { interval = "15m" }"#).default("manual").allowed(NAMED_FREQUENCIES),
    key("sync", "conflict", "string", "How an incoming record meets a stored one with the same primary key: external_wins replaces it; fentu_wins keeps it (only new keys are added); most_recent keeps the later `updated_at` (a date-only value is that day's midnight in the run's zone); manual_review queues a differing record for `sluice review`.", r#"conflict = "external_wins""#).default("external_wins").allowed(CONFLICT_RULES),
    key("mappings", "target", "string", "The output field; unique among the mappings.", r#"target = "erp_id""#).required(),
    key("mappings", "field", "string", "Copy this source field; a path such as `Address.City` or `Lines[0].Qty` is allowed.", r#"field = "CardCode""#),
    key("mappings", "raw", "any TOML value", "A static value.", r#"raw = "SAP""#),
    key("mappings", "formula", "string", "A formula computing the value. Write it in a TOML literal string ('...' or '''...''') when it holds double quotes or backslashes.", r#"formula = "proper(trim(data('CardName')))""#),
    key("objects.<type>.fields", "<field>", "string", "The type of one field.", r#"CardCode = "string""#).allowed(FIELD_TYPES),
];

/// The keys of one table (`side` for both sides), for did-you-mean.
pub fn keys_of(table: &str) -> impl Iterator<Item = &'static str> + '_ {
    KEYS.iter().filter(move |k| k.table == table).map(|k| k.key)
}

/// The spec of a key.
pub fn spec(table: &str, key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.table == table && k.key == key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::transform::connector::parse_connector;

    fn examples_of(table: &str) -> String {
        KEYS.iter()
            .filter(|k| k.table == table && !k.example.starts_with('['))
            .map(|k| format!("{}\n", k.example))
            .collect()
    }

    /// Every key the reference documents is one the parser accepts.
    #[test]
    fn every_documented_key_parses() {
        let mapping = examples_of("mappings").replace(
            "raw = \"SAP\"\nformula",
            "\n[[mappings]]\ntarget = \"b\"\nformula",
        );
        let text = format!(
            "{}\n[inbound]\n{}\n[outbound]\n{}\n[sync]\n{}\n[[mappings]]\n{}\n[objects.x.fields]\n{}",
            examples_of(""),
            examples_of("side"),
            examples_of("side"),
            examples_of("sync"),
            mapping.replace("field = \"CardCode\"\n", "field = \"CardCode\"\n[[mappings]]\ntarget = \"a\"\n"),
            examples_of("objects.<type>.fields"),
        );
        if let Err(p) = parse_connector(&text, false) {
            panic!("{}\n{text}", p.diag.message);
        }
    }

    /// Every key the parser accepts is documented: the parser's own list of expected keys
    /// for an unknown key, table by table.
    #[test]
    fn every_accepted_key_is_documented() {
        let base = "name = 'n'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n";
        for (table, text) in [
            ("", format!("zzz = 1\n{base}")),
            ("side", base.replace("[outbound]", "zzz = 1\n[outbound]")),
            ("sync", format!("{base}[sync]\nzzz = 1\n")),
            (
                "mappings",
                format!("{base}[[mappings]]\ntarget = 'a'\nzzz = 1\n"),
            ),
        ] {
            let message = parse_connector(&text, false).unwrap_err().diag.message;
            assert!(message.contains("zzz"), "{message}");
            let err = toml::from_str::<crate::transform::connector::Connector>(&text)
                .unwrap_err()
                .message()
                .to_string();
            let expected = err.split("expected one of").nth(1).unwrap();
            for key in expected.split('`').skip(1).step_by(2) {
                assert!(
                    keys_of(table).any(|k| k == key),
                    "`{key}` of table `{table}` is not in the reference"
                );
            }
        }
    }
}
