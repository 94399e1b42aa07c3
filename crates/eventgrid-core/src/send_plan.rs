//! [`SendPlan`]: `send`'s promise (nothing is sent when any event is invalid) in bounded
//! memory. A first pass checks and measures every event and decides the batches from the
//! sizes alone, keeping no body; each batch is then encoded only when it goes out.

use std::ops::Range;

use crate::batch::{BatchEncoder, EncodedBatch, write_within};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::limits::Limits;

/// The batches a `send` of `events` will make, decided before anything is sent.
///
/// [`new`](Self::new) refuses the whole send on the first invalid or oversized event, exactly
/// as [`encode_all`](crate::frontend::encode_all) would (same error, same index), and the
/// batches are the ones `encode_all` would make; but where `encode_all` keeps every body,
/// the plan keeps only the events and one range per batch, and [`encode`](Self::encode)
/// writes a batch's body when it is needed, so a send holds only the bodies in flight.
/// `encode` takes `&self`: several threads may encode different batches at once.
///
/// ```
/// use eventgrid_core::{EventGridEvent, Limits};
/// use eventgrid_core::frontend::{SendPlan, encode_all};
/// let events: Vec<_> = (0..12_001).map(|n| EventGridEvent::new("t", "s", n).unwrap()).collect();
/// let plan = SendPlan::new(&events, Limits::default())?;
/// assert_eq!(plan.len(), 3);
/// let planned: Vec<_> = (0..plan.len()).map(|n| plan.encode(n).unwrap().body).collect();
/// let at_once: Vec<_> = encode_all(&events, Limits::default())?.into_iter().map(|b| b.body).collect();
/// assert_eq!(planned, at_once);
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug)]
pub struct SendPlan<E> {
    events: Vec<E>,
    /// Each event's size when measured (at most `max_event_bytes`, so at most 1 MiB).
    sizes: Vec<u32>,
    batches: Vec<PlannedBatch>,
    limits: Limits,
}

#[derive(Debug, Clone)]
struct PlannedBatch {
    events: Range<usize>,
    body_bytes: usize,
}

impl<E: Event> SendPlan<E> {
    /// Checks and measures every event (serializing each into one reused scratch buffer) and
    /// plans the batches within `limits` (assumed valid: see [`Limits::validate`]).
    pub fn new(events: impl IntoIterator<Item = E>, limits: Limits) -> Result<Self> {
        let events = events.into_iter();
        let mut kept = Vec::with_capacity(events.size_hint().0);
        let mut sizes = Vec::with_capacity(events.size_hint().0);
        let mut planner = BatchPlanner::new(limits);
        let mut scratch = Vec::with_capacity(1024);
        for (index, event) in events.enumerate() {
            event
                .check()
                .map_err(|reason| Error::InvalidEvent { index, reason })?;
            scratch.clear();
            let size = write_within(&event, index, &mut scratch, limits)?;
            planner.add(size);
            kept.push(event);
            // An event is at most `max_event_bytes` (validated at most 1 MiB).
            sizes.push(u32::try_from(size).unwrap_or(u32::MAX));
        }
        Ok(Self {
            events: kept,
            sizes,
            batches: planner.finish(),
            limits,
        })
    }

    /// How many batches (requests) the send makes.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Which events batch `batch` carries.
    pub fn events_of(&self, batch: usize) -> Range<usize> {
        self.batches[batch].events.clone()
    }

    /// Encodes batch `batch` (`0..len()`) into its body, allocated once at its planned size.
    /// An event whose data serializes differently from when it was measured (a `Serialize`
    /// that is not deterministic) refuses the batch with that event's index, sending none of
    /// it.
    pub fn encode(&self, batch: usize) -> Result<EncodedBatch> {
        let planned = &self.batches[batch];
        let mut encoder = BatchEncoder::starting_at(self.limits, planned.events.start);
        encoder.reserve(planned.body_bytes);
        // `[` then each event, with a `,` before all but the first.
        let mut expected_bytes = 0;
        for index in planned.events.clone() {
            expected_bytes += 1 + self.sizes[index] as usize;
            let early = encoder.push(&self.events[index])?;
            if early.is_some() || encoder.pending_bytes() != expected_bytes {
                return Err(changed_since_measured(index));
            }
        }
        encoder
            .finish()
            .ok_or_else(|| Error::Internal("a planned batch had no events".to_owned()))
    }

    /// The batches encoded one at a time as they are pulled, in order.
    pub fn into_batches(self) -> impl Iterator<Item = Result<EncodedBatch>> {
        (0..self.len()).map(move |batch| self.encode(batch))
    }
}

fn changed_since_measured(index: usize) -> Error {
    Error::InvalidEvent {
        index,
        reason: "its JSON changed between the check before sending and the encoding".to_owned(),
    }
}

/// The batching decision of [`BatchEncoder::push`] made from event sizes alone: a body is
/// `[`, the events separated by `,`, then `]`, closed before an event that would make it
/// exceed the request limits.
#[derive(Debug)]
struct BatchPlanner {
    limits: Limits,
    batches: Vec<PlannedBatch>,
    first: usize,
    count: usize,
    open_bytes: usize,
}

impl BatchPlanner {
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            batches: Vec::new(),
            first: 0,
            count: 0,
            open_bytes: 0,
        }
    }

    fn add(&mut self, size: usize) {
        if self.count > 0 {
            let with_event = self.open_bytes + 1 + size;
            let full = self.count == self.limits.max_events_per_request;
            if !full && with_event < self.limits.max_request_bytes {
                self.open_bytes = with_event;
                self.count += 1;
                return;
            }
            self.close();
        }
        self.open_bytes = 1 + size;
        self.count = 1;
    }

    fn close(&mut self) {
        self.batches.push(PlannedBatch {
            events: self.first..self.first + self.count,
            body_bytes: self.open_bytes + 1,
        });
        self.first += self.count;
        self.count = 0;
    }

    fn finish(mut self) -> Vec<PlannedBatch> {
        if self.count > 0 {
            self.close();
        }
        self.batches
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde::{Serialize, Serializer};

    use super::*;
    use crate::frontend::encode_all;
    use crate::{CustomEvent, EventGridEvent, TypedEventGridEvent};

    fn event_of_size(size: usize) -> CustomEvent {
        let overhead = r#"{"p":""}"#.len();
        CustomEvent::new(serde_json::json!({"p": "x".repeat(size - overhead)})).unwrap()
    }

    /// Sizes from a small deterministic generator, so that bodies close on bytes and on counts.
    fn mixed_sizes(count: usize, seed: u64) -> Vec<usize> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                10 + (state >> 33) as usize % 3_000
            })
            .collect()
    }

    #[test]
    fn plans_the_batches_encode_all_makes_byte_for_byte() {
        for (seed, limits) in [
            (1, Limits::default()),
            (2, Limits::default().with_max_request_bytes(70_000)),
            (3, Limits::default().with_max_events_per_request(7)),
            (
                4,
                Limits::default()
                    .with_max_event_bytes(3_010)
                    .with_max_request_bytes(3_012),
            ),
        ] {
            let events: Vec<_> = mixed_sizes(2_000, seed)
                .into_iter()
                .map(event_of_size)
                .collect();
            let at_once = encode_all(&events, limits).unwrap();
            let plan = SendPlan::new(&events, limits).unwrap();
            assert_eq!(plan.len(), at_once.len(), "seed {seed}");
            for (n, expected) in at_once.iter().enumerate() {
                let planned = plan.encode(n).unwrap();
                assert_eq!(planned.events, expected.events, "seed {seed} batch {n}");
                assert_eq!(planned.body, expected.body, "seed {seed} batch {n}");
                assert_eq!(plan.events_of(n), expected.events);
            }
        }
    }

    #[test]
    fn refuses_the_whole_send_as_encode_all_does() {
        let events = vec![
            EventGridEvent::new("t", "s", 1).unwrap(),
            EventGridEvent::new("", "s", 2).unwrap(),
        ];
        let error = SendPlan::new(&events, Limits::default()).unwrap_err();
        assert_eq!(error.to_string(), "event 1: `eventType` is empty");
        let events = [event_of_size(10), event_of_size(65_537)];
        let error = SendPlan::new(events, Limits::default()).unwrap_err();
        assert!(
            matches!(
                error,
                Error::EventTooLarge {
                    index: 1,
                    size: 65_537,
                    limit: 65_536
                }
            ),
            "{error}"
        );
        let plan = SendPlan::new(Vec::<CustomEvent>::new(), Limits::default()).unwrap();
        assert!(plan.is_empty());
    }

    /// Data that serializes longer each time it is serialized.
    struct Growing(Cell<usize>);

    impl Serialize for Growing {
        fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            self.0.set(self.0.get() + 1);
            serializer.serialize_str(&"x".repeat(self.0.get()))
        }
    }

    #[test]
    fn data_that_changes_after_the_check_refuses_its_batch_not_a_wrong_body() {
        let events = vec![
            TypedEventGridEvent::new("t", "s", Growing(Cell::new(0))),
            TypedEventGridEvent::new("t", "s", Growing(Cell::new(0))),
        ];
        let plan = SendPlan::new(events, Limits::default()).unwrap();
        let error = plan.encode(0).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidEvent { index: 0, reason } if reason.contains("changed")),
            "{error}"
        );
    }
}
