//! A real webhook on loopback for push delivery tests: it records every request and answers as
//! the test's behaviour says (by default: both validation handshakes granted, 200 to the rest).
#![allow(dead_code)] // each test file uses its own part

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::support::{Client, publish_url};
use eventgrid_emulator::{
    EmulatorConfig, RunningEmulator, Schema, SubscriptionState, TopicSpec, WebhookSubscription,
};

/// One request the webhook received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn is_notification(&self) -> bool {
        self.header("aeg-event-type") == Some("Notification")
    }

    /// The events of a notification: the array, or the one CloudEvent.
    pub fn events(&self) -> Vec<Value> {
        match self.json() {
            Value::Array(events) => events,
            single => vec![single],
        }
    }
}

/// What the webhook answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Behaviour = dyn Fn(&Received, usize) -> Answer + Send + Sync;

/// The answer a subscriber that validates gives: the validation code back, the allowed origin,
/// 200 to notifications.
pub fn validating(request: &Received) -> Answer {
    if request.method == Method::OPTIONS {
        return Answer::status(200).header("webhook-allowed-origin", "eventgrid.azure.net");
    }
    if request.header("aeg-event-type") == Some("SubscriptionValidation") {
        let code = request.json()[0]["data"]["validationCode"].clone();
        return Answer::status(200)
            .body(serde_json::json!({"validationResponse": code}).to_string());
    }
    Answer::status(200)
}

pub struct Webhook {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Webhook {
    /// A webhook that validates and accepts everything.
    pub async fn accepting() -> Self {
        Self::start(|request, _| validating(request)).await
    }

    /// A webhook answering with `behaviour(request, notifications received before it)`.
    pub async fn start(
        behaviour: impl Fn(&Received, usize) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook?code=secret", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let task = tokio::spawn({
            let received = Arc::clone(&received);
            let arrived = Arc::clone(&arrived);
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let received = Arc::clone(&received);
                    let arrived = Arc::clone(&arrived);
                    let behaviour = Arc::clone(&behaviour);
                    tokio::spawn(async move {
                        let service =
                            service_fn(move |request: http::Request<hyper::body::Incoming>| {
                                let received = Arc::clone(&received);
                                let arrived = Arc::clone(&arrived);
                                let behaviour = Arc::clone(&behaviour);
                                async move {
                                    let (parts, body) = request.into_parts();
                                    let body = body
                                        .collect()
                                        .await
                                        .map(|b| b.to_bytes())
                                        .unwrap_or_default();
                                    let request = Received {
                                        method: parts.method,
                                        path_and_query: parts
                                            .uri
                                            .path_and_query()
                                            .map(|p| p.to_string())
                                            .unwrap_or_default(),
                                        headers: parts.headers,
                                        body,
                                    };
                                    let answer = {
                                        let mut all = received.lock().unwrap();
                                        let earlier = all
                                            .iter()
                                            .filter(|r: &&Received| r.is_notification())
                                            .count();
                                        all.push(request.clone());
                                        behaviour(&request, earlier)
                                    };
                                    arrived.notify_waiters();
                                    if !answer.delay.is_zero() {
                                        tokio::time::sleep(answer.delay).await;
                                    }
                                    let mut response = Response::builder().status(answer.status);
                                    for (name, value) in &answer.headers {
                                        response = response.header(*name, value);
                                    }
                                    Ok::<_, Infallible>(
                                        response.body(Full::new(Bytes::from(answer.body))).unwrap(),
                                    )
                                }
                            });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        });
        Self {
            url,
            received,
            arrived,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn notifications(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(Received::is_notification)
            .collect()
    }

    /// Every event of every notification, in arrival order.
    pub fn delivered_events(&self) -> Vec<Value> {
        self.notifications()
            .iter()
            .flat_map(Received::events)
            .collect()
    }

    /// Waits until `done` holds for what arrived; panics after 20 s (a hang, not a timing).
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let arrived = self.arrived.notified();
            let received = self.received();
            if done(&received) {
                return received;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let received = self.received();
                if done(&received) {
                    return received;
                }
                panic!("gave up waiting for {what}; received {received:#?}");
            }
        }
    }

    /// Waits for `count` delivered events.
    pub async fn wait_for_events(&self, count: usize) -> Vec<Value> {
        self.wait_until(&format!("{count} events"), |received| {
            received
                .iter()
                .filter(|r| r.is_notification())
                .flat_map(Received::events)
                .count()
                >= count
        })
        .await;
        self.delivered_events()
    }
}

/// Polls `check` until it returns `Some`; panics after 20 s (a hang, not a timing).
pub async fn eventually<T>(what: &str, check: impl Fn() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check() {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("gave up waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// Helpers of the push delivery tests.

/// Every test shrinks the service's times: 10 s becomes 10 ms.
pub const SCALE: f64 = 0.001;

pub fn config() -> EmulatorConfig {
    EmulatorConfig::new()
        .topic(TopicSpec::open("orders"))
        .topic(TopicSpec::open("ce").with_schema(Schema::CloudEvents))
        .retry_time_scale(SCALE)
}

pub fn spec(topic: &str, name: &str, webhook: &Webhook) -> WebhookSubscription {
    WebhookSubscription::new(topic, name, &webhook.url).unwrap()
}

pub async fn publish(emulator: &RunningEmulator, topic: &str, events: Vec<Value>) {
    let content_type = if topic == "ce" {
        "application/cloudevents-batch+json; charset=utf-8"
    } else {
        "application/json"
    };
    let reply = Client::new()
        .send(
            "POST",
            &publish_url(emulator, topic),
            &[("content-type", content_type)],
            Value::Array(events).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

pub async fn active(emulator: &RunningEmulator, topic: &str, name: &str) {
    eventually(&format!("{topic}/{name} active"), || {
        let info = emulator.webhook_subscription(topic, name)?;
        assert_ne!(info.state, SubscriptionState::Failed, "{info:?}");
        (info.state == SubscriptionState::Active).then_some(())
    })
    .await;
}
