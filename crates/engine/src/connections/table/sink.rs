//! Mapped records upserted into a PostgreSQL table by its key, a batch per statement:
//! `INSERT INTO t (columns) SELECT columns FROM jsonb_populate_recordset(NULL::t, $1)
//! ON CONFLICT (key) DO UPDATE SET` the mapped columns. PostgreSQL converts each JSON value to
//! its column's type (a numeric exactly, a timestamp with its offset). A batch the database
//! refuses is written again row by row, each under a savepoint, so that only the rows it
//! refuses become dead letters (E615) and the others are written.

use super::{connect, failed, quote, quoted_name};
use crate::connections::remote::{commit_outcomes, Outcome};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Provenance, Sink, SinkMode, StateCommit, StateStore};
use crate::store::sync::BatchCounts;
use crate::transform::table::Table;
use crate::value::Value;

/// A table written as an outbound side.
pub struct TableSink {
    client: postgres::Client,
    name: String,
    key: String,
    pending: Vec<Value>,
    provenance: Vec<Provenance>,
}

impl TableSink {
    /// Connects to `table`'s database.
    pub fn open(table: &Table) -> Result<TableSink, Diag> {
        let name = quoted_name(table, "outbound")?;
        Ok(TableSink {
            client: connect(table, "outbound")?,
            name,
            key: table.key.clone(),
            pending: Vec::new(),
            provenance: Vec::new(),
        })
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
    fn deliver(&mut self) -> Result<Vec<Outcome>, Diag> {
        let columns: Vec<String> = match self.pending.first() {
            Some(Value::Object(fields)) => fields.keys().map(|k| k.to_string()).collect(),
            _ => return Ok(self.pending.iter().map(|_| Outcome::Written).collect()),
        };
        let sql = self.upsert_sql(&columns);
        let all = json_array(&self.pending);
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| failed("outbound.table: cannot begin a transaction", e))?;
        match tx.execute(sql.as_str(), &[&all]) {
            Ok(_) => {
                tx.commit()
                    .map_err(|e| failed("outbound.table: cannot commit", e))?;
                return Ok(self.pending.iter().map(|_| Outcome::Written).collect());
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
        let mut outcomes = Vec::with_capacity(self.pending.len());
        for record in &self.pending {
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

impl Sink for TableSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Remote
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn accept(
        &mut self,
        _: &str,
        values: Vec<Value>,
        provenance: Vec<Provenance>,
    ) -> Result<(), Diag> {
        self.pending.extend(values);
        self.provenance.extend(provenance);
        Ok(())
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    fn commit(
        &mut self,
        store: &mut dyn StateStore,
        state: StateCommit<'_>,
    ) -> Result<BatchCounts, Diag> {
        let outcomes = self.deliver()?;
        let counts = commit_outcomes(store, &state, &outcomes, &self.provenance)?;
        self.pending.clear();
        self.provenance.clear();
        Ok(counts)
    }
}
