//! What every front end under test offers the scenarios: [`Subject`], the events it is given
//! ([`Events`]) and what a user gets back ([`Outcome`]).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use eventgrid::core::ClientOptions;
use eventgrid::{
    CloudEvent, Credential, CustomEvent, Error, EventGridConfig, EventGridEvent,
    EventGridTopicConfig, HandlerError, ProcessOptions, ProcessReport, ReceivedBatch,
    ReceivedEvent, Result, SendSummary, SettlementKind, SettlementResult, Shutdown, TopicMetrics,
};

/// How to build a front end: what a user hands a client builder.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The topics.
    pub config: EventGridConfig,
    /// The client-wide credential.
    pub credential: Credential,
    /// Limits, retries, time-outs and concurrency.
    pub options: ClientOptions,
    /// A CA certificate to trust besides the system's (the emulator's, in TLS mode).
    pub extra_ca_pem: Option<String>,
    /// Build with `EventGridClient::new(config, credential)`, every option at its default
    /// (`options` and `extra_ca_pem` are then not used).
    pub defaults: bool,
}

/// Events of one schema, in the order given.
#[derive(Debug, Clone)]
pub enum Events {
    /// Event Grid schema events.
    Grid(Vec<EventGridEvent>),
    /// CloudEvents.
    Cloud(Vec<CloudEvent>),
    /// Custom schema events.
    Custom(Vec<CustomEvent>),
}

impl Events {
    /// How many events there are.
    pub fn len(&self) -> usize {
        match self {
            Events::Grid(events) => events.len(),
            Events::Cloud(events) => events.len(),
            Events::Custom(events) => events.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each event's id (for custom events, their `"id"` member), in order.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Events::Grid(events) => events.iter().map(|e| e.id().to_owned()).collect(),
            Events::Cloud(events) => events.iter().map(|e| e.id().to_owned()).collect(),
            Events::Custom(events) => events
                .iter()
                .map(|e| {
                    let value: serde_json::Value =
                        serde_json::from_str(e.json().get()).expect("custom events are JSON");
                    value["id"].as_str().unwrap_or_default().to_owned()
                })
                .collect(),
        }
    }
}

/// What a user got back from handing over events.
#[derive(Debug)]
pub enum Outcome {
    /// A client's `send`: one result for the call.
    Call(Result<SendSummary>),
    /// A buffered publisher: one result per event, in the order given.
    PerEvent(Vec<Result<()>>),
}

impl Outcome {
    /// The indexes of the events reported delivered, out of `count` events given.
    pub fn delivered(&self, count: usize) -> Vec<usize> {
        (0..count).filter(|&i| self.error_of(i).is_none()).collect()
    }

    /// The error the event at `index` was reported with, `None` when it was delivered.
    pub fn error_of(&self, index: usize) -> Option<&Error> {
        match self {
            Outcome::Call(Ok(_)) => None,
            Outcome::Call(Err(Error::Delivery(failure))) => failure
                .failed
                .iter()
                .find(|failed| failed.events.contains(&index))
                .map(|failed| &failed.error),
            Outcome::Call(Err(error)) => Some(error),
            Outcome::PerEvent(results) => results[index].as_ref().err(),
        }
    }

    /// Panics unless every event was reported delivered.
    #[track_caller]
    pub fn assert_delivered(&self) {
        match self {
            Outcome::Call(Ok(_)) => {}
            Outcome::Call(Err(error)) => panic!("expected delivery, got: {error}"),
            Outcome::PerEvent(results) => {
                for (index, result) in results.iter().enumerate() {
                    if let Err(error) = result {
                        panic!("expected delivery, event {index} got: {error}");
                    }
                }
            }
        }
    }

    /// The one error every event failed with: a client's error for the whole call, or the
    /// error each publisher got (which must read the same for every event). Panics if any
    /// event was delivered.
    #[track_caller]
    pub fn error(&self) -> &Error {
        match self {
            Outcome::Call(Ok(summary)) => panic!("expected an error, got {summary:?}"),
            Outcome::Call(Err(error)) => error,
            Outcome::PerEvent(results) => {
                let errors: Vec<&Error> = results
                    .iter()
                    .map(|result| result.as_ref().expect_err("expected every event to fail"))
                    .collect();
                let first = errors[0];
                for other in &errors[1..] {
                    assert_eq!(
                        other.to_string(),
                        first.to_string(),
                        "every event of one failure gets the same error"
                    );
                }
                first
            }
        }
    }

    /// The summary of a client's successful send (`None` for publishers).
    #[track_caller]
    pub fn summary(&self) -> Option<SendSummary> {
        match self {
            Outcome::Call(Ok(summary)) => Some(*summary),
            Outcome::Call(Err(error)) => panic!("expected delivery, got: {error}"),
            Outcome::PerEvent(_) => None,
        }
    }
}

/// One front end as the suite drives it: a client, or a buffered publisher over one.
///
/// Each method is what a user of that front end would write, made blocking for the suite;
/// implementing it for a new front end (or a client on a transport of one's own) runs every
/// scenario against it.
pub trait Subject: Send + Sync {
    /// Whether the front end coalesces single publishes into shared batches, each event with
    /// its own outcome ([`Outcome::PerEvent`]), rather than sending what one call is given.
    fn coalesces(&self) -> bool;

    /// Hands `events` to the topic named `topic` and waits for their outcome: a client's
    /// `send`, or one publish per event, then a flush.
    fn send(&self, topic: &str, events: Events) -> Outcome;

    /// `emit_event`: one event of `event_type` about `subject` carrying `data`, with the id,
    /// time and data version the front end fills in.
    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()>;

    /// Several sends at once (one task or thread each), each waited for.
    fn send_concurrently(&self, sends: Vec<(String, Events)>) -> Vec<Outcome>;

    /// A client's `send_stream`, fed lazily; `None` for front ends without it.
    fn send_stream(&self, topic: &str, events: Events) -> Option<Outcome>;

    /// Starts sending `events`, gives up waiting after `after` (the caller's future dropped),
    /// and returns whether it was still under way then. `None` where a call cannot be
    /// abandoned (blocking front ends).
    fn abandon_after(&self, topic: &str, events: Events, after: Duration) -> Option<bool>;

    /// Waits for every event accepted so far to be delivered or failed (publishers); a no-op
    /// for clients, whose calls return only then.
    fn flush(&self);

    /// Adds a topic at run time.
    fn add_topic(&self, topic: EventGridTopicConfig) -> Result<()>;

    /// Removes a topic at run time.
    fn remove_topic(&self, name: &str) -> Result<()>;

    /// The configured topic names, sorted.
    fn topics(&self) -> Vec<String>;

    /// The topic's metrics (all zero when it has none).
    fn metrics(&self, topic: &str) -> TopicMetrics;

    /// The client options in force.
    fn options(&self) -> ClientOptions;

    /// A receiver of `subscription` of the namespace topic configured as `topic`; `None` for
    /// front ends that only publish.
    fn receiver(&self, topic: &str, subscription: &str) -> Option<Result<Box<dyn Puller>>> {
        let _ = (topic, subscription);
        None
    }
}

/// A handler as the namespace scenarios write it, run by either client's processor.
pub type Handler =
    Arc<dyn Fn(&ReceivedEvent) -> std::result::Result<(), HandlerError> + Send + Sync>;

/// A client's `Receiver` as the suite drives it, made blocking.
pub trait Puller: Send + Sync {
    /// `receive(max_events, max_wait)`.
    fn receive(&self, max_events: usize, max_wait: Duration) -> Result<ReceivedBatch>;

    /// `acknowledge`, `release`, `reject` or `renew_locks`, as `kind` says.
    fn settle(&self, kind: SettlementKind, lock_tokens: &[String]) -> Result<SettlementResult>;

    /// `process(handler, options, shutdown)`, the handler run as that client runs handlers.
    fn process(
        &self,
        handler: Handler,
        options: ProcessOptions,
        shutdown: &Shutdown,
    ) -> ProcessReport;
}
