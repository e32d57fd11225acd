//! MQTT (`rumqttc`, QoS 1): a topic read through a persistent session with manual
//! acknowledgements (`source.rs`), records published with their PUBACKs awaited
//! (`sink.rs`).

pub mod sink;
pub mod source;

use std::time::{Duration, Instant};

use super::{inbound_on, on_broker};
use crate::connections::kind::{Kind, Opening};
use crate::connections::remote::RemoteSink;
use crate::diagnostics::Diag;
use crate::seams::{Sink, Source};
use crate::transform::stream::Broker;

/// The MQTT kind in the registry.
pub const KIND: Kind = Kind {
    name: "MQTT topic",
    types: &[],
    doc: "A side with a `[stream]` whose `url` is `mqtt://`: an inbound side without `--input` subscribes to `topic` at QoS 1 through a persistent session (its client id is `consumer`, default `sluice-<connector name>`), so messages published while no run reads are kept by the broker for the next — up to its limit (Mosquitto's `max_queued_messages`, 1000 by default; those beyond it, and those published before the first run subscribed, are the broker's to drop): follow the topic (`realtime` under `sluice serve`, or `sluice run --follow`) to keep up; a reader slower than the publishers also has the excess over that limit dropped by the broker. A message is acknowledged (PUBACK) only after the records it carried are committed with the checkpoint, whose cursor keeps the ids (a hash of the body) of the last two commits' messages: after a kill, a message the broker delivers again that was already committed is acknowledged and skipped. The broker's in-flight window bounds what is delivered unacknowledged. An outbound side without `--output` publishes each record to `topic` at QoS 1 and waits for every PUBACK before the batch commits; MQTT has no duplicate detection, so a record published again after a kill reaches subscribers twice (at least once). MQTT 3.1.1 has no queue that workers share: `shared` is refused.",
    keys: &["stream"],
    reads_alone: |side| side.stream.is_some(),
    source: Some(open_source),
    sink: Some(open_sink),
};

fn open_source(open: &Opening) -> Option<Result<Box<dyn Source>, Diag>> {
    let found = inbound_on(open, Broker::Mqtt)?;
    Some(found.and_then(|(stream, url)| source::open(stream, &url, &open.connector.name)))
}

fn open_sink(open: &Opening) -> Option<Result<Box<dyn Sink>, Diag>> {
    if open.output.is_some() {
        return None;
    }
    let found = on_broker(&open.connector.outbound, "outbound", Broker::Mqtt)?;
    Some(found.and_then(|(stream, url)| {
        sink::TopicWriter::open(stream, &url, &open.connector.name).map(|writer| {
            Box::new(RemoteSink::new(
                Box::new(writer),
                open.connector.outbound.primary_key.clone(),
            )) as Box<dyn Sink>
        })
    }))
}

/// The largest message a side sends or takes.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// How long connecting (and subscribing) may take.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// What a client error is, for the side `side`, without the URL's password.
fn failed(side: &str, url: &str, e: impl std::fmt::Display) -> Diag {
    super::unreachable("MQTT broker", side, url, e)
}

/// The client options for `url` under the client id `id`.
fn options(url: &str, id: &str, side: &str) -> Result<rumqttc::MqttOptions, Diag> {
    let parsed = url::Url::parse(url).map_err(|e| failed(side, url, e))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| failed(side, url, "the URL names no host"))?;
    let mut options = rumqttc::MqttOptions::new(id, host, parsed.port().unwrap_or(1883));
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_MESSAGE, MAX_MESSAGE);
    if !parsed.username().is_empty() {
        let user = percent_decoded(parsed.username());
        let password = percent_decoded(parsed.password().unwrap_or_default());
        options.set_credentials(user, password);
    }
    Ok(options)
}

/// A URL's user or password as written before it was percent-encoded (`+` stays `+`:
/// it is a space only in form data).
fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Drives `connection` until `done` says the events seen are enough: `Err` on a connection
/// error or when `wait` passes first. Publishes that arrive meanwhile are kept in `early`.
fn drive(
    connection: &mut rumqttc::Connection,
    wait: Duration,
    early: &mut Vec<rumqttc::Publish>,
    mut done: impl FnMut(&rumqttc::Event) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the broker did not answer in time".into());
        }
        match connection.recv_timeout(left) {
            Ok(Ok(event)) => {
                let finished = done(&event);
                if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(publish)) = event {
                    early.push(publish);
                }
                if finished {
                    return Ok(());
                }
            }
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("the broker did not answer in time".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn a_plus_in_a_brokers_password_stays_a_plus() {
        // a URL's userinfo is percent-encoded, not form data: `+` is not a space there
        assert_eq!(percent_decoded("p%40ss+w%C3%B6rd"), "p@ss+wörd");
    }
}
