//! The blocking client (`eventgrid-blocking`'s `EventGridClient`) as a [`Subject`].

use std::time::Duration;

use eventgrid::blocking::{EventGridClient, Receiver};
use eventgrid::core::ClientOptions;
use eventgrid::{
    EventGridTopicConfig, ProcessOptions, ProcessReport, ReceivedBatch, Result, SendSummary,
    SettlementKind, SettlementResult, Shutdown, TopicMetrics,
};
use serde_json::Value;

use super::subject::{Events, Handler, Outcome, Puller, Setup, Subject};

/// The blocking client, called on the test's thread (and on threads of its own for
/// concurrent sends).
#[derive(Debug)]
pub struct BlockingClient {
    client: EventGridClient,
}

impl BlockingClient {
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
        Self { client }
    }

    /// The client.
    pub fn client(&self) -> &EventGridClient {
        &self.client
    }
}

fn send(client: &EventGridClient, topic: &str, events: Events) -> Result<SendSummary> {
    match events {
        Events::Grid(events) => client.send(topic, events),
        Events::Cloud(events) => client.send(topic, events),
        Events::Custom(events) => client.send(topic, events),
    }
}

impl Subject for BlockingClient {
    fn coalesces(&self) -> bool {
        false
    }

    fn send(&self, topic: &str, events: Events) -> Outcome {
        Outcome::Call(send(&self.client, topic, events))
    }

    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.client.emit_event(topic, event_type, subject, data)
    }

    fn send_concurrently(&self, sends: Vec<(String, Events)>) -> Vec<Outcome> {
        std::thread::scope(|scope| {
            let threads: Vec<_> = sends
                .into_iter()
                .map(|(topic, events)| scope.spawn(move || send(&self.client, &topic, events)))
                .collect();
            threads
                .into_iter()
                .map(|thread| Outcome::Call(thread.join().expect("the send thread ends")))
                .collect()
        })
    }

    fn send_stream(&self, topic: &str, events: Events) -> Option<Outcome> {
        let client = &self.client;
        let result = match events {
            Events::Grid(events) => client.send_stream(topic, events),
            Events::Cloud(events) => client.send_stream(topic, events),
            Events::Custom(events) => client.send_stream(topic, events),
        };
        Some(Outcome::Call(result))
    }

    /// A blocking call returns only when done: there is no caller's future to drop.
    fn abandon_after(&self, _topic: &str, _events: Events, _after: Duration) -> Option<bool> {
        None
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
        let receiver = self.client.receiver(topic, subscription);
        Some(receiver.map(|receiver| Box::new(BlockingPuller(receiver)) as Box<dyn Puller>))
    }
}

/// The blocking `Receiver`, called on the test's thread.
struct BlockingPuller(Receiver);

impl Puller for BlockingPuller {
    fn receive(&self, max_events: usize, max_wait: Duration) -> Result<ReceivedBatch> {
        self.0.receive(max_events, max_wait)
    }

    fn settle(&self, kind: SettlementKind, lock_tokens: &[String]) -> Result<SettlementResult> {
        match kind {
            SettlementKind::Acknowledge => self.0.acknowledge(lock_tokens),
            SettlementKind::Release(delay) => self.0.release(lock_tokens, delay),
            SettlementKind::Reject => self.0.reject(lock_tokens),
            _ => self.0.renew_locks(lock_tokens),
        }
    }

    fn process(
        &self,
        handler: Handler,
        options: ProcessOptions,
        shutdown: &Shutdown,
    ) -> ProcessReport {
        self.0.process(|event| handler(&event), options, shutdown)
    }
}
