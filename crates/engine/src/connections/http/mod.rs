//! REST/OData connections (with the `http` feature): a side with a `[connection]` table
//! reads pages from, or writes records to, a remote system over HTTP, through the same
//! [`Source`](crate::seams::Source) and [`Sink`](crate::seams::Sink)
//! seams as files and the store.

pub mod auth;
pub mod client;
pub mod oauth;
pub mod sink;
pub mod source;
pub mod token;
pub mod transport;
pub mod watermark;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::connections::kind::{Kind, Opening};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Sink, Source};
use crate::transform::connector::Side;

/// REST/OData in the registry: a side with a `[connection]` table (and no `--input` or
/// `--output` given for it).
pub const KIND: Kind = Kind {
    name: "REST/OData",
    types: &[],
    doc: "A remote system over HTTP: an inbound side with a `[inbound.connection]` and no `--input` reads its pages (`paging`, a watermark for incremental reads); an outbound side with a `[outbound.connection]` and no `--output` or `path` writes each record to it (`write_method`, refused records become dead letters). Basic, session (SAP B1 Service Layer), API key, bearer and OAuth 2.0 client credentials; retries with backoff; requests only to the connection's origin.",
    keys: &["connection", "credentials"],
    reads_alone: |side| side.connection.is_some(),
    source: Some(source),
    sink: Some(sink),
};

/// An inbound side with a connection, when no `--input` is given: its pages (a partition's
/// pages only).
fn source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let side = &open.connector.inbound;
    let connection = side.connection.as_ref().filter(|_| open.input.is_none())?;
    Some(
        client_of("inbound", side, open.stop, vault_of(open, "inbound")).map(|client| {
            let source = source::HttpSource::new(side, connection, client);
            Box::new(match open.part {
                Some((part, pages)) => source.with_pages(part, pages),
                None => source,
            }) as Box<dyn Source>
        }),
    )
}

/// An outbound side with a connection (the file kind took `--output` and `path` before).
fn sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    let side = &open.connector.outbound;
    let connection = side.connection.as_ref()?;
    Some(
        client_of("outbound", side, open.stop, vault_of(open, "outbound")).map(|client| {
            Box::new(crate::connections::remote::RemoteSink::new(
                Box::new(sink::HttpWriter::new(side, connection, client)),
                side.primary_key.clone(),
            )) as Box<dyn Sink>
        }),
    )
}

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

/// Where the OAuth 2.0 tokens of a run's side are kept: the run's store, under its
/// connector.
fn vault_of(open: &Opening, side: &str) -> oauth::Vault {
    oauth::Vault {
        store: open.store.to_path_buf(),
        connector: open.connector.name.clone(),
        side: side.to_string(),
    }
}

/// The client of a side with a `connection`, its credentials resolved; `label` names the
/// side in errors.
pub fn client_of(
    label: &str,
    side: &Side,
    stop: &Arc<AtomicUsize>,
    vault: oauth::Vault,
) -> Result<Arc<client::Client>, Diag> {
    let connection = side.connection.as_ref().ok_or_else(|| {
        Diag::new(
            codes::E603_CONNECTOR_MISSING,
            format!("the {label} side has no [{label}.connection]"),
        )
    })?;
    let credentials =
        side.resolve_credentials(label, &|name| vault.credential(name, &connection.url))?;
    Ok(Arc::new(client::Client::new(
        label,
        connection,
        &credentials,
        Arc::clone(stop),
        vault,
    )?))
}
