//! REST/OData connections (with the `http` feature): a side with a `[connection]` table
//! reads pages from, or writes records to, a remote system over HTTP, through the same
//! [`Source`](crate::seams::Source) and [`Sink`](crate::seams::Sink)
//! seams as files and the store.

pub mod auth;
pub mod client;
pub mod sink;
pub mod source;
pub mod transport;
pub mod watermark;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::diagnostics::{codes, Diag};
use crate::transform::connector::Side;

/// Sets query parameter `name` of `url` to `value` (appended after the others), or removes
/// it when `value` is `None`; a query left empty is dropped.
pub fn set_query_param(url: &mut url::Url, name: &str, value: Option<&str>) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() && value.is_none() {
        url.set_query(None);
        return;
    }
    let mut query = url.query_pairs_mut();
    query.clear().extend_pairs(kept);
    if let Some(value) = value {
        query.append_pair(name, value);
    }
}

/// The client of a side with a `connection`, its credentials resolved; `label` names the
/// side in errors.
pub fn client_of(
    label: &str,
    side: &Side,
    stop: &Arc<AtomicUsize>,
) -> Result<Arc<client::Client>, Diag> {
    let connection = side.connection.as_ref().ok_or_else(|| {
        Diag::new(
            codes::E603_CONNECTOR_MISSING,
            format!("the {label} side has no [{label}.connection]"),
        )
    })?;
    let credentials = side.resolve_credentials(label)?;
    Ok(Arc::new(client::Client::new(
        label,
        connection,
        &credentials,
        Arc::clone(stop),
    )?))
}
