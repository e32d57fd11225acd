//! A side that is a message stream (`[inbound.stream]`, `[outbound.stream]`): a NATS
//! JetStream stream, read through a durable pull consumer or written with the broker's
//! acknowledgement. This is the connector format as data; the engine's
//! `connections/stream/` reads and writes it.

use serde::{Deserialize, Serialize};

use super::credential::Credential;

/// A message stream on this side.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// The broker: `nats://host:4222` (a literal, `env:VAR` or `file:PATH`).
    pub url: Credential,
    /// The JetStream stream (made, capturing `subject`, when it does not exist).
    pub stream: String,
    /// Inbound: the subjects read (a filter, default all of the stream's); outbound: the
    /// subject each record is published to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Inbound: the durable consumer's name (default `sluice-<connector name>`); every
    /// worker naming the same one shares the stream.
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
