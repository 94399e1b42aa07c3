//! `POST /{topic}/api/events?api-version=2018-01-01`: faults, api-version, authentication,
//! limits, content type and validation, then the events are kept.

use std::fmt;

use http::request::Parts;
use http::{Request, Response, StatusCode};

use crate::auth::{authorize, host_of};
use crate::config::topic::Schema;
use crate::faults::state::FaultOutcome;
use crate::serving::body::{BodyBytes, ReadBody, RequestBody, read_body};
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
    let buffer_pool = (!topic.keeps_events()).then_some(&shared.body_pool);
    let body = read_body(body, shared.limits.max_request_bytes, buffer_pool)
        .await
        .map_err(|_| DropConnection)?;
    let faults = topic.decide_faults();
    if !faults.delay.is_zero() && !shared.in_process {
        tokio::time::sleep(faults.delay).await;
    }
    let (response, events) = match faults.outcome {
        Some(FaultOutcome::DropConnection) => {
            topic.count_dropped_connection();
            if topic.keeps_records() {
                topic.record(record(&parts, None, 0));
            }
            return Err(DropConnection);
        }
        Some(FaultOutcome::Status {
            status,
            retry_after,
        }) => (
            ServiceError::injected(status, retry_after).into_response(),
            0,
        ),
        None => match process(shared, topic, &parts, body) {
            Ok(events) => (empty_response(StatusCode::OK), events),
            Err(error) => (error.into_response(), 0),
        },
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

/// Everything after faults; returns how many events were accepted.
fn process(
    shared: &Shared,
    topic: &TopicState,
    parts: &Parts,
    body: ReadBody<'_>,
) -> Result<usize, ServiceError> {
    if parts.method != http::Method::POST {
        return Err(ServiceError::method_not_allowed(&parts.method));
    }
    check_api_version(shared, parts)?;
    authorize(shared, topic, parts)?;
    let body = match body {
        ReadBody::Complete(body) => body,
        ReadBody::TooLarge(seen) => {
            return Err(ServiceError::too_large(format!(
                "The request body is {seen} bytes or more; the limit is {} bytes per request.",
                shared.limits.max_request_bytes
            )));
        }
    };
    check_content_type(topic.spec.schema(), parts)?;
    let batch = validate_batch(
        &body,
        topic.spec.schema(),
        &shared.limits,
        topic.keeps_events(),
    )?;
    match &body {
        BodyBytes::Kept(body) => topic.accept(
            batch.count,
            batch
                .events
                .iter()
                .map(|event| body.slice_ref(event.as_bytes())),
        ),
        BodyBytes::Pooled(_) => topic.accept(batch.count, std::iter::empty()),
    }
    Ok(batch.count)
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
