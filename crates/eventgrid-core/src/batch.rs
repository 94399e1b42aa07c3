//! Serializing events straight into request bodies that respect the limits.

use std::ops::Range;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::limits::Limits;

/// One request's worth of events: the JSON array body and which events it carries.
#[derive(Debug, Clone)]
pub struct EncodedBatch {
    /// Indices of the carried events, in the order they were pushed.
    pub events: Range<usize>,
    /// The request body: a JSON array of the events.
    pub body: Bytes,
}

impl EncodedBatch {
    /// How many events the batch carries.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the batch carries no events (never true for batches the encoder makes).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Serializes events one at a time directly into request bodies, closing a body whenever the
/// next event would break a limit, so each event is serialized exactly once and copied at most
/// once more (only when it starts a new body).
///
/// ```
/// use eventgrid_core::{EventGridEvent, Limits};
/// use eventgrid_core::frontend::{BatchEncoder};
/// let mut encoder = BatchEncoder::new(Limits::default().with_max_events_per_request(2));
/// let mut batches = Vec::new();
/// for n in 0..5 {
///     let event = EventGridEvent::new("t", format!("s/{n}"), n)?;
///     batches.extend(encoder.push(&event)?);
/// }
/// batches.extend(encoder.finish());
/// let sizes: Vec<usize> = batches.iter().map(|b| b.len()).collect();
/// assert_eq!(sizes, [2, 2, 1]);
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug)]
pub struct BatchEncoder {
    limits: Limits,
    body: Vec<u8>,
    first: usize,
    count: usize,
    capacity_hint: usize,
}

impl BatchEncoder {
    /// An encoder for `limits` (assumed valid: see [`Limits::validate`]).
    pub fn new(limits: Limits) -> Self {
        Self::starting_at(limits, 0)
    }

    /// An encoder whose first event has index `first` (for streams that resume counting).
    pub fn starting_at(limits: Limits, first: usize) -> Self {
        Self {
            limits,
            body: Vec::new(),
            first,
            count: 0,
            capacity_hint: 1024,
        }
    }

    /// The index the next pushed event gets.
    pub fn next_index(&self) -> usize {
        self.first + self.count
    }

    /// Events pushed but not yet returned in a batch.
    pub fn pending(&self) -> usize {
        self.count
    }

    /// Bytes of the body being filled (0 when none is open).
    pub fn pending_bytes(&self) -> usize {
        self.body.len()
    }

    /// Adds an event. Returns the previous body when this event did not fit in it. An invalid
    /// or oversized event is refused with its index and leaves the encoder as it was.
    pub fn push<E: Event>(&mut self, event: &E) -> Result<Option<EncodedBatch>> {
        let index = self.next_index();
        event
            .check()
            .map_err(|reason| Error::InvalidEvent { index, reason })?;
        self.push_checked(event)
    }

    /// [`push`](Self::push) for an event whose fields were already checked (by the reader of
    /// a chunked send).
    pub(crate) fn push_checked<E: Event>(&mut self, event: &E) -> Result<Option<EncodedBatch>> {
        let index = self.next_index();
        let mark = self.body.len();
        if self.count == 0 {
            self.body.reserve(self.capacity_hint);
            self.body.push(b'[');
        } else {
            self.body.push(b',');
        }
        let start = self.body.len();
        if let Err(error) = write_within(event, index, &mut self.body, self.limits) {
            self.body.truncate(mark);
            return Err(error);
        }
        // The open body is closed only once the event is known good, so that a refused event
        // never costs the events before it. (+1 for the closing bracket.)
        let full = self.count == self.limits.max_events_per_request;
        if full || self.body.len() + 1 > self.limits.max_request_bytes {
            let tail = self.body[start..].to_vec();
            self.body.truncate(mark);
            let previous = self.finish();
            self.body.reserve(self.capacity_hint.max(tail.len() + 2));
            self.body.push(b'[');
            self.body.extend_from_slice(&tail);
            self.count = 1;
            return Ok(previous);
        }
        self.count += 1;
        Ok(None)
    }

    /// Makes room for `bytes` more in the body being filled (a planned batch's known size).
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.body.reserve(bytes);
    }

    /// Closes the open body, if any, and returns it.
    pub fn finish(&mut self) -> Option<EncodedBatch> {
        if self.count == 0 {
            return None;
        }
        self.body.push(b']');
        self.capacity_hint = self.body.len().next_power_of_two();
        let body = std::mem::take(&mut self.body);
        let events = self.first..self.first + self.count;
        self.first += self.count;
        self.count = 0;
        Some(EncodedBatch {
            events,
            body: Bytes::from(body),
        })
    }
}

/// Appends `event`'s JSON (the event at `index` of its send) to `out` once its fields pass
/// its check, and returns its size; an event that cannot be serialized or is larger than
/// `limits` allow is refused with its index. On error `out` may hold part of the event.
pub(crate) fn write_within<E: Event>(
    event: &E,
    index: usize,
    out: &mut Vec<u8>,
    limits: Limits,
) -> Result<usize> {
    let start = out.len();
    event.write_json(out).map_err(|e| Error::InvalidEvent {
        index,
        reason: format!("could not serialize: {e}"),
    })?;
    let size = out.len() - start;
    if size > limits.max_event_bytes {
        return Err(Error::EventTooLarge {
            index,
            size,
            limit: limits.max_event_bytes,
        });
    }
    Ok(size)
}

/// Validates and encodes all `events` into request bodies; any invalid event refuses the
/// whole set (nothing is returned to send).
pub fn encode_all<E: Event>(
    events: impl IntoIterator<Item = E>,
    limits: Limits,
) -> Result<Vec<EncodedBatch>> {
    let mut encoder = BatchEncoder::new(limits);
    let mut batches = Vec::new();
    for event in events {
        batches.extend(encoder.push(&event)?);
    }
    batches.extend(encoder.finish());
    Ok(batches)
}

/// Encodes events lazily as batches are pulled, so a send of any length holds only the
/// batches in flight. Yields each batch in order; an invalid event yields its error (with its
/// index) and ends the stream, leaving the rest of the events unread.
///
/// ```
/// use eventgrid_core::{EventGridEvent, Limits};
/// use eventgrid_core::frontend::{BatchStream};
/// let events = (0..12_000).map(|n| EventGridEvent::new("t", "s", n).unwrap());
/// let sizes: Vec<usize> = BatchStream::new(events, Limits::default())
///     .map(|batch| batch.unwrap().len())
///     .collect();
/// assert_eq!(sizes, [5_000, 5_000, 2_000]);
/// ```
#[derive(Debug)]
pub struct BatchStream<I> {
    events: I,
    encoder: BatchEncoder,
    ended: bool,
}

impl<I> BatchStream<I> {
    /// A stream of request bodies from `events`.
    pub fn new(events: impl IntoIterator<IntoIter = I>, limits: Limits) -> Self {
        Self {
            events: events.into_iter(),
            encoder: BatchEncoder::new(limits),
            ended: false,
        }
    }
}

impl<I, E> Iterator for BatchStream<I>
where
    I: Iterator<Item = E>,
    E: Event,
{
    type Item = Result<EncodedBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        for event in self.events.by_ref() {
            match self.encoder.push(&event) {
                Ok(Some(batch)) => return Some(Ok(batch)),
                Ok(None) => {}
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error));
                }
            }
        }
        self.ended = true;
        self.encoder.finish().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::{CustomEvent, EventGridEvent};

    /// A custom event whose serialized size is exactly `size` bytes.
    fn event_of_size(size: usize) -> CustomEvent {
        let overhead = r#"{"p":""}"#.len();
        CustomEvent::new(serde_json::json!({"p": "x".repeat(size - overhead)})).unwrap()
    }

    #[test]
    fn event_at_the_limit_passes_one_byte_over_is_refused() {
        let ok = encode_all([event_of_size(65_536)], Limits::default()).unwrap();
        assert_eq!(ok[0].body.len(), 65_538);
        let err = encode_all(
            [event_of_size(10), event_of_size(65_537)],
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::EventTooLarge {
                    index: 1,
                    size: 65_537,
                    limit: 65_536
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn splits_by_bytes_keeping_order_and_valid_json() {
        let events: Vec<_> = (0..100).map(|_| event_of_size(30_000)).collect();
        let batches = encode_all(&events, Limits::default()).unwrap();
        let mut next = 0;
        for batch in &batches {
            assert!(batch.body.len() <= 1_048_576);
            assert_eq!(batch.events.start, next);
            next = batch.events.end;
            let parsed: Vec<Value> = serde_json::from_slice(&batch.body).unwrap();
            assert_eq!(parsed.len(), batch.len());
        }
        assert_eq!(next, 100);
        // 34 events of 30,000 bytes plus separators fit in 1 MiB, 35 do not.
        assert_eq!(batches[0].len(), 34);
        assert_eq!(batches.len(), 3);
    }

    #[test]
    fn splits_by_count() {
        let events: Vec<_> = (0..12_001)
            .map(|n| EventGridEvent::new("t", "s", n).unwrap())
            .collect();
        let batches = encode_all(&events, Limits::default()).unwrap();
        let sizes: Vec<_> = batches.iter().map(EncodedBatch::len).collect();
        assert_eq!(sizes, [5_000, 5_000, 2_001]);
    }

    #[test]
    fn invalid_event_refuses_the_batch_with_its_index() {
        let events = vec![
            EventGridEvent::new("t", "s", 1).unwrap(),
            EventGridEvent::new("", "s", 2).unwrap(),
        ];
        let err = encode_all(&events, Limits::default()).unwrap_err();
        assert_eq!(err.to_string(), "event 1: `eventType` is empty");
    }

    #[test]
    fn stream_stops_at_the_first_invalid_event() {
        let mut consumed = 0;
        let events = (0..20).map(|n| {
            consumed += 1;
            let event_type = if n == 7 { "" } else { "t" };
            EventGridEvent::new(event_type, "s", n).unwrap()
        });
        let limits = Limits::default().with_max_events_per_request(5);
        let results: Vec<_> = BatchStream::new(events, limits).collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].as_ref().unwrap().events, 0..5);
        assert!(matches!(
            results[1],
            Err(Error::InvalidEvent { index: 7, .. })
        ));
        assert_eq!(consumed, 8);
    }

    #[test]
    fn refused_event_after_a_full_batch_keeps_that_batch() {
        let limits = Limits::default().with_max_events_per_request(2);
        let mut encoder = BatchEncoder::new(limits);
        assert!(encoder.push(&event_of_size(100)).unwrap().is_none());
        assert!(encoder.push(&event_of_size(100)).unwrap().is_none());
        assert!(encoder.push(&event_of_size(70_000)).is_err());
        assert!(
            encoder
                .push(&EventGridEvent::without_data("", "s"))
                .is_err()
        );
        let batch = encoder.finish().expect("the two events are still there");
        assert_eq!(batch.events, 0..2);
        assert_eq!(encoder.next_index(), 2);
    }

    #[test]
    fn refused_event_leaves_the_encoder_usable() {
        let mut encoder = BatchEncoder::new(Limits::default());
        encoder.push(&event_of_size(100)).unwrap();
        assert!(encoder.push(&event_of_size(70_000)).is_err());
        encoder.push(&event_of_size(100)).unwrap();
        let batch = encoder.finish().unwrap();
        assert_eq!(batch.events, 0..2);
        assert_eq!(
            serde_json::from_slice::<Vec<Value>>(&batch.body)
                .unwrap()
                .len(),
            2
        );
    }
}
