//! [`Coalescer`]: the rules of a buffered publisher, with no I/O and no clock of its own.
//!
//! Single publishes join their topic's open batch; a batch closes when it holds
//! `max_events_per_batch` events, when the next event would take its body over
//! `max_bytes_per_batch`, or at its linger deadline; a closed batch waits for one of its topic's
//! request slots; at most `max_pending_events` accepted events wait for an outcome; every event
//! gets exactly one outcome. A front end (`eventgrid-async` with tasks, `eventgrid-blocking`
//! with threads) holds the coalescer behind its lock, hands it the time, sends the batches it
//! makes ready, waits where it says there is no room, and gives each batch's outcome back with
//! [`Coalescer::finish`].
//!
//! ```
//! use std::sync::mpsc;
//! use std::time::{Duration, Instant};
//! use eventgrid_core::frontend::{ClientCore, Coalescer, Pushed, with_serialized};
//! use eventgrid_core::{
//!     BufferedOptions, ClientOptions, Credential, EventGridConfig, EventGridEvent,
//!     EventGridTopicConfig,
//! };
//! let config = EventGridConfig::new([EventGridTopicConfig::new("t", "http://127.0.0.1:1/api/events")?])?;
//! let core = ClientCore::new(config, &Credential::None, ClientOptions::default())?;
//! let options = BufferedOptions::default().with_linger(Duration::from_millis(5));
//! let mut coalescer = Coalescer::new(&options, core.options())?;
//!
//! let start = Instant::now();
//! let (tell, outcome) = mpsc::sync_channel(1);
//! let event = EventGridEvent::new("t", "s", 1)?;
//! let pushed = with_serialized(&event, |schema, json| coalescer.push(&core, "t", schema, json, tell, start))?;
//! let Pushed::Accepted(accepted) = pushed else { panic!("there is room") };
//! assert_eq!(accepted.linger_until, Some(start + Duration::from_millis(5)));
//!
//! // At the linger deadline the batch is ready; the front end sends it and reports back.
//! let mut ready = coalescer.poll(start + Duration::from_millis(5));
//! let batch = ready.pop().unwrap();
//! assert_eq!(batch.batch.len(), 1);
//! let more = coalescer.finish(batch.ticket, Ok(())).settle();
//! assert!(more.is_empty());
//! assert!(outcome.recv()?.is_ok());
//! assert_eq!(coalescer.pending(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::batch::{BatchEncoder, EncodedBatch};
use crate::buffered_options::BufferedOptions;
use crate::client::{ClientCore, Topic};
use crate::config::Schema;
use crate::error::{Error, Result, TransportError, TransportErrorKind};
use crate::event::Event;
use crate::limits::Limits;
use crate::options::ClientOptions;

/// Where one accepted event's outcome goes: a front end's channel to the publisher waiting
/// for it.
pub trait Waiter {
    /// Gives the event its outcome (its batch's: the same for every event of the batch).
    fn settle(self, outcome: Result<()>);
}

impl Waiter for std::sync::mpsc::SyncSender<Result<()>> {
    fn settle(self, outcome: Result<()>) {
        // A publisher that stopped waiting dropped its end; the outcome is also in the metrics.
        let _ = self.send(outcome);
    }
}

/// The buffered publisher's decisions for all topics. Single publishes join their topic's open
/// batch; a batch closes when it is full (events or bytes) or at its linger deadline, then waits
/// for one of its topic's request slots; at most `max_pending_events` accepted events wait for an
/// outcome, and every event gets exactly one. `W` is the front end's [`Waiter`].
pub struct Coalescer<W: Waiter> {
    limits: Limits,
    linger: Duration,
    requests_per_topic: usize,
    max_pending: usize,
    /// Accepted events without an outcome yet.
    pending: usize,
    closed: bool,
    next_batch: u64,
    /// The batches closed and not yet finished, by number, for [`FlushMark`].
    unfinished: BTreeSet<u64>,
    topics: HashMap<String, TopicQueue<W>>,
}

/// One topic's batches: the open one (exactly when its encoder holds events), the closed ones
/// waiting for a request slot, and how many are being sent.
struct TopicQueue<W: Waiter> {
    topic: Arc<Topic>,
    /// The most events a batch of this topic carries (the topic's limit within the
    /// publisher's), kept with the topic it was worked out for.
    most_events: usize,
    encoder: BatchEncoder,
    open: Option<OpenBatch<W>>,
    waiting: VecDeque<ReadyBatch<W>>,
    sending: usize,
}

struct OpenBatch<W> {
    number: u64,
    /// `None`: the linger time is too long to reach (only a trigger or a flush closes it).
    deadline: Option<Instant>,
    /// One per event, in order.
    waiters: Vec<W>,
}

/// A front end's coalescer behind its mutex, on cache lines of its own. The lock word and the
/// coalescer's counters change on every publish, from every core; a neighbour that is only
/// read (the front end's client handle, say) would otherwise share their lines and miss in
/// every other core's cache each time (false sharing).
#[repr(align(128))]
pub struct CoalescerLock<W: Waiter>(Mutex<Coalescer<W>>);

impl<W: Waiter> CoalescerLock<W> {
    /// `coalescer` behind its lock.
    pub fn new(coalescer: Coalescer<W>) -> Self {
        Self(Mutex::new(coalescer))
    }

    /// The coalescer, for one change. A poisoned lock is taken anyway: the coalescer never
    /// panics halfway through a change, so it is whole.
    pub fn lock(&self) -> MutexGuard<'_, Coalescer<W>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W: Waiter> fmt::Debug for CoalescerLock<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.lock(), f)
    }
}

/// A closed batch the front end may send now: it holds one of its topic's request slots until
/// its [`Ticket`] is given back to [`Coalescer::finish`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ReadyBatch<W: Waiter> {
    /// The topic it goes to (as configured when the batch opened).
    pub topic: Arc<Topic>,
    /// The request body and its events.
    pub batch: EncodedBatch,
    /// What to give back with the outcome.
    pub ticket: Ticket<W>,
}

/// A batch being sent: its number and its events' waiters. Give it back to
/// [`Coalescer::finish`] (or [`Coalescer::abandon`]) with the outcome; one dropped instead still
/// settles its events with an error, but its events' room and request slot stay taken.
#[derive(Debug)]
#[must_use = "give the ticket back to the coalescer with the batch's outcome"]
pub struct Ticket<W: Waiter> {
    number: u64,
    topic: Arc<Topic>,
    waiters: Vec<W>,
}

/// What [`Coalescer::push`] did with an event.
#[derive(Debug)]
pub enum Pushed<W: Waiter> {
    /// The event joined a batch.
    Accepted(Accepted<W>),
    /// `max_pending_events` events wait for their outcome: nothing changed. Push again (with
    /// this waiter) once a batch has finished.
    NoRoom(W),
}

/// An accepted event: the timer to arm and the batches to send.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted<W: Waiter> {
    /// The event opened a batch that closes at this instant unless a trigger or a flush closes
    /// it first: the front end calls [`Coalescer::poll`] then.
    pub linger_until: Option<Instant>,
    /// Batches to send now (the event's own, when it filled it, or the one it closed).
    pub ready: Vec<ReadyBatch<W>>,
}

/// A finished batch's waiters and outcome, and the batches its request slot now lets go.
#[derive(Debug)]
#[must_use = "settle the waiters and send the batches made ready"]
pub struct Finished<W: Waiter> {
    waiters: Vec<W>,
    outcome: Result<()>,
    ready: Vec<ReadyBatch<W>>,
}

/// The batches that existed when a flush began: flushed once all of them have finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushMark(u64);

impl<W: Waiter> Coalescer<W> {
    /// A coalescer with `options` on a client with `client` options; refuses options beyond
    /// the client's limits, naming the option.
    pub fn new(options: &BufferedOptions, client: &ClientOptions) -> Result<Self> {
        let (limits, requests_per_topic) = options.resolve(client)?;
        Ok(Self {
            limits,
            linger: options.linger,
            requests_per_topic,
            max_pending: options.max_pending_events,
            pending: 0,
            closed: false,
            next_batch: 0,
            unfinished: BTreeSet::new(),
            topics: HashMap::new(),
        })
    }

    /// Adds one serialized event (`json`, of `schema`: see [`with_serialized`]) for the topic
    /// named `topic` of `core`, at `now`. Refused, taking no room and changing nothing: any
    /// event after [`close`](Self::close) ([`Error::Closed`]), an event over the per-event
    /// limit ([`Error::EventTooLarge`] with index 0), an unknown topic, another schema than
    /// the topic's. Without room the waiter comes back in [`Pushed::NoRoom`].
    pub fn push(
        &mut self,
        core: &ClientCore,
        topic: &str,
        schema: Schema,
        json: &[u8],
        waiter: W,
        now: Instant,
    ) -> Result<Pushed<W>> {
        if self.closed {
            return Err(Error::Closed);
        }
        if json.len() > self.limits.max_event_bytes {
            return Err(Error::EventTooLarge {
                index: 0,
                size: json.len(),
                limit: self.limits.max_event_bytes,
            });
        }
        let queue = match self.topics.get_mut(topic) {
            Some(queue) => {
                if queue.open.is_none() {
                    // The client's topics may change at run time: look the topic up again for
                    // each batch (not each event, which would cost the client's topic lock
                    // every time).
                    queue.refresh(core.topic(topic)?, self.limits);
                }
                queue
            }
            None => {
                let found = core.topic(topic)?;
                let queue = TopicQueue::new(self.limits, found);
                self.topics.entry(topic.to_owned()).or_insert(queue)
            }
        };
        queue.topic.check_schema_of(schema)?;
        if self.pending >= self.max_pending {
            return Ok(Pushed::NoRoom(waiter));
        }
        // Checked and sized above, so the encoder cannot refuse it: it either fits the open
        // body or closes it and starts the next one.
        if let Some(full) = queue.encoder.push(&Json(json))? {
            queue.enqueue(full, &mut self.unfinished);
        }
        let mut linger_until = None;
        if queue.open.is_none() {
            let deadline = now.checked_add(self.linger);
            linger_until = deadline;
            queue.open = Some(OpenBatch {
                number: self.next_batch,
                deadline,
                waiters: Vec::new(),
            });
            self.next_batch += 1;
        }
        let open = queue.open.as_mut().expect("opened above");
        open.waiters.push(waiter);
        self.pending += 1;
        let lingered = open.deadline.is_some_and(|deadline| deadline <= now);
        if lingered || queue.encoder.pending() >= queue.most_events {
            queue.close(&mut self.unfinished);
            linger_until = None;
        }
        let mut ready = Vec::new();
        queue.take_ready(self.requests_per_topic, &mut ready);
        Ok(Pushed::Accepted(Accepted {
            linger_until,
            ready,
        }))
    }

    /// Closes the open batches whose linger deadline is at or before `now`; returns the
    /// batches that may be sent now.
    pub fn poll(&mut self, now: Instant) -> Vec<ReadyBatch<W>> {
        let mut ready = Vec::new();
        for queue in self.topics.values_mut() {
            let due = queue.open.as_ref().and_then(|open| open.deadline);
            if due.is_some_and(|deadline| deadline <= now) {
                queue.close(&mut self.unfinished);
            }
            queue.take_ready(self.requests_per_topic, &mut ready);
        }
        ready
    }

    /// Closes every open batch now; returns the batches that may be sent now and the mark to
    /// wait for ([`is_flushed`](Self::is_flushed)): every event accepted so far has its
    /// outcome once it is reached.
    pub fn flush(&mut self) -> (FlushMark, Vec<ReadyBatch<W>>) {
        let mut ready = Vec::new();
        for queue in self.topics.values_mut() {
            queue.close(&mut self.unfinished);
            queue.take_ready(self.requests_per_topic, &mut ready);
        }
        (FlushMark(self.next_batch), ready)
    }

    /// Refuses every later event ([`Error::Closed`]), then [`flush`](Self::flush)es.
    pub fn close(&mut self) -> (FlushMark, Vec<ReadyBatch<W>>) {
        self.closed = true;
        self.flush()
    }

    /// Whether every batch closed before `mark` was taken has finished.
    pub fn is_flushed(&self, mark: FlushMark) -> bool {
        self.unfinished.first().is_none_or(|&first| first >= mark.0)
    }

    /// A sent batch's outcome: gives back its events' room and its request slot. Settle the
    /// result (outside the front end's lock) to tell the waiters and get the batches that may
    /// now be sent.
    pub fn finish(&mut self, mut ticket: Ticket<W>, outcome: Result<()>) -> Finished<W> {
        let waiters = std::mem::take(&mut ticket.waiters);
        self.pending = self.pending.saturating_sub(waiters.len());
        self.unfinished.remove(&ticket.number);
        let mut ready = Vec::new();
        if let Some(queue) = self.topics.get_mut(ticket.topic.name()) {
            queue.sending = queue.sending.saturating_sub(1);
            queue.take_ready(self.requests_per_topic, &mut ready);
        }
        Finished {
            waiters,
            outcome,
            ready,
        }
    }

    /// Finishes `ticket` with `error`, and with it every batch its request slot would let go,
    /// settling all their events: for a front end that cannot send any more (its runtime
    /// refuses new tasks, no thread can be started). Iterative, however many batches wait.
    pub fn abandon(&mut self, ticket: Ticket<W>, error: Error) {
        let mut tickets = vec![ticket];
        while let Some(ticket) = tickets.pop() {
            let finished = self.finish(ticket, Err(error.clone()));
            tickets.extend(finished.ready.into_iter().map(|ready| ready.ticket));
            for waiter in finished.waiters {
                waiter.settle(Err(error.clone()));
            }
        }
    }

    /// Accepted events whose outcome is not known yet (at most `max_pending_events`).
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl<W: Waiter> fmt::Debug for Coalescer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalescer")
            .field("limits", &self.limits)
            .field("linger", &self.linger)
            .field("max_concurrent_requests", &self.requests_per_topic)
            .field("max_pending_events", &self.max_pending)
            .field("pending_events", &self.pending)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl<W: Waiter> TopicQueue<W> {
    /// A queue for `topic`, whose batches keep within `publisher`'s limits and the topic's.
    fn new(publisher: Limits, topic: Arc<Topic>) -> Self {
        let limits = publisher.within(topic.limits());
        Self {
            topic,
            most_events: limits.max_events_per_request,
            encoder: BatchEncoder::new(limits),
            open: None,
            waiting: VecDeque::new(),
            sending: 0,
        }
    }

    /// The topic as the client has it now, before a batch opens.
    fn refresh(&mut self, topic: Arc<Topic>, publisher: Limits) {
        self.most_events = publisher.within(topic.limits()).max_events_per_request;
        self.topic = topic;
    }

    /// Closes the open batch, if any.
    fn close(&mut self, unfinished: &mut BTreeSet<u64>) {
        if let Some(batch) = self.encoder.finish() {
            self.enqueue(batch, unfinished);
        }
    }

    /// Pairs `batch`, just closed by the encoder, with the open batch's waiters and queues it
    /// for a request slot.
    fn enqueue(&mut self, batch: EncodedBatch, unfinished: &mut BTreeSet<u64>) {
        let open = self
            .open
            .take()
            .expect("the encoder holds events only while a batch is open");
        unfinished.insert(open.number);
        self.waiting.push_back(ReadyBatch {
            topic: self.topic.clone(),
            batch,
            ticket: Ticket {
                number: open.number,
                topic: self.topic.clone(),
                waiters: open.waiters,
            },
        });
    }

    /// Moves waiting batches to `ready` while a request slot is free.
    fn take_ready(&mut self, slots: usize, ready: &mut Vec<ReadyBatch<W>>) {
        while self.sending < slots {
            let Some(batch) = self.waiting.pop_front() else {
                break;
            };
            self.sending += 1;
            ready.push(batch);
        }
    }
}

impl<W: Waiter> Ticket<W> {
    /// How many events the batch carries.
    pub fn events(&self) -> usize {
        self.waiters.len()
    }
}

impl<W: Waiter> Drop for Ticket<W> {
    fn drop(&mut self) {
        // Only a ticket never given back still has its waiters: they get an outcome anyway.
        for waiter in self.waiters.drain(..) {
            waiter.settle(Err(unsent("was dropped")));
        }
    }
}

impl<W: Waiter> Finished<W> {
    /// Gives each waiter the batch's outcome; returns the batches that may now be sent.
    pub fn settle(self) -> Vec<ReadyBatch<W>> {
        for waiter in self.waiters {
            waiter.settle(self.outcome.clone());
        }
        self.ready
    }
}

/// The error of events whose batch's send ended without an outcome; `how` says how it ended
/// ("panicked", "was cancelled", ...). The events may or may not have been delivered.
pub fn unsent(how: &str) -> Error {
    Error::Transport(TransportError::new(
        TransportErrorKind::Other,
        format!(
            "the send of this event's batch {how} before its outcome was known (the event may or may not have been delivered)"
        ),
    ))
}

/// The error of events whose batch's send panicked (in a custom transport, say): a bug, so
/// [`Error::Internal`]. The events may or may not have been delivered.
pub fn send_panicked() -> Error {
    Error::Internal(
        "the send of this event's batch panicked before its outcome was known (the event may or may not have been delivered)"
            .to_owned(),
    )
}

/// An event already checked and serialized: encoding it copies its bytes. Its schema was
/// checked against the topic's before it reaches the encoder, which does not look at it.
struct Json<'a>(&'a [u8]);

impl Event for Json<'_> {
    const SCHEMA: Schema = Schema::Custom;

    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> std::result::Result<(), serde_json::Error> {
        out.extend_from_slice(self.0);
        Ok(())
    }
}

thread_local! {
    /// Where publishers on this thread serialize their event before it is copied into a batch
    /// under the front end's lock (so that threads serialize at once, outside the lock).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch capacity kept between events; a larger event frees it afterwards.
const SCRATCH_KEPT: usize = 64 * 1024;

/// Checks `event` and serializes it into this thread's scratch buffer, then hands `then` its
/// schema and JSON (to [`Coalescer::push`]). A refusal names event 0, the one event given:
/// [`Error::InvalidEvent`] for a missing field or data that cannot be serialized.
pub fn with_serialized<E: Event, R>(
    event: &E,
    then: impl FnOnce(Schema, &[u8]) -> Result<R>,
) -> Result<R> {
    let serialize = |scratch: &mut Vec<u8>| {
        scratch.clear();
        event
            .check()
            .map_err(|reason| Error::InvalidEvent { index: 0, reason })?;
        event.write_json(scratch).map_err(|e| Error::InvalidEvent {
            index: 0,
            reason: format!("could not serialize: {e}"),
        })?;
        then(E::SCHEMA, scratch)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let result = serialize(&mut scratch);
            if scratch.capacity() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
            result
        }
        // Called from inside `then` on this thread: a buffer of its own.
        Err(_) => serialize(&mut Vec::new()),
    })
}

#[cfg(test)]
#[path = "coalescer_tests.rs"]
mod tests;
