//! The emulator's own HTTP API under `/_emulator/`: events, request records, counters and fault
//! rules per topic.

pub(crate) mod control;
pub(crate) mod delivery;

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde::Serialize;

use crate::faults::FaultSpec;
use crate::faults::slot::HasFaults;
use crate::inspection::delivery::as_delivered;
use crate::serving::body::{self, RequestBody, SmallBody};
use crate::serving::response::{Body, ServiceError, empty_response, json_response};
use crate::store::shared::Shared;
use crate::store::{TopicCounters, TopicState};

/// Largest body the inspection API reads (fault specifications are small).
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Serialize)]
struct TopicSummary<'a> {
    name: &'a str,
    schema: &'static str,
    auth: &'static str,
    endpoint: String,
    counters: TopicCounters,
}

/// Answers a request whose path starts with `/_emulator/`.
///
/// `GET /_emulator/topics/{topic}/events?delivered=true` shows the events as a subscriber would
/// receive them (Event Grid schema events stamped with `topic` and `metadataVersion`).
pub(crate) async fn inspect<B: RequestBody>(
    shared: &Shared,
    request: Request<B>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().trim_end_matches('/');
    if path != "/_emulator/health"
        && let Err(refusal) = shared.admin_key.admit(&parts.headers)
    {
        return refusal.into_response();
    }
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let method = &parts.method;
    let answer = match (method, segments.as_slice()) {
        (&Method::GET, ["health"]) => Ok(json_ok(&serde_json::json!({"status": "ok"}))),
        (&Method::GET, ["topics"]) => Ok(json_ok(&topic_summaries(shared))),
        (_, ["topics", name, what]) => match shared.topics.get(*name) {
            None => Err(unknown_topic(shared, name)),
            Some(topic) => topic_resource(topic, method, what, parts.uri.query()),
        },
        (&Method::GET, ["faults"]) => {
            let faults: std::collections::BTreeMap<&str, FaultSpec> = shared
                .topic_order
                .iter()
                .filter_map(|name| Some((name.as_str(), shared.topics[name].faults()?)))
                .collect();
            Ok(json_ok(&faults))
        }
        (&Method::DELETE, ["faults"]) => {
            shared
                .topics
                .values()
                .for_each(|topic| topic.set_faults(None));
            shared
                .namespace
                .topics
                .values()
                .for_each(|topic| topic.set_faults(None));
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        (_, ["namespace", rest @ ..]) => {
            crate::namespace::inspection::inspect_namespace(shared, method, rest, body).await
        }
        (_, ["faults", name]) => match shared.topics.get(*name) {
            None => Err(unknown_topic(shared, name)),
            Some(topic) => faults_resource(&**topic, method, body, shared.body_read_timeout).await,
        },
        (_, ["webhooks" | "deliveries" | "dead-letters", ..]) => {
            let body = if *method == Method::PUT {
                read_small_body(body, shared.body_read_timeout).await
            } else {
                Ok(Bytes::new())
            };
            body.and_then(|body| {
                crate::push::api::control(
                    &shared.push,
                    |name| shared.topics.get(name).map(|topic| topic.spec.schema()),
                    method,
                    &segments,
                    parts.uri.query(),
                    &body,
                )
            })
        }
        _ => Err(ServiceError::not_found(
            parts.uri.path(),
            " The emulator's API has /_emulator/health, /_emulator/topics, \
             /_emulator/topics/{topic}/events|requests|counters, /_emulator/faults[/{topic}], \
             /_emulator/webhooks[/{topic}[/{name}]], /_emulator/deliveries and \
             /_emulator/dead-letters.",
        )),
    };
    answer.unwrap_or_else(ServiceError::into_response)
}

fn topic_summaries(shared: &Shared) -> Vec<TopicSummary<'_>> {
    shared
        .topic_order
        .iter()
        .map(|name| {
            let topic = &shared.topics[name];
            TopicSummary {
                name,
                schema: topic.spec.schema().as_str(),
                auth: if topic.spec.key().is_some() {
                    "key"
                } else {
                    "open"
                },
                endpoint: format!("{}/{name}/api/events", shared.base_url),
                counters: topic.counters(),
            }
        })
        .collect()
}

fn topic_resource(
    topic: &TopicState,
    method: &Method,
    what: &str,
    query: Option<&str>,
) -> Result<Response<Body>, ServiceError> {
    let delivered =
        query.is_some_and(|query| query.split('&').any(|pair| pair == "delivered=true"));
    match (method, what) {
        (&Method::GET, "events") if delivered => {
            let events: Vec<serde_json::Value> = topic
                .events()
                .iter()
                .map(|event| as_delivered(topic.spec.schema(), topic.spec.name(), event))
                .collect();
            Ok(json_ok(&events))
        }
        (&Method::GET, "events") => {
            let events = topic.events();
            let mut body =
                Vec::with_capacity(2 + events.iter().map(|e| e.len() + 1).sum::<usize>());
            body.push(b'[');
            for (index, event) in events.iter().enumerate() {
                if index > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(event);
            }
            body.push(b']');
            Ok(json_response(StatusCode::OK, body))
        }
        (&Method::DELETE, "events") => {
            topic.clear();
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        (&Method::GET, "requests") => Ok(json_ok(&topic.records())),
        (&Method::GET, "counters") => Ok(json_ok(&topic.counters())),
        (_, "events" | "requests" | "counters") => Err(ServiceError::method_not_allowed(method)),
        _ => Err(ServiceError::not_found(
            &format!("/_emulator/topics/{}/{what}", topic.spec.name()),
            " Use events, requests or counters.",
        )),
    }
}

/// A topic's fault rules over HTTP: GET, DELETE, and PUT or POST of a [`FaultSpec`].
pub(crate) async fn faults_resource<B: RequestBody>(
    topic: &impl HasFaults,
    method: &Method,
    body: B,
    timeout: Duration,
) -> Result<Response<Body>, ServiceError> {
    match *method {
        Method::GET => Ok(json_ok(&topic.fault_slot().spec().unwrap_or_default())),
        Method::DELETE => {
            topic.fault_slot().set(None);
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        Method::PUT | Method::POST => {
            let body = read_small_body(body, timeout).await?;
            let spec: FaultSpec = serde_json::from_slice(&body).map_err(|error| {
                ServiceError::bad_request(format!("Invalid fault specification: {error}."))
            })?;
            spec.validate()
                .map_err(|error| ServiceError::bad_request(format!("{error}.")))?;
            topic.fault_slot().set(Some(spec.clone()));
            Ok(json_ok(&spec))
        }
        _ => Err(ServiceError::method_not_allowed(method)),
    }
}

async fn read_small_body<B: RequestBody>(
    body: B,
    timeout: Duration,
) -> Result<Bytes, ServiceError> {
    match body::read_small_body(body, MAX_BODY_BYTES, timeout).await {
        SmallBody::Complete(bytes) => Ok(bytes),
        SmallBody::TooLarge => Err(ServiceError::too_large(format!(
            "The body is over {MAX_BODY_BYTES} bytes."
        ))),
        SmallBody::TimedOut => Err(ServiceError::request_timeout(
            "The body did not arrive in time.",
        )),
    }
}

fn unknown_topic(shared: &Shared, name: &str) -> ServiceError {
    ServiceError::not_found(
        &format!("{}/{name}", shared.base_url),
        &format!(" Topic '{name}' is not configured.{}", shared.topic_hint()),
    )
}

fn json_ok(value: &impl Serialize) -> Response<Body> {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).expect("inspection answers serialize"),
    )
}
