//! A JetStream stream read through a durable pull consumer. Each message is a record (JSON)
//! or many (an NDJSON body). A message is acknowledged (double ack: the broker confirms)
//! only once every record it carried is committed with the checkpoint, whose cursor is the
//! stream sequence of the last message wholly committed: a run killed at any point gets
//! the unacknowledged messages again, and one at or before the cursor — committed, its ack
//! lost with the process — is acknowledged and skipped. A consumer holds at most four
//! fetches or two commits of messages unacknowledged, whichever is more, so a slow store
//! slows consumption instead of growing memory.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};

use super::{connect, subjects_of};
use crate::connections::queued::{self, Queued};
use crate::connections::stream::{client_name, runtime, FIRST_WAIT, FOLLOW_LOOK};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Follow, ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::transform::source::{InputRecord, Raw};
use crate::transform::stream::Stream;

/// Where a stream read stands: the checkpoint's `cursor`, as JSON.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// The stream sequence of the last message whose records are all committed.
    pub seq: u64,
}

/// The messages delivered and not acknowledged yet, with the last line of each.
#[derive(Default)]
struct AckLog {
    /// The cursor before the first message kept.
    base: u64,
    /// Each message: the line of its last record, its stream sequence, and the message.
    messages: VecDeque<(u64, u64, async_nats::jetstream::Message)>,
}

/// A stream read as an inbound side.
pub struct StreamSource {
    stream: Stream,
    url: String,
    consumer: String,
    key: String,
    runtime: Arc<tokio::runtime::Runtime>,
    log: Arc<Mutex<AckLog>>,
}

impl StreamSource {
    /// The source of `stream` for the connector `connector`.
    pub fn new(stream: &Stream, url: String, connector: &str) -> Result<StreamSource, Diag> {
        let consumer = client_name(stream, connector);
        let name = stream.stream.as_deref().unwrap_or_default();
        // A shared consumer's workers keep their dead letters apart.
        let key = match stream.shared {
            true => format!("nats:{name}/{consumer}#{}", crate::worker_name()),
            false => format!("nats:{name}/{consumer}"),
        };
        Ok(StreamSource {
            key,
            url,
            stream: stream.clone(),
            consumer,
            runtime: runtime()?,
            log: Arc::default(),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, AckLog>, Diag> {
        self.log.lock().map_err(|_| {
            Diag::new(
                codes::E705_STORE_FAILED,
                "stream acknowledgement log poisoned",
            )
        })
    }
}

impl Source for StreamSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        !self.stream.shared
    }

    fn shares_run(&self) -> bool {
        self.stream.shared
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        let log = self.lock()?;
        let seq = log
            .messages
            .iter()
            .take_while(|(last, _, _)| *last <= checkpoint.line)
            .map(|(_, seq, _)| *seq)
            .max()
            .unwrap_or(log.base)
            .max(log.base);
        checkpoint.keep_cursor(&Cursor { seq });
        Ok(())
    }

    fn committed(&self, line: u64) -> Result<(), Diag> {
        let mut log = self.lock()?;
        let mut done = Vec::new();
        while log
            .messages
            .front()
            .is_some_and(|(last, _, _)| *last <= line)
        {
            if let Some((_, seq, message)) = log.messages.pop_front() {
                log.base = log.base.max(seq);
                done.push(message);
            }
        }
        drop(log);
        if !done.is_empty() {
            crate::failpoint("stream-committed-unacked");
        }
        // the acknowledgements are confirmed together, not one round trip after another
        let confirmed = self.runtime.block_on(futures_util::future::join_all(
            done.iter().map(async_nats::jetstream::Message::double_ack),
        ));
        match confirmed.into_iter().find_map(Result::err) {
            Some(e) => Err(failed(format!("cannot acknowledge a message: {e}"))),
            None => Ok(()),
        }
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let saved: Cursor = Checkpoint::cursor_of(resume).unwrap_or_default();
        *self.lock()? = AckLog {
            base: saved.seq,
            ..AckLog::default()
        };
        let batch = self.stream.batch();
        let consumer = self.runtime.block_on(async {
            let (_, stream) = connect(
                &self.stream,
                &self.url,
                "inbound",
                subjects_of(&self.stream),
            )
            .await?;
            stream
                .get_or_create_consumer(
                    &self.consumer,
                    async_nats::jetstream::consumer::pull::Config {
                        durable_name: Some(self.consumer.clone()),
                        filter_subject: self.stream.subject.clone().unwrap_or_default(),
                        ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                        ack_wait: self.stream.ack_wait(),
                        max_ack_pending: i64::try_from((batch * 4).max(2 * settings.commit_every))
                            .unwrap_or(i64::MAX),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| {
                    Diag::new(
                        codes::E614_REMOTE_UNREACHABLE,
                        format!(
                            "inbound.stream: cannot open consumer `{}`: {e}",
                            self.consumer
                        ),
                    )
                })
        })?;
        Ok(Reading::Records(Box::new(StreamReader {
            consumer,
            runtime: Arc::clone(&self.runtime),
            log: Arc::clone(&self.log),
            batch,
            skip_through: saved.seq,
            took_all: false,
            follow: settings.follow.clone().map(|f| (f, None)),
            queued: Queued::new(
                resume.map_or(0, |c| c.line),
                settings.limits,
                settings.transform.input_fields.clone(),
            ),
        })))
    }
}

/// Hands out the records of the fetched messages one by one, keeping the ack log.
struct StreamReader {
    consumer: async_nats::jetstream::consumer::PullConsumer,
    runtime: Arc<tokio::runtime::Runtime>,
    log: Arc<Mutex<AckLog>>,
    batch: u64,
    /// Messages at or before this stream sequence were committed by an earlier run.
    skip_through: u64,
    queued: Queued,
    /// Whether the last delivery took every message there was (fewer than a batch).
    took_all: bool,
    /// When the run follows the stream: when it stops, and the consumer's message flow.
    follow: Option<(
        Follow,
        Option<async_nats::jetstream::consumer::pull::Stream>,
    )>,
}

/// What a delivery failure is.
fn failed(e: impl std::fmt::Display) -> Diag {
    Diag::new(
        codes::E614_REMOTE_UNREACHABLE,
        format!("inbound.stream: {e}"),
    )
}

impl StreamReader {
    /// Fetches the next messages into the queue; `false` when the run is to end.
    fn fetch(&mut self) -> Result<bool, Diag> {
        let messages = match self.follow.is_some() {
            true => match self.follow_messages()? {
                Some(messages) => messages,
                None => return Ok(false),
            },
            false => self.fetch_messages()?,
        };
        if messages.is_empty() {
            return self.more_coming();
        }
        self.took_all = (messages.len() as u64) < self.batch;
        self.take(messages)?;
        Ok(true)
    }

    /// The messages waiting now, at most a batch (none when the consumer has none).
    fn fetch_messages(&mut self) -> Result<Vec<async_nats::jetstream::Message>, Diag> {
        let batch = usize::try_from(self.batch).unwrap_or(256);
        self.runtime.block_on(async {
            let mut fetched = self
                .consumer
                .fetch()
                .max_messages(batch)
                .expires(FIRST_WAIT)
                .messages()
                .await
                .map_err(failed)?;
            let mut messages = Vec::new();
            while let Some(message) = fetched.next().await {
                messages.push(message.map_err(failed)?);
            }
            Ok(messages)
        })
    }

    /// Following: waits for the next message, then takes those that came with it (at most
    /// a batch); `None` when the run is to stop following.
    fn follow_messages(&mut self) -> Result<Option<Vec<async_nats::jetstream::Message>>, Diag> {
        let batch = usize::try_from(self.batch).unwrap_or(256);
        let Some((follow, flow)) = self.follow.as_mut() else {
            return Ok(None);
        };
        let flow = match flow {
            Some(flow) => flow,
            None => flow.insert(
                self.runtime
                    .block_on(
                        self.consumer
                            .stream()
                            .max_messages_per_batch(batch)
                            .messages(),
                    )
                    .map_err(failed)?,
            ),
        };
        self.runtime.block_on(async {
            loop {
                if follow.over() {
                    // what was delivered and not handed out goes back at once
                    while let Some(Some(Ok(message))) = flow.next().now_or_never() {
                        let _ = message
                            .ack_with(async_nats::jetstream::AckKind::Nak(None))
                            .await;
                    }
                    return Ok(None);
                }
                let first = match tokio::time::timeout(FOLLOW_LOOK, flow.next()).await {
                    Err(_) => continue,
                    Ok(None) => return Ok(None),
                    Ok(Some(message)) => message.map_err(failed)?,
                };
                let mut messages = vec![first];
                while messages.len() < batch {
                    match flow.next().now_or_never() {
                        Some(Some(message)) => messages.push(message.map_err(failed)?),
                        _ => break,
                    }
                }
                return Ok(Some(messages));
            }
        })
    }

    /// Queues the records of `messages`, acknowledging at once those an earlier run
    /// committed, and keeps the others in the ack log.
    fn take(&mut self, messages: Vec<async_nats::jetstream::Message>) -> Result<(), Diag> {
        let mut kept = Vec::new();
        for message in messages {
            let seq = message.info().map_err(failed)?.stream_sequence;
            if seq <= self.skip_through {
                // committed by an earlier run whose acknowledgement was lost
                self.runtime
                    .block_on(message.double_ack())
                    .map_err(failed)?;
                continue;
            }
            for line in message.payload.split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.iter().all(u8::is_ascii_whitespace) {
                    self.queued.push(line);
                }
            }
            kept.push((self.queued.line, seq, message));
        }
        if let Ok(mut log) = self.log.lock() {
            log.messages.extend(kept);
        }
        Ok(())
    }
}

impl StreamReader {
    /// After a fetch that got nothing: whether messages are still to come to this run —
    /// some not delivered yet, or delivered to a worker that has not acknowledged them
    /// (a killed one's come back after `ack_wait`) — so that it fetches again (`true`),
    /// or the stream is drained for now and the run ends (`false`).
    fn more_coming(&mut self) -> Result<bool, Diag> {
        let ours = self.log.lock().map_or(0, |log| log.messages.len());
        let info = self
            .runtime
            .block_on(self.consumer.get_info())
            .map_err(failed)?;
        Ok(info.num_pending > 0 || info.num_ack_pending > ours)
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        // the consumer's message flow ends its pulls on the runtime it was made on
        let _inside = self.runtime.enter();
        self.follow = None;
    }
}

impl crate::transform::source::RecordSource for StreamReader {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        queued::next(self, |r| &mut r.queued, StreamReader::fetch)
    }

    fn last_raw(&self) -> Raw {
        self.queued.last_raw()
    }

    fn caught_up(&self) -> bool {
        // A followed stream commits each delivery whole: the next may be long in coming,
        // and what is held must not wait for it.
        (self.took_all || self.follow.is_some()) && self.queued.is_empty()
    }
}
