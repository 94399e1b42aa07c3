//! The async `BufferedPublisher` as a [`Subject`]: one publish per event, each on a task of its
//! own, as many independent callers would.

use std::sync::atomic::Ordering;
use std::time::Duration;

use eventgrid::asynchronous::{BufferedOptions, BufferedPublisher, EventGridClient};
use eventgrid::core::ClientOptions;
use eventgrid::{Event, EventGridTopicConfig, Result, TopicMetrics};
use serde_json::Value;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::async_client::{AsyncClient, runtime};
use super::subject::{Events, Outcome, Setup, Subject};
use super::{PUBLISHER_LINGER, Submitted};

/// A buffered publisher over the async client, on a current-thread runtime.
///
/// Batches are made deterministic: each event is published only once the one before it was
/// accepted, and the linger is long, so batches close on the size and count limits and on
/// the flush that ends each send; never on a timer racing the test.
#[derive(Debug)]
pub struct AsyncPublisher {
    publisher: BufferedPublisher,
    runtime: Runtime,
}

impl AsyncPublisher {
    /// Builds the client as a user would, from `setup`, and a publisher over it.
    pub fn build(setup: Setup) -> Result<Self> {
        let client = AsyncClient::build(setup)?.client().clone();
        let options = BufferedOptions::default().with_linger(PUBLISHER_LINGER);
        Ok(Self {
            publisher: client.buffered(options)?,
            runtime: runtime(),
        })
    }

    fn client(&self) -> &EventGridClient {
        self.publisher.client()
    }

    /// Publishes each event on a task of its own, in order, each once the one before it was
    /// accepted (or refused).
    async fn submit<E: Event + Send + 'static>(
        &self,
        topic: &str,
        events: Vec<E>,
        submitted: &Submitted,
    ) -> Vec<JoinHandle<Result<()>>> {
        let mut tasks = Vec::with_capacity(events.len());
        for event in events {
            let publisher = self.publisher.clone();
            let topic = topic.to_owned();
            let answered = submitted.answered.clone();
            tasks.push(tokio::spawn(async move {
                let result = publisher.publish(&topic, event).await;
                answered.fetch_add(1, Ordering::SeqCst);
                result
            }));
            let target = submitted.count.fetch_add(1, Ordering::SeqCst) + 1;
            while !submitted.reached(target, self.publisher.pending_events()) {
                tokio::task::yield_now().await;
            }
        }
        tasks
    }

    async fn submit_events(
        &self,
        topic: &str,
        events: Events,
        submitted: &Submitted,
    ) -> Vec<JoinHandle<Result<()>>> {
        match events {
            Events::Grid(events) => self.submit(topic, events, submitted).await,
            Events::Cloud(events) => self.submit(topic, events, submitted).await,
            Events::Custom(events) => self.submit(topic, events, submitted).await,
        }
    }
}

async fn results(tasks: Vec<JoinHandle<Result<()>>>) -> Vec<Result<()>> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("the publish task ends"));
    }
    results
}

impl Subject for AsyncPublisher {
    fn coalesces(&self) -> bool {
        true
    }

    fn send(&self, topic: &str, events: Events) -> Outcome {
        self.send_concurrently(vec![(topic.to_owned(), events)])
            .pop()
            .expect("one outcome")
    }

    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.runtime.block_on(async {
            self.publisher.flush().await;
            let submitted = Submitted::default();
            let publisher = self.publisher.clone();
            let answered = submitted.answered.clone();
            let (topic, event_type, subject) =
                (topic.to_owned(), event_type.to_owned(), subject.to_owned());
            let task = tokio::spawn(async move {
                let result = publisher
                    .emit_event(&topic, event_type, subject, data)
                    .await;
                answered.fetch_add(1, Ordering::SeqCst);
                result
            });
            while !submitted.reached(1, self.publisher.pending_events()) {
                tokio::task::yield_now().await;
            }
            self.publisher.flush().await;
            task.await.expect("the emit task ends")
        })
    }

    fn send_concurrently(&self, sends: Vec<(String, Events)>) -> Vec<Outcome> {
        self.runtime.block_on(async {
            // Events abandoned earlier would count as accepted ones of this send.
            self.publisher.flush().await;
            let submitted = Submitted::default();
            let mut all = Vec::new();
            for (topic, events) in sends {
                all.push(self.submit_events(&topic, events, &submitted).await);
            }
            self.publisher.flush().await;
            let mut outcomes = Vec::new();
            for tasks in all {
                outcomes.push(Outcome::PerEvent(results(tasks).await));
            }
            outcomes
        })
    }

    fn send_stream(&self, _topic: &str, _events: Events) -> Option<Outcome> {
        None
    }

    fn abandon_after(&self, topic: &str, events: Events, after: Duration) -> Option<bool> {
        let abandoned = self.runtime.block_on(async {
            let publishes = async {
                let mut results = Vec::new();
                match events {
                    Events::Grid(events) => {
                        for event in events {
                            results.push(self.publisher.publish(topic, event).await);
                        }
                    }
                    Events::Cloud(events) => {
                        for event in events {
                            results.push(self.publisher.publish(topic, event).await);
                        }
                    }
                    Events::Custom(events) => {
                        for event in events {
                            results.push(self.publisher.publish(topic, event).await);
                        }
                    }
                }
                results
            };
            tokio::time::timeout(after, publishes).await.is_err()
        });
        Some(abandoned)
    }

    fn flush(&self) {
        self.runtime.block_on(self.publisher.flush());
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

impl Drop for AsyncPublisher {
    fn drop(&mut self) {
        // Closed, as a user would before dropping it: nothing is left to send in the background.
        self.runtime.block_on(self.publisher.close());
    }
}
