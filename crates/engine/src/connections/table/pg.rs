//! SQL tables on PostgreSQL: a batch of rows after a position, each row as PostgreSQL
//! writes it as JSON (`row_to_json`: numerics exact, timestamps with their offset, `json`
//! columns nested), and upserts of a batch through `jsonb_populate_recordset` with
//! `ON CONFLICT (key) DO UPDATE` of the mapped columns, PostgreSQL converting each JSON value
//! to its column's type. A batch the database refuses is written again row by row, each
//! under a savepoint, so that only the rows it refuses become dead letters (E615); a
//! database that fails rather than refuses (a lost connection) stops the run (E614),
//! nothing of the batch committed.

use super::{quote, quoted_name, Batches, Position};
use crate::connections::remote::{Outcome, Writer};
use crate::diagnostics::{codes, Diag};
use crate::transform::table::Table;
use crate::value::Value;

/// A table's database on PostgreSQL.
pub struct PgTable {
    client: postgres::Client,
    name: String,
    key: String,
    query: Option<Query>,
}

impl PgTable {
    /// Connects to `table`'s database (`side` names the side in errors).
    pub fn connect(table: &Table, side: &str) -> Result<PgTable, Diag> {
        let url = table.url.resolve(&format!("{side}.table.url"))?;
        let shown = crate::diagnostics::redact::without_password(&url);
        let (config, tls) = crate::store::postgres::config_of(&url)
            .map_err(|e| Diag::new(codes::E614_REMOTE_UNREACHABLE, format!("{shown}: {e}")))?;
        let client = config.connect(tls).map_err(|e| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "cannot connect to {shown}: {}",
                    crate::store::db::DbError::from(e)
                ),
            )
        })?;
        Ok(PgTable {
            client,
            name: quoted_name(table, side, quote)?,
            key: table.key.clone(),
            query: None,
        })
    }

    /// Ready to read `table` in batches.
    pub fn reading(mut self, table: &Table) -> Result<PgTable, Diag> {
        self.query = Some(Query::prepare(&mut self.client, table)?);
        Ok(self)
    }

    /// The upsert of records with these columns (the key among them).
    fn upsert_sql(&self, columns: &[String]) -> String {
        let list = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let updates: Vec<String> = columns
            .iter()
            .filter(|c| **c != self.key)
            .map(|c| format!("{0} = EXCLUDED.{0}", quote(c)))
            .collect();
        let on_conflict = match updates.is_empty() {
            true => "DO NOTHING".to_string(),
            false => format!("DO UPDATE SET {}", updates.join(", ")),
        };
        format!(
            "INSERT INTO {name} ({list}) SELECT {list} FROM jsonb_populate_recordset(NULL::{name}, $1::text::jsonb) ON CONFLICT ({key}) {on_conflict}",
            name = self.name,
            key = quote(&self.key)
        )
    }

    /// Writes the pending records: one statement for the batch, or, when the database
    /// refuses it, one per record under a savepoint. One outcome per record.
    fn deliver(&mut self, pending: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let columns: Vec<String> = match pending.first() {
            Some(Value::Object(fields)) => fields.keys().map(|k| k.to_string()).collect(),
            _ => return Ok(pending.iter().map(|_| Outcome::Written).collect()),
        };
        let sql = self.upsert_sql(&columns);
        let all = json_array(pending);
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| failed("outbound.table: cannot begin a transaction", e))?;
        match tx.execute(sql.as_str(), &[&all]) {
            Ok(_) => {
                tx.commit()
                    .map_err(|e| failed("outbound.table: cannot commit", e))?;
                return Ok(pending.iter().map(|_| Outcome::Written).collect());
            }
            Err(e) if !data_fault(&e) => {
                return Err(failed(
                    &format!("outbound.table: cannot write to {}", self.name),
                    e,
                ))
            }
            Err(_) => {}
        }
        tx.rollback()
            .map_err(|e| failed("outbound.table: cannot roll back", e))?;
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| failed("outbound.table: cannot begin a transaction", e))?;
        let mut outcomes = Vec::with_capacity(pending.len());
        for record in pending {
            let one = json_array(std::slice::from_ref(record));
            let mut savepoint = tx
                .savepoint("record")
                .map_err(|e| failed("outbound.table: cannot make a savepoint", e))?;
            match savepoint.execute(sql.as_str(), &[&one]) {
                Ok(_) => {
                    savepoint
                        .commit()
                        .map_err(|e| failed("outbound.table: cannot release a savepoint", e))?;
                    outcomes.push(Outcome::Written);
                }
                Err(e) if !data_fault(&e) => {
                    return Err(failed(
                        &format!("outbound.table: cannot write to {}", self.name),
                        e,
                    ))
                }
                Err(e) => {
                    let reason = crate::store::db::DbError::from(e).to_string();
                    savepoint
                        .rollback()
                        .map_err(|e| failed("outbound.table: cannot roll back a savepoint", e))?;
                    outcomes.push(Outcome::Refused(
                        codes::E615_REMOTE_REJECTED,
                        format!("{} refused the record: {reason}", self.name),
                    ));
                }
            }
        }
        tx.commit()
            .map_err(|e| failed("outbound.table: cannot commit", e))?;
        Ok(outcomes)
    }
}

impl Batches for PgTable {
    fn after(&mut self, after: Option<&Position>) -> Result<Vec<(String, Position)>, Diag> {
        let Some(query) = &self.query else {
            return Ok(Vec::new());
        };
        let (mark, key) = match after {
            Some((mark, key)) => (mark.clone(), Some(key.clone())),
            None => (None, None),
        };
        let rows = match query.incremental {
            true => self.client.query(query.sql.as_str(), &[&mark, &key]),
            false => self.client.query(query.sql.as_str(), &[&key]),
        }
        .map_err(|e| failed("inbound.table: cannot read the table", e))?;
        Ok(rows
            .iter()
            .map(|row| {
                let position = (
                    row.get::<_, Option<String>>(1)
                        .filter(|_| query.incremental),
                    row.get::<_, String>(2),
                );
                (row.get::<_, String>(0), position)
            })
            .collect())
    }
}

impl Writer for PgTable {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        self.deliver(records)
    }
}

/// The batch query of a table and its column types.
struct Query {
    sql: String,
    incremental: bool,
}

impl Query {
    /// The statement that reads the next batch after a position, given as text cast to the
    /// columns' types (`$1` the watermark and `$2` the key of an incremental read, `$1` the
    /// key of a full one; NULL: from the start).
    fn prepare(client: &mut postgres::Client, table: &Table) -> Result<Query, Diag> {
        let name = quoted_name(table, "inbound", quote)?;
        let type_of = |client: &mut postgres::Client, column: &str| -> Result<String, Diag> {
            let row = client
                .query_opt(
                    "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                     WHERE a.attrelid = $1::text::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                    &[&name, &column],
                )
                .map_err(|e| failed(&format!("inbound.table: cannot read the columns of {name}"), e))?;
            row.map(|r| r.get::<_, String>(0)).ok_or_else(|| {
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("inbound.table: {name} has no column `{column}`"),
                )
            })
        };
        let key = quote(&table.key);
        let key_type = type_of(client, &table.key)?;
        let limit = table.batch();
        let sql = match &table.watermark {
            Some(watermark) => {
                let mark = quote(watermark);
                let mark_type = type_of(client, watermark)?;
                format!(
                    "SELECT row_to_json(t)::text, (t.{mark})::text, (t.{key})::text FROM {name} t
                     WHERE t.{mark} IS NOT NULL AND ($2::text IS NULL OR (t.{mark}, t.{key}) > ($1::text::{mark_type}, $2::text::{key_type}))
                     ORDER BY t.{mark}, t.{key} LIMIT {limit}"
                )
            }
            None => format!(
                "SELECT row_to_json(t)::text, NULL::text, (t.{key})::text FROM {name} t
                 WHERE ($1::text IS NULL OR t.{key} > $1::text::{key_type})
                 ORDER BY t.{key} LIMIT {limit}"
            ),
        };
        Ok(Query {
            sql,
            incremental: table.watermark.is_some(),
        })
    }
}

/// Whether the database refused the data (SQLSTATE class 22, a value that does not fit
/// its column; 23, a constraint), rather than failed (a lost connection, a full disk): a
/// refusal is the record's dead letter, a failure stops the run, which resumes later.
fn data_fault(e: &postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23"))
}

/// Records as one JSON array (numbers exact, as the values hold them).
fn json_array(records: &[Value]) -> String {
    let mut out = String::from("[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&record.to_json());
    }
    out.push(']');
    out
}

/// A database error as a diagnostic about `what`, with PostgreSQL's own reason.
pub fn failed(what: &str, e: postgres::Error) -> Diag {
    Diag::new(
        codes::E614_REMOTE_UNREACHABLE,
        format!("{what}: {}", crate::store::db::DbError::from(e)),
    )
}
