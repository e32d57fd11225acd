//! The registry of connection kinds: each kind (a folder of `connections/`) registers here
//! its [`Kind`]: its name, the side `type`s that name it, its connector keys, its
//! documentation, and how it opens a source or a sink. A run's source and sink are the first kinds that take the
//! side ([`open_source`], [`open_sink`]); `sluice check` knows the `type`s from it, and
//! `docs/connectors.md` lists the kinds from it. A new kind is its own folder and one line
//! in [`KINDS`].
//!
//! A side's `type` is open: the named systems of [`SYSTEMS`] and the kinds' own types are
//! known, and a name close to one of them is a misspelling (E610), but any other name is a
//! system of the user's own, reached through a file, a `[connection]` or the store like any
//! other.

use crate::connections::kind::{Kind, Opening};
use crate::diagnostics::{codes, did_you_mean, Diag};
use crate::seams::{Provenance, Sink, SinkMode, Source, StateCommit, StateStore};
use crate::store::sync::BatchCounts;
use crate::transform::connector::ConnectorProblem;
use crate::transform::connector_file::ConnectorFile;
use crate::value::Value;

/// Every kind, in the order they are asked to take a side: the first that takes it opens
/// it.
pub const KINDS: &[Kind] = &[
    crate::connections::dead_letters::KIND,
    crate::connections::file::KIND,
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    crate::connections::table::KIND,
    #[cfg(feature = "streams")]
    crate::connections::stream::nats::KIND,
    #[cfg(feature = "streams")]
    crate::connections::stream::rabbitmq::KIND,
    #[cfg(feature = "streams")]
    crate::connections::stream::mqtt::KIND,
    #[cfg(feature = "http")]
    crate::connections::http::KIND,
    crate::connections::store::KIND,
];

/// The named systems of the seeds: a side of one of these is reached through a file, a
/// `[connection]` or the store; the name says what the records are.
pub const SYSTEMS: &[&str] = &[
    "SAP B1",
    "Fentu-FSM",
    "Salesforce",
    "Acumatica",
    "Shopware",
    "ABAS-ERP",
    "HRlab",
    "Window Maker",
    "Internal Connect",
    "Jsonblob Shopware",
];

/// Every side `type` Sluice knows: the named systems and the kinds' own.
pub fn known_types() -> Vec<&'static str> {
    SYSTEMS
        .iter()
        .copied()
        .chain(KINDS.iter().flat_map(|k| k.types.iter().copied()))
        .collect()
}

/// Whether some kind reads this inbound side with no `--input` (its file, its API, its
/// table, its store object).
pub fn reads_alone(side: &crate::transform::connector::Side) -> bool {
    KINDS.iter().any(|kind| (kind.reads_alone)(side))
}

/// The source of a run: that of the first kind that takes the inbound side (the dead
/// letters with `--retry-dead-letters`, `--input`, the side's `[connection]`, the store's
/// object); E608 when none does.
pub fn open_source(open: &Opening) -> Result<Box<dyn Source>, Diag> {
    KINDS
        .iter()
        .filter_map(|k| k.source)
        .find_map(|source| source(open))
        .unwrap_or_else(|| {
            Err(Diag::new(
                codes::E608_NO_INPUT,
                format!(
                    "no input: give --input FILE or - (inbound type is `{}`)",
                    open.connector.inbound.system
                ),
            ))
        })
}

/// The sink of a run: nothing for an inactive outbound side, else that of the first kind
/// that takes the outbound side (`--output` or `path`, the side's `[connection]`, the
/// store).
pub fn open_sink(open: &Opening) -> Result<Box<dyn Sink>, Diag> {
    if !open.connector.outbound.active {
        return Ok(Box::new(DryRunSink));
    }
    KINDS
        .iter()
        .filter_map(|k| k.sink)
        .find_map(|sink| sink(open))
        .unwrap_or_else(|| {
            Err(Diag::new(
                codes::E603_CONNECTOR_MISSING,
                "no kind of connection takes the outbound side",
            ))
        })
}

/// A side `type` that is a misspelling of a known one (E610, with the one meant).
pub fn type_problems(file: &ConnectorFile) -> Vec<ConnectorProblem> {
    let known = known_types();
    let connector = &file.connector;
    [("inbound", &connector.inbound), ("outbound", &connector.outbound)]
        .into_iter()
        .filter(|(_, side)| !known.contains(&side.system.as_str()))
        .filter_map(|(label, side)| {
            let meant = did_you_mean(&side.system, known.iter().copied())?;
            Some(ConnectorProblem {
                diag: Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("unknown {label} type `{}`", side.system),
                )
                .help(format!(
                    "did you mean `{meant}`? (a name close to none of Sluice's is taken as a system of your own)"
                )),
                line: file.line_of(&format!("\"{}\"", side.system)),
                rendered: None,
                formula: None,
            })
        })
        .collect()
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
