//! One topic's side of a [`BufferedPublisher`](crate::BufferedPublisher): the batch being
//! filled (events serialized straight into its body), the batches in flight, and the tasks
//! that close and send them.
//!
//! Invariants, all under the one mutex: the open batch has a slot exactly when the encoder
//! holds events; every closed batch is handed to exactly one send task, which publishes its
//! outcome to the batch's slot once, then gives back its events' pending permits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use eventgrid_core::{
    BatchEncoder, EncodedBatch, Error, Event, Result, Topic, TransportError, TransportErrorKind,
};
use tokio::sync::{Semaphore, watch};

use crate::buffered::Shared;

/// A batch's outcome as its events' publishers see it: `None` until the batch is done.
type Slot = watch::Sender<Option<Result<()>>>;

/// Where one publisher waits for its event's batch.
pub(crate) struct Outcome(watch::Receiver<Option<Result<()>>>);

impl Outcome {
    /// The batch's result, the same for every event of the batch.
    pub(crate) async fn wait(mut self) -> Result<()> {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().expect("waited until set"),
            // Only when the send task was dropped unfinished: its runtime shut down.
            Err(_) => Err(Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                "the task sending this event's batch stopped before the batch's outcome was known (its tokio runtime shut down)",
            ))),
        }
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
    /// Outcomes of the batches sent and not yet done, by batch number, for `flush`.
    in_flight: HashMap<u64, watch::Receiver<Option<Result<()>>>>,
}

struct OpenBatch {
    number: u64,
    slot: Slot,
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
        let outcome = Outcome(state.open.as_ref().expect("just opened").slot.subscribe());
        if state.encoder.pending() >= shared.limits.max_events_per_request {
            self.close_open(&mut state, shared);
        }
        Ok(outcome)
    }

    /// Sends the open batch now (for `flush`, `close` and drop) and returns the outcomes of
    /// every batch of this topic not yet done.
    pub(crate) fn flush(self: &Arc<Self>, shared: &Arc<Shared>) -> Vec<Outcome> {
        let mut state = self.lock();
        self.close_open(&mut state, shared);
        state.in_flight.values().cloned().map(Outcome).collect()
    }

    fn open(self: &Arc<Self>, state: &mut State, shared: &Arc<Shared>) {
        let number = state.next_batch;
        state.next_batch += 1;
        state.open = Some(OpenBatch {
            number,
            slot: watch::Sender::new(None),
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
        let OpenBatch { number, slot } = state.open.take().expect("a closed batch had a slot");
        state.in_flight.insert(number, slot.subscribe());
        let topic = state.topic.clone();
        let (buffer, shared) = (self.clone(), shared.clone());
        tokio::spawn(async move {
            let events = batch.len();
            let result = {
                let _request = buffer.requests.acquire().await.expect("never closed");
                shared.client.deliver(&topic, batch).await
            };
            slot.send_replace(Some(result));
            buffer.lock().in_flight.remove(&number);
            shared.release(events);
        });
    }
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
