//! The emulator's API for namespace topics, under `/_emulator/namespace`: each subscription's
//! settings, counts and dead letters, and each topic's fault rules.

use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::inspection::faults_resource;
use crate::namespace::queue::SubscriptionQueue;
use crate::namespace::serve::NAMESPACE_API_VERSION;
use crate::namespace::topic::NamespaceTopic;
use crate::serving::body::RequestBody;
use crate::serving::response::{Body, ServiceError, json_response};
use crate::store::shared::Shared;

/// Answers `/_emulator/namespace/...`; `segments` follow `namespace`.
pub(crate) async fn inspect_namespace<B: RequestBody>(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    body: B,
) -> Result<Response<Body>, ServiceError> {
    let topic = |name: &str| {
        shared.namespace.topics.get(name).ok_or_else(|| {
            ServiceError::not_found(
                &format!("{}/_emulator/namespace/topics/{name}", shared.base_url),
                &shared.namespace.topic_hint(),
            )
        })
    };
    let subscription = |topic: &NamespaceTopic, name: &str| {
        topic.subscription(name).cloned().ok_or_else(|| {
            ServiceError::not_found(
                &format!(
                    "{}/_emulator/namespace/topics/{}/subscriptions/{name}",
                    shared.base_url,
                    topic.spec.name()
                ),
                " No such subscription.",
            )
        })
    };
    match (method, segments) {
        (&Method::GET, [] | ["topics"]) => Ok(json_ok(&Value::Array(
            shared
                .namespace
                .order
                .iter()
                .map(|name| topic_summary(shared, &shared.namespace.topics[name]))
                .collect(),
        ))),
        (&Method::GET, ["topics", name]) => Ok(json_ok(&topic_summary(shared, topic(name)?))),
        (&Method::GET, ["topics", name, "subscriptions", subscription_name]) => Ok(json_ok(
            &subscription_summary(&*subscription(topic(name)?, subscription_name)?),
        )),
        (
            &Method::GET,
            [
                "topics",
                name,
                "subscriptions",
                subscription_name,
                "deadletters",
            ],
        ) => {
            let queue = subscription(topic(name)?, subscription_name)?;
            Ok(json_ok(&Value::Array(dead_letters(&queue))))
        }
        (_, ["faults", name]) => {
            faults_resource(&**topic(name)?, method, body, shared.body_read_timeout).await
        }
        _ => Err(ServiceError::not_found(
            &format!(
                "{}/_emulator/namespace/{}",
                shared.base_url,
                segments.join("/")
            ),
            " The namespace API has GET /_emulator/namespace/topics[/{topic}[/subscriptions/\
             {subscription}[/deadletters]]] and /_emulator/namespace/faults/{topic}.",
        )),
    }
}

fn topic_summary(shared: &Shared, topic: &NamespaceTopic) -> Value {
    let name = topic.spec.name();
    json!({
        "name": name,
        "auth": if topic.spec.key().is_some() { "key" } else { "open" },
        "endpoint": format!(
            "{}/topics/{name}:publish?api-version={NAMESPACE_API_VERSION}",
            shared.base_url
        ),
        "published_events": topic.figures().published_events,
        "subscriptions": topic
            .subscriptions
            .iter()
            .map(|queue| subscription_summary(queue))
            .collect::<Vec<_>>(),
    })
}

pub(crate) fn subscription_summary(queue: &SubscriptionQueue) -> Value {
    let spec = &queue.spec;
    json!({
        "name": spec.name(),
        "lock_duration_ms": spec.lock_duration().as_millis() as u64,
        "max_delivery_count": spec.max_delivery_count(),
        "event_time_to_live_ms": spec
            .event_time_to_live()
            .map(|ttl| ttl.as_millis() as u64),
        "event_types": spec.event_types(),
        "counts": queue.counts(),
    })
}

/// The dead letters, oldest first, each with its reason, delivery count, time and event.
pub(crate) fn dead_letters(queue: &SubscriptionQueue) -> Vec<Value> {
    queue
        .dead_letters()
        .into_iter()
        .map(|letter| {
            json!({
                "reason": letter.reason,
                "delivery_count": letter.delivery_count,
                "dead_lettered_at": letter.dead_lettered_at,
                "event": serde_json::from_slice::<Value>(&letter.event).unwrap_or(Value::Null),
            })
        })
        .collect()
}

fn json_ok(value: &impl serde::Serialize) -> Response<Body> {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).expect("inspection answers serialize"),
    )
}
