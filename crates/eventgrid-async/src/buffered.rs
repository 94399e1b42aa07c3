//! [`BufferedPublisher`]: many single publishes, from any number of tasks, coalesced into a few
//! large requests, each publisher still told its own event's outcome. The rules are the core's
//! [`Coalescer`]; this is its tokio driver: a linger timer per open batch, a task per batch sent,
//! and publishers awaiting room.

use std::fmt;
use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use eventgrid_core::frontend::{
    Coalescer, CoalescerLock, EncodedBatch, FlushMark, Pushed, ReadyBatch, Ticket, Topic, Waiter,
    send_panicked, unsent, with_serialized,
};
use eventgrid_core::{BufferedOptions, Event, EventGridEventRef, Result, Schema};
use serde::Serialize;
use tokio::sync::{Notify, oneshot};

use crate::EventGridClient;

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
/// [`EventGridClient::metrics`]. A send task that ends without an outcome (a panic in a custom
/// transport, its runtime shutting down) still settles its events with an error and gives their
/// room back. [`flush`](Self::flush) sends and waits for everything accepted
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

/// What the publisher's clones and its tasks share.
struct Shared {
    client: EventGridClient,
    coalescer: CoalescerLock<Tell>,
    /// Notified whenever a batch finishes: room for waiting publishers, progress for flushes.
    finished: Notify,
}

/// One publisher's channel: the publishers of a batch, spread over the runtime's threads,
/// share no state while they wait.
struct Tell(oneshot::Sender<Result<()>>);

impl Waiter for Tell {
    fn settle(self, outcome: Result<()>) {
        // A publisher that stopped waiting dropped its end; the outcome is in the metrics too.
        let _ = self.0.send(outcome);
    }
}

type Outcome = oneshot::Receiver<Result<()>>;

/// A serialized event: joined a batch, or waiting (with its bytes) for room.
enum Accept {
    Joined(Outcome),
    NoRoom(Schema, Vec<u8>),
}

impl BufferedPublisher {
    pub(crate) fn new(client: EventGridClient, options: &BufferedOptions) -> Result<Self> {
        let coalescer = CoalescerLock::new(Coalescer::new(options, client.options())?);
        let finished = Notify::new();
        let shared = Arc::new(Shared {
            client,
            coalescer,
            finished,
        });
        Ok(BufferedPublisher {
            handle: Arc::new(Handle { shared }),
        })
    }

    /// Publishes `event` (of the topic's schema: [`EventGridEvent`](crate::EventGridEvent),
    /// [`CloudEvent`](crate::CloudEvent) or [`CustomEvent`](crate::CustomEvent)) to the topic
    /// named `topic` in the next batch, waiting first for room when `max_pending_events` are
    /// pending. Returns when the batch was delivered or finally failed.
    ///
    /// Refused at once, taking no room: an unknown topic, another schema than the topic's, an
    /// invalid or oversized event ([`Error::InvalidEvent`](crate::Error::InvalidEvent) or
    /// [`Error::EventTooLarge`](crate::Error::EventTooLarge) with index 0), and any event after
    /// [`close`](Self::close) ([`Error::Closed`](crate::Error::Closed)).
    pub async fn publish<E: Event>(&self, topic: &str, event: E) -> Result<()> {
        let accepted = self.accept(topic, &event);
        // Serialized: the event need not live while its batch is on its way.
        drop(event);
        self.outcome(topic, accepted?).await
    }

    /// Publishes one event of `event_type` about `subject` carrying `data`, with a new id, the
    /// current time and data version `"v1"`, as [`EventGridClient::emit_event`] does, but in
    /// the next batch; `data` is serialized once, with the event, with no intermediate
    /// [`EventGridEvent`](crate::EventGridEvent) (to a namespace topic, a CloudEvent from its
    /// configured `source`). Data that cannot be serialized is refused as
    /// event 0 ([`Error::InvalidEvent`](crate::Error::InvalidEvent)). See
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
        // Without namespace topics the topic is looked up by the coalescer, once per batch.
        if core.may_have_namespace_topics()
            && let Some(event) = core.namespace_event(topic, &event_type, &subject, &data)?
        {
            return self.publish(topic, event).await;
        }
        let accepted = self.accept(topic, &EventGridEventRef::new(&event_type, &subject, &data));
        drop(data);
        self.outcome(topic, accepted?).await
    }

    /// Sends the open batches now and waits until every event accepted before this call is
    /// delivered or has failed (each publisher gets its own event's outcome; failures are also
    /// logged and counted in the client's metrics). Events published meanwhile are not waited
    /// for.
    pub async fn flush(&self) {
        let (mark, ready) = self.handle.shared.lock().flush();
        self.handle.shared.dispatch(ready);
        self.handle.shared.flushed(mark).await;
    }

    /// Refuses further events (on every clone, with [`Error::Closed`](crate::Error::Closed)),
    /// then flushes: returns when every accepted event is delivered or has failed. Closing
    /// again does no harm.
    pub async fn close(&self) {
        let (mark, ready) = self.handle.shared.lock().close();
        self.handle.shared.dispatch(ready);
        self.handle.shared.flushed(mark).await;
    }

    /// Accepted events whose outcome is not known yet (at most `max_pending_events`).
    pub fn pending_events(&self) -> usize {
        self.handle.shared.lock().pending()
    }

    /// The client the publisher sends through.
    pub fn client(&self) -> &EventGridClient {
        &self.handle.shared.client
    }

    /// Serializes the event and adds it to its topic's open batch. Never waits, so the event
    /// (and data it borrows) is never held across an `await`.
    fn accept<E: Event>(&self, topic: &str, event: &E) -> Result<Accept> {
        with_serialized(event, |schema, json| {
            Ok(match self.handle.shared.push(topic, schema, json)? {
                Some(outcome) => Accept::Joined(outcome),
                None => Accept::NoRoom(schema, json.to_vec()),
            })
        })
    }

    async fn outcome(&self, topic: &str, accepted: Accept) -> Result<()> {
        let outcome = match accepted {
            Accept::Joined(outcome) => outcome,
            Accept::NoRoom(schema, json) => {
                let shared = &self.handle.shared;
                loop {
                    // Registered before looking, so a batch finishing in between is not missed.
                    let finished = shared.finished.notified();
                    if let Some(outcome) = shared.push(topic, schema, &json)? {
                        break outcome;
                    }
                    finished.await;
                }
            }
        };
        // The coalescer settles every event it accepted, even when its send task is lost.
        outcome.await.unwrap_or_else(|_| Err(unsent("was dropped")))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Coalescer<Tell>> {
        self.coalescer.lock()
    }

    /// Adds a serialized event, arming the linger timer of a batch it opens and sending the
    /// batches it makes ready; `None` when `max_pending_events` events wait already.
    fn push(self: &Arc<Self>, topic: &str, schema: Schema, json: &[u8]) -> Result<Option<Outcome>> {
        let (tell, outcome) = oneshot::channel();
        let core = self.client.core();
        let now = Instant::now();
        let pushed = self
            .lock()
            .push(core, topic, schema, json, Tell(tell), now)?;
        let Pushed::Accepted(accepted) = pushed else {
            return Ok(None);
        };
        if let Some(deadline) = accepted.linger_until {
            let shared = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline.into()).await;
                let ready = shared.lock().poll(Instant::now().max(deadline));
                shared.dispatch(ready);
            });
        }
        self.dispatch(accepted.ready);
        Ok(Some(outcome))
    }

    /// Sends each ready batch on a task of its own.
    fn dispatch(self: &Arc<Self>, ready: Vec<ReadyBatch<Tell>>) {
        for ReadyBatch {
            topic,
            batch,
            ticket,
            ..
        } in ready
        {
            let job = Job {
                shared: self.clone(),
                ticket: Some(ticket),
                started: false,
            };
            // Without a runtime the job is dropped unstarted, which settles its events.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(job.run(topic, batch));
            }
        }
    }

    /// A batch's outcome: its publishers are told, their room and the request slot given
    /// back, and the batches that waited for the slot sent.
    fn finish(self: &Arc<Self>, ticket: Ticket<Tell>, outcome: Result<()>) {
        let finished = self.lock().finish(ticket, outcome);
        let ready = finished.settle();
        self.finished.notify_waiters();
        self.dispatch(ready);
    }

    async fn flushed(&self, mark: FlushMark) {
        loop {
            let finished = self.finished.notified();
            if self.lock().is_flushed(mark) {
                return;
            }
            finished.await;
        }
    }
}

/// A batch on its way. However its task ends, its events get an outcome and their room back:
/// sent, panicked, cancelled, or never started (the runtime refusing new tasks, when the
/// batches waiting behind it fail too).
struct Job {
    shared: Arc<Shared>,
    ticket: Option<Ticket<Tell>>,
    started: bool,
}

impl Job {
    async fn run(mut self, topic: Arc<Topic>, batch: EncodedBatch) {
        self.started = true;
        let outcome = send_batch(&self.shared.client, &topic, batch).await;
        if let Some(ticket) = self.ticket.take() {
            self.shared.finish(ticket, outcome);
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        if !self.started {
            let error = unsent("could not start (no tokio runtime would run its task)");
            self.shared.lock().abandon(ticket, error);
            self.shared.finished.notify_waiters();
        } else if std::thread::panicking() {
            self.shared.finish(ticket, Err(send_panicked()));
        } else {
            self.shared
                .finish(ticket, Err(unsent("was cancelled (its runtime shut down)")));
        }
    }
}

/// The one place a ready batch is handed to the client to be sent.
async fn send_batch(
    client: &EventGridClient,
    topic: &Arc<Topic>,
    batch: EncodedBatch,
) -> Result<()> {
    client.deliver(topic, batch).await
}

impl Drop for Handle {
    fn drop(&mut self) {
        let pending = {
            let coalescer = self.shared.lock();
            if coalescer.is_closed() {
                return;
            }
            coalescer.pending()
        };
        tracing::warn!(
            pending_events = pending,
            "BufferedPublisher dropped without close(): the {pending} events already accepted are still being sent in the background, but nothing waits for them; call close().await first"
        );
        // Send the open batches now rather than after their linger time, where a runtime
        // is at hand to spawn on; otherwise their linger timers send them.
        if tokio::runtime::Handle::try_current().is_ok() {
            let (_, ready) = self.shared.lock().flush();
            self.shared.dispatch(ready);
        }
    }
}

impl fmt::Debug for BufferedPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BufferedPublisher")
            .field(&*self.handle.shared.lock())
            .finish()
    }
}
