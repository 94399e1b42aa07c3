//! Reading a stream's events into chunks that other threads or tasks encode, so that a
//! `send_stream` encodes on every core while the caller's iterator is read on one.
//!
//! The reader (the thread or task that owns the caller's iterator) checks each event's fields
//! as it reads it, so an event with a missing field still stops the stream where it is found,
//! with nothing after it read. It also serializes the first event of each chunk into a scratch
//! buffer, to size the next chunks to about one request body each. What only the full encoding
//! finds (an event too large, or whose data cannot be serialized) is found by an encoder, after
//! the reader may have read a few chunks further: those events are reported not sent, with
//! that event's error, by [`SendTracker::stream_failed`](crate::frontend::SendTracker::stream_failed).

use std::ops::Range;

use crate::batch::{BatchEncoder, EncodedBatch, write_within};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::limits::Limits;

/// Chunks are sized to fill this share of a request body (in 32nds), so that events a little
/// larger than the ones sampled still fit one body instead of spilling into a second, small one.
const FILL_32NDS: usize = 31;

/// Events read from a send's iterator, in order, to be encoded on any thread by
/// [`encode`](Self::encode).
#[derive(Debug)]
pub struct EventChunk<E> {
    first: usize,
    events: Vec<E>,
    /// The body's size the reader expects from the events it sampled.
    expected_bytes: usize,
}

impl<E: Event> EventChunk<E> {
    /// The indices of the chunk's events in the send.
    pub fn events(&self) -> Range<usize> {
        self.first..self.first + self.events.len()
    }

    /// Encodes the chunk into request bodies within `limits`: usually one, two when its events
    /// turned out larger than the ones sampled. An event that cannot be encoded ends the chunk:
    /// the bodies closed before it are kept, the events of the open body are not sent.
    pub fn encode(self, limits: Limits) -> EncodedChunk {
        let events = self.events();
        let mut encoder = BatchEncoder::starting_at(limits, self.first);
        // Allocated once, at about its final size: growing a body of a megabyte by doubling
        // costs a copy and fresh pages at each step.
        let margin = self.expected_bytes / 16;
        encoder.reserve((self.expected_bytes + margin).min(limits.max_request_bytes));
        let mut batches = Vec::with_capacity(1);
        for event in &self.events {
            // The reader checked each event's fields as it read it.
            match encoder.push_checked(event) {
                Ok(closed) => batches.extend(closed),
                Err(error) => {
                    return EncodedChunk {
                        events,
                        batches,
                        error: Some(error),
                    };
                }
            }
        }
        batches.extend(encoder.finish());
        EncodedChunk {
            events,
            batches,
            error: None,
        }
    }
}

/// What encoding an [`EventChunk`] made: its request bodies, in order, and the error that ended
/// it early, if one did.
#[derive(Debug)]
#[non_exhaustive]
pub struct EncodedChunk {
    /// The indices of the chunk's events in the send.
    pub events: Range<usize>,
    /// Request bodies, in order; together they carry the chunk's events up to the error, if any.
    pub batches: Vec<EncodedBatch>,
    /// Why the chunk's events after the last body were not encoded.
    pub error: Option<Error>,
}

impl EncodedChunk {
    /// The chunk's bodies in order, then the error that ended it, if one did, with `read`, the
    /// number of events read from the caller's iterator by the time it is delivered.
    pub fn into_results(
        self,
        read: usize,
    ) -> impl Iterator<Item = Result<EncodedBatch, StreamEnd>> {
        let end = self.error.map(|error| Err(StreamEnd::new(error, read)));
        self.batches.into_iter().map(Ok).chain(end)
    }

    /// A chunk whose encoding did not finish (its thread panicked, its task was lost): none of
    /// its events are sent, and `error` says why.
    pub fn lost(events: Range<usize>, error: Error) -> Self {
        Self {
            events,
            batches: Vec::new(),
            error: Some(error),
        }
    }
}

/// Why a send's stream of bodies ended early (an event refused, or an encoding lost), and how
/// many events had been read from the caller's iterator by then: what
/// [`SendTracker::stream_failed`](crate::frontend::SendTracker::stream_failed) records.
#[derive(Debug)]
pub struct StreamEnd(Box<(Error, usize)>);

impl StreamEnd {
    /// `error` ended the stream after `read` events were read.
    pub fn new(error: Error, read: usize) -> Self {
        Self(Box::new((error, read)))
    }

    /// The error, and the number of events read.
    pub fn into_parts(self) -> (Error, usize) {
        *self.0
    }
}

/// How a chunked send begins: [`EventChunks::open`].
#[derive(Debug)]
pub enum Opening<E> {
    /// The whole send fitted its first chunk (or ended at it): encoded where it was read, here
    /// are its bodies and how it ended. No other thread is worth starting.
    Whole(Vec<Result<EncodedBatch, StreamEnd>>),
    /// The first chunk of more, to be encoded elsewhere like the rest.
    More(EventChunk<E>),
}

/// Reads a send's events into [`EventChunk`]s of about one request body each, checking every
/// event's fields as it is read. A refused event ends the chunks with its error; the events read
/// since the previous chunk are then not sent (as with [`BatchStream`](crate::frontend::BatchStream),
/// whose batches these chunks become), and nothing after it is read.
///
/// ```
/// use eventgrid_core::{EventGridEvent, Limits};
/// use eventgrid_core::frontend::EventChunks;
/// let events = (0..12_000).map(|n| EventGridEvent::new("t", "s", n).unwrap());
/// let mut chunks = EventChunks::new(events, Limits::default());
/// let sizes: Vec<usize> = chunks.by_ref().map(|chunk| chunk.unwrap().events().len()).collect();
/// assert_eq!(sizes, [5_000, 5_000, 2_000]);
/// assert_eq!(chunks.read(), 12_000);
/// ```
#[derive(Debug)]
pub struct EventChunks<I> {
    events: I,
    limits: Limits,
    read: usize,
    sampled_bytes: usize,
    sampled_events: usize,
    scratch: Vec<u8>,
    ended: bool,
}

impl<I> EventChunks<I> {
    /// Chunks of `events` for a topic with `limits` (assumed valid: see [`Limits::validate`]).
    pub fn new(events: impl IntoIterator<IntoIter = I>, limits: Limits) -> Self {
        Self {
            events: events.into_iter(),
            limits,
            read: 0,
            sampled_bytes: 0,
            sampled_events: 0,
            scratch: Vec::new(),
            ended: false,
        }
    }

    /// How many events have been taken from the iterator so far.
    pub fn read(&self) -> usize {
        self.read
    }

    /// Whether the caller's iterator is done with (exhausted, or stopped at a refused event):
    /// after the first chunk, whether that chunk was the whole send.
    pub fn is_finished(&self) -> bool {
        self.ended
    }

    /// The limits the chunks are sized for.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many events the chunk being read should hold: as many of the average event sampled
    /// so far as fill most of one body, within the per-request count.
    fn target_len(&self) -> usize {
        let average = self.sampled_bytes / self.sampled_events.max(1);
        // +1 per event for its separator, +2 for the body's brackets.
        let room = self.limits.max_request_bytes.saturating_sub(2) / 32 * FILL_32NDS;
        (room / (average + 1)).clamp(1, self.limits.max_events_per_request)
    }

    /// Serializes `event` into the scratch buffer to learn its size; an event that cannot be
    /// serialized or is too large is refused here, before anything after it is read.
    fn sample<E: Event>(&mut self, event: &E, index: usize) -> Result<()> {
        self.scratch.clear();
        let size = write_within(event, index, &mut self.scratch, self.limits)?;
        self.sampled_bytes = self.sampled_bytes.saturating_add(size);
        self.sampled_events += 1;
        Ok(())
    }

    fn take<E: Event>(&mut self, event: &E, sample: bool) -> Result<()> {
        let index = self.read;
        self.read += 1;
        event
            .check()
            .map_err(|reason| Error::InvalidEvent { index, reason })?;
        if sample {
            self.sample(event, index)?;
        }
        Ok(())
    }
}

impl<I, E> EventChunks<I>
where
    I: Iterator<Item = E>,
    E: Event,
{
    /// Reads the first chunk; when it is the whole send, encodes it on this thread.
    pub fn open(&mut self) -> Opening<E> {
        match self.next() {
            Some(Ok(chunk)) if !self.ended => Opening::More(chunk),
            Some(Ok(chunk)) => {
                let read = self.read;
                Opening::Whole(chunk.encode(self.limits).into_results(read).collect())
            }
            Some(Err(error)) => Opening::Whole(vec![Err(StreamEnd::new(error, self.read))]),
            None => Opening::Whole(Vec::new()),
        }
    }
}

impl<I, E> Iterator for EventChunks<I>
where
    I: Iterator<Item = E>,
    E: Event,
{
    type Item = Result<EventChunk<E>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let first = self.read;
        let Some(event) = self.events.next() else {
            self.ended = true;
            return None;
        };
        if let Err(error) = self.take(&event, true) {
            self.ended = true;
            return Some(Err(error));
        }
        let target = self.target_len();
        let mut events = Vec::with_capacity(target);
        events.push(event);
        while events.len() < target {
            let Some(event) = self.events.next() else {
                self.ended = true;
                break;
            };
            if let Err(error) = self.take(&event, false) {
                self.ended = true;
                return Some(Err(error));
            }
            events.push(event);
        }
        let average = self.sampled_bytes / self.sampled_events.max(1);
        let expected_bytes = (average + 1) * events.len() + 1;
        Some(Ok(EventChunk {
            first,
            events,
            expected_bytes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::frontend::{BatchStream, SendTracker};
    use crate::{CustomEvent, EventGridEvent};

    fn sized(size: usize) -> CustomEvent {
        let overhead = r#"{"p":""}"#.len();
        CustomEvent::new(serde_json::json!({"p": "x".repeat(size - overhead)})).unwrap()
    }

    fn encode_all_chunks<E: Event>(
        chunks: impl Iterator<Item = Result<EventChunk<E>>>,
    ) -> Vec<EncodedBatch> {
        chunks
            .flat_map(|chunk| {
                let encoded = chunk.unwrap().encode(Limits::default());
                assert!(encoded.error.is_none());
                encoded.batches
            })
            .collect()
    }

    #[test]
    fn chunks_of_even_events_fill_one_body_each_and_carry_the_same_json() {
        let events: Vec<_> = (0..5_000).map(|_| sized(980)).collect();
        let batches = encode_all_chunks(EventChunks::new(&events, Limits::default()));
        // 31/32 of 1 MiB over 981 bytes an event: 1,035 events a chunk, one body each.
        let sizes: Vec<usize> = batches.iter().map(EncodedBatch::len).collect();
        assert_eq!(sizes, [1_035, 1_035, 1_035, 1_035, 860]);
        let mut next = 0;
        for batch in &batches {
            assert_eq!(batch.events.start, next);
            next = batch.events.end;
            assert!(batch.body.len() <= 1_048_576);
        }
        let joined: Vec<serde_json::Value> = batches
            .iter()
            .flat_map(|b| serde_json::from_slice::<Vec<serde_json::Value>>(&b.body).unwrap())
            .collect();
        let serial: Vec<serde_json::Value> = BatchStream::new(&events, Limits::default())
            .flat_map(|b| {
                serde_json::from_slice::<Vec<serde_json::Value>>(&b.unwrap().body).unwrap()
            })
            .collect();
        assert_eq!(joined, serial);
    }

    #[test]
    fn events_larger_than_sampled_spill_into_a_second_body_within_the_limits() {
        // The first event of each chunk is small; the rest are large: the chunk is sized for
        // small events and its encoder splits it.
        let events: Vec<_> = (0..3_000)
            .map(|n| {
                if n % 1_000 == 0 {
                    sized(100)
                } else {
                    sized(2_000)
                }
            })
            .collect();
        let batches = encode_all_chunks(EventChunks::new(&events, Limits::default()));
        let mut next = 0;
        for batch in &batches {
            assert_eq!(batch.events.start, next);
            next = batch.events.end;
            assert!(batch.body.len() <= 1_048_576, "{}", batch.body.len());
            assert!(batch.len() <= 5_000);
        }
        assert_eq!(next, 3_000);
    }

    #[test]
    fn a_missing_field_stops_reading_at_that_event() {
        let read = Cell::new(0);
        let events = (0..100).map(|n| {
            read.set(read.get() + 1);
            EventGridEvent::new(if n == 42 { "" } else { "t" }, "s", n).unwrap()
        });
        let limits = Limits::default().with_max_events_per_request(10);
        let results: Vec<_> = EventChunks::new(events, limits).collect();
        assert_eq!(results.len(), 5);
        assert_eq!(results[3].as_ref().unwrap().events(), 30..40);
        assert!(matches!(
            results[4],
            Err(Error::InvalidEvent { index: 42, .. })
        ));
        assert_eq!(read.get(), 43, "nothing read after the refused event");
    }

    #[test]
    fn an_oversized_first_event_of_a_chunk_is_refused_by_the_reader() {
        let events = [sized(100), sized(70_000)];
        let limits = Limits::default().with_max_events_per_request(1);
        let mut chunks = EventChunks::new(events, limits);
        assert_eq!(chunks.next().unwrap().unwrap().events(), 0..1);
        assert!(matches!(
            chunks.next(),
            Some(Err(Error::EventTooLarge {
                index: 1,
                size: 70_000,
                ..
            }))
        ));
        assert!(chunks.next().is_none());
        assert_eq!(chunks.read(), 2);
    }

    #[test]
    fn an_oversized_event_inside_a_chunk_is_found_by_its_encoder() {
        let mut events: Vec<_> = (0..20).map(|_| sized(100)).collect();
        events[7] = sized(70_000);
        let limits = Limits::default().with_max_events_per_request(5);
        let mut chunks = EventChunks::new(&events, limits);
        let first = chunks.next().unwrap().unwrap().encode(limits);
        assert_eq!((first.batches.len(), first.error.is_none()), (1, true));
        let second = chunks.next().unwrap().unwrap().encode(limits);
        assert_eq!(second.events, 5..10);
        assert!(
            second.batches.is_empty(),
            "the open body shared its request"
        );
        assert!(matches!(
            second.error,
            Some(Error::EventTooLarge { index: 7, .. })
        ));
        // The reader went on meanwhile: the tracker names those events not sent.
        assert!(chunks.next().is_some());
        let tracker = SendTracker::new("t");
        tracker.delivered(0..5);
        tracker.stream_failed(5, second.error.unwrap(), chunks.read());
        let Err(Error::Delivery(failure)) = tracker.finish() else {
            panic!()
        };
        assert_eq!(failure.failed[0].events, 5..15);
    }

    #[test]
    fn no_events_no_chunks() {
        let mut chunks = EventChunks::new(Vec::<EventGridEvent>::new(), Limits::default());
        assert!(chunks.next().is_none());
        assert_eq!(chunks.read(), 0);
    }
}
