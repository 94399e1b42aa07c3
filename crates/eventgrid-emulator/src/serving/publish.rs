//! `POST /{topic}/api/events?api-version=2018-01-01`: faults, api-version, authentication,
//! limits, content type and validation, then the events are kept.

use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use http::request::Parts;
use http::{Request, Response, StatusCode};

use crate::auth::{authorize, host_of};
use crate::config::topic::Schema;
use crate::faults::state::FaultOutcome;
use crate::serving::body::{ReadBody, RequestBody, discard_body, read_body};
use crate::serving::response::{Body, ServiceError, empty_response, with_supported_versions};
use crate::store::TopicState;
use crate::store::recorded::{record, redact_query};
use crate::store::shared::Shared;
use crate::validation::validate_batch;

/// The only data-plane version of basic topics.
pub(crate) const API_VERSION: &str = "2018-01-01";

/// Returned to hyper to close the connection without answering (a fault rule said so, or the
/// client went away mid-body).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the emulator")
    }
}

impl std::error::Error for DropConnection {}

pub(crate) async fn publish<B: RequestBody>(
    shared: &Shared,
    topic: &TopicState,
    request: Request<B>,
) -> Result<Response<Body>, DropConnection> {
    topic.count_request();
    let (parts, body) = request.into_parts();
    let faults = topic.decide_faults();
    let outcome = match faults.outcome {
        Some(outcome) => {
            discard(shared, &parts, body).await;
            pause(shared, faults.delay).await;
            match outcome {
                FaultOutcome::DropConnection => Outcome::Dropped,
                FaultOutcome::Status {
                    status,
                    retry_after,
                } => Outcome::Refused(ServiceError::injected(status, retry_after)),
            }
        }
        None => answer(shared, topic, &parts, body, faults.delay).await,
    };
    let (response, events) = match outcome {
        Outcome::Accepted(events) => (empty_response(StatusCode::OK), events),
        Outcome::Refused(error) => (error.into_response(), 0),
        Outcome::ClientGone => return Err(DropConnection),
        Outcome::Dropped => {
            topic.count_dropped_connection();
            if topic.keeps_records() {
                topic.record(record(&parts, None, 0));
            }
            return Err(DropConnection);
        }
    };
    let status = response.status().as_u16();
    if status != 200 {
        topic.reject(status);
    }
    if topic.keeps_records() {
        topic.record(record(&parts, Some(status), events));
    }
    Ok(with_supported_versions(response))
}

/// How a publish request ends.
enum Outcome {
    /// Answered 200; this many events were accepted.
    Accepted(usize),
    /// Answered with this error.
    Refused(ServiceError),
    /// A fault rule drops the connection.
    Dropped,
    /// The client went away mid-body.
    ClientGone,
}

/// Everything after faults: the checks the headers allow come first (as the service answers
/// 401 before reading a body), then the body is read and checked, and its events kept.
async fn answer<B: RequestBody>(
    shared: &Shared,
    topic: &TopicState,
    parts: &Parts,
    body: B,
    delay: Duration,
) -> Outcome {
    if let Err(refusal) = admit(shared, topic, parts) {
        discard(shared, parts, body).await;
        pause(shared, delay).await;
        return Outcome::Refused(refusal);
    }
    let Ok(body) = read_body(
        body,
        shared.limits.max_request_bytes,
        &shared.body_pool,
        shared.body_read_timeout,
    )
    .await
    else {
        return Outcome::ClientGone;
    };
    pause(shared, delay).await;
    match process(shared, topic, parts, body) {
        Ok(events) => Outcome::Accepted(events),
        Err(error) => Outcome::Refused(error),
    }
}

/// The checks of the body that arrived, then its events are kept.
fn process(
    shared: &Shared,
    topic: &TopicState,
    parts: &Parts,
    body: ReadBody<'_>,
) -> Result<usize, ServiceError> {
    let body = match body {
        ReadBody::Complete(body) => body,
        ReadBody::TooLarge(seen) => {
            return Err(ServiceError::too_large(format!(
                "The request body is {seen} bytes or more; the limit is {} bytes per request.",
                shared.limits.max_request_bytes
            )));
        }
        ReadBody::TimedOut => {
            return Err(ServiceError::request_timeout(format!(
                "The request body did not arrive within {} seconds.",
                shared.body_read_timeout.as_secs_f64()
            )));
        }
    };
    check_content_type(topic.spec.schema(), parts)?;
    // Push delivery needs the events' texts even when the topic keeps none.
    let pushes = shared.push.has_subscriptions(topic.spec.name());
    let batch = validate_batch(
        &body,
        topic.spec.schema(),
        &shared.limits,
        topic.keeps_events() || pushes,
    )?;
    let texts = own_bytes(&batch.events);
    if pushes {
        shared
            .push
            .publish(topic.spec.name(), texts.iter().cloned());
    }
    topic.accept(batch.count, texts.into_iter());
    Ok(batch.count)
}

/// The checks that need no body: method, api-version, credential.
fn admit(shared: &Shared, topic: &TopicState, parts: &Parts) -> Result<(), ServiceError> {
    if parts.method != http::Method::POST {
        return Err(ServiceError::method_not_allowed(&parts.method));
    }
    check_api_version(shared, parts)?;
    authorize(shared, topic, parts)
}

/// Copies of the events' texts, in one buffer holding nothing else: a kept event must not pin
/// the rest of its request body (up to 1.5 MB of other events or whitespace).
fn own_bytes(events: &[&str]) -> Vec<Bytes> {
    let mut buffer = BytesMut::with_capacity(events.iter().map(|event| event.len()).sum());
    for event in events {
        buffer.extend_from_slice(event.as_bytes());
    }
    let mut buffer = buffer.freeze();
    events
        .iter()
        .map(|event| buffer.split_to(event.len()))
        .collect()
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

fn check_api_version(shared: &Shared, parts: &Parts) -> Result<(), ServiceError> {
    let version = parts.uri.query().unwrap_or("").split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        name.eq_ignore_ascii_case("api-version").then_some(value)
    });
    match version {
        Some(API_VERSION) => Ok(()),
        None => Err(ServiceError::bad_request(
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(other) => Err(ServiceError::bad_request(format!(
            "The HTTP resource that matches the request URI '{}' does not support the API version \
             '{other}'. Supported: '{API_VERSION}'.",
            full_uri(shared, parts)
        ))),
    }
}

fn check_content_type(schema: Schema, parts: &Parts) -> Result<(), ServiceError> {
    let Some(value) = parts.headers.get(http::header::CONTENT_TYPE) else {
        return if schema == Schema::CloudEvents {
            Err(cloud_events_content_type("none"))
        } else {
            Ok(())
        };
    };
    let text = value.to_str().unwrap_or("");
    let media_type = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_cloud_events = media_type.starts_with("application/cloudevents");
    match schema {
        Schema::CloudEvents if media_type == "application/cloudevents-batch+json" => Ok(()),
        Schema::CloudEvents => Err(cloud_events_content_type(text)),
        _ if is_cloud_events => Err(ServiceError::bad_request(format!(
            "This resource is configured to receive event in '{}' schema; the Content-Type '{text}' \
             is for CloudEvents.",
            if schema == Schema::EventGrid {
                "EventGridEvent"
            } else {
                "CustomEventSchema"
            }
        ))),
        _ if media_type == "application/json" || media_type.ends_with("+json") => Ok(()),
        _ => Err(ServiceError::bad_request(format!(
            "The Content-Type '{text}' is not supported; send 'application/json'."
        ))),
    }
}

fn cloud_events_content_type(given: &str) -> ServiceError {
    ServiceError::bad_request(format!(
        "This resource is configured to receive event in 'CloudEventSchemaV1_0' schema, sent with \
         Content-Type 'application/cloudevents-batch+json'; the request's Content-Type is '{given}'."
    ))
}

/// `scheme://host/path?query` as the client addressed it.
pub(crate) fn full_uri(shared: &Shared, parts: &Parts) -> String {
    let path = parts
        .uri
        .path_and_query()
        .map(|path| path.as_str())
        .unwrap_or("/");
    format!(
        "{}://{}{}",
        shared.scheme,
        host_of(&parts.headers, shared),
        redact_query(path)
    )
}
