//! An MQTT topic read through a persistent session: messages at QoS 1, acknowledged by hand
//! once their records are committed (`delivered`).

use std::time::Duration;

use super::{drive, failed, options, CONNECT_WAIT};
use crate::connections::stream::delivered::{DeliveredSource, Deliveries};
use crate::connections::stream::{client_name, id_of};
use crate::diagnostics::Diag;
use crate::seams::Source;
use crate::transform::stream::Stream;

/// The source of `stream`'s topic at `url` for the connector `connector`.
pub fn open(stream: &Stream, url: &str, connector: &str) -> Result<Box<dyn Source>, Diag> {
    let topic = stream.topic.clone().unwrap_or_default();
    let id = client_name(stream, connector);
    let key = format!("mqtt:{topic}@{id}");
    let url = url.to_string();
    Ok(Box::new(DeliveredSource::new(
        key,
        false,
        stream.batch(),
        Box::new(move |_| TopicDeliveries::connect(&url, &topic, &id)),
    )))
}

/// A persistent session subscribed to one topic.
struct TopicDeliveries {
    client: rumqttc::Client,
    connection: rumqttc::Connection,
    /// Messages that arrived while acknowledgements were being sent.
    early: Vec<rumqttc::Publish>,
    url: String,
}

impl TopicDeliveries {
    fn connect(url: &str, topic: &str, id: &str) -> Result<Self, Diag> {
        let mut options = options(url, id, "inbound")?;
        options.set_clean_session(false).set_manual_acks(true);
        let (client, mut connection) = rumqttc::Client::new(options, 65_536);
        client
            .subscribe(topic, rumqttc::QoS::AtLeastOnce)
            .map_err(|e| failed("inbound", url, e))?;
        let mut early = Vec::new();
        drive(&mut connection, CONNECT_WAIT, &mut early, |event| {
            matches!(event, rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)))
        })
        .map_err(|e| {
            failed(
                "inbound",
                url,
                format!("cannot subscribe to `{topic}`: {e}"),
            )
        })?;
        Ok(TopicDeliveries {
            client,
            connection,
            early,
            url: url.to_string(),
        })
    }
}

impl Deliveries for TopicDeliveries {
    type Message = rumqttc::Publish;

    fn receive(&mut self, wait: Duration, max: usize) -> Result<Vec<Self::Message>, Diag> {
        let mut messages: Vec<rumqttc::Publish> = std::mem::take(&mut self.early);
        let deadline = std::time::Instant::now() + wait;
        while messages.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.connection.recv_timeout(left) {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(publish)))) => {
                    messages.push(publish);
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(failed("inbound", &self.url, e)),
                Err(_) => return Ok(messages),
            }
        }
        while messages.len() < max {
            match self.connection.try_recv() {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(publish)))) => {
                    messages.push(publish);
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(failed("inbound", &self.url, e)),
                Err(_) => break,
            }
        }
        Ok(messages)
    }

    fn id(message: &Self::Message) -> u64 {
        id_of(&[&message.payload])
    }

    fn body(message: &Self::Message) -> &[u8] {
        &message.payload
    }

    fn ack(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag> {
        let mut left = messages.len();
        for message in &messages {
            self.client
                .ack(message)
                .map_err(|e| failed("inbound", &self.url, e))?;
        }
        // sent now, not at the next receive: a run that ends here leaves nothing unsent
        drive(
            &mut self.connection,
            CONNECT_WAIT,
            &mut self.early,
            |event| {
                if matches!(
                    event,
                    rumqttc::Event::Outgoing(rumqttc::Outgoing::PubAck(_))
                ) {
                    left = left.saturating_sub(1);
                }
                left == 0
            },
        )
        .map_err(|e| failed("inbound", &self.url, format!("cannot acknowledge: {e}")))
    }

    fn ack_each(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag> {
        // a PUBACK is for one message whatever was delivered before it
        self.ack(messages)
    }

    fn close(&mut self) {
        // what was delivered and not acknowledged stays in the session for the next run
        if self.client.disconnect().is_ok() {
            let _ = drive(
                &mut self.connection,
                Duration::from_secs(1),
                &mut self.early,
                |event| {
                    matches!(
                        event,
                        rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)
                    )
                },
            );
        }
    }
}
