//! The coalescer's rules on a virtual clock, with no sockets and no threads: each test hands it
//! instants it makes up and plays the front end (sends nothing, reports outcomes).

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use super::*;
use crate::config::{EventGridConfig, EventGridTopicConfig};
use crate::credential::Credential;
use crate::event::EventGridEvent;

type Tell = SyncSender<Result<()>>;

const LINGER: Duration = Duration::from_millis(5);

fn core() -> ClientCore {
    let topic = |name: &str, schema| {
        EventGridTopicConfig::new(name, format!("http://127.0.0.1:1/{name}/api/events"))
            .unwrap()
            .with_schema(schema)
    };
    let config = EventGridConfig::new([
        topic("items", Schema::EventGrid),
        topic("other", Schema::EventGrid),
        topic("cloud", Schema::CloudEvents),
    ])
    .unwrap();
    ClientCore::new(config, &Credential::None, ClientOptions::default()).unwrap()
}

fn coalescer(core: &ClientCore, options: BufferedOptions) -> Coalescer<Tell> {
    Coalescer::new(&options.with_linger(LINGER), core.options()).unwrap()
}

/// Event `n` with `padding` bytes of data.
fn event(n: usize, padding: usize) -> EventGridEvent {
    EventGridEvent::new("item.made", format!("items/{n}"), "x".repeat(padding))
        .unwrap()
        .with_id(format!("id-{n}"))
}

/// One publisher's push: where its outcome will arrive, or the refusal.
fn push(
    coalescer: &mut Coalescer<Tell>,
    core: &ClientCore,
    topic: &str,
    event: &EventGridEvent,
    now: Instant,
) -> Result<(Receiver<Result<()>>, Pushed<Tell>)> {
    let (tell, outcome) = sync_channel(1);
    let pushed = with_serialized(event, |schema, json| {
        coalescer.push(core, topic, schema, json, tell, now)
    })?;
    Ok((outcome, pushed))
}

/// Pushes expecting room; returns the outcome receiver and the accepted details.
fn accept(
    coalescer: &mut Coalescer<Tell>,
    core: &ClientCore,
    topic: &str,
    event: &EventGridEvent,
    now: Instant,
) -> (Receiver<Result<()>>, Accepted<Tell>) {
    match push(coalescer, core, topic, event, now).unwrap() {
        (outcome, Pushed::Accepted(accepted)) => (outcome, accepted),
        (_, Pushed::NoRoom(_)) => panic!("no room"),
    }
}

/// The event ids in a batch body.
fn ids(batch: &ReadyBatch<Tell>) -> Vec<String> {
    let events: Vec<serde_json::Value> = serde_json::from_slice(&batch.batch.body).unwrap();
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn unsettled(outcome: &Receiver<Result<()>>) -> bool {
    matches!(outcome.try_recv(), Err(TryRecvError::Empty))
}

fn failure(message: &str) -> Error {
    Error::Transport(TransportError::new(TransportErrorKind::Timeout, message))
}

#[test]
fn a_lone_event_is_ready_at_its_linger_deadline_and_not_before() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let start = Instant::now();
    let (outcome, accepted) = accept(&mut coalescer, &core, "items", &event(1, 0), start);
    assert_eq!(accepted.linger_until, Some(start + LINGER));
    assert!(accepted.ready.is_empty());

    // A second event joins the same batch without moving its deadline.
    let later = start + LINGER / 2;
    let (second, accepted) = accept(&mut coalescer, &core, "items", &event(2, 0), later);
    assert_eq!(accepted.linger_until, None, "no new batch, no new timer");

    assert!(
        coalescer
            .poll(start + LINGER - Duration::from_nanos(1))
            .is_empty()
    );
    let mut ready = coalescer.poll(start + LINGER);
    assert_eq!(ready.len(), 1);
    let batch = ready.pop().unwrap();
    assert_eq!(ids(&batch), ["id-1", "id-2"]);
    assert_eq!(batch.topic.name(), "items");
    assert!(unsettled(&outcome), "no outcome before the send's");
    assert_eq!(coalescer.pending(), 2);

    assert!(coalescer.finish(batch.ticket, Ok(())).settle().is_empty());
    assert!(outcome.try_recv().unwrap().is_ok());
    assert!(second.try_recv().unwrap().is_ok());
    assert_eq!(coalescer.pending(), 0);
    assert!(
        coalescer.poll(start + LINGER * 10).is_empty(),
        "nothing left"
    );
}

#[test]
fn a_batch_is_ready_at_once_when_it_holds_max_events_per_batch() {
    let core = core();
    let options = BufferedOptions::default().with_max_events_per_batch(3);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let mut sizes = Vec::new();
    let mut timers = 0;
    for n in 0..7 {
        let (_, accepted) = accept(&mut coalescer, &core, "items", &event(n, 0), now);
        timers += usize::from(accepted.linger_until.is_some());
        sizes.extend(accepted.ready.iter().map(|b| b.batch.len()));
        for batch in accepted.ready {
            let _ = coalescer.finish(batch.ticket, Ok(())).settle();
        }
    }
    assert_eq!(sizes, [3, 3], "the seventh waits in the open batch");
    assert_eq!(
        timers, 3,
        "a timer for each batch opened (events 0, 3 and 6)"
    );
    assert_eq!(coalescer.pending(), 1);
}

#[test]
fn a_batch_closes_when_the_next_event_would_overflow_its_body() {
    let core = core();
    // The smallest body allowed: the per-event limit (65,536) plus the brackets.
    let options = BufferedOptions::default().with_max_bytes_per_batch(65_538);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let (first, a) = accept(&mut coalescer, &core, "items", &event(0, 30_000), now);
    let (_, b) = accept(&mut coalescer, &core, "items", &event(1, 30_000), now);
    assert!(a.ready.is_empty() && b.ready.is_empty(), "two fit");
    let (third, c) = accept(&mut coalescer, &core, "items", &event(2, 30_000), now);
    // The third closed the first two's batch and opened the next, with a timer of its own.
    assert_eq!(c.linger_until, Some(now + LINGER));
    let [full] = <[_; 1]>::try_from(c.ready).ok().unwrap();
    assert_eq!(ids(&full), ["id-0", "id-1"]);
    assert!(full.batch.body.len() <= 65_538);
    let _ = coalescer.finish(full.ticket, Ok(())).settle();
    assert!(first.try_recv().unwrap().is_ok());
    assert!(unsettled(&third), "the third is in the open batch");
    assert_eq!(coalescer.pending(), 1);
}

#[test]
fn an_event_over_the_per_event_limit_is_refused_with_its_index_and_the_limit() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let (kept, _) = accept(&mut coalescer, &core, "items", &event(0, 10), now);
    let refused = push(&mut coalescer, &core, "items", &event(1, 70_000), now);
    match refused {
        Err(Error::EventTooLarge { index, size, limit }) => {
            assert_eq!((index, limit), (0, 65_536));
            assert!(size > 70_000, "{size}");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("accepted an oversized event"),
    }
    // Nothing changed: the open batch holds only the first event.
    assert_eq!(coalescer.pending(), 1);
    let (_, mut ready) = coalescer.flush();
    assert_eq!(ids(&ready[0]), ["id-0"]);
    let _ = coalescer
        .finish(ready.pop().unwrap().ticket, Ok(()))
        .settle();
    assert!(kept.try_recv().unwrap().is_ok());
}

#[test]
fn refusals_take_no_room_and_leave_the_open_batch_alone() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let _kept = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let unknown = push(&mut coalescer, &core, "itms", &event(1, 0), now);
    assert!(matches!(unknown, Err(Error::UnknownTopic { .. })));
    let schema = push(&mut coalescer, &core, "cloud", &event(2, 0), now);
    assert!(matches!(
        schema,
        Err(Error::SchemaMismatch {
            expected: Schema::CloudEvents,
            given: Schema::EventGrid,
            ..
        })
    ));
    assert_eq!(coalescer.pending(), 1);
    let (_, ready) = coalescer.flush();
    assert_eq!(ids(&ready[0]), ["id-0"]);
}

#[test]
fn a_publisher_beyond_max_pending_events_is_told_to_wait_and_nothing_changes() {
    let core = core();
    let options = BufferedOptions::default()
        .with_max_pending_events(2)
        .with_max_events_per_batch(2);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let (_, a) = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let (_, b) = accept(&mut coalescer, &core, "items", &event(1, 0), now);
    assert!(a.ready.is_empty());
    let [batch] = <[_; 1]>::try_from(b.ready).ok().unwrap();
    // Two events wait for their outcome: the third publisher must wait, even on another topic.
    for topic in ["items", "other"] {
        let (_, pushed) = push(&mut coalescer, &core, topic, &event(2, 0), now).unwrap();
        assert!(matches!(pushed, Pushed::NoRoom(_)), "{topic}");
    }
    assert_eq!(coalescer.pending(), 2);
    assert!(
        coalescer.poll(now + LINGER).is_empty(),
        "no batch was opened"
    );

    // The batch's outcome gives its room back.
    let _ = coalescer
        .finish(batch.ticket, Err(failure("refused")))
        .settle();
    assert_eq!(coalescer.pending(), 0);
    let (third, accepted) = accept(&mut coalescer, &core, "items", &event(2, 0), now);
    assert!(accepted.linger_until.is_some());
    assert!(unsettled(&third));
}

#[test]
fn each_event_gets_its_own_batchs_outcome_exactly_once() {
    let core = core();
    let options = BufferedOptions::default().with_max_events_per_batch(2);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let mut outcomes = Vec::new();
    let mut batches = Vec::new();
    for n in 0..4 {
        let (outcome, accepted) = accept(&mut coalescer, &core, "items", &event(n, 0), now);
        outcomes.push(outcome);
        batches.extend(accepted.ready);
    }
    assert_eq!(batches.len(), 2);
    let second = batches.pop().unwrap();
    let first = batches.pop().unwrap();
    let _ = coalescer.finish(second.ticket, Ok(())).settle();
    let _ = coalescer
        .finish(first.ticket, Err(failure("refused")))
        .settle();
    let got: Vec<_> = outcomes
        .iter()
        .map(|outcome| outcome.try_recv().unwrap().map_err(|e| e.to_string()))
        .collect();
    let refused = Err(failure("refused").to_string());
    assert_eq!(got, [refused.clone(), refused, Ok(()), Ok(())]);
    for outcome in &outcomes {
        assert!(outcome.try_recv().is_err(), "one outcome each");
    }
}

#[test]
fn closed_batches_wait_for_a_request_slot_of_their_topic() {
    let core = core();
    let options = BufferedOptions::default()
        .with_max_events_per_batch(1)
        .with_max_concurrent_requests(1);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let (_, first) = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let (_, second) = accept(&mut coalescer, &core, "items", &event(1, 0), now);
    let (_, elsewhere) = accept(&mut coalescer, &core, "other", &event(2, 0), now);
    assert_eq!(first.ready.len(), 1);
    assert!(
        second.ready.is_empty(),
        "the topic's one request is in flight"
    );
    assert_eq!(
        elsewhere.ready.len(),
        1,
        "another topic has slots of its own"
    );
    assert!(coalescer.poll(now + LINGER).is_empty());

    let ticket = first.ready.into_iter().next().unwrap().ticket;
    let next = coalescer.finish(ticket, Ok(())).settle();
    assert_eq!(next.iter().map(ids).collect::<Vec<_>>(), [["id-1"]]);
}

#[test]
fn flush_closes_every_open_batch_and_waits_only_for_batches_before_it() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let (items, _) = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let (other, _) = accept(&mut coalescer, &core, "other", &event(1, 0), now);
    let (mark, ready) = coalescer.flush();
    assert_eq!(ready.len(), 2);
    assert!(!coalescer.is_flushed(mark));

    // An event after the flush opens a batch the flush does not wait for.
    let (_, late) = accept(&mut coalescer, &core, "items", &event(2, 0), now);
    assert!(late.linger_until.is_some());
    let mut tickets = ready.into_iter().map(|batch| batch.ticket);
    let _ = coalescer.finish(tickets.next().unwrap(), Ok(())).settle();
    assert!(!coalescer.is_flushed(mark), "one of two finished");
    let _ = coalescer.finish(tickets.next().unwrap(), Ok(())).settle();
    assert!(coalescer.is_flushed(mark));
    assert!(items.try_recv().unwrap().is_ok() && other.try_recv().unwrap().is_ok());
    assert_eq!(coalescer.pending(), 1, "the late event still waits");
    // Flushing with nothing open is flushed once the late batch is done.
    let (mark, ready) = coalescer.flush();
    assert!(!coalescer.is_flushed(mark));
    let _ = coalescer.finish(ready.into_iter().next().unwrap().ticket, Ok(()));
    assert!(coalescer.is_flushed(mark));
    let (mark, _) = coalescer.flush();
    assert!(coalescer.is_flushed(mark), "nothing to wait for");
}

#[test]
fn close_flushes_then_refuses_every_later_event() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let (accepted, _) = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let (mark, ready) = coalescer.close();
    assert!(coalescer.is_closed());
    assert_eq!(ready.len(), 1);
    let late = push(&mut coalescer, &core, "items", &event(1, 0), now);
    assert!(matches!(late, Err(Error::Closed)));
    let _ = coalescer
        .finish(ready.into_iter().next().unwrap().ticket, Ok(()))
        .settle();
    assert!(coalescer.is_flushed(mark));
    assert!(accepted.try_recv().unwrap().is_ok());
    let (mark, ready) = coalescer.close();
    assert!(
        ready.is_empty() && coalescer.is_flushed(mark),
        "closing again does no harm"
    );
}

#[test]
fn abandoning_a_batch_settles_it_and_every_batch_waiting_behind_it() {
    let core = core();
    let options = BufferedOptions::default()
        .with_max_events_per_batch(1)
        .with_max_concurrent_requests(1)
        .with_max_pending_events(100);
    let mut coalescer = coalescer(&core, options);
    let now = Instant::now();
    let mut outcomes = Vec::new();
    let mut ready = Vec::new();
    for n in 0..50 {
        let (outcome, accepted) = accept(&mut coalescer, &core, "items", &event(n, 0), now);
        outcomes.push(outcome);
        ready.extend(accepted.ready);
    }
    assert_eq!(ready.len(), 1, "one slot");
    let (mark, _) = coalescer.flush();
    coalescer.abandon(ready.pop().unwrap().ticket, unsent("could not start"));
    for outcome in &outcomes {
        let error = outcome.try_recv().unwrap().unwrap_err();
        assert!(error.to_string().contains("could not start"), "{error}");
    }
    assert_eq!(coalescer.pending(), 0);
    assert!(coalescer.is_flushed(mark));
}

#[test]
fn a_ticket_dropped_without_an_outcome_still_settles_its_events() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let (outcome, _) = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    let (_, ready) = coalescer.flush();
    drop(ready);
    let error = outcome.try_recv().unwrap().unwrap_err();
    assert!(error.to_string().contains("was dropped"), "{error}");
}

#[test]
fn a_removed_topic_keeps_its_open_batch_then_refuses() {
    let core = core();
    let mut coalescer = coalescer(&core, BufferedOptions::default());
    let now = Instant::now();
    let _first = accept(&mut coalescer, &core, "items", &event(0, 0), now);
    core.remove_topic("items").unwrap();
    // The open batch was made for the topic as it was: it still takes events.
    let _second = accept(&mut coalescer, &core, "items", &event(1, 0), now);
    let ready = coalescer.poll(now + LINGER);
    assert_eq!(ids(&ready[0]), ["id-0", "id-1"]);
    let gone = push(&mut coalescer, &core, "items", &event(2, 0), now + LINGER);
    assert!(matches!(gone, Err(Error::UnknownTopic { .. })));
}

#[test]
fn zero_linger_sends_at_once_and_an_endless_one_never_expires() {
    let core = core();
    let now = Instant::now();
    let options = BufferedOptions::default().with_linger(Duration::ZERO);
    let mut at_once = Coalescer::<Tell>::new(&options, core.options()).unwrap();
    let (_, accepted) = accept(&mut at_once, &core, "items", &event(0, 0), now);
    assert_eq!((accepted.linger_until, accepted.ready.len()), (None, 1));

    let options = BufferedOptions::default().with_linger(Duration::MAX);
    let mut endless = Coalescer::<Tell>::new(&options, core.options()).unwrap();
    let (_, accepted) = accept(&mut endless, &core, "items", &event(0, 0), now);
    assert_eq!(accepted.linger_until, None, "no deadline to arm");
    assert!(endless.poll(now + Duration::from_secs(1 << 40)).is_empty());
    assert_eq!(endless.flush().1.len(), 1, "a flush still sends it");
}

#[test]
fn serializing_refuses_a_bad_event_as_event_zero() {
    let missing = crate::cloud_event::CloudEvent::without_data("", "t");
    let refused = with_serialized(&missing, |_, _| Ok(()));
    assert!(
        matches!(refused, Err(Error::InvalidEvent { index: 0, .. })),
        "{refused:?}"
    );

    let data = std::collections::HashMap::from([((1, 2), 3)]);
    let unserializable = crate::event_ref::EventGridEventRef::new("t", "s", &data);
    let refused = with_serialized(&unserializable, |_, _| Ok(()));
    assert!(
        matches!(&refused, Err(Error::InvalidEvent { index: 0, reason }) if reason.starts_with("could not serialize")),
        "{refused:?}"
    );

    // Serializing again from inside the hand-over (the scratch is in use) still works.
    let outer = event_json(&event(1, 0));
    let inner = with_serialized(&event(2, 0), |_, json| {
        Ok((json.to_vec(), event_json(&event(3, 0))))
    })
    .unwrap();
    assert!(outer.contains("id-1") && inner.1.contains("id-3"));
    assert!(String::from_utf8(inner.0).unwrap().contains("id-2"));
}

fn event_json(event: &EventGridEvent) -> String {
    with_serialized(event, |schema, json| {
        assert_eq!(schema, Schema::EventGrid);
        Ok(String::from_utf8(json.to_vec()).unwrap())
    })
    .unwrap()
}
