//! Message streams (feature `streams`), one folder per broker, each a kind of its own: NATS
//! JetStream (`nats/`), RabbitMQ (`rabbitmq/`) and MQTT (`mqtt/`). A side's
//! `[inbound.stream]` or `[outbound.stream]` names its broker by the URL's scheme. A source
//! acknowledges a message only once the records it carried are committed with the
//! checkpoint, and recognizes a message redelivered after a commit whose acknowledgement was
//! lost (a stream sequence, or the ids of the last commits' messages, kept with the
//! checkpoint); a sink waits for the broker's confirmation before the batch commits. The
//! clients are async; a side drives its own on a runtime of its own, since a run's threads
//! are not async.

pub mod delivered;
pub mod mqtt;
pub mod nats;
pub mod rabbitmq;

use std::sync::Arc;

use crate::connections::kind::Opening;
use crate::diagnostics::{codes, Diag};
use crate::transform::connector::Side;
use crate::transform::stream::{Broker, Stream};

/// How long a read waits for the first message of a delivery; none in that time ends a run
/// that does not follow the stream.
pub const FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(500);
/// How long a followed stream is waited on before the run looks whether to stop.
pub const FOLLOW_LOOK: std::time::Duration = std::time::Duration::from_millis(100);

/// A broker that cannot be reached or refused, for the side `side`, without the URL's
/// password.
pub fn unreachable(broker: &str, side: &str, url: &str, e: impl std::fmt::Display) -> Diag {
    Diag::new(
        codes::E614_REMOTE_UNREACHABLE,
        format!(
            "{side}.stream: {broker} at {}: {e}",
            crate::diagnostics::redact::without_password(url)
        ),
    )
}

/// A runtime for a side's client: one worker thread drives the connection (its heartbeats,
/// the messages pushed to it) while the run's thread waits on it.
pub fn runtime() -> Result<Arc<tokio::runtime::Runtime>, Diag> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
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

/// The stream of a side whose broker is `broker`, with its URL resolved: `None` when the
/// side has no stream or one on another broker.
pub fn on_broker<'s>(
    side: &'s Side,
    label: &str,
    broker: Broker,
) -> Option<Result<(&'s Stream, String), Diag>> {
    let stream = side.stream.as_ref()?;
    let url = match stream.url.resolve(&format!("{label}.stream.url")) {
        Ok(url) => url.trim().to_string(),
        Err(diag) => return (broker == Broker::Nats).then_some(Err(diag)),
    };
    match Broker::of(&url) {
        Some(found) if found == broker => {
            let problems = broker.problems(stream, label);
            match problems.into_iter().next() {
                Some(problem) => Some(Err(Diag::new(codes::E603_CONNECTOR_MISSING, problem))),
                None => Some(Ok((stream, url))),
            }
        }
        Some(_) => None,
        // the first stream kind says what is wrong with a URL no broker takes
        None => (broker == Broker::Nats).then(|| {
            Err(Diag::new(
                codes::E610_INVALID_SETTING,
                format!(
                    "{label}.stream.url: `{}` is not a broker's URL: `nats://`, `amqp://`, `amqps://` or `mqtt://`",
                    crate::diagnostics::redact::without_password(&url)
                ),
            ))
        }),
    }
}

/// The inbound stream on `broker` when the run reads it (no `--input`).
pub fn inbound_on<'o>(
    open: &'o Opening,
    broker: Broker,
) -> Option<Result<(&'o Stream, String), Diag>> {
    match open.input {
        Some(_) => None,
        None => on_broker(&open.connector.inbound, "inbound", broker),
    }
}

/// The name a side's client goes by at the broker: `consumer`, else `sluice-<connector>`
/// with characters other than letters, digits, `-` and `_` as `_`.
pub fn client_name(stream: &Stream, connector: &str) -> String {
    stream.consumer.clone().unwrap_or_else(|| {
        let safe = crate::safe_name(connector);
        format!("sluice-{safe}")
    })
}

/// The id a message goes by when it carries none: the first 8 bytes of the SHA-256 of its
/// body, or of the connector and the record for one published.
pub fn id_of(parts: &[&[u8]]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(first)
}
