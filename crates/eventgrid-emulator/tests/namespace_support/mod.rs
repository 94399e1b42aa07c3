//! Helpers of the namespace tests: the service's requests, over real HTTP.
#![allow(dead_code)] // each test file uses its own part

use bytes::Bytes;
use eventgrid_emulator::RunningEmulator;
use serde_json::{Value, json};

use crate::support::{Client, Reply};

pub const VERSION: &str = "api-version=2024-06-01";

/// A CloudEvent of type `event_type`, with an extension attribute.
pub fn cloud_event(id: &str, event_type: &str) -> Value {
    json!({
        "id": id,
        "source": "/orders",
        "type": event_type,
        "specversion": "1.0",
        "time": "2024-05-01T12:00:00Z",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": {"order": id},
    })
}

/// Talks to one namespace topic of an emulator with fixed extra headers (a credential).
pub struct Namespace {
    pub client: Client,
    pub base: String,
    pub topic: String,
    pub headers: Vec<(String, String)>,
}

impl Namespace {
    pub fn new(emulator: &RunningEmulator, topic: &str) -> Self {
        Self {
            client: Client::new(),
            base: emulator.namespace_endpoint().to_owned(),
            topic: topic.to_owned(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    async fn post(&self, url: &str, content_type: Option<&str>, body: impl Into<Bytes>) -> Reply {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type));
        }
        self.client.send("POST", url, &headers, body).await
    }

    /// `POST /topics/{t}:publish` with the given content type and body text.
    pub async fn publish_raw(&self, content_type: &str, body: &str) -> Reply {
        let url = format!("{}/topics/{}:publish?{VERSION}", self.base, self.topic);
        self.post(&url, Some(content_type), body.to_owned()).await
    }

    /// Publishes `events` as a batch, as the Python and Go SDKs do.
    pub async fn publish(&self, events: &[Value]) -> Reply {
        self.publish_raw(
            "application/cloudevents-batch+json; charset=utf-8",
            &Value::Array(events.to_vec()).to_string(),
        )
        .await
    }

    /// Publishes one event in the single form, as the JavaScript SDK does.
    pub async fn publish_one(&self, event: &Value) -> Reply {
        self.publish_raw(
            "application/cloudevents+json; charset=utf-8",
            &event.to_string(),
        )
        .await
    }

    fn subscription_url(&self, subscription: &str, operation: &str, query: &str) -> String {
        format!(
            "{}/topics/{}/eventsubscriptions/{subscription}:{operation}?{VERSION}{query}",
            self.base, self.topic
        )
    }

    /// `:receive?maxEvents=N&maxWaitTime=S`.
    pub async fn receive_reply(&self, subscription: &str, max_events: u32, wait: u32) -> Reply {
        let query = format!("&maxEvents={max_events}&maxWaitTime={wait}");
        self.post(
            &self.subscription_url(subscription, "receive", &query),
            None,
            Bytes::new(),
        )
        .await
    }

    /// The received `value` array, asserting a 200.
    pub async fn receive(&self, subscription: &str, max_events: u32, wait: u32) -> Vec<Value> {
        let reply = self.receive_reply(subscription, max_events, wait).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `:acknowledge`, `:release`, `:reject` or `:renewLock` of `tokens`, `query` being added to
    /// the URL (`&releaseDelayInSeconds=10`).
    pub async fn settle(
        &self,
        subscription: &str,
        operation: &str,
        tokens: &[&str],
        query: &str,
    ) -> Reply {
        let body = json!({"lockTokens": tokens}).to_string();
        self.post(
            &self.subscription_url(subscription, operation, query),
            Some("application/json"),
            body,
        )
        .await
    }
}

/// The lock token of a received event.
pub fn token(received: &Value) -> &str {
    received["brokerProperties"]["lockToken"].as_str().unwrap()
}

/// The delivery count of a received event.
pub fn delivery_count(received: &Value) -> u64 {
    received["brokerProperties"]["deliveryCount"]
        .as_u64()
        .unwrap()
}

/// The `id`s of received events.
pub fn ids(received: &[Value]) -> Vec<&str> {
    received
        .iter()
        .map(|item| item["event"]["id"].as_str().unwrap())
        .collect()
}
