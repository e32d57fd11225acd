//! The SQL table kind (PostgreSQL, feature `postgres`): an inbound side with a
//! `[inbound.table]` reads rows, incrementally by a watermark column with the key as
//! tie-break (`WHERE (watermark, key) > (last, last) ORDER BY watermark, key`, so rows with
//! equal watermarks are never skipped) or the whole table; an outbound side with an
//! `[outbound.table]` upserts each batch (`INSERT … ON CONFLICT (key) DO UPDATE`). A row is
//! read as PostgreSQL writes it as JSON (`row_to_json`): numerics exact, timestamps with
//! their offset, `json` columns nested; a record is written through `jsonb_populate_recordset`,
//! so PostgreSQL converts each value to its column's type. Identifiers are quoted; the
//! database URL's password is never printed.

pub mod sink;
pub mod source;

use crate::connections::kind::{Kind, Opening};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Sink, Source};
use crate::transform::table::Table;

/// The SQL table kind in the registry.
pub const KIND: Kind = Kind {
    name: "SQL table",
    types: &[],
    doc: "A PostgreSQL table: an inbound side with an `[inbound.table]` and no `--input` reads its rows (incrementally by `watermark` and then `key`, or the whole table), each row as PostgreSQL writes it as JSON (numerics exact, timestamps with their offset); an outbound side with an `[outbound.table]` and no `--output` upserts the mapped records by `key` in batches (`ON CONFLICT DO UPDATE` of the mapped columns), committed before the run's checkpoint so that a run killed between the two writes the same rows again, not others. A row the database refuses is a dead letter (E615).",
    keys: &["table"],
    source: Some(open_source),
    sink: Some(open_sink),
};

fn open_source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let table = open
        .connector
        .inbound
        .table
        .as_ref()
        .filter(|_| open.input.is_none())?;
    Some(source::TableSource::open(table).map(|s| Box::new(s) as Box<dyn Source>))
}

fn open_sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    let table = open.connector.outbound.table.as_ref()?;
    Some(sink::TableSink::open(table).map(|s| Box::new(s) as Box<dyn Sink>))
}

/// A connection to the table's database, its URL resolved (`side` names the side in
/// errors, which show the URL without its password).
pub fn connect(table: &Table, side: &str) -> Result<postgres::Client, Diag> {
    let url = table.url.resolve(&format!("{side}.table.url"))?;
    let shown = crate::store::postgres::without_password(&url);
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Diag::new(
            codes::E610_INVALID_SETTING,
            format!("{side}.table.url: `{shown}` is not a postgres:// URL (the SQL tables Sluice reads and writes are PostgreSQL's)"),
        ));
    }
    let (config, tls) = crate::store::postgres::config_of(&url)
        .map_err(|e| Diag::new(codes::E614_REMOTE_UNREACHABLE, format!("{shown}: {e}")))?;
    config.connect(tls).map_err(|e| {
        Diag::new(
            codes::E614_REMOTE_UNREACHABLE,
            format!(
                "cannot connect to {shown}: {}",
                crate::store::db::DbError::from(e)
            ),
        )
    })
}

/// `name` as a quoted SQL identifier (`"`, doubled inside).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table's name quoted, `"schema"."table"` or `"table"`; E610 for a malformed one.
pub fn quoted_name(table: &Table, side: &str) -> Result<String, Diag> {
    table
        .name_parts()
        .map(|parts| parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join("."))
        .ok_or_else(|| {
            Diag::new(
                codes::E610_INVALID_SETTING,
                format!(
                    "{side}.table.name: `{}` is not `table` or `schema.table`",
                    table.name
                ),
            )
        })
}

/// A database error as a diagnostic about `what`, with PostgreSQL's own reason.
pub fn failed(what: &str, e: postgres::Error) -> Diag {
    Diag::new(
        codes::E614_REMOTE_UNREACHABLE,
        format!("{what}: {}", crate::store::db::DbError::from(e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quote("order"), "\"order\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
