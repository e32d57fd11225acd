//! The SQL table kind (PostgreSQL with the `postgres` feature, MariaDB/MySQL with `mysql`):
//! an inbound side with an `[inbound.table]` reads rows, incrementally by a watermark
//! column with the key as tie-break (`WHERE (watermark, key) > (last, last) ORDER BY
//! watermark, key`, so rows with equal watermarks are never skipped) or the whole table;
//! an outbound side with an `[outbound.table]` upserts each batch by the key. Each database
//! reads a row as a JSON object (numerics exact, instants with their offset) and converts a
//! record's values to its columns' types (`pg.rs`, `mysql.rs`); reading (`source.rs`),
//! resuming and committing are the same for both. Identifiers are quoted; the database
//! URL's password is never printed.

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod source;

use crate::connections::kind::{Kind, Opening};
use crate::connections::remote::{RemoteSink, Writer};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Sink, Source};
use crate::transform::table::Table;

/// The SQL table kind in the registry.
pub const KIND: Kind = Kind {
    name: "SQL table",
    types: &[],
    doc: "A PostgreSQL, MariaDB or MySQL table (by the URL's scheme): an inbound side with an `[inbound.table]` and no `--input` reads its rows (incrementally by `watermark` and then `key`, or the whole table), each row as the database writes it as JSON (numerics exact, instants with their offset); an outbound side with an `[outbound.table]` and no `--output` upserts the mapped records by `key` in batches (`ON CONFLICT DO UPDATE`, `ON DUPLICATE KEY UPDATE` of the mapped columns), committed before the run's checkpoint so that a run killed between the two writes the same rows again, not others. A row the database refuses is a dead letter (E615).",
    keys: &["table"],
    reads_alone: |side| side.table.is_some(),
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
    Some(
        open_upserts(table).map(|writer| {
            Box::new(RemoteSink::new(writer, Some(table.key.clone()))) as Box<dyn Sink>
        }),
    )
}

/// A row's position: its watermark (an incremental read) and its key, as text.
pub type Position = (Option<String>, String);

/// How a database hands out a table's rows: the next batch after a position (from the
/// start when none), each row as a JSON object's text with its position.
pub trait Batches: Send {
    /// The next batch of rows after `after`, in (watermark, key) or key order.
    fn after(&mut self, after: Option<&Position>) -> Result<Vec<(String, Position)>, Diag>;
}

/// Which database a table URL names.
enum Database {
    #[cfg(feature = "postgres")]
    Postgres,
    #[cfg(feature = "mysql")]
    Mysql,
}

/// The database of `table`'s URL (`side` names the side in errors, which show the URL
/// without its password).
fn database_of(table: &Table, side: &str) -> Result<Database, Diag> {
    let url = table.url.resolve(&format!("{side}.table.url"))?;
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres);
    }
    #[cfg(feature = "mysql")]
    if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        return Ok(Database::Mysql);
    }
    Err(Diag::new(
        codes::E610_INVALID_SETTING,
        format!(
            "{side}.table.url: `{}` is not a postgres:// or mysql:// URL",
            crate::diagnostics::redact::without_password(&url)
        ),
    ))
}

/// The batches of `table`'s rows, from its database.
pub fn open_batches(table: &Table) -> Result<Box<dyn Batches>, Diag> {
    Ok(match database_of(table, "inbound")? {
        #[cfg(feature = "postgres")]
        Database::Postgres => Box::new(pg::PgTable::connect(table, "inbound")?.reading(table)?),
        #[cfg(feature = "mysql")]
        Database::Mysql => Box::new(mysql::MysqlTable::connect(table, "inbound")?.reading(table)?),
    })
}

/// The upserts into `table`, in its database.
fn open_upserts(table: &Table) -> Result<Box<dyn Writer>, Diag> {
    Ok(match database_of(table, "outbound")? {
        #[cfg(feature = "postgres")]
        Database::Postgres => Box::new(pg::PgTable::connect(table, "outbound")?),
        #[cfg(feature = "mysql")]
        Database::Mysql => Box::new(mysql::MysqlTable::connect(table, "outbound")?),
    })
}

/// `name` as a quoted SQL identifier (`"`, doubled inside), as PostgreSQL and the SQL
/// standard quote it.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table's name quoted by `quote`, `"schema"."table"` or `"table"`; E610 for a
/// malformed one.
pub fn quoted_name(table: &Table, side: &str, quote: fn(&str) -> String) -> Result<String, Diag> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quote("order"), "\"order\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
