//! Pull delivery from a namespace topic's subscription: filling it (untimed, its own process)
//! and consuming it with both clients' `Receiver`s and their processors, timed from the first
//! receive to the last acknowledgement.
//!
//! Every consumer reads each event's data into the application's type (as the Python SDK hands
//! its loop parsed data) and acknowledges what it received.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use eventgrid_core::{
    CloudEvent, Credential, EventGridConfig, EventGridTopicConfig, HandlerError, ProcessOptions,
    ReceivedBatch, ReceivedEvent, Shutdown,
};
use serde::Deserialize;
use tokio::task::JoinSet;

use crate::{Args, EVENT_TYPE, Outcome, TOPIC, join_all, order};

/// Events asked for by each receive: the most the service hands out at once.
pub(crate) const RECEIVE_BATCH: usize = 100;
/// How long a receive waits for a first event; the subscription is filled before the timing
/// starts, so a receive that waits this long means it was not.
const RECEIVE_WAIT: Duration = Duration::from_secs(10);
/// The `source` of the benchmark's CloudEvents.
const SOURCE: &str = "/bench/orders";

/// What a consumer reads of each event's data.
#[derive(Deserialize)]
struct OrderSeen {
    order_id: u64,
}

/// The benchmark's order as a CloudEvent, about 1 KB serialized.
pub(crate) fn cloud_event(n: u64) -> CloudEvent {
    CloudEvent::new(SOURCE, EVENT_TYPE, order(n))
        .expect("the benchmark event is valid")
        .with_subject(format!("orders/{n}"))
}

/// The namespace topic `--topic` of the namespace at `--endpoint`, known to the client as
/// [`TOPIC`].
fn config(args: &Args) -> Result<EventGridConfig, String> {
    EventGridTopicConfig::namespace(TOPIC, &args.endpoint, &args.topic)
        .map(|topic| topic.with_source(SOURCE))
        .and_then(|topic| EventGridConfig::new([topic]))
        .map_err(|error| error.to_string())
}

fn async_client(args: &Args) -> Result<eventgrid_async::EventGridClient, String> {
    eventgrid_async::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency.max(8))
        .build()
        .map_err(|error| error.to_string())
}

fn blocking_client(args: &Args) -> Result<eventgrid_blocking::EventGridClient, String> {
    eventgrid_blocking::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency.max(8))
        .build()
        .map_err(|error| error.to_string())
}

/// Publishes `--events` events to the topic with the async client's `send_stream` (the
/// subscription's fill before a consumer is timed).
pub(crate) async fn fill(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let summary = client
        .send_stream(TOPIC, (0..args.events).map(cloud_event))
        .await
        .map_err(|error| format!("filling the subscription: {error}"))?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// Reads each event's data as the application would, so that no consumer skips the parse.
fn read_data(batch: &ReceivedBatch) -> Result<(), String> {
    if !batch.malformed.is_empty() {
        return Err(format!(
            "{} events could not be read",
            batch.malformed.len()
        ));
    }
    for event in &batch.events {
        let order: OrderSeen = event.data_as().map_err(|error| error.to_string())?;
        std::hint::black_box(order.order_id);
    }
    Ok(())
}

/// Events consumed so far by every loop, and how many are wanted.
struct Tally {
    consumed: AtomicU64,
    requests: AtomicU64,
    wanted: u64,
}

impl Tally {
    fn new(wanted: u64) -> Arc<Self> {
        Arc::new(Tally {
            consumed: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            wanted,
        })
    }

    fn done(&self) -> bool {
        self.consumed.load(Ordering::Relaxed) >= self.wanted
    }

    fn add(&self, events: usize) {
        self.consumed.fetch_add(events as u64, Ordering::Relaxed);
        self.requests.fetch_add(2, Ordering::Relaxed);
    }

    fn outcome(&self, started: Instant) -> Outcome {
        Outcome {
            events: self.consumed.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            // The clients count retries of publishing only; the emulator's acknowledged
            // count (`sink_events`) is the check on this figure.
            retries: 0,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

fn nothing_received() -> String {
    format!(
        "a receive waited {RECEIVE_WAIT:?} and got nothing: the subscription holds fewer events \
         than --events"
    )
}

/// `--concurrency` loops of the async `Receiver`, each receiving up to 100 events and
/// acknowledging them, until `--events` have been consumed.
pub(crate) async fn async_receive(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let receiver = client
        .receiver(TOPIC, &args.subscription)
        .map_err(|error| error.to_string())?;
    let tally = Tally::new(args.events);
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for _ in 0..args.concurrency {
        let (receiver, tally) = (receiver.clone(), tally.clone());
        loops.spawn(async move {
            while !tally.done() {
                let events = receiver
                    .receive(RECEIVE_BATCH, RECEIVE_WAIT)
                    .await
                    .map_err(|error| format!("receive: {error}"))?;
                if events.is_empty() {
                    return Err(nothing_received());
                }
                read_data(&events)?;
                let tokens: Vec<&str> = events
                    .events
                    .iter()
                    .map(|e| e.lock_token.as_str())
                    .collect();
                receiver
                    .acknowledge(&tokens)
                    .await
                    .and_then(|result| result.into_result())
                    .map_err(|error| format!("acknowledge: {error}"))?;
                tally.add(tokens.len());
            }
            Ok::<u64, String>(0)
        });
    }
    join_all(loops).await?;
    Ok(tally.outcome(started))
}

/// `--concurrency` threads looping on one blocking `Receiver`, as [`async_receive`] does.
pub(crate) fn blocking_receive(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let receiver = client
        .receiver(TOPIC, &args.subscription)
        .map_err(|error| error.to_string())?;
    let tally = Tally::new(args.events);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let loops: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let (receiver, tally) = (&receiver, &tally);
                scope.spawn(move || {
                    while !tally.done() {
                        let events = receiver
                            .receive(RECEIVE_BATCH, RECEIVE_WAIT)
                            .map_err(|error| format!("receive: {error}"))?;
                        if events.is_empty() {
                            return Err(nothing_received());
                        }
                        read_data(&events)?;
                        let tokens: Vec<&str> = events
                            .events
                            .iter()
                            .map(|e| e.lock_token.as_str())
                            .collect();
                        receiver
                            .acknowledge(&tokens)
                            .and_then(|result| result.into_result())
                            .map_err(|error| format!("acknowledge: {error}"))?;
                        tally.add(tokens.len());
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        loops.into_iter().try_for_each(|handle| {
            handle
                .join()
                .map_err(|_| "a receive loop panicked".to_owned())?
        })
    })?;
    Ok(tally.outcome(started))
}

/// The processor's options in the benchmark: the defaults (8 handlers at once), with the
/// shortest wait the service allows. A concurrency given on the command line replaces 8.
fn process_options(args: &Args) -> ProcessOptions {
    let options = ProcessOptions::default().with_max_wait(RECEIVE_WAIT);
    if args.concurrency_given {
        options.with_max_concurrency(args.concurrency)
    } else {
        options
    }
}

/// The concurrency a scenario runs with: a processor's own unless `--concurrency` was given.
pub(crate) fn concurrency(args: &Args) -> usize {
    if args.scenario.ends_with("processor") {
        process_options(args).max_concurrency
    } else {
        args.concurrency
    }
}

/// The handler's part of a processor run: reads the data, counts the event and asks the loop
/// to stop once `--events` have been handled. The subscription holds a few more events than
/// that, so the receives in flight when it stops still answer at once.
fn handle(event: &ReceivedEvent, handled: &AtomicU64, wanted: u64, shutdown: &Shutdown) -> bool {
    let read = event.data_as::<OrderSeen>().map(|order| order.order_id);
    std::hint::black_box(read.is_ok());
    if handled.fetch_add(1, Ordering::Relaxed) + 1 >= wanted {
        shutdown.trigger();
    }
    read.is_ok()
}

fn process_outcome(
    report: eventgrid_core::ProcessReport,
    started: Instant,
) -> Result<Outcome, String> {
    let seconds = started.elapsed().as_secs_f64();
    let report = report.into_result().map_err(|error| error.to_string())?;
    if report.released + report.rejected > 0 {
        return Err(format!(
            "the handler failed on {} events",
            report.released + report.rejected
        ));
    }
    Ok(Outcome {
        events: report.acknowledged,
        // Each event is acknowledged on its own; receives are not counted by the processor.
        requests: report.acknowledged,
        retries: 0,
        seconds,
    })
}

/// `Receiver::process` of the async client with [`process_options`], until `--events` events
/// have been handled; timed until it has settled everything and returned.
pub(crate) async fn async_processor(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let receiver = client
        .receiver(TOPIC, &args.subscription)
        .map_err(|error| error.to_string())?;
    let (shutdown, handled, wanted) = (Shutdown::new(), Arc::new(AtomicU64::new(0)), args.events);
    let handler = {
        let (shutdown, handled) = (shutdown.clone(), handled.clone());
        move |event: ReceivedEvent| {
            let ok = handle(&event, &handled, wanted, &shutdown);
            async move {
                ok.then_some(())
                    .ok_or_else(|| HandlerError::never("unreadable data"))
            }
        }
    };
    let started = Instant::now();
    let report = receiver
        .process(handler, process_options(args), &shutdown)
        .await;
    process_outcome(report, started)
}

/// `Receiver::process` of the blocking client, as [`async_processor`] (handlers on threads).
pub(crate) fn blocking_processor(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let receiver = client
        .receiver(TOPIC, &args.subscription)
        .map_err(|error| error.to_string())?;
    let (shutdown, handled, wanted) = (Shutdown::new(), AtomicU64::new(0), args.events);
    let handler = |event: ReceivedEvent| {
        handle(&event, &handled, wanted, &shutdown)
            .then_some(())
            .ok_or_else(|| HandlerError::never("unreadable data"))
    };
    let started = Instant::now();
    let report = receiver.process(handler, process_options(args), &shutdown);
    process_outcome(report, started)
}
