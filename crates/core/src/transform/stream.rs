//! A side that is a message stream (`[inbound.stream]`, `[outbound.stream]`) on one of three
//! brokers, told by its URL's scheme: a NATS JetStream stream (`nats://`), a RabbitMQ queue
//! or exchange (`amqp://`, `amqps://`) or an MQTT topic (`mqtt://`), read with
//! acknowledgements after the commit or written with the broker's confirmation. This is
//! the connector format as data; the engine's `connections/stream/` reads and writes it.

use serde::{Deserialize, Serialize};

use super::credential::Credential;

/// A message stream on this side.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// The broker: `nats://host:4222`, `amqp://user:password@host:5672/vhost` or
    /// `mqtt://host:1883` (a literal, `env:VAR` or `file:PATH`).
    pub url: Credential,
    /// NATS: the JetStream stream (made, capturing `subject`, when it does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// RabbitMQ: inbound, the queue read (declared durable when it does not exist);
    /// outbound, the queue published to through the default exchange, when no `exchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// RabbitMQ, outbound: the exchange published to (it must exist), with `routing_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// RabbitMQ, outbound: the routing key of each record published to `exchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// MQTT: inbound, the topic filter subscribed to (QoS 1); outbound, the topic each record
    /// is published to (QoS 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Inbound: the subjects read (a filter, default all of the stream's); outbound: the
    /// subject each record is published to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Inbound: the durable consumer's name (default `sluice-<connector name>`); every
    /// worker naming the same one shares the stream. MQTT: the client's persistent session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<String>,
    /// Messages per fetch, and the most a consumer holds unacknowledged is four times it
    /// (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// Inbound: how long a delivered message may wait for its acknowledgement before the
    /// broker delivers it again, to this worker or another (default `30s`): longer than a
    /// commit takes, short enough that a dead worker's messages are not held long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_wait: Option<String>,
    /// Inbound: several workers (`sluice run`, `sluice serve`, on one machine or many)
    /// share the consumer, each without the connector's run lock. A message then comes
    /// again to whichever worker the broker picks, so it is recognized by being written
    /// again harmlessly (the sink must upsert by key), not by a cursor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// The broker a stream is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// NATS with JetStream (`nats://`, `tls://`).
    Nats,
    /// RabbitMQ, AMQP 0-9-1 (`amqp://`, `amqps://`).
    RabbitMq,
    /// An MQTT broker (`mqtt://`, `tcp://`).
    Mqtt,
}

impl Broker {
    /// The broker of a URL, by its scheme; `None` for another scheme.
    pub fn of(url: &str) -> Option<Broker> {
        let scheme = url.split_once("://")?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "nats" | "tls" => Some(Broker::Nats),
            "amqp" | "amqps" => Some(Broker::RabbitMq),
            "mqtt" | "tcp" => Some(Broker::Mqtt),
            _ => None,
        }
    }

    /// What is wrong with `stream` on this broker, for the side `label` (`inbound`,
    /// `outbound`): the keys it needs and does not have, and those of another broker.
    pub fn problems(self, stream: &Stream, label: &str) -> Vec<String> {
        let inbound = label == "inbound";
        let mut wrong = Vec::new();
        let mut need = |present: bool, key: &str, why: &str| {
            if !present {
                wrong.push(format!("{label}.stream needs `{key}`: {why}"));
            }
        };
        match self {
            Broker::Nats => {
                need(stream.stream.is_some(), "stream", "the JetStream stream");
                need(
                    inbound || stream.subject.is_some(),
                    "subject",
                    "the subject its records are published to",
                );
            }
            Broker::RabbitMq => {
                need(
                    stream.queue.is_some() || (!inbound && stream.exchange.is_some()),
                    "queue",
                    match inbound {
                        true => "the RabbitMQ queue read",
                        false => "the queue published to (or an `exchange`)",
                    },
                );
            }
            Broker::Mqtt => {
                need(stream.topic.is_some(), "topic", "the MQTT topic");
                if stream.shared {
                    wrong.push(format!(
                        "{label}.stream.shared: MQTT has no queue that workers share; read a topic with one worker (or share a RabbitMQ queue or a NATS consumer)"
                    ));
                }
            }
        }
        let foreign: &[(&str, bool)] = match self {
            Broker::Nats => &[
                ("queue", stream.queue.is_some()),
                ("exchange", stream.exchange.is_some()),
                ("routing_key", stream.routing_key.is_some()),
                ("topic", stream.topic.is_some()),
            ],
            Broker::RabbitMq => &[
                ("stream", stream.stream.is_some()),
                ("subject", stream.subject.is_some()),
                ("topic", stream.topic.is_some()),
            ],
            Broker::Mqtt => &[
                ("stream", stream.stream.is_some()),
                ("subject", stream.subject.is_some()),
                ("queue", stream.queue.is_some()),
                ("exchange", stream.exchange.is_some()),
                ("routing_key", stream.routing_key.is_some()),
            ],
        };
        for (key, present) in foreign {
            if *present {
                wrong.push(format!(
                    "{label}.stream.{key} is not a key of a {} stream",
                    self.name()
                ));
            }
        }
        wrong
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Broker::Nats => "NATS",
            Broker::RabbitMq => "RabbitMQ",
            Broker::Mqtt => "MQTT",
        }
    }
}

impl Stream {
    /// Messages per fetch.
    pub fn batch(&self) -> u64 {
        self.batch.unwrap_or(256).clamp(1, 10_000)
    }

    /// How long a delivered message waits for its acknowledgement.
    pub fn ack_wait(&self) -> std::time::Duration {
        self.ack_wait
            .as_deref()
            .and_then(super::connection::parse_duration)
            .filter(|d| !d.is_zero())
            .unwrap_or(std::time::Duration::from_secs(30))
    }
}
