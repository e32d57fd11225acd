//! A RabbitMQ queue read: a consumer with manual acknowledgements and a prefetch, its
//! messages kept pending until their records are committed (`delivered`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};

use super::{channel, failed};
use crate::connections::stream::delivered::{DeliveredSource, Deliveries};
use crate::connections::stream::{client_name, id_of, runtime};
use crate::diagnostics::Diag;
use crate::seams::Source;
use crate::transform::stream::Stream;

/// The source of `stream`'s queue at `url` for the connector `connector`.
pub fn open(stream: &Stream, url: String, connector: &str) -> Box<dyn Source> {
    let queue = stream.queue.clone().unwrap_or_default();
    let tag = client_name(stream, connector);
    let key = match stream.shared {
        true => format!("amqp:{queue}#{}", crate::worker_name()),
        false => format!("amqp:{queue}"),
    };
    Box::new(DeliveredSource::new(
        key,
        stream.shared,
        stream.batch(),
        Box::new(move |prefetch| QueueDeliveries::connect(&url, &queue, &tag, prefetch)),
    ))
}

/// A consumer of one queue.
struct QueueDeliveries {
    runtime: Arc<tokio::runtime::Runtime>,
    connection: lapin::Connection,
    consumer: lapin::Consumer,
    url: String,
}

impl QueueDeliveries {
    fn connect(url: &str, queue: &str, tag: &str, prefetch: u64) -> Result<Self, Diag> {
        let runtime = runtime()?;
        let (connection, consumer) = runtime.block_on(async {
            let (connection, channel) = channel(url, "inbound", Some(queue)).await?;
            channel
                .basic_qos(
                    u16::try_from(prefetch).unwrap_or(u16::MAX),
                    lapin::options::BasicQosOptions::default(),
                )
                .await
                .map_err(|e| failed("inbound", url, e))?;
            let consumer = channel
                .basic_consume(
                    queue.into(),
                    format!("{tag}-{}", crate::worker_name()).into(),
                    lapin::options::BasicConsumeOptions::default(),
                    lapin::types::FieldTable::default(),
                )
                .await
                .map_err(|e| failed("inbound", url, format!("cannot consume `{queue}`: {e}")))?;
            Ok::<_, Diag>((connection, consumer))
        })?;
        Ok(QueueDeliveries {
            runtime,
            connection,
            consumer,
            url: url.to_string(),
        })
    }
}

impl Deliveries for QueueDeliveries {
    type Message = lapin::message::Delivery;

    fn receive(&mut self, wait: Duration, max: usize) -> Result<Vec<Self::Message>, Diag> {
        let url = &self.url;
        let consumer = &mut self.consumer;
        self.runtime.block_on(async {
            let first = match tokio::time::timeout(wait, consumer.next()).await {
                Err(_) | Ok(None) => return Ok(Vec::new()),
                Ok(Some(delivery)) => delivery.map_err(|e| failed("inbound", url, e))?,
            };
            let mut messages = vec![first];
            while messages.len() < max {
                match consumer.next().now_or_never() {
                    Some(Some(delivery)) => {
                        messages.push(delivery.map_err(|e| failed("inbound", url, e))?)
                    }
                    _ => break,
                }
            }
            Ok(messages)
        })
    }

    fn id(message: &Self::Message) -> u64 {
        match message.properties.message_id() {
            Some(id) => id_of(&[id.as_str().as_bytes()]),
            None => id_of(&[&message.data]),
        }
    }

    fn body(message: &Self::Message) -> &[u8] {
        &message.data
    }

    fn ack(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag> {
        let url = &self.url;
        // one frame acknowledges them all: every message delivered on the channel before the
        // last is committed or was acknowledged already
        let Some(last) = messages.into_iter().max_by_key(|m| m.delivery_tag) else {
            return Ok(());
        };
        self.runtime
            .block_on(last.ack(lapin::options::BasicAckOptions { multiple: true }))
            .map(|_| ())
            .map_err(|e| failed("inbound", url, format!("cannot acknowledge: {e}")))
    }

    fn ack_each(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag> {
        let url = &self.url;
        self.runtime.block_on(async {
            for message in messages {
                message
                    .ack(lapin::options::BasicAckOptions::default())
                    .await
                    .map_err(|e| failed("inbound", url, format!("cannot acknowledge: {e}")))?;
            }
            Ok(())
        })
    }

    fn close(&mut self) {
        // what was delivered and not acknowledged goes back to the queue with the connection
        let _ = self
            .runtime
            .block_on(self.connection.close(200, "done".into()));
    }
}
