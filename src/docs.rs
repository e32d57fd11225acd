//! Reference pages generated from the tables they document: the function library and the
//! error-code registry. `tests/docs.rs` fails when the files in `docs/` are stale.

use std::fmt::Write as _;

use crate::diagnostics::codes;
use crate::stdlib;

/// `docs/functions.md`: every function by group, with signature, doc and examples.
pub fn functions_markdown() -> String {
    let mut out = String::from(
        "# Functions\n\nGenerated from the function table (`crates/core/src/stdlib/`); do not edit by hand. \
         Names are case-insensitive. Every example is run as a test.\n",
    );
    let mut category = None;
    for f in stdlib::all() {
        if category != Some(f.category) {
            let _ = write!(out, "\n## {}\n", f.category.title());
            category = Some(f.category);
        }
        let _ = write!(
            out,
            "\n### {}\n\n`{}`\n\n{}\n\n",
            f.name,
            f.signature(),
            f.doc
        );
        out.push_str("| formula | record | result |\n|---|---|---|\n");
        for ex in f.examples {
            let record = if ex.record == "{}" { "" } else { ex.record };
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` |",
                cell(ex.formula),
                code_cell(record),
                cell(ex.result)
            );
        }
    }
    out.push_str(&compatibility_markdown());
    out.push_str(
        "\n## Objects the lookup examples use\n\nThe lookup examples run against a store holding:\n\n",
    );
    for (object_type, ndjson) in stdlib::data::EXAMPLE_OBJECTS {
        let _ = write!(out, "`{object_type}`:\n\n```json\n{ndjson}\n```\n");
    }
    out
}

/// The compatibility section of `docs/functions.md`: what holds for every function, then
/// each function's Excel, Power Fx and JSONata counterparts and its deliberate differences.
fn compatibility_markdown() -> String {
    let mut out = String::from(
        "\n## Compatibility with Excel, Power Fx and JSONata\n\nFor a person porting a formula: \
         each function's counterparts and every deliberate difference, with the reason. Where \
         the peers disagree, names that are Excel's behave as Excel's.\n\n",
    );
    for (title, text) in stdlib::compat::GENERAL {
        let _ = writeln!(out, "- **{title}.** {text}");
    }
    out.push_str(
        "\n| function | Excel | Power Fx | JSONata | differences |\n|---|---|---|---|---|\n",
    );
    for f in stdlib::all() {
        if let Some(c) = stdlib::compat::COUNTERPARTS
            .iter()
            .find(|c| c.function == f.name)
        {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                c.function,
                cell(c.excel),
                cell(c.power_fx),
                cell(c.jsonata),
                cell(c.differences)
            );
        }
    }
    out
}

/// `docs/errors.md`: every error code with its page.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\nGenerated from the registry (`src/diagnostics/codes.rs`); do not edit by hand. \
         `sluice explain CODE` prints the same page. A released code never changes meaning.\n",
    );
    for c in codes::ALL {
        let _ = write!(out, "\n## {}: {}\n\n{}\n", c.id, c.title, c.explanation);
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn code_cell(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("`{}`", cell(s))
    }
}

/// What the connection examples have in common.
const CONNECTIONS_INTRO: &str = "\n## Connections\n\nA side with a `[connection]` table \
    talks to a REST or OData system over HTTP. An inbound side reads pages (when the run has \
    no `--input`); its position — the page and the records of it processed — and the \
    watermark are committed with the records, so a killed run resumes at its page and the \
    next run after a finished one reads what changed. An outbound side writes each record \
    (when the run has no `--output`); the records of a batch are committed with the \
    checkpoint after every request of it was answered, and the writes are made so that a \
    record sent again after a crash or a lost answer is not applied twice. A record the \
    remote system refuses (4xx) is a dead letter (E615); a system that does not answer \
    stops the run (E614) with what was committed kept. Credentials are `env:VAR` or \
    `file:PATH` references (or literals, which `sluice export` shows as `***`) and are \
    never printed. A side with a `[table]` reads or writes a PostgreSQL table instead (see \
    *Connection kinds*). One complete example per kind of connection (each is in \
    `examples/connections/` and passes `sluice check`):\n";

/// The complete connection examples: title, file.
const CONNECTION_EXAMPLES: &[(&str, &str)] = &[
    (
        "SAP Business One: session login, OData next links, incremental by a watermark",
        include_str!("../examples/connections/sap_b1_session.toml"),
    ),
    (
        "A REST sink with OAuth 2.0 client credentials, upserting by match keys",
        include_str!("../examples/connections/fsm_oauth2_upsert.toml"),
    ),
    (
        "An API key header, cursor paging, a watermark as a query parameter",
        include_str!("../examples/connections/rest_api_key_cursor.toml"),
    ),
    (
        "Basic authentication, numbered pages, PUT with the key in the URL",
        include_str!("../examples/connections/rest_basic_pages.toml"),
    ),
    (
        "A client certificate (mTLS), $skip paging, a batch endpoint with an idempotency key",
        include_str!("../examples/connections/odata_mtls_skip.toml"),
    ),
    (
        "PostgreSQL tables: a staging table read incrementally, upserted into a reporting table",
        include_str!("../examples/connections/postgres_tables.toml"),
    ),
    (
        "OAuth 2.0 authorization code with PKCE and rotating refresh tokens (`sluice auth login`)",
        include_str!("../examples/connections/accounting_oauth2_code.toml"),
    ),
    (
        "A NATS JetStream stream read through a durable consumer, acknowledged after each commit",
        include_str!("../examples/connections/nats_orders.toml"),
    ),
    (
        "Records published to a RabbitMQ exchange with publisher confirms",
        include_str!("../examples/connections/rabbitmq_work_orders.toml"),
    ),
    (
        "An MQTT topic followed in realtime through a persistent session",
        include_str!("../examples/connections/mqtt_meter_readings.toml"),
    ),
];

/// The connection kinds of the engine's registry (`connections/registry.rs`), in the order
/// a run asks them to take a side.
fn connection_kinds() -> String {
    use crate::connections::registry::{KINDS, SYSTEMS};
    let mut out = String::from(
        "\n## Connection kinds\n\nHow a side is reached is its connection kind. A run asks \
         the kinds in this order and the first that takes a side opens it (generated from \
         `crates/engine/src/connections/registry.rs`, where each kind registers itself). A \
         side's `type` says what the records are: one of the named systems (",
    );
    out.push_str(
        &SYSTEMS
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push_str(
        "), a kind's own type, or a name of your own; a name close to a known one is taken for \
         a misspelling (E610, with the one meant).\n\n| kind | side types | reads | writes | \
         keys | what it does |\n|---|---|---|---|---|---|\n",
    );
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for kind in KINDS {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            kind.name,
            list(kind.types),
            if kind.source.is_some() { "yes" } else { "no" },
            if kind.sink.is_some() { "yes" } else { "no" },
            list(kind.keys),
            cell(kind.doc)
        );
    }
    out
}

/// `docs/connectors.md`: every key of the connector format, table by table, with a
/// complete example.
pub fn connectors_markdown() -> String {
    use crate::transform::connector_reference::{KEYS, TABLES};
    let mut out = String::from(
        "# Connector reference\n\nGenerated from the table `sluice check` validates against \
         (`crates/core/src/transform/connector_reference.rs`); do not edit by hand. A connector is a TOML \
         file, or the same structure as JSON (`.json`); unknown keys are an error (E602) with \
         a did-you-mean, values outside their set are E610. `sluice check FILE` reports \
         every problem with `file:line`; `sluice export FILE` prints it as JSON with \
         literal credentials shown as `***`.\n\n## A complete example\n\n```toml\n",
    );
    out.push_str(include_str!("../examples/customers.toml"));
    out.push_str("```\n\nFormulas are TOML strings. Inside a basic string (`\"...\"`) a `\"` ends the string and a backslash starts an escape, so write formulas that need either in a literal string: `formula = 'regexmatch(data(\"Code\"), \"^A\\d{4}$\")'`, or `'''...'''` when the formula also holds single quotes.\n");
    out.push_str(&connection_kinds());
    out.push_str(CONNECTIONS_INTRO);
    for (title, text) in CONNECTION_EXAMPLES {
        let _ = write!(out, "\n### {title}\n\n```toml\n{text}```\n");
    }
    for (table, doc) in TABLES {
        let title = match *table {
            "" => "Top level".to_string(),
            "side" => "[inbound] and [outbound]".to_string(),
            "side.credentials" => "[inbound.credentials] and [outbound.credentials]".to_string(),
            "side.connection" => "[inbound.connection] and [outbound.connection]".to_string(),
            "side.table" => "[inbound.table] and [outbound.table]".to_string(),
            "side.stream" => "[inbound.stream] and [outbound.stream]".to_string(),
            "mappings" => "[[mappings]]".to_string(),
            t => format!("[{t}]"),
        };
        let _ = write!(out, "\n## {title}\n\n{doc}\n");
        let keys: Vec<_> = KEYS.iter().filter(|k| k.table == *table).collect();
        if keys.is_empty() {
            continue;
        }
        out.push_str("\n| key | type | required | default | allowed values | meaning | example |\n|---|---|---|---|---|---|---|\n");
        for k in keys {
            let allowed = k
                .allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | `{}` |",
                k.key,
                k.ty,
                if k.required { "yes" } else { "no" },
                if k.default.is_empty() {
                    String::new()
                } else {
                    format!("`{}`", cell(k.default))
                },
                allowed,
                cell(k.doc),
                cell(k.example)
            );
        }
    }
    out
}
