//! One topic's side of a [`BufferedPublisher`](crate::BufferedPublisher): the batch being
//! filled (each event serialized once, its bytes appended), the batches in flight, and the tasks
//! that close and send them.
//!
//! Invariants, all under the one mutex: the open batch exists exactly when the encoder holds
//! events, with one waiter per event in it; every closed batch is handed to exactly one send
//! task, which gives each waiter the batch's outcome, marks the batch done, then gives back its
//! events' pending permits.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use eventgrid_core::frontend::{BatchEncoder, EncodedBatch, Topic};
use eventgrid_core::{Error, Event, Result, Schema, TransportError, TransportErrorKind};
use tokio::sync::{Semaphore, oneshot, watch};

use crate::buffered::Shared;

/// Where one publisher waits for its event's batch. One channel per event: publishers of a
/// batch, spread over the runtime's threads, then share no state while they wait.
pub(crate) struct Outcome(oneshot::Receiver<Result<()>>);

impl Outcome {
    /// The batch's result, the same for every event of the batch.
    pub(crate) async fn wait(self) -> Result<()> {
        match self.0.await {
            Ok(outcome) => outcome,
            // Only when the send task was dropped unfinished: its runtime shut down.
            Err(_) => Err(Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                "the task sending this event's batch stopped before the batch's outcome was known (its tokio runtime shut down)",
            ))),
        }
    }
}

/// Where `flush` waits for a batch sent before it.
pub(crate) struct Done(watch::Receiver<bool>);

impl Done {
    pub(crate) async fn wait(mut self) {
        // An error means the send task was dropped: the batch will never be done either.
        let _ = self.0.wait_for(|done| *done).await;
    }
}

pub(crate) struct TopicBuffer {
    /// Request slots of this topic.
    requests: Semaphore,
    state: Mutex<State>,
}

struct State {
    /// The topic as configured when the open (or last) batch opened.
    topic: Arc<Topic>,
    encoder: BatchEncoder,
    open: Option<OpenBatch>,
    next_batch: u64,
    /// The batches sent and not yet done, by batch number, for `flush`.
    in_flight: HashMap<u64, watch::Receiver<bool>>,
}

struct OpenBatch {
    number: u64,
    /// One per event, in order.
    waiters: Vec<oneshot::Sender<Result<()>>>,
    done: watch::Sender<bool>,
}

impl TopicBuffer {
    pub(crate) fn new(topic: Arc<Topic>, shared: &Shared) -> Self {
        TopicBuffer {
            requests: Semaphore::new(shared.requests_per_topic),
            state: Mutex::new(State {
                topic,
                encoder: BatchEncoder::new(shared.limits),
                open: None,
                next_batch: 0,
                in_flight: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under the lock panics halfway through a change; a poisoned state is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serializes `event` into the open batch (opening one, and its linger timer, if needed),
    /// and sends the batch at once when it is full. An invalid event is refused as event 0 and
    /// changes nothing. Runs inside a tokio runtime (it may spawn).
    pub(crate) fn push<E: Event>(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        name: &str,
        event: &E,
    ) -> Result<Outcome> {
        // Serializing is most of the work: do it before taking the lock, so that publishers
        // on different threads serialize at once, and only copy the bytes under the lock.
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            let outcome = serialize(event, scratch)
                .and_then(|()| self.push_serialized(shared, name, &Serialized::<E>::new(scratch)));
            if scratch.capacity() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
            outcome
        })
    }

    fn push_serialized<E: Event>(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        name: &str,
        event: &Serialized<'_, E>,
    ) -> Result<Outcome> {
        let mut state = self.lock();
        // Checked under the lock, so `close` sees every event accepted before it.
        if shared.is_closed() {
            return Err(Error::Closed);
        }
        if state.open.is_none() {
            // The client's topics may change at run time: look the topic up again for each
            // batch (not each event, which would cost a shared lock per event).
            state.topic = shared.client.core().topic(name)?;
        }
        state.topic.check_schema::<E>()?;
        match state.encoder.push(event) {
            Err(error) => return Err(as_single_event(error)),
            // The event did not fit: the previous batch closed, the event starts the next.
            Ok(Some(full)) => self.dispatch(&mut state, full, shared),
            Ok(None) => {}
        }
        if state.open.is_none() {
            self.open(&mut state, shared);
        }
        let (tell, outcome) = oneshot::channel();
        let open = state.open.as_mut().expect("just opened");
        open.waiters.push(tell);
        if state.encoder.pending() >= shared.limits.max_events_per_request {
            self.close_open(&mut state, shared);
        }
        Ok(Outcome(outcome))
    }

    /// Sends the open batch now (for `flush`, `close` and drop) and returns where to wait for
    /// every batch of this topic not yet done.
    pub(crate) fn flush(self: &Arc<Self>, shared: &Arc<Shared>) -> Vec<Done> {
        let mut state = self.lock();
        self.close_open(&mut state, shared);
        state.in_flight.values().cloned().map(Done).collect()
    }

    fn open(self: &Arc<Self>, state: &mut State, shared: &Arc<Shared>) {
        let number = state.next_batch;
        state.next_batch += 1;
        state.open = Some(OpenBatch {
            number,
            waiters: Vec::new(),
            done: watch::Sender::new(false),
        });
        let (buffer, shared) = (self.clone(), shared.clone());
        tokio::spawn(async move {
            tokio::time::sleep(shared.linger).await;
            let mut state = buffer.lock();
            if state
                .open
                .as_ref()
                .is_some_and(|open| open.number == number)
            {
                buffer.close_open(&mut state, &shared);
            }
        });
    }

    fn close_open(self: &Arc<Self>, state: &mut State, shared: &Arc<Shared>) {
        if let Some(batch) = state.encoder.finish() {
            self.dispatch(state, batch, shared);
        }
    }

    /// Hands the just-closed `batch` (the open one) to a task that sends it when a request
    /// slot is free and then tells its publishers.
    fn dispatch(self: &Arc<Self>, state: &mut State, batch: EncodedBatch, shared: &Arc<Shared>) {
        let OpenBatch {
            number,
            waiters,
            done,
        } = state.open.take().expect("a closed batch was open");
        state.in_flight.insert(number, done.subscribe());
        let topic = state.topic.clone();
        let (buffer, shared) = (self.clone(), shared.clone());
        tokio::spawn(async move {
            let events = batch.len();
            let result = {
                let _request = buffer.requests.acquire().await.expect("never closed");
                shared.client.deliver(&topic, batch).await
            };
            for waiter in waiters {
                // A publisher that stopped waiting has dropped its end; the outcome is also
                // in the log and the metrics.
                let _ = waiter.send(result.clone());
            }
            done.send_replace(true);
            buffer.lock().in_flight.remove(&number);
            shared.release(events);
        });
    }
}

thread_local! {
    /// Where publishers on this thread serialize their event before copying it into a batch.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch capacity kept between events; an event larger than this frees it afterwards.
const SCRATCH_KEPT: usize = 64 * 1024;

/// An event already checked and serialized: encoding it copies its bytes.
struct Serialized<'a, E> {
    json: &'a [u8],
    schema: PhantomData<E>,
}

impl<'a, E> Serialized<'a, E> {
    fn new(json: &'a [u8]) -> Self {
        Serialized {
            json,
            schema: PhantomData,
        }
    }
}

impl<E: Event> Event for Serialized<'_, E> {
    const SCHEMA: Schema = E::SCHEMA;

    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> std::result::Result<(), serde_json::Error> {
        out.extend_from_slice(self.json);
        Ok(())
    }
}

/// Checks `event` and writes its JSON to `out`; a refusal names event 0.
fn serialize<E: Event>(event: &E, out: &mut Vec<u8>) -> Result<()> {
    event
        .check()
        .map_err(|reason| Error::InvalidEvent { index: 0, reason })?;
    event.write_json(out).map_err(|e| Error::InvalidEvent {
        index: 0,
        reason: format!("could not serialize: {e}"),
    })
}

/// The encoder numbers events across the topic's batches; a publisher hands in one event, so
/// its error names event 0.
fn as_single_event(error: Error) -> Error {
    match error {
        Error::InvalidEvent { reason, .. } => Error::InvalidEvent { index: 0, reason },
        Error::EventTooLarge { size, limit, .. } => Error::EventTooLarge {
            index: 0,
            size,
            limit,
        },
        other => other,
    }
}
