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
use crate::connections::http::oauth::{credential_row, Vault};
use crate::connections::http::{client_of, source::HttpSource};
use crate::diagnostics::{codes, Diag};
use crate::store::secrets::SecretKey;
use crate::store::Store;
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
    let vault = Vault {
        store: server.config.store.clone(),
        connector: connector.name.clone(),
        side: label.to_string(),
    };
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
        if let Some(value) = entered.get(&format!("{label}.{key}")) {
            *credential = Credential(value.clone());
        }
    }
    side
}

/// The problems of a connector's `secret:NAME` credentials: each needs a value typed in or
/// one kept in the store already, and a key to seal or open it with.
pub fn sealed_problems(server: &Server, connector: &Connector, entered: &Entered) -> Vec<Diag> {
    let needed: Vec<(&str, &str, &str)> = [
        ("inbound", &connector.inbound),
        ("outbound", &connector.outbound),
    ]
    .into_iter()
    .flat_map(|(label, side)| {
        side.credentials
            .iter()
            .filter_map(move |(key, c)| c.sealed().map(|name| (label, key.as_str(), name)))
    })
    .collect();
    if needed.is_empty() {
        return Vec::new();
    }
    let key = match SecretKey::from_env() {
        Ok(key) => key,
        Err(diag) => return vec![diag],
    };
    let store = Store::open_existing(&server.config.store).ok();
    needed
        .into_iter()
        .filter(|(label, key_name, name)| {
            !entered.contains_key(&format!("{label}.{key_name}"))
                && !store.as_ref().is_some_and(|s| {
                    matches!(
                        s.open_secret(&connector.name, &credential_row(label, name), &key),
                        Ok(Some(_))
                    )
                })
        })
        .map(|(label, key_name, name)| {
            Diag::new(
                codes::E606_CREDENTIAL,
                format!("{label}.credentials.{key_name} = \"secret:{name}\": no value is kept in the store; enter it"),
            )
        })
        .collect()
}

/// Seals the credentials typed in for a connector's `secret:NAME` references into the
/// server's store, each under its side and name.
pub fn seal(server: &Server, connector: &Connector, entered: &Entered) -> Result<(), Diag> {
    let sealed: Vec<(String, &String)> = [
        ("inbound", &connector.inbound),
        ("outbound", &connector.outbound),
    ]
    .into_iter()
    .flat_map(|(label, side)| {
        side.credentials.iter().filter_map(move |(key, c)| {
            let name = c.sealed()?;
            let value = entered.get(&format!("{label}.{key}"))?;
            Some((credential_row(label, name), value))
        })
    })
    .collect();
    if sealed.is_empty() {
        return Ok(());
    }
    let key = SecretKey::from_env()?;
    let mut store = Store::open_or_create(&server.config.store).map_err(|e| e.to_diag())?;
    for (row, value) in sealed {
        store.seal_secret(&connector.name, &row, value, &key)?;
    }
    Ok(())
}
