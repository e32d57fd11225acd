//! The wizard's REST/OData sides: `POST /studio/connections/test` logs a side in and fetches
//! one page (the fields found and a few records, to map from), and the credentials a mapping
//! author enters are sealed into the server's store (`secret:NAME` in the file), never
//! written into the connector file and never sent back. Admin only.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{blocking, json_body};
use super::Server;
use crate::connections::http::oauth::Vault;
use crate::connections::http::{client_of, source::HttpSource};
use crate::diagnostics::{codes, Diag};
use crate::store::secrets::SecretKey;
use crate::transform::connector::{Connector, Credential, Side};

/// The largest request: a connector and the credentials typed in.
const BODY_LIMIT: usize = 256 * 1024;
/// The records of the page shown (and offered as the sample).
const SHOWN: usize = 20;

/// Credentials typed into the page, by `<side>.<key>` (`inbound.password`).
pub type Entered = BTreeMap<String, String>;

/// What the page asks to test.
#[derive(Deserialize)]
struct Probe {
    connector: serde_json::Map<String, Value>,
    side: String,
    #[serde(default)]
    secrets: Entered,
}

/// `POST /studio/connections/test`.
pub async fn test(State(server): State<Arc<Server>>, body: Body) -> Response {
    let probe: Probe = match json_body(body, BODY_LIMIT, "{connector, side, secrets}").await {
        Ok(probe) => probe,
        Err(refused) => return refused,
    };
    blocking(move || {
        let answer = match first_page(&server, &probe) {
            Ok(answer) => answer,
            Err(diag) => json!({"ok": false, "error": {"code": diag.code.id, "message": diag.message, "help": diag.help}}),
        };
        Json(answer).into_response()
    })
    .await
}

/// Logs the side in and reads its first page.
fn first_page(server: &Server, probe: &Probe) -> Result<Value, Diag> {
    let connector: Connector = serde_json::from_value(Value::Object(probe.connector.clone()))
        .map_err(|e| Diag::new(codes::E601_CONNECTOR_SYNTAX, format!("the connector: {e}")))?;
    let label = probe.side.as_str();
    let side = match label {
        "inbound" => &connector.inbound,
        "outbound" => &connector.outbound,
        _ => {
            return Err(Diag::new(
                codes::E610_INVALID_SETTING,
                "side: inbound or outbound",
            ))
        }
    };
    let side = for_test(side, label, &probe.secrets);
    let Some(connection) = side.connection.clone() else {
        return Err(Diag::new(
            codes::E603_CONNECTOR_MISSING,
            format!("the {label} side has no connection to test"),
        ));
    };
    let vault = vault_of(server, &connector, label);
    let client = client_of(label, &side, &Arc::new(AtomicUsize::new(0)), vault)?;
    let (url, records) = HttpSource::new(&side, &connection, client).first_page_records()?;
    let sample: Vec<serde_json::Map<String, Value>> = records
        .iter()
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    let mut fields: Vec<&String> = sample.iter().flat_map(|r| r.keys()).collect();
    fields.sort();
    fields.dedup();
    Ok(json!({
        "ok": true,
        "url": url,
        "records": records.len(),
        "fields": fields,
        "sample": sample.iter().take(SHOWN).collect::<Vec<_>>(),
    }))
}

/// The side as tested: the credentials typed in for it in place of its references, and no
/// retries (a person is waiting for the answer).
fn for_test(side: &Side, label: &str, entered: &Entered) -> Side {
    let mut side = side.clone();
    if let Some(connection) = side.connection.as_mut() {
        connection.retries = Some(0);
    }
    for (key, credential) in side.credentials.iter_mut() {
        if let Some(value) = typed(entered, label, key) {
            *credential = Credential(value.clone());
        }
    }
    side
}

/// The value typed in for credential `key` of side `label`, if one was.
fn typed<'e>(entered: &'e Entered, label: &str, key: &str) -> Option<&'e String> {
    entered.get(&format!("{label}.{key}"))
}

/// Where side `label` of `connector` keeps its secrets: the server's store.
fn vault_of(server: &Server, connector: &Connector, label: &str) -> Vault {
    Vault {
        store: server.config.store.clone(),
        connector: connector.name.clone(),
        side: label.to_string(),
    }
}

/// The `secret:NAME` credentials of a connector: side, key, name, and the side's vault
/// and connection URL.
fn sealed_of<'c>(
    server: &Server,
    connector: &'c Connector,
) -> Vec<(&'static str, &'c str, &'c str, Vault, &'c str)> {
    [
        ("inbound", &connector.inbound),
        ("outbound", &connector.outbound),
    ]
    .into_iter()
    .flat_map(|(label, side)| {
        let url = side.connection.as_ref().map_or("", |c| c.url.as_str());
        side.credentials.iter().filter_map(move |(key, c)| {
            c.sealed().map(|name| {
                let vault = vault_of(server, connector, label);
                (label, key.as_str(), name, vault, url)
            })
        })
    })
    .collect()
}

/// The problems of a connector's `secret:NAME` credentials: each needs a value typed in or
/// one kept in the store for the side's address already, and a key to seal or open it with.
pub fn sealed_problems(server: &Server, connector: &Connector, entered: &Entered) -> Vec<Diag> {
    let mut problems: Vec<Diag> = sealed_of(server, connector)
        .into_iter()
        .filter(|(label, key, ..)| typed(entered, label, key).is_none())
        .filter_map(|(.., name, vault, url)| vault.credential(name, url).err())
        .collect();
    // one missing key, not one per credential
    problems.dedup_by(|a, b| a.message == b.message);
    problems
}

/// Seals the credentials typed in for a connector's `secret:NAME` references into the
/// server's store, each under its side and name, bound to its side's address.
pub fn seal(server: &Server, connector: &Connector, entered: &Entered) -> Result<(), Diag> {
    let typed: Vec<_> = sealed_of(server, connector)
        .into_iter()
        .filter_map(|(label, key, name, vault, url)| {
            let value = typed(entered, label, key)?;
            Some((name, vault, url, value))
        })
        .collect();
    if typed.is_empty() {
        return Ok(());
    }
    let key = SecretKey::from_env()?;
    for (name, vault, url, value) in typed {
        vault.keep_credential(&key, name, url, value)?;
    }
    Ok(())
}
