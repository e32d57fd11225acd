//! The message stream kind: NATS JetStream (feature `nats`). An inbound side with an
//! `[inbound.stream]` reads through a durable pull consumer and acknowledges a message only
//! once the records it carried are committed (`source.rs`); an outbound side with an
//! `[outbound.stream]` publishes each record and waits for the broker's acknowledgement
//! before the batch commits (`sink.rs`). The client is async (`async-nats`); each side
//! drives it on a single-threaded runtime of its own, since a run's threads are not async.

pub mod sink;
pub mod source;

use std::sync::Arc;

use crate::connections::kind::{Kind, Opening};
use crate::connections::remote::RemoteSink;
use crate::diagnostics::{codes, Diag};
use crate::seams::{Sink, Source};
use crate::transform::stream::Stream;

/// The message stream kind in the registry.
pub const KIND: Kind = Kind {
    name: "message stream",
    types: &[],
    doc: "A NATS JetStream stream: an inbound side with an `[inbound.stream]` and no `--input` reads it through a durable pull consumer (a message is a JSON record or an NDJSON body of many), acknowledging each message only after the records it carried are committed with the checkpoint, so a kill at any point loses nothing and a redelivered message already committed is skipped; an outbound side with an `[outbound.stream]` and no `--output` publishes each record with a `Nats-Msg-Id` and waits for the broker's acknowledgement before the batch commits. Workers naming one durable consumer share the stream.",
    keys: &["stream"],
    reads_alone: |side| side.stream.is_some(),
    source: Some(open_source),
    sink: Some(open_sink),
};

fn open_source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let stream = open
        .connector
        .inbound
        .stream
        .as_ref()
        .filter(|_| open.input.is_none())?;
    Some(
        source::StreamSource::new(stream, &open.connector.name)
            .map(|s| Box::new(s) as Box<dyn Source>),
    )
}

fn open_sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    let stream = open.connector.outbound.stream.as_ref()?;
    Some(
        sink::StreamWriter::open(stream, &open.connector.name).map(|writer| {
            Box::new(RemoteSink::new(
                Box::new(writer),
                open.connector.outbound.primary_key.clone(),
            )) as Box<dyn Sink>
        }),
    )
}

/// A single-threaded runtime for a side's client.
pub fn runtime() -> Result<Arc<tokio::runtime::Runtime>, Diag> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("cannot start the stream client: {e}"),
            )
        })
}

/// The JetStream context of `stream`'s broker, and the stream itself (made, capturing
/// `subjects`, when it does not exist); `side` names the side in errors.
pub async fn connect(
    stream: &Stream,
    side: &str,
    subjects: Vec<String>,
) -> Result<
    (
        async_nats::jetstream::Context,
        async_nats::jetstream::stream::Stream,
    ),
    Diag,
> {
    let url = stream.url.resolve(&format!("{side}.stream.url"))?;
    let shown = crate::diagnostics::redact::without_password(&url);
    let client = async_nats::connect(url.as_str()).await.map_err(|e| {
        Diag::new(
            codes::E614_REMOTE_UNREACHABLE,
            format!("cannot connect to {shown}: {e}"),
        )
    })?;
    let context = async_nats::jetstream::new(client);
    let found = context
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: stream.stream.clone(),
            subjects,
            ..Default::default()
        })
        .await
        .map_err(|e| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "{side}.stream: cannot open stream `{}` at {shown}: {e}",
                    stream.stream
                ),
            )
        })?;
    Ok((context, found))
}

/// The subjects a stream made for `stream` captures: its subject, else all under its name.
pub fn subjects_of(stream: &Stream) -> Vec<String> {
    vec![stream
        .subject
        .clone()
        .unwrap_or_else(|| format!("{}.>", stream.stream))]
}
