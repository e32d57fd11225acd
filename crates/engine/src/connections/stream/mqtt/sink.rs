//! Records published to an MQTT topic at QoS 1, every PUBACK awaited before the batch
//! commits.

use super::{drive, failed, options, CONNECT_WAIT};
use crate::connections::remote::{Outcome, Writer};
use crate::connections::stream::client_name;
use crate::diagnostics::Diag;
use crate::transform::stream::Stream;
use crate::value::Value;

/// How many publishes wait for their PUBACKs at a time.
const ACKS_IN_FLIGHT: usize = 512;

/// Publishes a side's records.
pub struct TopicWriter {
    client: rumqttc::Client,
    connection: rumqttc::Connection,
    topic: String,
    url: String,
}

impl TopicWriter {
    /// Connects to `url` with a clean session of its own.
    pub fn open(stream: &Stream, url: &str, connector: &str) -> Result<TopicWriter, Diag> {
        let id = format!(
            "{}-out-{}",
            client_name(stream, connector),
            crate::worker_name()
        );
        let (client, mut connection) =
            rumqttc::Client::new(options(url, &id, "outbound")?, 2 * ACKS_IN_FLIGHT);
        drive(&mut connection, CONNECT_WAIT, &mut Vec::new(), |event| {
            matches!(event, rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_)))
        })
        .map_err(|e| failed("outbound", url, e))?;
        Ok(TopicWriter {
            client,
            connection,
            topic: stream.topic.clone().unwrap_or_default(),
            url: url.to_string(),
        })
    }
}

impl Writer for TopicWriter {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        for chunk in records.chunks(ACKS_IN_FLIGHT) {
            for record in chunk {
                self.client
                    .publish(
                        self.topic.as_str(),
                        rumqttc::QoS::AtLeastOnce,
                        false,
                        record.to_json(),
                    )
                    .map_err(|e| failed("outbound", &self.url, e))?;
            }
            let mut left = chunk.len();
            drive(
                &mut self.connection,
                CONNECT_WAIT,
                &mut Vec::new(),
                |event| {
                    if matches!(event, rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) {
                        left = left.saturating_sub(1);
                    }
                    left == 0
                },
            )
            .map_err(|e| failed("outbound", &self.url, format!("cannot publish: {e}")))?;
        }
        Ok(records.iter().map(|_| Outcome::Written).collect())
    }
}
