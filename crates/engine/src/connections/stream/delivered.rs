//! A source over a broker that delivers messages without a sequence to resume from
//! (RabbitMQ, MQTT): each message is acknowledged once the records it carried are
//! committed, and the checkpoint's cursor keeps the ids of the messages of the last two
//! commits — those whose acknowledgement a kill may have lost. After a restart, a message
//! delivered again whose id is among them is acknowledged and skipped: the store sees it
//! once. The broker bounds what it delivers unacknowledged (a prefetch, an in-flight
//! window), so a slow store slows consumption instead of growing memory.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FIRST_WAIT, FOLLOW_LOOK};
use crate::connections::queued::{self, Queued};
use crate::diagnostics::{codes, Diag};
use crate::seams::{Follow, ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::transform::source::{InputRecord, Raw};

/// A broker's connection as a source reads it.
pub trait Deliveries: Send {
    /// A delivered message.
    type Message: Send;
    /// Waits at most `wait` for a message, then takes those already delivered with it, at
    /// most `max` in all (none: nothing came in `wait`).
    fn receive(&mut self, wait: Duration, max: usize) -> Result<Vec<Self::Message>, Diag>;
    /// The message's id: its own when it carries one, else one of its body.
    fn id(message: &Self::Message) -> u64;
    /// Its body: a JSON record or an NDJSON body of many.
    fn body(message: &Self::Message) -> &[u8];
    /// Acknowledges messages whose records are committed: every message delivered before
    /// them is among them or acknowledged already, so one acknowledgement may cover all.
    fn ack(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag>;
    /// Acknowledges these messages alone (ones skipped, with others before them pending).
    fn ack_each(&mut self, messages: Vec<Self::Message>) -> Result<(), Diag>;
    /// At the end of a read: gives back what was delivered and not handed out, and sends
    /// what is still to be sent (acknowledgements).
    fn close(&mut self);
}

/// Where a read stands: the checkpoint's `cursor`, as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// The ids of the messages of the last two commits.
    pub recent: Vec<u64>,
}

/// Opens a broker's connection for a read: `prefetch` messages at most unacknowledged.
pub type Connect<D> = Box<dyn Fn(u64) -> Result<D, Diag> + Send + Sync>;

/// What the source and its reader share: the connection, and the messages delivered and not
/// acknowledged yet.
struct Acks<D: Deliveries> {
    deliveries: Option<D>,
    /// Each message: the line of its last record, its id, the message.
    pending: VecDeque<(u64, u64, D::Message)>,
    /// The ids of the messages acknowledged after the last commit.
    acked_last: Vec<u64>,
}

/// A read of a broker's queue or topic as an inbound side.
pub struct DeliveredSource<D: Deliveries> {
    key: String,
    shared: bool,
    batch: u64,
    connect: Connect<D>,
    acks: Arc<Mutex<Acks<D>>>,
}

impl<D: Deliveries> DeliveredSource<D> {
    /// The source keyed `key` (its dead letters and checkpoint are kept under it), taking
    /// `batch` messages at most at a time, connecting with `connect`; `shared`: other
    /// workers read the same queue (no cursor, no run lock).
    pub fn new(key: String, shared: bool, batch: u64, connect: Connect<D>) -> Self {
        DeliveredSource {
            key,
            shared,
            batch,
            connect,
            acks: Arc::new(Mutex::new(Acks {
                deliveries: None,
                pending: VecDeque::new(),
                acked_last: Vec::new(),
            })),
        }
    }
}

fn lock<D: Deliveries>(acks: &Mutex<Acks<D>>) -> Result<MutexGuard<'_, Acks<D>>, Diag> {
    acks.lock().map_err(|_| {
        Diag::new(
            codes::E705_STORE_FAILED,
            "stream acknowledgement log poisoned",
        )
    })
}

impl<D: Deliveries + 'static> Source for DeliveredSource<D> {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        !self.shared
    }

    fn shares_run(&self) -> bool {
        self.shared
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        let acks = lock(&self.acks)?;
        let mut recent = acks.acked_last.clone();
        recent.extend(
            acks.pending
                .iter()
                .take_while(|(last, _, _)| *last <= checkpoint.line)
                .map(|(_, id, _)| *id),
        );
        checkpoint.keep_cursor(&Cursor { recent });
        Ok(())
    }

    fn committed(&self, line: u64) -> Result<(), Diag> {
        let mut acks = lock(&self.acks)?;
        let mut done = Vec::new();
        let mut ids = Vec::new();
        while acks
            .pending
            .front()
            .is_some_and(|(last, _, _)| *last <= line)
        {
            if let Some((_, id, message)) = acks.pending.pop_front() {
                ids.push(id);
                done.push(message);
            }
        }
        if done.is_empty() {
            return Ok(());
        }
        acks.acked_last = ids;
        crate::failpoint("stream-committed-unacked");
        match acks.deliveries.as_mut() {
            Some(deliveries) => deliveries.ack(done),
            None => Ok(()),
        }
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let saved: Cursor = Checkpoint::cursor_of(resume).unwrap_or_default();
        let prefetch = (self.batch * 4).max(2 * settings.commit_every);
        let deliveries = (self.connect)(prefetch)?;
        {
            let mut acks = lock(&self.acks)?;
            acks.deliveries = Some(deliveries);
            acks.pending.clear();
            acks.acked_last = saved.recent.clone();
        }
        Ok(Reading::Records(Box::new(DeliveredReader {
            acks: Arc::clone(&self.acks),
            batch: usize::try_from(self.batch).unwrap_or(256),
            skip: saved.recent.into_iter().collect(),
            took_all: false,
            follow: settings.follow.clone(),
            queued: Queued::new(
                resume.map_or(0, |c| c.line),
                settings.limits,
                settings.transform.input_fields.clone(),
            ),
        })))
    }
}

/// Hands out the records of the delivered messages one by one, keeping them pending.
struct DeliveredReader<D: Deliveries> {
    acks: Arc<Mutex<Acks<D>>>,
    batch: usize,
    /// The ids of messages an earlier run committed, each skipped once if delivered again.
    skip: HashSet<u64>,
    /// Whether the last delivery took every message there was.
    took_all: bool,
    follow: Option<Follow>,
    queued: Queued,
}

impl<D: Deliveries> DeliveredReader<D> {
    /// Receives the next messages into the queue; `false` when the run is to end.
    fn fetch(&mut self) -> Result<bool, Diag> {
        let mut acks = lock(&self.acks)?;
        let Some(deliveries) = acks.deliveries.as_mut() else {
            return Ok(false);
        };
        let messages = loop {
            let wait = match &self.follow {
                Some(follow) if follow.over() => return Ok(false),
                Some(_) => FOLLOW_LOOK,
                None => FIRST_WAIT,
            };
            let messages = deliveries.receive(wait, self.batch)?;
            if !messages.is_empty() || self.follow.is_none() {
                break messages;
            }
        };
        if messages.is_empty() {
            return Ok(false);
        }
        self.took_all = messages.len() < self.batch;
        let mut skipped = Vec::new();
        for message in messages {
            let id = D::id(&message);
            if self.skip.remove(&id) {
                // committed by an earlier run whose acknowledgement was lost
                skipped.push(message);
                continue;
            }
            for line in D::body(&message).split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.iter().all(u8::is_ascii_whitespace) {
                    self.queued.push(line);
                }
            }
            acks.pending.push_back((self.queued.line, id, message));
        }
        if !skipped.is_empty() {
            if let Some(deliveries) = acks.deliveries.as_mut() {
                // at once: a broker's in-flight window must not fill with them
                deliveries.ack_each(skipped)?;
            }
        }
        Ok(true)
    }
}

impl<D: Deliveries> Drop for DeliveredSource<D> {
    /// After the run's last commit and its acknowledgements.
    fn drop(&mut self) {
        if let Ok(mut acks) = self.acks.lock() {
            if let Some(mut deliveries) = acks.deliveries.take() {
                deliveries.close();
            }
        }
    }
}

impl<D: Deliveries> crate::transform::source::RecordSource for DeliveredReader<D> {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        queued::next(self, |r| &mut r.queued, DeliveredReader::fetch)
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
