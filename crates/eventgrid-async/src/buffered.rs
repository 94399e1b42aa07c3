//! [`BufferedPublisher`]: many single publishes, from any number of tasks, coalesced into a few
//! large requests, each publisher still told its own event's outcome.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use eventgrid_core::{Error, Event, EventGridEventRef, Limits, Result};
use serde::Serialize;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::EventGridClient;
use crate::buffered_options::BufferedOptions;
use crate::buffered_topic::{Done, Outcome, TopicBuffer};

/// Publishes events one at a time, as `emit_event` does, but sends them in shared batches:
/// each event is serialized once and its bytes appended to its topic's open request body,
/// which is sent when full or after the linger time (see [`BufferedOptions`]). Made by
/// [`EventGridClient::buffered`].
///
/// [`publish`](Self::publish) and [`emit_event`](Self::emit_event) return when that event's
/// batch was accepted by the service, or finally failed (after the client's retries): then
/// every publisher of the batch gets a copy of the batch's error, the same error
/// [`EventGridClient::emit_event`] would have given. An invalid or oversized event is refused
/// before it joins a batch (as event 0) and does not affect the others.
///
/// At most `max_pending_events` accepted events wait for their outcome at once; further
/// publishers wait for room, so memory stays bounded however fast events come.
///
/// Every accepted event ends with exactly one outcome, even when its publisher stops waiting
/// (its future dropped): the batch is still sent, and a failure is logged and counted in
/// [`EventGridClient::metrics`]. [`flush`](Self::flush) sends and waits for everything accepted
/// so far; [`close`](Self::close) does the same and refuses later events. Clones share the
/// buffers; dropping the last one without `close` logs a warning (`tracing`), and the events
/// already accepted are still sent by background tasks on the runtime.
///
/// Topics added to the client at run time can be published to at once; a topic removed takes
/// no more events once its open batch (if any) has been sent.
///
/// Use it inside a tokio runtime: publishing spawns the tasks that send the batches.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_async::{BufferedOptions, Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
/// use serde_json::json;
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
/// #     .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5"))).await?;
/// # let endpoint = emulator.topic_endpoint("user-events");
/// let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
/// let client = EventGridClient::new(config, Credential::access_key("a2V5"))?;
/// let publisher = client.buffered(BufferedOptions::default().with_linger(Duration::from_millis(10)))?;
///
/// // 1,000 tasks each publish one event and learn its own outcome...
/// let tasks: Vec<_> = (0..1_000).map(|n| {
///     let publisher = publisher.clone();
///     tokio::spawn(async move {
///         publisher.emit_event("user-events", "user.seen", format!("users/{n}"), json!({"n": n})).await
///     })
/// }).collect();
/// for task in tasks {
///     task.await??;
/// }
/// // ...in a handful of requests.
/// assert!(client.metrics()["user-events"].requests < 20);
///
/// // An invalid event is refused at once; the others are not affected.
/// let refused = publisher.emit_event("user-events", "", "users/x", 1).await;
/// assert!(matches!(refused, Err(eventgrid_async::Error::InvalidEvent { index: 0, .. })));
///
/// // At shutdown: wait for everything accepted, refuse the rest.
/// publisher.close().await;
/// let late = publisher.emit_event("user-events", "user.seen", "users/8", 8).await;
/// assert!(matches!(late, Err(eventgrid_async::Error::Closed)));
/// # assert_eq!(emulator.counters("user-events").accepted_events, 1_000);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BufferedPublisher {
    handle: Arc<Handle>,
}

/// Lives as long as some clone of the publisher; its drop is the publisher's drop.
struct Handle {
    shared: Arc<Shared>,
}

/// What the publisher's clones and its background tasks share.
pub(crate) struct Shared {
    pub(crate) client: EventGridClient,
    pub(crate) limits: Limits,
    pub(crate) linger: Duration,
    pub(crate) requests_per_topic: usize,
    max_pending: usize,
    /// One permit per event that may be accepted; taken when accepted, given back when its
    /// batch is done.
    pending: Padded<Semaphore>,
    closed: AtomicBool,
    topics: Padded<RwLock<HashMap<String, Arc<TopicBuffer>>>>,
}

/// Keeps a value that every publish writes (a semaphore's count, a lock's reader count) on
/// cache lines of its own: sharing a line with its neighbours made publishers on the two cores
/// of the benchmark machine stall on each other (measured: a tenth of the CPU time).
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl Shared {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `events` accepted events are done.
    pub(crate) fn release(&self, events: usize) {
        self.pending.add_permits(events);
    }

    fn pending_events(&self) -> usize {
        self.max_pending - self.pending.available_permits()
    }

    /// Serializes `event` into the open batch of the topic named `name`.
    fn push<E: Event>(self: &Arc<Self>, name: &str, event: &E) -> Result<Outcome> {
        {
            let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
            if let Some(buffer) = topics.get(name) {
                return buffer.push(self, name, event);
            }
        }
        let topic = self.client.core().topic(name)?;
        let buffer = self
            .topics
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(TopicBuffer::new(topic, self)))
            .clone();
        buffer.push(self, name, event)
    }

    fn buffers(&self) -> Vec<Arc<TopicBuffer>> {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        topics.values().cloned().collect()
    }

    /// Sends every open batch now; returns where to wait for all batches not yet done.
    fn flush_all(self: &Arc<Self>) -> Vec<Done> {
        self.buffers()
            .iter()
            .flat_map(|buffer| buffer.flush(self))
            .collect()
    }
}

impl BufferedPublisher {
    pub(crate) fn new(client: EventGridClient, options: &BufferedOptions) -> Result<Self> {
        let (limits, requests_per_topic) = options.resolve(client.options())?;
        let max_pending = options.max_pending_events.min(Semaphore::MAX_PERMITS);
        Ok(BufferedPublisher {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared {
                    client,
                    limits,
                    linger: options.linger,
                    requests_per_topic,
                    max_pending,
                    pending: Padded(Semaphore::new(max_pending)),
                    closed: AtomicBool::new(false),
                    topics: Padded(RwLock::new(HashMap::new())),
                }),
            }),
        })
    }

    /// Publishes `event` (of the topic's schema: [`EventGridEvent`](crate::EventGridEvent),
    /// [`CloudEvent`](crate::CloudEvent) or [`CustomEvent`](crate::CustomEvent)) to the topic
    /// named `topic` in the next batch, waiting first for room when `max_pending_events` are
    /// pending. Returns when the batch was delivered or finally failed.
    ///
    /// Refused before joining a batch (after waiting for room, if there was none; the room is
    /// given back): an unknown topic, another schema than the topic's, an invalid or oversized
    /// event ([`Error::InvalidEvent`] or [`Error::EventTooLarge`] with index 0), and any event
    /// after [`close`](Self::close) ([`Error::Closed`]).
    pub async fn publish<E: Event>(&self, topic: &str, event: E) -> Result<()> {
        let room = self.room().await?;
        let outcome = self.accept(topic, &event, room)?;
        // Serialized: the event need not live while its batch is on its way.
        drop(event);
        outcome.wait().await
    }

    /// Publishes one event of `event_type` about `subject` carrying `data`, with a new id, the
    /// current time and data version `"v1"`, as [`EventGridClient::emit_event`] does, but in
    /// the next batch; `data` is serialized once, with the event, with no intermediate
    /// [`EventGridEvent`](crate::EventGridEvent) (to a namespace topic, a CloudEvent from its
    /// configured `source`). Data that cannot be serialized is refused as
    /// event 0 ([`Error::InvalidEvent`]). See
    /// [`publish`](Self::publish).
    pub async fn emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        let (event_type, subject) = (event_type.into(), subject.into());
        let core = self.client().core();
        if let Some(event) = core.namespace_event(topic, &event_type, &subject, &data)? {
            return self.publish(topic, event).await;
        }
        let room = self.room().await?;
        let event = EventGridEventRef::new(&event_type, &subject, &data);
        let outcome = self.accept(topic, &event, room)?;
        drop(data);
        outcome.wait().await
    }

    /// Sends the open batches now and waits until every event accepted before this call is
    /// delivered or has failed (each publisher gets its own event's outcome; failures are also
    /// logged and counted in the client's metrics). Events published meanwhile are not waited
    /// for.
    pub async fn flush(&self) {
        // Each failure goes to its publisher, the log and the metrics.
        for batch in self.handle.shared.flush_all() {
            batch.wait().await;
        }
    }

    /// Refuses further events (on every clone, with [`Error::Closed`]), then flushes: returns
    /// when every accepted event is delivered or has failed. Closing again does no harm.
    pub async fn close(&self) {
        self.handle.shared.closed.store(true, Ordering::Release);
        self.flush().await;
    }

    /// Accepted events whose outcome is not known yet (at most `max_pending_events`).
    pub fn pending_events(&self) -> usize {
        self.handle.shared.pending_events()
    }

    /// The client the publisher sends through.
    pub fn client(&self) -> &EventGridClient {
        &self.handle.shared.client
    }

    /// Refuses events once closed; otherwise waits for room for one more pending event.
    async fn room(&self) -> Result<SemaphorePermit<'_>> {
        let shared = &self.handle.shared;
        if shared.is_closed() {
            return Err(Error::Closed);
        }
        // The fast path (room available) needs no future and no waiter registration.
        match shared.pending.try_acquire() {
            Ok(room) => Ok(room),
            Err(_) => Ok(shared.pending.acquire().await.expect("never closed")),
        }
    }

    /// Serializes the event into its topic's open batch and returns where to wait for the
    /// batch's outcome. Never waits, so the event is never held across an `await`.
    fn accept<E: Event>(
        &self,
        topic: &str,
        event: &E,
        room: SemaphorePermit<'_>,
    ) -> Result<Outcome> {
        let outcome = self.handle.shared.push(topic, event)?;
        // The permit now belongs to the event's batch, which gives it back when done.
        room.forget();
        Ok(outcome)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.shared.is_closed() {
            return;
        }
        let pending = self.shared.pending_events();
        tracing::warn!(
            pending_events = pending,
            "BufferedPublisher dropped without close(): the {pending} events already accepted are still being sent in the background, but nothing waits for them; call close().await first"
        );
        // Send the open batches now rather than after their linger time, where a runtime
        // is at hand to spawn on; otherwise their linger timers send them.
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(self.shared.flush_all());
        }
    }
}

impl fmt::Debug for BufferedPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.handle.shared;
        f.debug_struct("BufferedPublisher")
            .field("limits", &shared.limits)
            .field("linger", &shared.linger)
            .field("max_concurrent_requests", &shared.requests_per_topic)
            .field("max_pending_events", &shared.max_pending)
            .field("pending_events", &shared.pending_events())
            .field("closed", &shared.is_closed())
            .finish()
    }
}
