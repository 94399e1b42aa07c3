//! Receiving events from a namespace subscription (the [`Receive`] exchange), and the events
//! it yields with their lock tokens.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
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
    type Output = Vec<ReceivedEvent>;

    fn authorizer(&self) -> &Authorizer {
        self.subscription.topic().authorizer()
    }

    fn request(&self, auth: &AuthHeader) -> Request<Bytes> {
        self.subscription
            .post(self.uri.clone(), None, Bytes::new(), auth)
    }

    fn accept(&mut self, response: Response<Bytes>) -> Result<Vec<ReceivedEvent>> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            value: Vec<Item>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Item {
            broker_properties: Broker,
            event: CloudEvent,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Broker {
            lock_token: String,
            delivery_count: u32,
        }
        let answer: Answer =
            serde_json::from_slice(response.body()).map_err(|e| unreadable("receive", &e))?;
        if answer.value.len() > self.max_events {
            tracing::warn!(
                received = answer.value.len(),
                asked = self.max_events,
                "the service answered more events than asked for"
            );
        }
        Ok(answer
            .value
            .into_iter()
            .map(|item| ReceivedEvent {
                event: item.event,
                lock_token: item.broker_properties.lock_token,
                delivery_count: item.broker_properties.delivery_count,
            })
            .collect())
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

    fn on_attempt(&self, _latency: Duration) {}

    fn on_retry(&self) {}

    fn on_outcome(&self, _delivered: bool) {}
}
