//! [`BufferedPublisher`]: single publishes from any number of threads coalesced into a few large
//! requests, each caller blocked until its own event's outcome. The rules are the core's
//! [`Coalescer`]; this drives it with threads: the caller whose event opens a batch is that
//! batch's linger timer (it waits anyway), each batch is sent on a thread of its own, and
//! callers beyond the pending limit block until a batch finishes.

use std::fmt;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

use eventgrid_core::{
    BufferedOptions, Coalescer, EncodedBatch, Event, EventGridEventRef, FlushMark, Pushed,
    ReadyBatch, Result, Schema, Ticket, Topic, unsent, with_serialized,
};
use serde::Serialize;

use crate::EventGridClient;

/// Each accepted event's outcome arrives on a channel of its own.
type Tell = SyncSender<Result<()>>;

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
/// nothing is left) and logs a warning (`tracing`) if some events were still waiting.
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
pub struct BufferedPublisher {
    handle: Arc<Handle>,
}

/// Lives as long as some clone of the publisher; its drop is the publisher's drop.
struct Handle {
    shared: Arc<Shared>,
}

/// What the publisher's clones and its sending threads share.
struct Shared {
    client: EventGridClient,
    coalescer: Mutex<Coalescer<Tell>>,
    /// Signalled whenever a batch finishes: room for blocked callers, progress for flushes.
    finished: Condvar,
}

/// Where a caller waits: its event's channel, and the linger deadline of the batch it opened.
struct Joined {
    outcome: Receiver<Result<()>>,
    linger_until: Option<Instant>,
}

impl EventGridClient {
    /// A [`BufferedPublisher`] sending through this client: single publishes from any number of
    /// threads coalesced into few requests. Fails on options beyond the client's limits.
    pub fn buffered(&self, options: BufferedOptions) -> Result<BufferedPublisher> {
        let shared = Shared {
            coalescer: Mutex::new(Coalescer::new(&options, self.options())?),
            client: self.clone(),
            finished: Condvar::new(),
        };
        let shared = Arc::new(shared);
        Ok(BufferedPublisher {
            handle: Arc::new(Handle { shared }),
        })
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
        self.publish(topic, EventGridEventRef::new(&event_type, &subject, &data))
    }

    /// Sends the open batches now and blocks until every event accepted before this call is
    /// delivered or has failed (each caller gets its own event's outcome; failures are also
    /// counted in the client's metrics). Events published meanwhile are not waited for.
    pub fn flush(&self) {
        let (mark, ready) = self.handle.shared.lock().flush();
        self.handle.shared.until_flushed(mark, ready);
    }

    /// Refuses further events (on every clone, with [`Error::Closed`](crate::Error::Closed)),
    /// then flushes: returns when every accepted event is delivered or has failed. Closing again
    /// does no harm.
    pub fn close(&self) {
        let (mark, ready) = self.handle.shared.lock().close();
        self.handle.shared.until_flushed(mark, ready);
    }

    /// Accepted events whose outcome is not known yet (at most `max_pending_events`).
    pub fn pending_events(&self) -> usize {
        self.handle.shared.lock().pending()
    }

    /// The client the publisher sends through.
    pub fn client(&self) -> &EventGridClient {
        &self.handle.shared.client
    }

    /// Adds the serialized event to its topic's open batch, blocking while there is no room.
    fn join(&self, topic: &str, schema: Schema, json: &[u8]) -> Result<Joined> {
        let shared = &self.handle.shared;
        let (mut tell, outcome) = sync_channel(1);
        let mut coalescer = shared.lock();
        let accepted = loop {
            let now = Instant::now();
            match coalescer.push(&shared.client.inner.core, topic, schema, json, tell, now)? {
                Pushed::Accepted(accepted) => break accepted,
                Pushed::NoRoom(back) => {
                    tell = back;
                    coalescer = shared
                        .finished
                        .wait(coalescer)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        };
        drop(coalescer);
        shared.dispatch(accepted.ready);
        let linger_until = accepted.linger_until;
        Ok(Joined {
            outcome,
            linger_until,
        })
    }

    /// Blocks until the event's outcome. A caller whose event opened a batch closes it at its
    /// linger deadline unless something closed it before.
    fn wait(&self, joined: Joined) -> Result<()> {
        if let Some(deadline) = joined.linger_until {
            let left = deadline.saturating_duration_since(Instant::now());
            match joined.outcome.recv_timeout(left) {
                Ok(outcome) => return outcome,
                Err(RecvTimeoutError::Disconnected) => return Err(unsent("was dropped")),
                Err(RecvTimeoutError::Timeout) => {
                    let shared = &self.handle.shared;
                    // Past the deadline however the clock rounded the wait.
                    let ready = shared.lock().poll(Instant::now().max(deadline));
                    shared.dispatch(ready);
                }
            }
        }
        joined
            .outcome
            .recv()
            .unwrap_or_else(|_| Err(unsent("was dropped")))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Coalescer<Tell>> {
        // The coalescer never panics halfway through a change: a poisoned one is whole.
        self.coalescer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends each ready batch on a thread of its own.
    fn dispatch(self: &Arc<Self>, ready: Vec<ReadyBatch<Tell>>) {
        for ReadyBatch {
            topic,
            batch,
            ticket,
            ..
        } in ready
        {
            let sending = Sending(self.clone(), Some(ticket));
            let thread = thread::Builder::new().name("eventgrid-buffered".to_owned());
            // A thread that cannot start drops `sending` unsent, which settles its events.
            let _ = thread.spawn(move || sending.run(&topic, batch));
        }
    }

    /// Sends `ready`, then blocks until every batch before `mark` has finished.
    fn until_flushed(self: &Arc<Self>, mark: FlushMark, ready: Vec<ReadyBatch<Tell>>) {
        self.dispatch(ready);
        let mut coalescer = self.lock();
        while !coalescer.is_flushed(mark) {
            coalescer = self
                .finished
                .wait(coalescer)
                .unwrap_or_else(PoisonError::into_inner);
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
        self.0.finished.notify_all();
        self.0.dispatch(ready);
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        if let Some(ticket) = self.1.take() {
            if thread::panicking() {
                self.settle(ticket, Err(unsent("panicked")));
            } else {
                // Dropped without running: no thread could be started, for this batch nor,
                // likely, for those behind it.
                let error = unsent("could not start (no thread to send it on)");
                self.0.lock().abandon(ticket, error);
                self.0.finished.notify_all();
            }
        }
    }
}

/// The one place a ready batch is handed to the client to be sent.
fn send_batch(client: &EventGridClient, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
    client.inner.deliver(topic, batch)
}

impl Drop for Handle {
    fn drop(&mut self) {
        let (_, ready) = self.shared.lock().flush();
        let pending = self.shared.lock().pending();
        if pending > 0 {
            tracing::warn!(
                pending_events = pending,
                "eventgrid_blocking::BufferedPublisher dropped with {pending} events still on their way; they are sent in the background"
            );
        }
        self.shared.dispatch(ready);
    }
}

impl fmt::Debug for BufferedPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let coalescer = self.handle.shared.lock();
        f.debug_tuple("BufferedPublisher")
            .field(&*coalescer)
            .finish()
    }
}
