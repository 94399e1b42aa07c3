//! The blocking `BufferedPublisher` as a [`Subject`]: one publish per event, each on a thread
//! of its own, as many independent callers would.

use std::sync::atomic::Ordering;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use eventgrid::blocking::{BufferedOptions, BufferedPublisher, EventGridClient};
use eventgrid::core::ClientOptions;
use eventgrid::{Event, EventGridTopicConfig, Result, TopicMetrics};
use serde_json::Value;

use super::blocking_client::BlockingClient;
use super::subject::{Events, Outcome, Setup, Subject};
use super::{PUBLISHER_LINGER, Submitted};

/// A buffered publisher over the blocking client.
///
/// Batches are made deterministic as for the async publisher: each event is published once
/// the one before it was accepted, and the linger is long, so batches close on the limits and
/// on the flush that ends each send.
#[derive(Debug)]
pub struct BlockingPublisher {
    publisher: BufferedPublisher,
}

impl BlockingPublisher {
    /// Builds the client as a user would, from `setup`, and a publisher over it.
    pub fn build(setup: Setup) -> Result<Self> {
        let client = BlockingClient::build(setup)?.client().clone();
        let options = BufferedOptions::default().with_linger(PUBLISHER_LINGER);
        Ok(Self {
            publisher: client.buffered(options)?,
        })
    }

    fn client(&self) -> &EventGridClient {
        self.publisher.client()
    }

    /// Publishes each event on a thread of its own, in order, each once the one before it was
    /// accepted (or refused).
    fn submit<'scope, E: Event + Send + 'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        topic: &'scope str,
        events: Vec<E>,
        submitted: &'scope Submitted,
    ) -> Vec<ScopedJoinHandle<'scope, Result<()>>> {
        let mut threads = Vec::with_capacity(events.len());
        for event in events {
            threads.push(scope.spawn(move || {
                let result = self.publisher.publish(topic, event);
                submitted.answered.fetch_add(1, Ordering::SeqCst);
                result
            }));
            let target = submitted.count.fetch_add(1, Ordering::SeqCst) + 1;
            while !submitted.reached(target, self.publisher.pending_events()) {
                std::thread::yield_now();
            }
        }
        threads
    }

    fn submit_events<'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        topic: &'scope str,
        events: Events,
        submitted: &'scope Submitted,
    ) -> Vec<ScopedJoinHandle<'scope, Result<()>>> {
        match events {
            Events::Grid(events) => self.submit(scope, topic, events, submitted),
            Events::Cloud(events) => self.submit(scope, topic, events, submitted),
            Events::Custom(events) => self.submit(scope, topic, events, submitted),
        }
    }
}

impl Subject for BlockingPublisher {
    fn coalesces(&self) -> bool {
        true
    }

    fn send(&self, topic: &str, events: Events) -> Outcome {
        self.send_concurrently(vec![(topic.to_owned(), events)])
            .pop()
            .expect("one outcome")
    }

    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.publisher.flush();
        let submitted = Submitted::default();
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                let result = self.publisher.emit_event(topic, event_type, subject, data);
                submitted.answered.fetch_add(1, Ordering::SeqCst);
                result
            });
            while !submitted.reached(1, self.publisher.pending_events()) {
                std::thread::yield_now();
            }
            self.publisher.flush();
            thread.join().expect("the emit thread ends")
        })
    }

    fn send_concurrently(&self, sends: Vec<(String, Events)>) -> Vec<Outcome> {
        // Events abandoned earlier would count as accepted ones of this send.
        self.publisher.flush();
        let submitted = Submitted::default();
        std::thread::scope(|scope| {
            let all: Vec<_> = sends
                .iter()
                .map(|(topic, events)| self.submit_events(scope, topic, events.clone(), &submitted))
                .collect();
            self.publisher.flush();
            all.into_iter()
                .map(|threads| {
                    Outcome::PerEvent(
                        threads
                            .into_iter()
                            .map(|thread| thread.join().expect("the publish thread ends"))
                            .collect(),
                    )
                })
                .collect()
        })
    }

    fn send_stream(&self, _topic: &str, _events: Events) -> Option<Outcome> {
        None
    }

    /// A blocking publish returns only when its event's batch is done: there is no caller's
    /// future to drop.
    fn abandon_after(&self, _topic: &str, _events: Events, _after: Duration) -> Option<bool> {
        None
    }

    fn flush(&self) {
        self.publisher.flush();
    }

    fn add_topic(&self, topic: EventGridTopicConfig) -> Result<()> {
        self.client().add_topic(topic)
    }

    fn remove_topic(&self, name: &str) -> Result<()> {
        self.client().remove_topic(name).map(drop)
    }

    fn topics(&self) -> Vec<String> {
        self.client().topics()
    }

    fn metrics(&self, topic: &str) -> TopicMetrics {
        self.client()
            .metrics()
            .get(topic)
            .copied()
            .unwrap_or_default()
    }

    fn options(&self) -> ClientOptions {
        self.client().options().clone()
    }
}

impl Drop for BlockingPublisher {
    fn drop(&mut self) {
        // Closed, as a user would before dropping it: nothing is left to send in the background.
        self.publisher.close();
    }
}
