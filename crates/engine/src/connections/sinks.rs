//! The sinks a run writes to: NDJSON (a file or stdout), the Connect Object store, and
//! nothing at all (a dry run). [`open_sink`] picks one from the connector and the options.

use std::fs::File;
use std::io::{BufWriter, Write};

use chrono::Utc;

use crate::diagnostics::{codes, Diag};
use crate::seams::{Provenance, Sink, SinkMode, StateCommit, StateStore};
use crate::store::sync::BatchCounts;
use crate::transform::connector::Connector;
use crate::value::Value;

use crate::io_diag;

/// Mapped records as NDJSON lines; a commit flushes them before the state is committed, so
/// a checkpoint never covers a line that is not written.
pub struct NdjsonSink {
    out: BufWriter<Box<dyn Write>>,
}

impl NdjsonSink {
    /// Writes to `path`, or to stdout for `-`.
    pub fn open(path: &str) -> Result<NdjsonSink, Diag> {
        let out: Box<dyn Write> = match path {
            "-" => Box::new(std::io::stdout()),
            path => Box::new(
                File::create(path).map_err(|e| io_diag(&format!("cannot create {path}"), e))?,
            ),
        };
        Ok(NdjsonSink {
            out: BufWriter::with_capacity(256 * 1024, out),
        })
    }
}

impl NdjsonSink {
    /// Appends to the file at `path` (the way back of a bidirectional connector to a
    /// file it reads).
    pub fn append(path: &str) -> Result<NdjsonSink, Diag> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
        Ok(NdjsonSink {
            out: BufWriter::with_capacity(256 * 1024, Box::new(file)),
        })
    }
}

impl Sink for NdjsonSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Lines
    }

    fn accept(&mut self, lines: &str, _: Vec<Value>, _: Vec<Provenance>) -> Result<(), Diag> {
        self.out
            .write_all(lines.as_bytes())
            .map_err(|e| io_diag("cannot write the output", e))
    }

    fn pending(&self) -> usize {
        0
    }

    fn commit(
        &mut self,
        store: &mut dyn StateStore,
        state: StateCommit<'_>,
    ) -> Result<BatchCounts, Diag> {
        self.out
            .flush()
            .map_err(|e| io_diag("cannot write the output", e))?;
        store.commit_state(state.connector, state.letters, state.checkpoint, Utc::now())?;
        Ok(BatchCounts::default())
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

/// A dry run (inactive outbound side): nothing is written, not even dead letters.
pub struct DryRunSink;

impl Sink for DryRunSink {
    fn mode(&self) -> SinkMode {
        SinkMode::Nothing
    }

    fn accept(&mut self, _: &str, _: Vec<Value>, _: Vec<Provenance>) -> Result<(), Diag> {
        Ok(())
    }

    fn pending(&self) -> usize {
        0
    }

    fn commit(&mut self, _: &mut dyn StateStore, _: StateCommit<'_>) -> Result<BatchCounts, Diag> {
        Ok(BatchCounts::default())
    }
}

/// The sink of a run: nothing for an inactive outbound side, NDJSON with `--output`, else
/// the outbound side's REST connection, else the store's `outbound.object` keyed by
/// `outbound.primary_key`. `stop` cuts a remote sink's retry waits short.
pub fn open_sink(
    connector: &Connector,
    output: Option<&str>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Result<Box<dyn Sink>, Diag> {
    if !connector.outbound.active {
        return Ok(Box::new(DryRunSink));
    }
    if let Some(path) = output {
        return Ok(Box::new(NdjsonSink::open(path)?));
    }
    if let Some(path) = &connector.outbound.path {
        return Ok(Box::new(NdjsonSink::append(path)?));
    }
    #[cfg(feature = "http")]
    if let Some(connection) = &connector.outbound.connection {
        let side = &connector.outbound;
        let client = crate::connections::http::client_of("outbound", side, stop)?;
        return Ok(Box::new(crate::connections::http::sink::HttpSink::new(
            side, connection, client,
        )));
    }
    #[cfg(not(feature = "http"))]
    let _ = stop;
    let missing = |what: &str| {
        Diag::new(
            codes::E603_CONNECTOR_MISSING,
            format!("a store-bound run needs `outbound.{what}`"),
        )
    };
    Ok(Box::new(StoreSink {
        object: connector
            .outbound
            .object
            .clone()
            .ok_or_else(|| missing("object"))?,
        key: connector
            .outbound
            .primary_key
            .clone()
            .ok_or_else(|| missing("primary_key"))?,
        pending: Vec::new(),
    }))
}
