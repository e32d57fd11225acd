//! Records published to RabbitMQ as persistent messages, with publisher confirms awaited
//! before the batch commits; each carries a `message_id` derived from the connector and the
//! record, so a record published again after a kill is recognized by its consumers.

use std::sync::Arc;

use super::{channel, failed};
use crate::connections::remote::{Outcome, Writer};
use crate::connections::stream::{id_of, runtime};
use crate::diagnostics::Diag;
use crate::transform::stream::Stream;
use crate::value::Value;

/// How many publishes wait for their confirms at a time.
const CONFIRMS_IN_FLIGHT: usize = 512;

/// Publishes a side's records.
pub struct QueueWriter {
    runtime: Arc<tokio::runtime::Runtime>,
    _connection: lapin::Connection,
    channel: lapin::Channel,
    exchange: String,
    routing_key: String,
    connector: String,
    url: String,
}

impl QueueWriter {
    /// Connects to `url`, declaring the queue published to when it does not exist.
    pub fn open(stream: &Stream, url: &str, connector: &str) -> Result<QueueWriter, Diag> {
        let runtime = runtime()?;
        let (exchange, routing_key) = match &stream.exchange {
            Some(exchange) => (
                exchange.clone(),
                stream.routing_key.clone().unwrap_or_default(),
            ),
            None => (String::new(), stream.queue.clone().unwrap_or_default()),
        };
        let declare = stream.exchange.is_none().then_some(routing_key.as_str());
        let (connection, channel) = runtime.block_on(async {
            let (connection, channel) = channel(url, "outbound", declare).await?;
            channel
                .confirm_select(lapin::options::ConfirmSelectOptions::default())
                .await
                .map_err(|e| failed("outbound", url, e))?;
            Ok::<_, Diag>((connection, channel))
        })?;
        Ok(QueueWriter {
            runtime,
            _connection: connection,
            channel,
            exchange,
            routing_key,
            connector: connector.to_string(),
            url: url.to_string(),
        })
    }
}

impl Writer for QueueWriter {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let url = &self.url;
        self.runtime.block_on(async {
            for chunk in records.chunks(CONFIRMS_IN_FLIGHT) {
                let mut confirms = Vec::with_capacity(chunk.len());
                for record in chunk {
                    let json = record.to_json();
                    let id = format!(
                        "{:016x}",
                        id_of(&[self.connector.as_bytes(), json.as_bytes()])
                    );
                    let properties = lapin::BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into())
                        .with_message_id(id.into());
                    let confirm = self
                        .channel
                        .basic_publish(
                            self.exchange.as_str().into(),
                            self.routing_key.as_str().into(),
                            lapin::options::BasicPublishOptions {
                                mandatory: true,
                                ..Default::default()
                            },
                            json.as_bytes(),
                            properties,
                        )
                        .await
                        .map_err(|e| failed("outbound", url, e))?;
                    confirms.push(confirm);
                }
                for confirm in confirms {
                    let confirmation = confirm.await.map_err(|e| failed("outbound", url, e))?;
                    if confirmation.is_nack() {
                        return Err(failed("outbound", url, "the broker refused a record"));
                    }
                    if confirmation.take_message().is_some() {
                        return Err(failed(
                            "outbound",
                            url,
                            format!(
                                "no queue takes records routed `{}` on exchange `{}`",
                                self.routing_key, self.exchange
                            ),
                        ));
                    }
                }
            }
            Ok(records.iter().map(|_| Outcome::Written).collect())
        })
    }
}
