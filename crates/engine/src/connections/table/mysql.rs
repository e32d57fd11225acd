//! SQL tables on MariaDB and MySQL (feature `mysql`): a batch of rows after a position,
//! each row made a JSON object by the server (`JSON_OBJECT`: decimals exact, a `TIMESTAMP`
//! an instant in UTC, a `DATETIME` a local date and time), and upserts of a batch with
//! `INSERT … ON DUPLICATE KEY UPDATE` of the mapped columns. The session's time zone is UTC,
//! so an instant a record carries with an offset is stored as the same instant. A batch
//! the database refuses (strict mode: a value too long or out of range, a constraint) is
//! written again row by row, each under a savepoint, so that only the rows it refuses become
//! dead letters (E615); a database that fails rather than refuses stops the run (E614).

use mysql::prelude::Queryable;

use super::{quoted_name, Batches, Position};
use crate::connections::remote::{Outcome, Writer};
use crate::diagnostics::{codes, Diag};
use crate::transform::table::Table;
use crate::value::Value;

/// A table's database on MariaDB or MySQL.
pub struct MysqlTable {
    conn: mysql::Conn,
    name: String,
    key: String,
    /// Each column's name and data type (`int`, `decimal`, `timestamp`, ...).
    columns: Vec<(String, String)>,
    query: Option<Query>,
}

/// `name` as a MariaDB identifier (backquoted, a backquote doubled).
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A database error as a diagnostic about `what`.
fn failed(what: &str, e: mysql::Error) -> Diag {
    Diag::new(
        codes::E614_REMOTE_UNREACHABLE,
        format!("{what}: {}", reason(&e)),
    )
}

/// The server's reason, without anything of the URL.
fn reason(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(e) => format!("{} ({}, SQLSTATE {})", e.message, e.code, e.state),
        other => other.to_string(),
    }
}

/// Whether the server refused the data rather than failed: SQLSTATE class 22 (a value
/// that does not fit), 23 (a constraint), or an incorrect value in strict mode (1366).
fn data_fault(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::MySqlError(e) => {
            e.state.starts_with("22") || e.state.starts_with("23") || e.code == 1366
        }
        _ => false,
    }
}

impl MysqlTable {
    /// Connects to `table`'s database (`side` names the side in errors), with the session
    /// in UTC and strict mode.
    pub fn connect(table: &Table, side: &str) -> Result<MysqlTable, Diag> {
        let url = table.url.resolve(&format!("{side}.table.url"))?;
        let url = match url.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => url,
        };
        let shown = crate::diagnostics::redact::without_password(&url);
        let opts = mysql::Opts::from_url(&url).map_err(|e| {
            Diag::new(
                codes::E610_INVALID_SETTING,
                format!("{side}.table.url: `{shown}`: {e}"),
            )
        })?;
        let mut conn = mysql::Conn::new(opts).map_err(|e| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("cannot connect to {shown}: {}", reason(&e)),
            )
        })?;
        conn.query_drop(
            "SET time_zone = '+00:00', sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
        )
        .map_err(|e| failed(&format!("{side}.table: cannot set up the session"), e))?;
        let name = quoted_name(table, side, quote)?;
        let parts = table.name_parts().unwrap_or_default();
        let (schema, bare) = match parts.as_slice() {
            [schema, bare] => (Some(schema.to_string()), bare.to_string()),
            _ => (None, table.name.clone()),
        };
        let columns: Vec<(String, String)> = conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (schema, bare),
            )
            .map_err(|e| failed(&format!("{side}.table: cannot read the columns of {name}"), e))?;
        if columns.is_empty() {
            return Err(Diag::new(
                codes::E610_INVALID_SETTING,
                format!("{side}.table: there is no table {name}"),
            ));
        }
        Ok(MysqlTable {
            conn,
            name,
            key: table.key.clone(),
            columns,
            query: None,
        })
    }

    /// The data type of `column`; E610 when the table has none of that name.
    fn type_of(&self, column: &str) -> Result<&str, Diag> {
        self.columns
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, ty)| ty.as_str())
            .ok_or_else(|| {
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("inbound.table: {} has no column `{column}`", self.name),
                )
            })
    }

    /// Ready to read `table` in batches.
    pub fn reading(mut self, table: &Table) -> Result<MysqlTable, Diag> {
        self.type_of(&table.key)?;
        let object = self
            .columns
            .iter()
            .map(|(name, ty)| {
                format!(
                    "'{}', {}",
                    name.replace('\\', "\\\\").replace('\'', "''"),
                    as_json(&quote(name), ty)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let key = quote(&table.key);
        let limit = table.batch();
        let sql = match &table.watermark {
            Some(watermark) => {
                self.type_of(watermark)?;
                let mark = quote(watermark);
                format!(
                    "SELECT JSON_OBJECT({object}), CAST({mark} AS CHAR), CAST({key} AS CHAR) FROM {name}
                     WHERE {mark} IS NOT NULL AND (? IS NULL OR ({mark}, {key}) > (?, ?))
                     ORDER BY {mark}, {key} LIMIT {limit}",
                    name = self.name
                )
            }
            None => format!(
                "SELECT JSON_OBJECT({object}), NULL, CAST({key} AS CHAR) FROM {name}
                 WHERE (? IS NULL OR {key} > ?) ORDER BY {key} LIMIT {limit}",
                name = self.name
            ),
        };
        self.query = Some(Query {
            sql,
            incremental: table.watermark.is_some(),
        });
        Ok(self)
    }

    /// The upsert of `count` records with these columns (the key among them).
    fn upsert_sql(&self, columns: &[String], count: usize) -> String {
        let list = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let rows = vec![row; count].join(", ");
        let updates: Vec<String> = columns
            .iter()
            .filter(|c| **c != self.key)
            .map(|c| format!("{0} = VALUES({0})", quote(c)))
            .collect();
        let update = match updates.is_empty() {
            true => format!("{0} = {0}", quote(&self.key)),
            false => updates.join(", "),
        };
        format!(
            "INSERT INTO {} ({list}) VALUES {rows} ON DUPLICATE KEY UPDATE {update}",
            self.name
        )
    }

    /// The parameters of `records` for the columns, each value as the column takes it.
    fn params(&self, columns: &[String], records: &[Value]) -> Vec<mysql::Value> {
        let types: Vec<&str> = columns
            .iter()
            .map(|c| {
                self.columns
                    .iter()
                    .find(|(name, _)| name == c)
                    .map_or("", |(_, ty)| ty.as_str())
            })
            .collect();
        records
            .iter()
            .flat_map(|record| {
                columns
                    .iter()
                    .zip(&types)
                    .map(move |(column, ty)| param(record.get_key(column), ty))
            })
            .collect()
    }
}

/// A column's value as JSON inside `JSON_OBJECT`: an instant as RFC 3339 in UTC, a local
/// date and time in ISO form, anything else as the server gives it.
fn as_json(column: &str, ty: &str) -> String {
    match ty {
        "timestamp" => format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%fZ')"),
        "datetime" => format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%f')"),
        _ => column.to_string(),
    }
}

/// A record's value as a parameter for a column of type `ty`: exact numbers as their
/// digits, an instant as UTC date and time for a temporal column, a date as itself, text
/// as text; an object or array as its JSON.
fn param(value: Option<&Value>, ty: &str) -> mysql::Value {
    let temporal = matches!(ty, "timestamp" | "datetime");
    match value {
        None | Some(Value::Null) => mysql::Value::NULL,
        Some(Value::Bool(b)) => mysql::Value::Int(i64::from(*b)),
        Some(Value::Number(n)) => mysql::Value::Bytes(n.to_string().into_bytes()),
        Some(Value::DateTime(t)) => mysql::Value::Bytes(
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string()
                .into_bytes(),
        ),
        Some(Value::String(s)) if temporal => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => mysql::Value::Bytes(
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M:%S%.6f")
                    .to_string()
                    .into_bytes(),
            ),
            Err(_) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        },
        Some(Value::String(s)) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        Some(Value::Date(d)) => mysql::Value::Bytes(d.format("%Y-%m-%d").to_string().into_bytes()),
        Some(other) => mysql::Value::Bytes(other.to_json().into_bytes()),
    }
}

/// The batch query of a table.
struct Query {
    sql: String,
    incremental: bool,
}

impl Batches for MysqlTable {
    fn after(&mut self, after: Option<&Position>) -> Result<Vec<(String, Position)>, Diag> {
        let Some(query) = &self.query else {
            return Ok(Vec::new());
        };
        let (mark, key) = match after {
            Some((mark, key)) => (mark.clone(), Some(key.clone())),
            None => (None, None),
        };
        let rows: Vec<(String, Option<String>, String)> = match query.incremental {
            true => self.conn.exec(query.sql.as_str(), (key.clone(), mark, key)),
            false => self.conn.exec(query.sql.as_str(), (key.clone(), key)),
        }
        .map_err(|e| failed("inbound.table: cannot read the table", e))?;
        Ok(rows
            .into_iter()
            .map(|(json, mark, key)| (json, (mark.filter(|_| query.incremental), key)))
            .collect())
    }
}

impl Writer for MysqlTable {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let columns: Vec<String> = match records.first() {
            Some(Value::Object(fields)) => fields.keys().map(|k| k.to_string()).collect(),
            _ => return Ok(records.iter().map(|_| Outcome::Written).collect()),
        };
        let all = self.upsert_sql(&columns, records.len());
        let params = self.params(&columns, records);
        let one = self.upsert_sql(&columns, 1);
        let name = self.name.clone();
        let per_record: Vec<Vec<mysql::Value>> = records
            .iter()
            .map(|r| self.params(&columns, std::slice::from_ref(r)))
            .collect();
        let mut tx = self
            .conn
            .start_transaction(mysql::TxOpts::default())
            .map_err(|e| failed("outbound.table: cannot begin a transaction", e))?;
        match tx.exec_drop(all.as_str(), params) {
            Ok(()) => {
                tx.commit()
                    .map_err(|e| failed("outbound.table: cannot commit", e))?;
                return Ok(records.iter().map(|_| Outcome::Written).collect());
            }
            Err(e) if !data_fault(&e) => {
                return Err(failed(
                    &format!("outbound.table: cannot write to {name}"),
                    e,
                ))
            }
            Err(_) => {}
        }
        let mut outcomes = Vec::with_capacity(records.len());
        for params in per_record {
            tx.query_drop("SAVEPOINT record")
                .map_err(|e| failed("outbound.table: cannot make a savepoint", e))?;
            match tx.exec_drop(one.as_str(), params) {
                Ok(()) => outcomes.push(Outcome::Written),
                Err(e) if !data_fault(&e) => {
                    return Err(failed(
                        &format!("outbound.table: cannot write to {name}"),
                        e,
                    ))
                }
                Err(e) => {
                    tx.query_drop("ROLLBACK TO SAVEPOINT record")
                        .map_err(|e| failed("outbound.table: cannot roll back a savepoint", e))?;
                    outcomes.push(Outcome::Refused(
                        codes::E615_REMOTE_REJECTED,
                        format!("{name} refused the record: {}", reason(&e)),
                    ));
                }
            }
        }
        tx.commit()
            .map_err(|e| failed("outbound.table: cannot commit", e))?;
        Ok(outcomes)
    }
}
