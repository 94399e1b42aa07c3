//! The client scenarios: both clients' single emits and sends, timed from the first event built
//! to the last answer.

use std::time::Instant;

use eventgrid_core::Credential;
use tokio::task::JoinSet;

use crate::{
    Args, EVENT_TYPE, Outcome, TOPIC, config, event, join_all, order, serialized_events, shares,
    typed_event,
};

/// What the events alone cost: building and dropping them, no encoding, no I/O.
pub(crate) fn build_events(args: &Args) -> Outcome {
    let started = Instant::now();
    let mut bytes = 0;
    for n in 0..args.events {
        bytes += std::hint::black_box(event(n)).subject().len();
    }
    std::hint::black_box(bytes);
    Outcome {
        events: args.events,
        requests: 0,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    }
}

pub(crate) fn async_client(args: &Args) -> Result<eventgrid_async::EventGridClient, String> {
    eventgrid_async::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency)
        .build()
        .map_err(|error| error.to_string())
}

/// `--concurrency` tasks, each awaiting one `emit_event` (one request) after another.
pub(crate) async fn async_emit(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (first, count) in shares(args.events, args.concurrency) {
        let client = client.clone();
        tasks.spawn(async move {
            for n in first..first + count {
                client
                    .emit_event(TOPIC, EVENT_TYPE, format!("orders/{n}"), order(n))
                    .await
                    .map_err(|error| format!("event {n}: {error}"))?;
            }
            Ok::<u64, String>(count)
        });
    }
    let events = join_all(tasks).await?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        events,
        started,
    ))
}

/// One `send` of `--events` events, built lazily as the client pulls them.
pub(crate) async fn async_send(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let summary = if serialized_events() {
        client.send(TOPIC, (0..args.events).map(event)).await
    } else {
        client.send(TOPIC, (0..args.events).map(typed_event)).await
    }
    .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// One `send_stream` of `--events` events: encoded only as request slots free up.
pub(crate) async fn async_send_stream(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let summary = if serialized_events() {
        client.send_stream(TOPIC, (0..args.events).map(event)).await
    } else {
        client
            .send_stream(TOPIC, (0..args.events).map(typed_event))
            .await
    }
    .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// `--tasks` tasks (10,000 in `cargo xtask bench`) each awaiting one single emit after
/// another through one `BufferedPublisher` with its default options, which coalesces them into
/// full requests, `--concurrency` in flight; then `close`.
pub(crate) async fn buffered(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let publisher = client
        .buffered(eventgrid_async::BufferedOptions::default())
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (first, count) in shares(args.events, args.tasks) {
        let publisher = publisher.clone();
        tasks.spawn(async move {
            for n in first..first + count {
                publisher
                    .emit_event(TOPIC, EVENT_TYPE, format!("orders/{n}"), order(n))
                    .await
                    .map_err(|error| format!("event {n}: {error}"))?;
            }
            Ok::<u64, String>(count)
        });
    }
    let events = join_all(tasks).await?;
    publisher.close().await;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        events,
        started,
    ))
}

pub(crate) fn blocking_client(args: &Args) -> Result<eventgrid_blocking::EventGridClient, String> {
    eventgrid_blocking::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency)
        .build()
        .map_err(|error| error.to_string())
}

/// One blocking `send` of `--events` events, built lazily as the client pulls them.
pub(crate) fn blocking_send(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let started = Instant::now();
    let summary = if serialized_events() {
        client.send(TOPIC, (0..args.events).map(event))
    } else {
        client.send(TOPIC, (0..args.events).map(typed_event))
    }
    .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// One blocking `send_stream` of `--events` events: encoded on this thread only as the worker
/// threads take batches.
pub(crate) fn blocking_send_stream(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let started = Instant::now();
    let summary = if serialized_events() {
        client.send_stream(TOPIC, (0..args.events).map(event))
    } else {
        client.send_stream(TOPIC, (0..args.events).map(typed_event))
    }
    .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// `--concurrency` threads sharing one client, each emitting one event after another.
pub(crate) fn blocking_emit(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let started = Instant::now();
    let events = std::thread::scope(|scope| {
        let workers: Vec<_> = shares(args.events, args.concurrency)
            .map(|(first, count)| {
                let client = &client;
                scope.spawn(move || {
                    for n in first..first + count {
                        client
                            .emit_event(TOPIC, EVENT_TYPE, format!("orders/{n}"), order(n))
                            .map_err(|error| format!("event {n}: {error}"))?;
                    }
                    Ok::<u64, String>(count)
                })
            })
            .collect();
        workers.into_iter().try_fold(0, |total, worker| {
            Ok::<u64, String>(total + worker.join().map_err(|_| "a thread panicked")??)
        })
    })?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        events,
        started,
    ))
}
