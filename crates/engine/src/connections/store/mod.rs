//! The store kind: an inbound side of `type = "store"` reads every stored record of its
//! `object`; an outbound side writes to the store unless it has an `--output`, a `path` or
//! a `[connection]` (upserted into `object` by `primary_key` under the conflict rule, in one
//! transaction with the dead letters and the checkpoint).

use std::path::PathBuf;

use chrono::Utc;

use crate::connections::kind::{Kind, Opening};
use crate::diagnostics::{codes, Diag};
use crate::seams::{
    Provenance, ReadSettings, Reading, Sink, SinkMode, Source, StateCommit, StateStore,
};
use crate::store::sync::{BatchCounts, Checkpoint};
use crate::store::Store;
use crate::transform::source::{Raw, ValueSource};
use crate::value::Value;

/// The store kind in the registry.
pub const KIND: Kind = Kind {
    name: "store",
    types: &["store"],
    doc: "The Connect Object store (`--store`, an SQLite file or a PostgreSQL database). Inbound (`type = \"store\"`, no `--input`): every stored record of `object`. Outbound (no `--output`, `path` or `[connection]`, whatever the `type`): records upserted into `object` by `primary_key` under `[sync] conflict`, committed with their checkpoint and dead letters.",
    keys: &["object", "primary_key"],
    reads_alone: |side| side.system == "store",
    source: Some(source),
    sink: Some(sink),
};

/// An inbound side of `type = "store"`: its object's records.
fn source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    if open.input.is_some() || open.connector.inbound.system != "store" {
        return None;
    }
    let Some(object) = open.connector.inbound.object.clone() else {
        return Some(Err(Diag::new(
            codes::E603_CONNECTOR_MISSING,
            "a store inbound side needs `object`",
        )));
    };
    Some(Ok(Box::new(StoreObjectSource {
        key: format!("store:{object}"),
        object,
        store: open.store.to_path_buf(),
    })))
}

/// Any outbound side the kinds before it did not take: upserts into the store.
fn sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    let missing = |what: &str| {
        Diag::new(
            codes::E603_CONNECTOR_MISSING,
            format!("a store-bound run needs `outbound.{what}`"),
        )
    };
    let side = &open.connector.outbound;
    Some(
        side.object
            .clone()
            .ok_or_else(|| missing("object"))
            .and_then(|object| {
                Ok(Box::new(StoreSink {
                    object,
                    key: side
                        .primary_key
                        .clone()
                        .ok_or_else(|| missing("primary_key"))?,
                    pending: Vec::new(),
                }) as Box<dyn Sink>)
            }),
    )
}

/// Every stored record of a Connect Object (an inbound side of `type = "store"`).
pub struct StoreObjectSource {
    key: String,
    object: String,
    store: PathBuf,
}

impl Source for StoreObjectSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn open(&mut self, _: Option<&Checkpoint>, _: &ReadSettings) -> Result<Reading, Diag> {
        let store = Store::open_existing(&self.store).map_err(|e| e.to_diag())?;
        let records = store
            .dump(&self.object)
            .map_err(|e| e.to_diag())?
            .into_iter()
            .enumerate()
            .map(|(i, o)| (None, i as u64 + 1, Ok(o.data.clone()), Raw::Value(o.data)))
            .collect();
        Ok(Reading::Records(Box::new(ValueSource::new(records))))
    }
}

/// Mapped records upserted into a Connect Object of the state store by the primary key,
/// committed in one transaction with their dead letters and the checkpoint.
pub struct StoreSink {
    object: String,
    key: String,
    pending: Vec<Value>,
}

impl Sink for StoreSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Values
    }

    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }

    fn accept(&mut self, _: &str, values: Vec<Value>, _: Vec<Provenance>) -> Result<(), Diag> {
        self.pending.extend(values);
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
        let counts = store.upsert(&self.object, &self.key, &self.pending, &state, Utc::now())?;
        self.pending.clear();
        Ok(counts)
    }
}
