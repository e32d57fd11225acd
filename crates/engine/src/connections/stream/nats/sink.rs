//! Records published to a JetStream subject, each with a `Nats-Msg-Id` derived from the
//! connector and the record, the batch's acknowledgements awaited before it commits: a run
//! killed between the publish and its commit publishes the same records again, and the
//! stream's duplicate window drops them.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{connect, subjects_of};
use crate::connections::remote::{Outcome, Writer};
use crate::connections::stream::runtime;
use crate::diagnostics::{codes, Diag};
use crate::transform::stream::Stream;
use crate::value::Value;

/// How many publishes wait for their acknowledgements at a time.
const ACKS_IN_FLIGHT: usize = 512;

/// Publishes a side's records.
pub struct StreamWriter {
    runtime: Arc<tokio::runtime::Runtime>,
    context: async_nats::jetstream::Context,
    subject: String,
    connector: String,
}

impl StreamWriter {
    /// Connects to `stream`'s broker (making the stream when it does not exist).
    pub fn open(stream: &Stream, url: &str, connector: &str) -> Result<StreamWriter, Diag> {
        let subject = stream.subject.clone().ok_or_else(|| {
            Diag::new(
                codes::E603_CONNECTOR_MISSING,
                "an outbound stream needs the `subject` its records are published to",
            )
        })?;
        let runtime = runtime()?;
        let (context, _) =
            runtime.block_on(connect(stream, url, "outbound", subjects_of(stream)))?;
        Ok(StreamWriter {
            runtime,
            context,
            subject,
            connector: connector.to_string(),
        })
    }
}

impl Writer for StreamWriter {
    fn write(&mut self, records: &[Value]) -> Result<Vec<Outcome>, Diag> {
        let failed = |e: String| {
            Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("outbound.stream: cannot publish to `{}`: {e}", self.subject),
            )
        };
        self.runtime.block_on(async {
            // At most ACKS_IN_FLIGHT publishes wait for their acknowledgements at a time: the
            // client holds back a publish while too many wait, so publishing a whole large
            // batch before awaiting any acknowledgement would wait for ever.
            for chunk in records.chunks(ACKS_IN_FLIGHT) {
                let mut acks = Vec::with_capacity(chunk.len());
                for record in chunk {
                    let json = record.to_json();
                    let id = crate::hex(&Sha256::digest(
                        [self.connector.as_bytes(), b"\0", json.as_bytes()].concat(),
                    ));
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert("Nats-Msg-Id", id.as_str());
                    let ack = self
                        .context
                        .publish_with_headers(self.subject.clone(), headers, json.into())
                        .await
                        .map_err(|e| failed(e.to_string()))?;
                    acks.push(ack);
                }
                for ack in acks {
                    ack.await.map_err(|e| failed(e.to_string()))?;
                }
            }
            Ok(records.iter().map(|_| Outcome::Written).collect())
        })
    }
}
