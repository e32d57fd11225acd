//! What a connection kind is: its [`Kind`] entry in the registry
//! (`connections::registry`), and the [`Opening`] it is given to open a side.

use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::diagnostics::Diag;
use crate::seams::{Sink, Source};
use crate::transform::connector::Connector;

/// What a kind is told when a run opens a side.
pub struct Opening<'a> {
    /// The connector.
    pub connector: &'a Connector,
    /// `--input` (a file, or `-` for stdin).
    pub input: Option<&'a str>,
    /// `--output` (a file, or `-` for stdout).
    pub output: Option<&'a str>,
    /// The state store's location.
    pub store: &'a Path,
    /// The dead-letter file whose letters are retried.
    pub retry: Option<&'a Path>,
    /// One partition of the input: its number and its byte range (or page range).
    pub part: Option<(i64, (u64, u64))>,
    /// Cuts a remote side's retry waits short when the run is stopped.
    pub stop: &'a Arc<AtomicUsize>,
}

/// Opens a source when the kind takes the inbound side; `None` when it does not.
pub type OpenSource = fn(&Opening) -> Option<Result<Box<dyn Source>, Diag>>;

/// Opens a sink when the kind takes the outbound side; `None` when it does not.
pub type OpenSink = fn(&Opening) -> Option<Result<Box<dyn Sink>, Diag>>;

/// A connection kind.
pub struct Kind {
    /// Its name in the documentation.
    pub name: &'static str,
    /// The side `type`s that name it (a REST connection is named by its `[connection]`
    /// table, not by a type).
    pub types: &'static [&'static str],
    /// What it reads and writes, and when it takes a side.
    pub doc: &'static str,
    /// The side keys it reads (documented with the side's keys; a table name such as
    /// `connection` stands for all of that table's keys).
    pub keys: &'static [&'static str],
    /// Whether it reads an inbound side with no `--input` (a service that runs connectors
    /// on its own needs one that does).
    pub reads_alone: fn(&crate::transform::connector::Side) -> bool,
    /// How it opens a source, when it reads.
    pub source: Option<OpenSource>,
    /// How it opens a sink, when it writes.
    pub sink: Option<OpenSink>,
}
