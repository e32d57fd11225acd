//! The writer of a REST sink (`connections::remote::RemoteSink`): each mapped record is created or updated in the remote system (POST, PUT
//! or PATCH with the key in the URL, or an upsert that looks the record up by its match
//! keys first), or sent in batches to a batch endpoint; requests run `concurrency` at a
//! time over keep-alive connections. A record the system refuses (4xx) becomes a dead letter
//! with the status and the start of the answer; the records and letters of a batch are
//! committed with the checkpoint only once every request of it has been answered, so a
//! killed run sends again what it had not committed, and the writes are made so that this
//! changes nothing: upserts look up first, PUT/PATCH address the record, POSTs can carry an
//! idempotency key derived from the record.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::connections::http::client::Client;
use crate::connections::http::transport::Reply;
use crate::connections::remote::{Outcome, Writer};
use crate::diagnostics::{codes, Diag};
use crate::transform::connection::Connection;
use crate::transform::connector::Side;
use crate::value::Value;

/// A REST outbound side.
pub struct HttpWriter {
    client: Arc<Client>,
    connection: Connection,
    entity: String,
    primary_key: Option<String>,
}

impl HttpWriter {
    /// The sink of an outbound side with a `connection`.
    pub fn new(side: &Side, connection: &Connection, client: Arc<Client>) -> HttpWriter {
        HttpWriter {
            client,
            connection: connection.clone(),
            entity: side.entity.clone().unwrap_or_default(),
            primary_key: side.primary_key.clone(),
        }
    }

    /// The fields an upsert finds the remote record by.
    fn match_keys(&self) -> Vec<String> {
        match self.connection.match_keys.is_empty() {
            true => self.primary_key.iter().cloned().collect(),
            false => self.connection.match_keys.clone(),
        }
    }

    /// Writes every pending record (or batch), `concurrency` requests at a time; an
    /// outcome per record, or the error that stops the run.
    fn deliver(&self, pending: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let units: Vec<std::ops::Range<usize>> = match &self.connection.batch_path {
            Some(_) => {
                let size = self.connection.batch_size.unwrap_or(100).max(1);
                (0..pending.len())
                    .step_by(size)
                    .map(|start| start..(start + size).min(pending.len()))
                    .collect()
            }
            None => (0..pending.len()).map(|i| i..i + 1).collect(),
        };
        let next = AtomicUsize::new(0);
        let threads = self
            .connection
            .concurrency
            .unwrap_or(4)
            .clamp(1, 64)
            .min(units.len());
        let mut results: Vec<(usize, Result<Vec<Outcome>, Diag>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            let Some(range) = units.get(i) else {
                                return done;
                            };
                            let records = pending.get(range.clone()).unwrap_or_default();
                            let outcome = match &self.connection.batch_path {
                                Some(path) => self.write_batch(path, records),
                                None => records.iter().map(|r| self.write_one(r)).collect(),
                            };
                            let failed = outcome.is_err();
                            done.push((i, outcome));
                            if failed {
                                return done;
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        results.sort_by_key(|(i, _)| *i);
        let mut outcomes = Vec::with_capacity(pending.len());
        for (_, result) in results {
            outcomes.extend(result?);
        }
        if outcomes.len() != pending.len() {
            return Err(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                "a write thread of the REST sink stopped before its records were answered",
            ));
        }
        Ok(outcomes)
    }

    /// One record: its JSON, the request by `write`, the answer judged.
    fn write_one(&self, record: &Value) -> Result<Outcome, Diag> {
        let body = record.to_json();
        match self.connection.write.as_str() {
            "upsert" => self.upsert(record, &body),
            method @ ("put" | "patch") => {
                let path = match self.item_path(record, None) {
                    Ok(path) => path,
                    Err(refused) => return Ok(refused),
                };
                let method = method.to_ascii_uppercase();
                self.judge(self.client.send(
                    &method,
                    &self.client.url(&path),
                    Some(body.as_bytes()),
                    &self.headers(&body),
                )?)
            }
            _ => {
                let url = self.client.url(&self.entity);
                self.judge(self.client.send(
                    "POST",
                    &url,
                    Some(body.as_bytes()),
                    &self.headers(&body),
                )?)
            }
        }
    }

    /// Look up by the match keys, then update the one found or create: the lookup is made
    /// again before each retry of the write, so a create whose answer was lost is found and
    /// updated, never made twice.
    fn upsert(&self, record: &Value, body: &str) -> Result<Outcome, Diag> {
        let keys = self.match_keys();
        let mut pairs = Vec::new();
        for key in &keys {
            match record
                .get_key(key)
                .and_then(crate::connections::http::watermark::text_of)
            {
                Some(value) => pairs.push((key.as_str(), value)),
                None => {
                    return Ok(Outcome::Refused(
                        codes::E607_PRIMARY_KEY,
                        format!("the mapped record has no value for the match key `{key}`"),
                    ))
                }
            }
        }
        if pairs.is_empty() {
            return Err(Diag::new(
                codes::E603_CONNECTOR_MISSING,
                "outbound.connection: write = \"upsert\" needs `match_keys` or `outbound.primary_key`",
            ));
        }
        let mut tries = 0;
        loop {
            let found = self.lookup(&pairs)?;
            let (method, url) = match found.as_slice() {
                [] => ("POST", self.client.url(&self.entity)),
                [one] => {
                    let id_field = self.connection.id_field.as_deref().unwrap_or("id");
                    let Some(id) = one.get_key(id_field).and_then(json_text) else {
                        return Ok(Outcome::Refused(
                            codes::E617_REMOTE_RESPONSE,
                            format!("the remote record found has no `{id_field}`"),
                        ));
                    };
                    let path = match self.item_path(record, Some(&id)) {
                        Ok(path) => path,
                        Err(refused) => return Ok(refused),
                    };
                    ("PATCH", self.client.url(&path))
                }
                many => {
                    return Ok(Outcome::Refused(
                        codes::E618_AMBIGUOUS_MATCH,
                        format!(
                            "{} remote records match {}",
                            many.len(),
                            pairs
                                .iter()
                                .map(|(k, v)| format!("{k} = {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ))
                }
            };
            let answer = match self.client.send_once(
                method,
                &url,
                Some(body.as_bytes()),
                &self.headers(body),
            ) {
                Ok(reply) if reply.retryable() && tries < self.client.retries() => Some(reply),
                Ok(reply) => return self.judge(reply),
                Err(failure) if tries < self.client.retries() && failure.retryable => None,
                Err(failure) => return Err(*failure.diag),
            };
            self.client.pause(tries, answer.as_ref())?;
            tries += 1;
        }
    }

    /// The remote records whose match keys equal the record's.
    fn lookup(&self, pairs: &[(&str, String)]) -> Result<Vec<Value>, Diag> {
        let mut url = url::Url::parse(&self.client.url(&self.entity)).map_err(|e| {
            Diag::new(
                codes::E610_INVALID_SETTING,
                format!("outbound.connection.url: {e}"),
            )
        })?;
        {
            let mut q = url.query_pairs_mut();
            match self.connection.lookup.as_deref() {
                Some("odata") => {
                    let filter = pairs
                        .iter()
                        .map(|(k, v)| format!("{k} eq '{}'", v.replace('\'', "''")))
                        .collect::<Vec<_>>()
                        .join(" and ");
                    q.append_pair("$filter", &filter);
                }
                _ => {
                    for (k, v) in pairs {
                        q.append_pair(k, v);
                    }
                }
            }
        }
        let url = url.to_string();
        let reply = self.client.send("GET", &url, None, &[])?;
        let shown = self.client.redact(&url);
        if !reply.ok() {
            return Err(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "lookup GET {shown}: HTTP {} {}",
                    reply.status,
                    self.client.redact(&reply.excerpt())
                ),
            ));
        }
        let answer = std::str::from_utf8(&reply.body)
            .map_err(|e| e.to_string())
            .and_then(|text| crate::value::value_from_json_text(text).map_err(|e| e.to_string()))
            .map_err(|e| {
                Diag::new(
                    codes::E617_REMOTE_RESPONSE,
                    format!("lookup GET {shown}: not JSON ({e})"),
                )
            })?;
        let path = self.connection.records.as_deref().unwrap_or("value");
        let found = match path {
            "" | "." => Some(&answer),
            path => path.split('.').try_fold(&answer, |at, key| at.get_key(key)),
        };
        match found {
            Some(Value::Array(records)) => Ok(records.to_vec()),
            _ => Err(Diag::new(
                codes::E617_REMOTE_RESPONSE,
                format!("lookup GET {shown}: no array of records at `{path}`"),
            )),
        }
    }

    /// A batch: POST the records as one array. A 2xx answer that is an array of per-record
    /// results (`{"status": 4xx, ...}`) refuses those; a 4xx for the whole batch sends its
    /// records one by one, so that only the bad ones are refused.
    fn write_batch(&self, path: &str, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let mut body = String::from("[");
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            record.write_json(&mut body);
        }
        body.push(']');
        let reply = self.client.send(
            "POST",
            &self.client.url(path),
            Some(body.as_bytes()),
            &self.headers(&body),
        )?;
        if reply.ok() {
            let items: Option<Vec<serde_json::Value>> = serde_json::from_slice(&reply.body).ok();
            return Ok(match items.filter(|items| items.len() == records.len()) {
                Some(items) => items
                    .iter()
                    .map(|item| {
                        let status = item
                            .get("status")
                            .and_then(serde_json::Value::as_u64)
                            .unwrap_or(200);
                        match (200..300).contains(&status) {
                            true => Outcome::Written,
                            false => Outcome::Refused(
                                codes::E615_REMOTE_REJECTED,
                                format!("HTTP {status} {}", self.client.redact(&item.to_string())),
                            ),
                        }
                    })
                    .collect(),
                None => records.iter().map(|_| Outcome::Written).collect(),
            });
        }
        if (400..500).contains(&reply.status) && records.len() > 1 {
            return records.iter().map(|r| self.write_one(r)).collect();
        }
        Ok(records.iter().map(|_| self.refusal(&reply)).collect())
    }

    /// An answer to a write: 2xx written, 4xx refused, anything else stops the run.
    fn judge(&self, reply: Reply) -> Result<Outcome, Diag> {
        match reply.status {
            200..=299 => Ok(Outcome::Written),
            400..=499 => Ok(self.refusal(&reply)),
            status => Err(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "the outbound system answered HTTP {status} {}",
                    self.client.redact(&reply.excerpt())
                ),
            )),
        }
    }

    fn refusal(&self, reply: &Reply) -> Outcome {
        Outcome::Refused(
            codes::E615_REMOTE_REJECTED,
            format!(
                "HTTP {} {}",
                reply.status,
                self.client.redact(&reply.excerpt())
            ),
        )
    }

    fn missing_field(&self) -> Outcome {
        Outcome::Refused(
            codes::E607_PRIMARY_KEY,
            format!(
                "the mapped record lacks a field of the path `{}`",
                self.item_template()
            ),
        )
    }

    /// The path of one remote record: `path` with its `{field}` placeholders filled (`{id}`
    /// is the remote id an upsert found), by default `<entity>/{<primary key>}`.
    fn item_template(&self) -> String {
        self.connection.path.clone().unwrap_or_else(|| {
            match (&self.connection.write[..], &self.primary_key) {
                ("upsert", _) | (_, None) => format!("{}/{{id}}", self.entity),
                (_, Some(key)) => format!("{}/{{{key}}}", self.entity),
            }
        })
    }

    /// The item path for `record`: each placeholder's value encoded as one RFC 3986 path
    /// segment (`a b` → `a%20b`, `/` → `%2F`). A record lacking a placeholder's field, or
    /// whose value is `.` or `..` (a dot-segment the remote would resolve to another path),
    /// is refused.
    fn item_path(&self, record: &Value, id: Option<&str>) -> Result<String, Outcome> {
        let template = self.item_template();
        let mut path = String::new();
        let mut rest = template.as_str();
        while let Some((open, close)) = rest
            .find('{')
            .and_then(|open| Some((open, open + rest.get(open..)?.find('}')?)))
        {
            path.push_str(rest.get(..open).unwrap_or_default());
            let field = rest.get(open + 1..close).unwrap_or_default();
            let value = match (field, id) {
                ("id", Some(id)) => id.to_string(),
                _ => record
                    .get_key(field)
                    .and_then(crate::connections::http::watermark::text_of)
                    .ok_or_else(|| self.missing_field())?,
            };
            path.push_str(&path_segment(&value).ok_or_else(|| {
                Outcome::Refused(
                    codes::E607_PRIMARY_KEY,
                    format!("`{field}` is `{value}`, a dot-segment that cannot name a record in the path `{template}`"),
                )
            })?);
            rest = rest.get(close + 1..).unwrap_or_default();
        }
        path.push_str(rest);
        Ok(path)
    }

    /// The headers of a write: JSON, and the idempotency key when configured.
    fn headers(&self, body: &str) -> Vec<(&str, String)> {
        let mut headers = vec![("Content-Type", "application/json".to_string())];
        if let Some(name) = &self.connection.idempotency_header {
            let digest = Sha256::new()
                .chain_update(self.entity.as_bytes())
                .chain_update([0])
                .chain_update(body.as_bytes())
                .finalize();
            let key = crate::hex(&digest);
            headers.push((name.as_str(), key));
        }
        headers
    }
}

/// `value` as one path segment, percent-encoded as RFC 3986 says for a segment (every byte
/// but the unreserved and sub-delimiter characters, `:` and `@`; so `/`, `?`, `#`, `%` and
/// space are encoded); `None` for `.`, `..` and the empty text, which a path cannot carry
/// as a key.
fn path_segment(value: &str) -> Option<String> {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'$')
        .remove(b'&')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b'*')
        .remove(b'+')
        .remove(b',')
        .remove(b';')
        .remove(b'=')
        .remove(b':')
        .remove(b'@');
    match value {
        "" | "." | ".." => None,
        _ => Some(percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()),
    }
}

/// A JSON scalar as text (a remote id).
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Writer for HttpWriter {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        self.deliver(records)
    }
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn keys_are_encoded_as_path_segments_not_as_forms() {
        assert_eq!(path_segment("a b").as_deref(), Some("a%20b"));
        assert_eq!(path_segment("a+b").as_deref(), Some("a+b"));
        assert_eq!(
            path_segment("x/y?z#w%").as_deref(),
            Some("x%2Fy%3Fz%23w%25")
        );
        assert_eq!(path_segment("Müller").as_deref(), Some("M%C3%BCller"));
        assert_eq!(path_segment("C-1.2_~:@").as_deref(), Some("C-1.2_~:@"));
        assert_eq!(path_segment("..."), Some("...".into()));
        for dot in [".", "..", ""] {
            assert_eq!(path_segment(dot), None, "{dot:?}");
        }
    }
}
