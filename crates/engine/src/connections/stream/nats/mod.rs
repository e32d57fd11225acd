//! NATS JetStream: a durable pull consumer read (`source.rs`), publishes acknowledged by
//! the stream (`sink.rs`).

pub mod sink;
pub mod source;

use super::inbound_on;
use crate::connections::kind::{Kind, Opening};
use crate::connections::remote::RemoteSink;
use crate::diagnostics::{codes, Diag};
use crate::seams::{Sink, Source};
use crate::transform::stream::{Broker, Stream};

/// The NATS JetStream kind in the registry.
pub const KIND: Kind = Kind {
    name: "NATS JetStream stream",
    types: &[],
    doc: "A side with a `[stream]` whose `url` is `nats://`: an inbound side without `--input` reads the JetStream `stream` through a durable pull consumer (a message is a JSON record or an NDJSON body of many), acknowledging each message only after the records it carried are committed with the checkpoint, whose cursor is the stream sequence of the last message wholly committed: a kill at any point loses nothing, and a redelivered message already committed is skipped. An outbound side without `--output` publishes each record to `subject` with a `Nats-Msg-Id` (the stream's duplicate window drops one sent again) and waits for the broker's acknowledgement before the batch commits. Workers naming one durable `consumer` (`shared = true`) share the stream.",
    keys: &["stream"],
    reads_alone: |side| side.stream.is_some(),
    source: Some(open_source),
    sink: Some(open_sink),
};

fn open_source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let found = inbound_on(open, Broker::Nats)?;
    Some(found.and_then(|(stream, url)| {
        source::StreamSource::new(stream, url, &open.connector.name)
            .map(|s| Box::new(s) as Box<dyn Source>)
    }))
}

fn open_sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    if open.output.is_some() {
        return None;
    }
    let found = super::on_broker(&open.connector.outbound, "outbound", Broker::Nats)?;
    Some(found.and_then(|(stream, url)| {
        sink::StreamWriter::open(stream, &url, &open.connector.name).map(|writer| {
            Box::new(RemoteSink::new(
                Box::new(writer),
                open.connector.outbound.primary_key.clone(),
            )) as Box<dyn Sink>
        })
    }))
}

/// The JetStream context of `stream`'s broker, and the stream itself (made, capturing
/// `subjects`, when it does not exist); `side` names the side in errors.
pub async fn connect(
    stream: &Stream,
    url: &str,
    side: &str,
    subjects: Vec<String>,
) -> Result<
    (
        async_nats::jetstream::Context,
        async_nats::jetstream::stream::Stream,
    ),
    Diag,
> {
    let shown = crate::diagnostics::redact::without_password(url);
    let name = stream.stream.clone().unwrap_or_default();
    let client = async_nats::connect(url).await.map_err(|e| {
        Diag::new(
            codes::E614_REMOTE_UNREACHABLE,
            format!("cannot connect to {shown}: {e}"),
        )
    })?;
    let context = async_nats::jetstream::new(client);
    let found = context
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects,
            ..Default::default()
        })
        .await
        .map_err(|e| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("{side}.stream: cannot open stream `{name}` at {shown}: {e}"),
            )
        })?;
    Ok((context, found))
}

/// The subjects a stream made for `stream` captures: its subject, else all under its name.
pub fn subjects_of(stream: &Stream) -> Vec<String> {
    vec![stream
        .subject
        .clone()
        .unwrap_or_else(|| format!("{}.>", stream.stream.as_deref().unwrap_or_default()))]
}
