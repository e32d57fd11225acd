//! RabbitMQ (AMQP 0-9-1, `lapin`): a queue read with manual acknowledgements under a
//! prefetch (`source.rs`), records published with publisher confirms (`sink.rs`).

pub mod sink;
pub mod source;

use super::{inbound_on, on_broker};
use crate::connections::kind::{Kind, Opening};
use crate::connections::remote::RemoteSink;
use crate::diagnostics::Diag;
use crate::seams::{Sink, Source};
use crate::transform::stream::Broker;

/// The RabbitMQ kind in the registry.
pub const KIND: Kind = Kind {
    name: "RabbitMQ queue",
    types: &[],
    doc: "A side with a `[stream]` whose `url` is `amqp://` or `amqps://`: an inbound side without `--input` consumes `queue` (declared durable when it does not exist) with manual acknowledgements and a prefetch of four batches (or two commits, whichever is more), so a slow store slows consumption. A message (a JSON record or an NDJSON body of many) is acknowledged only after the records it carried are committed with the checkpoint, whose cursor keeps the ids (`message_id`, else a hash of the body) of the last two commits' messages: after a kill, a redelivered message already committed is acknowledged and skipped. An outbound side without `--output` publishes each record as a persistent message with a `message_id` derived from the connector and the record, to `exchange` with `routing_key` or to `queue` through the default exchange, and waits for the broker's publisher confirms before the batch commits (a record that no queue takes is an error, not a silent loss). Workers consuming one queue (`shared = true`) share it; a killed worker's messages go back to the queue at once.",
    keys: &["stream"],
    reads_alone: |side| side.stream.is_some(),
    source: Some(open_source),
    sink: Some(open_sink),
};

fn open_source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let found = inbound_on(open, Broker::RabbitMq)?;
    Some(found.map(|(stream, url)| source::open(stream, url, &open.connector.name)))
}

fn open_sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    if open.output.is_some() {
        return None;
    }
    let found = on_broker(&open.connector.outbound, "outbound", Broker::RabbitMq)?;
    Some(found.and_then(|(stream, url)| {
        sink::QueueWriter::open(stream, &url, &open.connector.name).map(|writer| {
            Box::new(RemoteSink::new(
                Box::new(writer),
                open.connector.outbound.primary_key.clone(),
            )) as Box<dyn Sink>
        })
    }))
}

/// What a client error is, for the side `side`, without the URL's password.
fn failed(side: &str, url: &str, e: impl std::fmt::Display) -> Diag {
    super::unreachable("RabbitMQ", side, url, e)
}

/// A channel on a new connection to `url`, with `queue` declared durable when it is given
/// and does not exist.
async fn channel(
    url: &str,
    side: &str,
    queue: Option<&str>,
) -> Result<(lapin::Connection, lapin::Channel), Diag> {
    let connection = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
        .await
        .map_err(|e| failed(side, url, e))?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| failed(side, url, e))?;
    if let Some(queue) = queue {
        channel
            .queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .map_err(|e| failed(side, url, format!("cannot declare queue `{queue}`: {e}")))?;
    }
    Ok((connection, channel))
}
