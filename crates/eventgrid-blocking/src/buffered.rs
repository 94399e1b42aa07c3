//! [`BufferedPublisher`]: single publishes from any number of threads coalesced into a few large
//! requests, each caller blocked until its own event's outcome. The rules are the core's
//! [`Coalescer`]; this drives it with threads: the caller whose event opens a batch is that
//! batch's linger timer (it waits anyway), each batch is sent on a thread of its own, and
//! callers beyond the pending limit block until a batch finishes.

use std::fmt;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

use eventgrid_core::frontend::{
    Coalescer, CoalescerLock, EncodedBatch, FlushMark, Pushed, ReadyBatch, Ticket, Topic,
    send_panicked, unsent, with_serialized,
};
use eventgrid_core::{BufferedOptions, Event, EventGridEventRef, Result, Schema};
use serde::Serialize;

use crate::EventGridClient;

/// Each accepted event's outcome arrives on a channel of its own.
type Tell = SyncSender<Result<()>>;
type Guard<'a> = MutexGuard<'a, Coalescer<Tell>>;

/// Publishes events one at a time, as `emit_event` does, but sends them in shared batches,
/// with the same API and contract as `eventgrid_async::BufferedPublisher`: each event is
/// serialized once and appended to its topic's open request body, which is sent when full or
/// after the linger time (see [`BufferedOptions`]). Made by [`EventGridClient::buffered`].
///
/// [`publish`](Self::publish) and [`emit_event`](Self::emit_event) block until that event's
/// batch was accepted by the service, or finally failed (after the client's retries): then every
/// caller of the batch gets a copy of the batch's error, the one [`EventGridClient::emit_event`]
/// would have given. An invalid or oversized event, an unknown topic or another schema than the
/// topic's is refused at once (as event 0) and does not affect the others.
///
/// At most `max_pending_events` accepted events wait for their outcome at once; further callers
/// block until there is room, so memory stays bounded however many threads publish. Each batch
/// goes out on a thread of its own, at most `max_concurrent_requests` per topic. A send that
/// ends without an outcome (a panic in a custom transport, no thread to run it on) still settles
/// its events with an error and gives their room back.
///
/// [`flush`](Self::flush) sends and waits for everything accepted so far; [`close`](Self::close)
/// does the same and refuses later events. Clones share the buffers. Dropping the last clone
/// sends what is still open at once (callers block until their outcome, so by then little or
/// nothing is left), in the background.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_blocking::{BufferedOptions, Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig};
/// # let emulator = eventgrid_emulator::Emulator::start_in_background(eventgrid_emulator::EmulatorConfig::new()
/// #     .topic(eventgrid_emulator::TopicSpec::open("user-events")))?;
/// # let endpoint = emulator.topic_endpoint("user-events");
/// let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
/// let client = EventGridClient::new(config, Credential::None)?;
/// let publisher = client.buffered(BufferedOptions::default().with_linger(Duration::from_millis(10)))?;
///
/// // 200 threads each publish one event and learn its own outcome...
/// std::thread::scope(|scope| {
///     let threads: Vec<_> = (0..200)
///         .map(|n| {
///             let publisher = &publisher;
///             scope.spawn(move || publisher.emit_event("user-events", "user.seen", format!("users/{n}"), n))
///         })
///         .collect();
///     threads.into_iter().try_for_each(|thread| thread.join().unwrap())
/// })?;
/// // ...in a handful of requests.
/// assert!(client.metrics()["user-events"].requests < 20);
///
/// // An invalid event is refused at once; at shutdown, close waits and refuses the rest.
/// assert!(matches!(publisher.emit_event("user-events", "", "users/x", 1), Err(Error::InvalidEvent { index: 0, .. })));
/// publisher.close();
/// assert!(matches!(publisher.emit_event("user-events", "user.seen", "users/8", 8), Err(Error::Closed)));
/// # assert_eq!(emulator.counters("user-events").accepted_events, 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BufferedPublisher(Arc<LastClone>);

/// Dropped with the publisher's last clone.
struct LastClone(Arc<Shared>);

/// What the publisher's clones and its sending threads share.
struct Shared {
    coalescer: CoalescerLock<Tell>,
    /// Signalled whenever a batch finishes: room for blocked callers, progress for flushes.
    batch_done: Condvar,
    client: EventGridClient,
}

/// Where a caller waits: its event's channel, and the linger deadline of the batch it opened.
type Joined = (Receiver<Result<()>>, Option<Instant>);

impl EventGridClient {
    /// A [`BufferedPublisher`] sending through this client: single publishes from any number of
    /// threads coalesced into few requests. Fails on options beyond the client's limits.
    pub fn buffered(&self, options: BufferedOptions) -> Result<BufferedPublisher> {
        let shared = Shared {
            coalescer: CoalescerLock::new(Coalescer::new(&options, self.options())?),
            batch_done: Condvar::new(),
            client: self.clone(),
        };
        Ok(BufferedPublisher(Arc::new(LastClone(Arc::new(shared)))))
    }
}

impl BufferedPublisher {
    /// Publishes `event` (of the topic's schema: [`EventGridEvent`](crate::EventGridEvent),
    /// [`CloudEvent`](crate::CloudEvent) or [`CustomEvent`](crate::CustomEvent)) to the topic
    /// named `topic` in the next batch, first blocking for room when `max_pending_events` are
    /// pending, then until the batch was delivered or finally failed.
    ///
    /// Refused at once, taking no room: an unknown topic, another schema than the topic's, an
    /// invalid or oversized event ([`Error::InvalidEvent`](crate::Error::InvalidEvent) or
    /// [`Error::EventTooLarge`](crate::Error::EventTooLarge) with index 0), and any event after
    /// [`close`](Self::close) ([`Error::Closed`](crate::Error::Closed)).
    pub fn publish<E: Event>(&self, topic: &str, event: E) -> Result<()> {
        let joined = with_serialized(&event, |schema, json| self.join(topic, schema, json))?;
        // Serialized: the event need not live while its batch is on its way.
        drop(event);
        self.wait(joined)
    }

    /// Publishes one event of `event_type` about `subject` carrying `data`, with a new id, the
    /// current time and data version `"v1"`, as [`EventGridClient::emit_event`] does, but in the
    /// next batch; `data` is serialized once, straight into the batch. Data that cannot be
    /// serialized is refused as event 0. See [`publish`](Self::publish).
    pub fn emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        let (event_type, subject) = (event_type.into(), subject.into());
        let core = &self.0.0.client.inner.core;
        // Without namespace topics the topic is looked up by the coalescer, once per batch.
        if core.may_have_namespace_topics()
            && let Some(event) = core.namespace_event(topic, &event_type, &subject, &data)?
        {
            return self.publish(topic, event); // A namespace topic's CloudEvent.
        }
        self.publish(topic, EventGridEventRef::new(&event_type, &subject, &data))
    }

    /// Sends the open batches now and blocks until every event accepted before this call is
    /// delivered or has failed (each caller gets its own event's outcome; failures are also
    /// counted in the client's metrics). Events published meanwhile are not waited for.
    pub fn flush(&self) {
        let (mark, ready) = self.0.0.lock().flush();
        self.0.0.until_flushed(mark, ready);
    }

    /// Refuses further events (on every clone, with [`Error::Closed`](crate::Error::Closed)),
    /// then flushes: returns when every accepted event is delivered or has failed. Closing again
    /// does no harm.
    pub fn close(&self) {
        let (mark, ready) = self.0.0.lock().close();
        self.0.0.until_flushed(mark, ready);
    }

    /// Accepted events whose outcome is not known yet (at most `max_pending_events`).
    pub fn pending_events(&self) -> usize {
        self.0.0.lock().pending()
    }

    /// The client the publisher sends through.
    pub fn client(&self) -> &EventGridClient {
        &self.0.0.client
    }

    /// Adds the serialized event to its topic's open batch, blocking while there is no room.
    fn join(&self, topic: &str, schema: Schema, json: &[u8]) -> Result<Joined> {
        let shared = &self.0.0;
        let (mut tell, outcome) = sync_channel(1);
        let mut coalescer = shared.lock();
        let accepted = loop {
            let now = Instant::now();
            match coalescer.push(&shared.client.inner.core, topic, schema, json, tell, now)? {
                Pushed::Accepted(accepted) => break accepted,
                Pushed::NoRoom(back) => (tell, coalescer) = (back, shared.wait(coalescer)),
            }
        };
        drop(coalescer);
        shared.dispatch(accepted.ready);
        Ok((outcome, accepted.linger_until))
    }

    /// Blocks until the event's outcome. A caller whose event opened a batch closes it at its
    /// linger deadline unless something closed it before.
    fn wait(&self, (outcome, linger_until): Joined) -> Result<()> {
        if let Some(deadline) = linger_until {
            let left = deadline.saturating_duration_since(Instant::now());
            match outcome.recv_timeout(left) {
                Ok(outcome) => return outcome,
                Err(RecvTimeoutError::Disconnected) => return Err(unsent("was dropped")),
                Err(RecvTimeoutError::Timeout) => {
                    let shared = &self.0.0;
                    // Past the deadline however the clock rounded the wait.
                    let ready = shared.lock().poll(Instant::now().max(deadline));
                    shared.dispatch(ready);
                }
            }
        }
        outcome
            .recv()
            .unwrap_or_else(|_| Err(unsent("was dropped")))
    }
}

impl Shared {
    fn lock(&self) -> Guard<'_> {
        self.coalescer.lock()
    }

    fn wait<'a>(&self, coalescer: Guard<'a>) -> Guard<'a> {
        self.batch_done
            .wait(coalescer)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends each ready batch on a thread of its own.
    fn dispatch(self: &Arc<Self>, ready: Vec<ReadyBatch<Tell>>) {
        for ready in ready {
            let sending = Sending(self.clone(), Some(ready.ticket));
            let thread = thread::Builder::new().name("eventgrid-batch".to_owned());
            // A thread that cannot start drops `sending` unsent, which settles its events.
            let _ = thread.spawn(move || sending.run(&ready.topic, ready.batch));
        }
    }

    /// Sends `ready`, then blocks until every batch before `mark` has finished.
    fn until_flushed(self: &Arc<Self>, mark: FlushMark, ready: Vec<ReadyBatch<Tell>>) {
        self.dispatch(ready);
        let mut coalescer = self.lock();
        while !coalescer.is_flushed(mark) {
            coalescer = self.wait(coalescer);
        }
    }
}

/// One batch on its sending thread, with what to give back to the coalescer however the send
/// ends: with its outcome, in a panic, or never started.
struct Sending(Arc<Shared>, Option<Ticket<Tell>>);

impl Sending {
    fn run(mut self, topic: &Arc<Topic>, batch: EncodedBatch) {
        let outcome = send_batch(&self.0.client, topic, batch);
        if let Some(ticket) = self.1.take() {
            self.settle(ticket, outcome);
        }
    }

    /// Tells the batch's callers, frees its room and request slot, and sends what waited.
    fn settle(&self, ticket: Ticket<Tell>, outcome: Result<()>) {
        let finished = self.0.lock().finish(ticket, outcome);
        let ready = finished.settle();
        self.0.batch_done.notify_all();
        self.0.dispatch(ready);
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        if let Some(ticket) = self.1.take() {
            if thread::panicking() {
                self.settle(ticket, Err(send_panicked()));
            } else {
                // Dropped without running: no thread could be started, for this batch nor,
                // likely, for those behind it.
                let error = unsent("could not start (no thread to send it on)");
                self.0.lock().abandon(ticket, error);
                self.0.batch_done.notify_all();
            }
        }
    }
}

/// The one place a ready batch is handed to the client to be sent.
fn send_batch(client: &EventGridClient, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
    client.inner.deliver(topic, batch)
}

impl Drop for LastClone {
    fn drop(&mut self) {
        // Callers block until their outcome, so no clone is left while one waits: what is
        // still open goes at once rather than at its linger deadline, in the background.
        let (_, ready) = self.0.lock().flush();
        self.0.dispatch(ready);
    }
}

impl fmt::Debug for BufferedPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let coalescer = self.0.0.lock();
        f.debug_tuple("BufferedPublisher")
            .field(&*coalescer)
            .finish()
    }
}
