//! The async client (`eventgrid-async`'s `EventGridClient`) as a [`Subject`], on a tokio runtime
//! of its own.

use std::time::Duration;

use std::sync::Arc;

use eventgrid::asynchronous::{EventGridClient, Receiver};
use eventgrid::core::ClientOptions;
use eventgrid::{
    Event, EventGridTopicConfig, ProcessOptions, ProcessReport, ReceivedBatch, ReceivedEvent,
    Result, SendSummary, SettlementKind, SettlementResult, Shutdown, TopicMetrics,
};
use serde_json::Value;
use tokio::runtime::Runtime;

use super::subject::{Events, Handler, Outcome, Puller, Setup, Subject};

/// The async client, each call run to completion on a current-thread runtime.
#[derive(Debug)]
pub struct AsyncClient {
    client: EventGridClient,
    // Shared with the receivers: a connection's task runs on the runtime that opened it.
    runtime: Arc<Runtime>,
}

impl AsyncClient {
    /// Builds the client as a user would, from `setup`.
    pub fn build(setup: Setup) -> Result<Self> {
        if setup.defaults {
            return Ok(Self::from_client(EventGridClient::new(
                setup.config,
                setup.credential,
            )?));
        }
        let mut builder = EventGridClient::builder(setup.config)
            .credential(setup.credential)
            .options(setup.options);
        if let Some(pem) = &setup.extra_ca_pem {
            builder = builder.extra_ca_pem(pem);
        }
        Ok(Self::from_client(builder.build()?))
    }

    fn from_client(client: EventGridClient) -> Self {
        Self {
            client,
            runtime: Arc::new(runtime()),
        }
    }

    /// The client.
    pub fn client(&self) -> &EventGridClient {
        &self.client
    }
}

/// A current-thread runtime, as a small program or a test would use.
pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn send(client: &EventGridClient, topic: &str, events: Events) -> Result<SendSummary> {
    match events {
        Events::Grid(events) => client.send(topic, events).await,
        Events::Cloud(events) => client.send(topic, events).await,
        Events::Custom(events) => client.send(topic, events).await,
    }
}

async fn send_stream<E: Event + Send + 'static>(
    client: &EventGridClient,
    topic: &str,
    events: Vec<E>,
) -> Result<SendSummary> {
    client.send_stream(topic, events).await
}

impl Subject for AsyncClient {
    fn coalesces(&self) -> bool {
        false
    }

    fn send(&self, topic: &str, events: Events) -> Outcome {
        Outcome::Call(self.runtime.block_on(send(&self.client, topic, events)))
    }

    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.runtime
            .block_on(self.client.emit_event(topic, event_type, subject, data))
    }

    fn send_concurrently(&self, sends: Vec<(String, Events)>) -> Vec<Outcome> {
        self.runtime.block_on(async {
            let tasks: Vec<_> = sends
                .into_iter()
                .map(|(topic, events)| {
                    let client = self.client.clone();
                    tokio::spawn(async move { send(&client, &topic, events).await })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(Outcome::Call(task.await.expect("the send task ends")));
            }
            outcomes
        })
    }

    fn send_stream(&self, topic: &str, events: Events) -> Option<Outcome> {
        let client = &self.client;
        let result = self.runtime.block_on(async {
            match events {
                Events::Grid(events) => send_stream(client, topic, events).await,
                Events::Cloud(events) => send_stream(client, topic, events).await,
                Events::Custom(events) => send_stream(client, topic, events).await,
            }
        });
        Some(Outcome::Call(result))
    }

    fn abandon_after(&self, topic: &str, events: Events, after: Duration) -> Option<bool> {
        let abandoned = self.runtime.block_on(async {
            tokio::time::timeout(after, send(&self.client, topic, events))
                .await
                .is_err()
        });
        Some(abandoned)
    }

    fn flush(&self) {}

    fn add_topic(&self, topic: EventGridTopicConfig) -> Result<()> {
        self.client.add_topic(topic)
    }

    fn remove_topic(&self, name: &str) -> Result<()> {
        self.client.remove_topic(name).map(drop)
    }

    fn topics(&self) -> Vec<String> {
        self.client.topics()
    }

    fn metrics(&self, topic: &str) -> TopicMetrics {
        self.client
            .metrics()
            .get(topic)
            .copied()
            .unwrap_or_default()
    }

    fn options(&self) -> ClientOptions {
        self.client.options().clone()
    }

    fn receiver(&self, topic: &str, subscription: &str) -> Option<Result<Box<dyn Puller>>> {
        let receiver = self.client.receiver(topic, subscription).map(|receiver| {
            Box::new(AsyncPuller {
                receiver,
                runtime: self.runtime.clone(),
            }) as Box<dyn Puller>
        });
        Some(receiver)
    }
}

/// The async `Receiver`, each call run on the client's runtime.
struct AsyncPuller {
    receiver: Receiver,
    runtime: Arc<Runtime>,
}

impl Puller for AsyncPuller {
    fn receive(&self, max_events: usize, max_wait: Duration) -> Result<ReceivedBatch> {
        self.runtime
            .block_on(self.receiver.receive(max_events, max_wait))
    }

    fn settle(&self, kind: SettlementKind, lock_tokens: &[String]) -> Result<SettlementResult> {
        let receiver = &self.receiver;
        self.runtime.block_on(async {
            match kind {
                SettlementKind::Acknowledge => receiver.acknowledge(lock_tokens).await,
                SettlementKind::Release(delay) => receiver.release(lock_tokens, delay).await,
                SettlementKind::Reject => receiver.reject(lock_tokens).await,
                _ => receiver.renew_locks(lock_tokens).await,
            }
        })
    }

    fn process(
        &self,
        handler: Handler,
        options: ProcessOptions,
        shutdown: &Shutdown,
    ) -> ProcessReport {
        let handler = move |event: ReceivedEvent| {
            let handler = handler.clone();
            async move { handler(&event) }
        };
        self.runtime
            .block_on(self.receiver.process(handler, options, shutdown))
    }
}
