//! Receiving events from a namespace subscription (the [`Receive`] exchange), and the events
//! it yields with their lock tokens.
//!
//! One event that cannot be read does not fail the receive: the readable events are returned
//! as usual and each unreadable one as a [`MalformedEvent`] with its lock token, so that it
//! can be rejected at once (otherwise it stays locked until its lock expires, then comes back
//! with its delivery count raised, until the subscription dead-letters it).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tracing::Span;
use tracing::field::Empty;

use crate::auth::AuthHeader;
use crate::cloud_event::{CloudEvent, CloudEventData};
use crate::engine::{Authorizer, Exchange};
use crate::error::{Error, Result};
use crate::namespace::{Subscription, unreadable};

/// An event received from a subscription, locked for this receiver until it is settled or
/// its lock expires.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedEvent {
    /// The event as published.
    pub event: CloudEvent,
    /// The token that settles it (acknowledge, release, reject, renew).
    pub lock_token: String,
    /// How many times it has been delivered, this time included (1 on first delivery).
    pub delivery_count: u32,
}

impl ReceivedEvent {
    /// The event's JSON data as a `T`. An event without data, with binary data, or whose data
    /// does not fit `T` is an [`Error::Data`].
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T> {
        match self.event.data() {
            CloudEventData::Json(raw) => serde_json::from_str(raw.get()).map_err(|e| Error::Data {
                event_id: self.event.id().to_owned(),
                reason: e.to_string(),
            }),
            CloudEventData::Binary(_) => Err(Error::Data {
                event_id: self.event.id().to_owned(),
                reason: "the data is binary (data_base64), not JSON".to_owned(),
            }),
            CloudEventData::None => Err(Error::Data {
                event_id: self.event.id().to_owned(),
                reason: "the event has no data".to_owned(),
            }),
        }
    }
}

/// An event of a receive answer that could not be read (not a CloudEvent, say). It is locked
/// like the others: reject it with its lock token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MalformedEvent {
    /// Its place in the answer (0 for the first event).
    pub index: usize,
    /// The token that settles it, or `None` when even its broker properties could not be read
    /// (nothing can settle it then: it comes back when its lock expires).
    pub lock_token: Option<String>,
    /// How many times it has been delivered, when that could be read.
    pub delivery_count: Option<u32>,
    /// What is wrong with it.
    pub reason: String,
}

/// What one receive got: the events, and the ones that could not be read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReceivedBatch {
    /// The events read, in the service's order.
    pub events: Vec<ReceivedEvent>,
    /// The events that could not be read, each with its lock token so that it can be
    /// rejected ([`malformed_lock_tokens`](Self::malformed_lock_tokens)).
    pub malformed: Vec<MalformedEvent>,
}

impl ReceivedBatch {
    /// The lock tokens of the malformed events (the ones to reject).
    pub fn malformed_lock_tokens(&self) -> Vec<String> {
        self.malformed
            .iter()
            .filter_map(|bad| bad.lock_token.clone())
            .collect()
    }

    /// Whether the service answered no event at all.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.malformed.is_empty()
    }
}

/// Reads one detail of a receive answer: a [`ReceivedEvent`], or what is wrong with it. The
/// pull clients and [`parse_namespace_receive`](crate::consumer::parse_namespace_receive)
/// both read with it.
pub(crate) fn read_detail(
    index: usize,
    raw: &RawValue,
) -> std::result::Result<ReceivedEvent, MalformedEvent> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail<'a> {
        #[serde(borrow)]
        broker_properties: Option<&'a RawValue>,
        #[serde(borrow)]
        event: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Broker {
        lock_token: String,
        delivery_count: u32,
    }
    let mut bad = MalformedEvent {
        index,
        lock_token: None,
        delivery_count: None,
        reason: String::new(),
    };
    let detail: Detail<'_> = match serde_json::from_str(raw.get()) {
        Ok(detail) => detail,
        Err(error) => {
            bad.reason = format!("not a receive detail: {error}");
            return Err(bad);
        }
    };
    let broker = match detail
        .broker_properties
        .map(|raw| serde_json::from_str::<Broker>(raw.get()))
    {
        Some(Ok(broker)) => broker,
        Some(Err(error)) => {
            bad.reason = format!("`brokerProperties`: {error}");
            return Err(bad);
        }
        None => {
            bad.reason = "`brokerProperties` is missing".to_owned();
            return Err(bad);
        }
    };
    bad.lock_token = Some(broker.lock_token);
    bad.delivery_count = Some(broker.delivery_count);
    let event = match detail
        .event
        .map(|raw| serde_json::from_str::<CloudEvent>(raw.get()))
    {
        Some(Ok(event)) => event,
        Some(Err(error)) => {
            bad.reason = format!("`event` is not a CloudEvent: {error}");
            return Err(bad);
        }
        None => {
            bad.reason = "`event` is missing".to_owned();
            return Err(bad);
        }
    };
    // As the push consumer does: the service never delivers these empty, and an event without
    // them cannot be told apart from the others.
    let empty = [
        ("id", event.id()),
        ("source", event.source()),
        ("type", event.event_type()),
    ]
    .into_iter()
    .find(|(_, value)| value.is_empty());
    if let Some((field, _)) = empty {
        bad.reason = format!("`event`: `{field}` is empty");
        return Err(bad);
    }
    Ok(ReceivedEvent {
        event,
        lock_token: bad.lock_token.unwrap_or_default(),
        delivery_count: broker.delivery_count,
    })
}

/// One receive from a subscription.
#[derive(Debug)]
pub struct Receive {
    subscription: Subscription,
    uri: Uri,
    max_events: usize,
}

impl Receive {
    /// Receiving up to `max_events`, waiting up to `max_wait_seconds` (both already checked
    /// by [`ClientCore::receive`](crate::frontend::ClientCore::receive)).
    pub(crate) fn new(
        subscription: Subscription,
        max_events: usize,
        max_wait_seconds: u64,
    ) -> Result<Self> {
        let uri = subscription.uri(
            "receive",
            &format!("&maxEvents={max_events}&maxWaitTime={max_wait_seconds}"),
        )?;
        Ok(Self {
            subscription,
            uri,
            max_events,
        })
    }
}

impl Exchange for Receive {
    type Output = ReceivedBatch;

    fn authorizer(&self) -> &Authorizer {
        self.subscription.topic().authorizer()
    }

    fn request(&self, auth: &AuthHeader) -> Request<Bytes> {
        self.subscription
            .post(self.uri.clone(), None, Bytes::new(), auth)
    }

    fn accept(&mut self, response: Response<Bytes>) -> Result<ReceivedBatch> {
        #[derive(Deserialize)]
        struct Answer<'a> {
            #[serde(default, borrow)]
            value: Vec<&'a RawValue>,
        }
        let answer: Answer<'_> =
            serde_json::from_slice(response.body()).map_err(|e| unreadable("receive", &e))?;
        if answer.value.len() > self.max_events {
            tracing::warn!(
                received = answer.value.len(),
                asked = self.max_events,
                "the service answered more events than asked for"
            );
        }
        let mut batch = ReceivedBatch::default();
        for (index, raw) in answer.value.into_iter().enumerate() {
            match read_detail(index, raw) {
                Ok(event) => batch.events.push(event),
                Err(bad) => {
                    tracing::warn!(index, reason = %bad.reason, "eventgrid receive: an event could not be read");
                    batch.malformed.push(bad);
                }
            }
        }
        let counters = self.subscription.topic().counters();
        counters.record_received(batch.events.len(), batch.malformed.len());
        Ok(batch)
    }

    fn explain(&self, error: Error) -> Error {
        self.subscription.explain(error)
    }

    fn span(&self) -> Span {
        tracing::info_span!(
            "eventgrid.receive",
            topic = self.subscription.topic().name(),
            subscription = self.subscription.name(),
            max_events = self.max_events,
            attempts = Empty,
            status = Empty,
            duration_ms = Empty,
        )
    }

    fn on_attempt(&self, _latency: Duration) {
        self.subscription
            .topic()
            .counters()
            .record_pull_attempt(true);
    }

    fn on_retry(&self) {
        self.subscription.topic().counters().record_pull_retry();
    }

    fn on_outcome(&self, delivered: bool) {
        if !delivered {
            self.subscription.topic().counters().record_pull_failure();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_event_is_returned_with_its_lock_token_beside_the_good_ones() {
        let body = br#"{"value":[
            {"brokerProperties":{"lockToken":"good","deliveryCount":1},
             "event":{"specversion":"1.0","type":"t","source":"/s","id":"1","data":7}},
            {"brokerProperties":{"lockToken":"bad","deliveryCount":2},
             "event":{"specversion":"1.0","type":"t","id":"2"}},
            {"brokerProperties":{"deliveryCount":1},"event":{}},
            42
        ]}"#;
        let answer: serde_json::Value = serde_json::from_slice(body).unwrap();
        let details = answer["value"].as_array().unwrap();
        let read: Vec<_> = details
            .iter()
            .enumerate()
            .map(|(index, detail)| {
                let raw = RawValue::from_string(detail.to_string()).unwrap();
                read_detail(index, &raw)
            })
            .collect();
        let good = read[0].as_ref().unwrap();
        assert_eq!((good.lock_token.as_str(), good.delivery_count), ("good", 1));
        assert_eq!(good.data_as::<u32>().unwrap(), 7);
        let bad = read[1].as_ref().unwrap_err();
        assert_eq!(bad.lock_token.as_deref(), Some("bad"));
        assert_eq!((bad.index, bad.delivery_count), (1, Some(2)));
        assert!(bad.reason.contains("source"), "{}", bad.reason);
        let tokenless = read[2].as_ref().unwrap_err();
        assert_eq!(tokenless.lock_token, None);
        assert!(
            tokenless.reason.contains("lockToken"),
            "{}",
            tokenless.reason
        );
        assert_eq!(read[3].as_ref().unwrap_err().lock_token, None);
        let batch = ReceivedBatch {
            events: vec![good.clone()],
            malformed: read[1..].iter().map(|r| r.clone().unwrap_err()).collect(),
        };
        assert_eq!(batch.malformed_lock_tokens(), ["bad"]);
        assert!(!batch.is_empty());
    }
}
