//! The namespace operations at the service's paths: `POST /topics/{t}:publish` and
//! `POST /topics/{t}/eventsubscriptions/{s}:receive|acknowledge|release|reject|renewLock`.
//! Each goes through the topic's fault rules, the api-version, the credential, then its work.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use serde::Deserialize;

use crate::faults::state::FaultOutcome;
use crate::namespace::error::NamespaceError;
use crate::namespace::queue::{Delivery, Settlement, SubscriptionQueue};
use crate::namespace::topic::NamespaceTopic;
use crate::serving::body::{ReadBody, RequestBody, SmallBody, discard_body, read_body};
use crate::serving::publish::{DropConnection, full_uri};
use crate::serving::response::{Body, ServiceError, json_response};
use crate::store::shared::Shared;
use crate::validation::validate_batch;

/// The newest data-plane version of namespaces.
pub(crate) const NAMESPACE_API_VERSION: &str = "2024-06-01";
/// The first GA version, which the SDKs of 2023 send (it has no renewLock and no release delay).
const FIRST_API_VERSION: &str = "2023-11-01";
/// Settlement bodies hold lock tokens only.
const MAX_SETTLEMENT_BODY_BYTES: usize = 1024 * 1024;
/// Most lock tokens settled by one request.
const MAX_LOCK_TOKENS: usize = 1_000;
/// The release delays the service accepts, in seconds.
const RELEASE_DELAYS: [u64; 5] = [0, 10, 60, 600, 3600];

/// What a request asks of a topic or subscription.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Operation {
    Publish,
    Receive,
    Settle(SettleKind),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SettleKind {
    Acknowledge,
    Release,
    Reject,
    RenewLock,
}

/// How an operation that did not answer normally ends.
enum Failure {
    Refused(NamespaceError),
    ClientGone,
}

impl<E: Into<NamespaceError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Refused(error.into())
    }
}

/// Whether `segments` (the path split at `/`) is a namespace path: `topics/{t}:op` or
/// `topics/{t}/eventsubscriptions/{s}:op`.
pub(crate) fn is_namespace_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["topics", _] | ["topics", _, "eventsubscriptions", _]
    )
}

pub(crate) async fn route<B: RequestBody>(
    shared: &Shared,
    request: Request<B>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let target = match segments.as_slice() {
        ["topics", last] => last
            .split_once(':')
            .filter(|(_, operation)| *operation == "publish")
            .map(|(topic, _)| (topic, None, Operation::Publish)),
        ["topics", topic, "eventsubscriptions", last] => {
            last.split_once(':').and_then(|(subscription, operation)| {
                let operation = match operation {
                    "receive" => Operation::Receive,
                    "acknowledge" => Operation::Settle(SettleKind::Acknowledge),
                    "release" => Operation::Settle(SettleKind::Release),
                    "reject" => Operation::Settle(SettleKind::Reject),
                    "renewLock" => Operation::Settle(SettleKind::RenewLock),
                    _ => return None,
                };
                Some((*topic, Some(subscription), operation))
            })
        }
        _ => None,
    };
    let Some((topic_name, subscription_name, operation)) = target else {
        return Ok(not_found(
            shared,
            parts,
            body,
            " Namespace topics answer at /topics/{topic}:publish and \
             /topics/{topic}/eventsubscriptions/{subscription}:receive|acknowledge|release|\
             reject|renewLock.",
        )
        .await);
    };
    let Some(topic) = shared.namespace.topics.get(topic_name).cloned() else {
        let hint = if shared.topics.contains_key(topic_name) {
            format!(
                " '{topic_name}' is a basic topic, not a namespace topic: publish to \
                 /{topic_name}/api/events?api-version={}.",
                crate::API_VERSION
            )
        } else {
            format!(
                " Namespace topic '{topic_name}' is not configured.{}",
                shared.namespace.topic_hint()
            )
        };
        return Ok(not_found(shared, parts, body, &hint).await);
    };
    let subscription = match subscription_name {
        None => None,
        Some(name) => match topic.subscription(name) {
            Some(subscription) => Some(Arc::clone(subscription)),
            None => {
                let hint = format!(
                    " Topic '{topic_name}' has no subscription '{name}'; its subscriptions: {}.",
                    subscription_names(&topic)
                );
                return Ok(not_found(shared, parts, body, &hint).await);
            }
        },
    };
    let faults = topic.decide_faults();
    if let Some(outcome) = faults.outcome {
        discard(shared, &parts, body).await;
        pause(shared, faults.delay).await;
        return match outcome {
            FaultOutcome::DropConnection => Err(DropConnection),
            FaultOutcome::Status {
                status,
                retry_after,
            } => Ok(
                NamespaceError::from(ServiceError::injected(status, retry_after)).into_response(),
            ),
        };
    }
    if let Err(refusal) = admit(shared, &topic, &parts, operation) {
        discard(shared, &parts, body).await;
        pause(shared, faults.delay).await;
        return Ok(refusal.into_response());
    }
    let answer = match (operation, subscription) {
        (Operation::Publish, _) => publish(shared, &topic, &parts, body, faults.delay).await,
        (Operation::Receive, Some(subscription)) => {
            discard(shared, &parts, body).await;
            pause(shared, faults.delay).await;
            receive(shared, &subscription, &parts).await
        }
        (Operation::Settle(kind), Some(subscription)) => {
            settle(shared, &subscription, &parts, body, kind, faults.delay).await
        }
        // Subscription operations are parsed with a subscription; answered, not assumed.
        (_, None) => Err(Failure::Refused(NamespaceError::not_found(
            &full_uri(shared, &parts),
            " Subscription operations answer at /topics/{topic}/eventsubscriptions/{subscription}:...",
        ))),
    };
    match answer {
        Ok(response) => Ok(response),
        Err(Failure::Refused(error)) => Ok(error.into_response()),
        Err(Failure::ClientGone) => Err(DropConnection),
    }
}

fn subscription_names(topic: &NamespaceTopic) -> String {
    let names: Vec<&str> = topic
        .subscriptions
        .iter()
        .map(|subscription| subscription.spec.name())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Method, api-version and credential: the checks that need no body.
fn admit(
    shared: &Shared,
    topic: &NamespaceTopic,
    parts: &Parts,
    operation: Operation,
) -> Result<(), NamespaceError> {
    if parts.method != http::Method::POST {
        return Err(ServiceError::method_not_allowed(&parts.method).into());
    }
    let version = query_value(parts, "api-version");
    match version.as_deref() {
        Some(NAMESPACE_API_VERSION) => {}
        Some(FIRST_API_VERSION) if operation != Operation::Settle(SettleKind::RenewLock) => {}
        None => {
            return Err(NamespaceError::bad_request(
                "The api-version query parameter (?api-version=) is required for all requests.",
            ));
        }
        Some(other) => {
            return Err(NamespaceError::bad_request(format!(
                "The HTTP resource that matches the request URI '{}' does not support the API \
                 version '{other}'. Supported: '{NAMESPACE_API_VERSION}' ('{FIRST_API_VERSION}' \
                 without renewLock).",
                full_uri(shared, parts)
            )));
        }
    }
    crate::namespace::auth::authorize(shared, topic, parts)
}

async fn publish<B: RequestBody>(
    shared: &Shared,
    topic: &NamespaceTopic,
    parts: &Parts,
    body: B,
    delay: Duration,
) -> Result<Response<Body>, Failure> {
    let limits = &shared.namespace.limits;
    let body = read_body(
        body,
        limits.max_request_bytes,
        &shared.body_pool,
        shared.body_read_timeout,
    )
    .await
    .map_err(|_| Failure::ClientGone)?;
    pause(shared, delay).await;
    let body = match body {
        ReadBody::Complete(body) => body,
        ReadBody::TooLarge(seen) => {
            return Err(ServiceError::too_large(format!(
                "The request body is {seen} bytes or more; the limit is {} bytes per request.",
                limits.max_request_bytes
            ))
            .into());
        }
        ReadBody::TimedOut => {
            return Err(ServiceError::request_timeout(format!(
                "The request body did not arrive within {} seconds.",
                shared.body_read_timeout.as_secs_f64()
            ))
            .into());
        }
    };
    let single = single_event_form(parts)?;
    let wrapped;
    let batch_text: &[u8] = if single {
        if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
            return Err(NamespaceError::bad_request(
                "A request with Content-Type 'application/cloudevents+json' carries one CloudEvent \
                 as a JSON object; send several as an array with 'application/cloudevents-batch+json'.",
            )
            .into());
        }
        wrapped = [b"[".as_slice(), &body, b"]"].concat();
        &wrapped
    } else {
        &body
    };
    let batch = validate_batch(
        batch_text,
        crate::config::topic::Schema::CloudEvents,
        limits,
        true,
    )?;
    let events = batch
        .events
        .iter()
        .map(|text| (Bytes::copy_from_slice(text.as_bytes()), event_type(text)))
        .collect::<Vec<_>>();
    topic.publish(&events).map_err(|full| {
        NamespaceError::quota_exceeded(format!(
            "Subscription '{}' holds as many events as the emulator keeps (at most {} events \
             and {} bytes); receive and settle some first.",
            full.subscription,
            crate::namespace::queue::MAX_QUEUED_EVENTS,
            shared.namespace.max_queued_bytes
        ))
    })?;
    Ok(json_response(StatusCode::OK, "{}"))
}

/// Whether the body is one event (`application/cloudevents+json`) rather than an array
/// (`application/cloudevents-batch+json`); other content types are refused.
fn single_event_form(parts: &Parts) -> Result<bool, NamespaceError> {
    let text = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/cloudevents+json" => Ok(true),
        "application/cloudevents-batch+json" => Ok(false),
        _ => Err(NamespaceError::bad_request(format!(
            "Namespace topics accept CloudEvents only: Content-Type \
             'application/cloudevents+json' for one event or \
             'application/cloudevents-batch+json' for an array; the request's is '{text}'."
        ))),
    }
}

/// The `type` of a validated CloudEvent.
fn event_type(event: &str) -> String {
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        event_type: String,
    }
    serde_json::from_str::<Typed>(event)
        .map(|typed| typed.event_type)
        .unwrap_or_default()
}

async fn receive(
    shared: &Shared,
    subscription: &SubscriptionQueue,
    parts: &Parts,
) -> Result<Response<Body>, Failure> {
    let max_events = match query_value(parts, "maxEvents") {
        None => 1,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|count| (1..=100).contains(count))
            .ok_or_else(|| {
                NamespaceError::argument_invalid(format!(
                    "Invalid maxEvents parameter: '{text}' (1 to 100)."
                ))
            })?,
    };
    let wait = match query_value(parts, "maxWaitTime") {
        None => 60,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|seconds| (10..=120).contains(seconds))
            .ok_or_else(|| {
                NamespaceError::argument_invalid(format!(
                    "Invalid maxWaitTime parameter: '{text}' (10 to 120 seconds)."
                ))
            })?,
    };
    let may_wait = shared.namespace.waiting_receives.try_acquire().ok();
    let deliveries = subscription
        .receive(
            max_events,
            Duration::from_secs(wait),
            shared.in_process || may_wait.is_none(),
        )
        .await;
    drop(may_wait);
    Ok(json_response(StatusCode::OK, receive_body(&deliveries)))
}

/// `{"value":[{"brokerProperties":{"lockToken","deliveryCount"},"event":{...}}]}`, the events
/// written as they were published.
fn receive_body(deliveries: &[Delivery]) -> Vec<u8> {
    let size = deliveries
        .iter()
        .map(|delivery| delivery.event.len() + 100)
        .sum::<usize>();
    let mut body = Vec::with_capacity(size + 12);
    body.extend_from_slice(b"{\"value\":[");
    for (index, delivery) in deliveries.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        let properties = serde_json::json!({
            "lockToken": delivery.lock_token,
            "deliveryCount": delivery.delivery_count,
        });
        body.extend_from_slice(b"{\"brokerProperties\":");
        body.extend_from_slice(properties.to_string().as_bytes());
        body.extend_from_slice(b",\"event\":");
        body.extend_from_slice(&delivery.event);
        body.push(b'}');
    }
    body.extend_from_slice(b"]}");
    body
}

async fn settle<B: RequestBody>(
    shared: &Shared,
    subscription: &SubscriptionQueue,
    parts: &Parts,
    body: B,
    kind: SettleKind,
    delay: Duration,
) -> Result<Response<Body>, Failure> {
    #[derive(Deserialize)]
    struct LockTokens {
        #[serde(rename = "lockTokens")]
        lock_tokens: Vec<String>,
    }
    let body = crate::serving::body::read_small_body(
        body,
        MAX_SETTLEMENT_BODY_BYTES,
        shared.body_read_timeout,
    )
    .await;
    pause(shared, delay).await;
    let body = match body {
        SmallBody::Complete(body) => body,
        SmallBody::TooLarge => {
            return Err(ServiceError::too_large(format!(
                "The request body is over {MAX_SETTLEMENT_BODY_BYTES} bytes."
            ))
            .into());
        }
        SmallBody::TimedOut => {
            return Err(
                ServiceError::request_timeout("The request body did not arrive in time.").into(),
            );
        }
    };
    let settlement = match kind {
        SettleKind::Acknowledge => Settlement::Acknowledge,
        SettleKind::Reject => Settlement::Reject,
        SettleKind::RenewLock => Settlement::RenewLock,
        SettleKind::Release => Settlement::Release(release_delay(parts)?),
    };
    let tokens: LockTokens = serde_json::from_slice(&body).map_err(|error| {
        NamespaceError::bad_request(format!(
            "The request body must be {{\"lockTokens\":[\"...\"]}}: {error}."
        ))
    })?;
    if tokens.lock_tokens.is_empty() || tokens.lock_tokens.len() > MAX_LOCK_TOKENS {
        return Err(NamespaceError::argument_invalid(format!(
            "lockTokens has {} tokens; send 1 to {MAX_LOCK_TOKENS}.",
            tokens.lock_tokens.len()
        ))
        .into());
    }
    let results = subscription.settle(settlement, &tokens.lock_tokens);
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for (token, result) in tokens.lock_tokens.iter().zip(results) {
        match result {
            Ok(()) => succeeded.push(token),
            Err((code, message)) => failed.push(serde_json::json!({
                "lockToken": token,
                "error": {"code": code, "message": message},
            })),
        }
    }
    let body = serde_json::json!({
        "failedLockTokens": failed,
        "succeededLockTokens": succeeded,
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// `releaseDelayInSeconds`: 0 (the default), 10, 60, 600 or 3600.
fn release_delay(parts: &Parts) -> Result<Duration, NamespaceError> {
    let Some(text) = query_value(parts, "releaseDelayInSeconds") else {
        return Ok(Duration::ZERO);
    };
    text.parse::<u64>()
        .ok()
        .filter(|seconds| RELEASE_DELAYS.contains(seconds))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            NamespaceError::argument_invalid(format!(
                "Invalid releaseDelayInSeconds parameter: '{text}' (0, 10, 60, 600 or 3600)."
            ))
        })
}

/// A query parameter's value, percent-decoded.
fn query_value(parts: &Parts, name: &str) -> Option<String> {
    parts.uri.query().unwrap_or("").split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        key.eq_ignore_ascii_case(name).then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

async fn not_found<B: RequestBody>(
    shared: &Shared,
    parts: Parts,
    body: B,
    hint: &str,
) -> Response<Body> {
    discard(shared, &parts, body).await;
    NamespaceError::not_found(&full_uri(shared, &parts), hint).into_response()
}

async fn discard<B: RequestBody>(shared: &Shared, parts: &Parts, body: B) {
    let expects_continue = parts
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    discard_body(body, expects_continue, shared.body_read_timeout).await;
}

/// Waits as latency fault rules say (not in process: a fuzzer must not sleep).
async fn pause(shared: &Shared, delay: Duration) {
    if !delay.is_zero() && !shared.in_process {
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_namespace_paths() {
        assert!(is_namespace_path(&["topics", "t:publish"]));
        assert!(is_namespace_path(&[
            "topics",
            "t",
            "eventsubscriptions",
            "s:receive"
        ]));
        assert!(!is_namespace_path(&["t", "api", "events"]));
    }

    #[test]
    fn receive_bodies_carry_the_events_as_published() {
        let body = receive_body(&[Delivery {
            lock_token: "abc".to_owned(),
            delivery_count: 2,
            event: Bytes::from_static(br#"{"id":"1"}"#),
        }]);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"value": [{"brokerProperties": {"lockToken": "abc",
                "deliveryCount": 2}, "event": {"id": "1"}}]})
        );
    }
}
