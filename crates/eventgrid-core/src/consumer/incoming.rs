//! What a subscriber received: a handshake to answer or a delivery of events.

use http::{HeaderMap, Method, Request};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::cloud_event::CloudEvent;
use crate::consumer::binary::{binary_cloud_event, is_binary, media_type};
use crate::consumer::error::ReceiveError;
use crate::consumer::fields;
use crate::consumer::handshake::{
    AbuseProtection, Handshake, SubscriptionValidation, WEBHOOK_REQUEST_CALLBACK,
    WEBHOOK_REQUEST_ORIGIN, WEBHOOK_REQUEST_RATE,
};
use crate::consumer::headers::{AegEventType, DeliveryHeaders};
use crate::consumer::options::ReceiveOptions;
use crate::consumer::received::ReceivedEvent;
use crate::consumer::system::names::EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT;
use crate::custom_event::CustomEvent;
use crate::event::EventGridEvent;

/// What one request to a webhook is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Incoming {
    /// A handshake: answer with [`Handshake::response`] to receive events.
    Handshake(Handshake),
    /// Events: process them, then answer 200 (any of 200-204 counts as delivered).
    Delivery(PushDelivery),
}

/// How the events of a delivery were encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentMode {
    /// A JSON array (`application/json`): Event Grid schema events, CloudEvents, or custom
    /// schema events.
    JsonArray,
    /// One CloudEvent as a JSON object (`application/cloudevents+json`).
    CloudEventsStructured,
    /// CloudEvents as a JSON array (`application/cloudevents-batch+json`).
    CloudEventsBatch,
    /// One CloudEvent with its attributes in `ce-*` headers and its data as the body.
    CloudEventsBinary,
}

/// The events of a delivery, in the schema they arrived in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ReceivedEvents {
    /// Event Grid schema events.
    EventGrid(Vec<EventGridEvent>),
    /// CloudEvents 1.0.
    CloudEvents(Vec<CloudEvent>),
    /// Custom input schema events: JSON objects of the publisher's own shape, delivered as
    /// they were published.
    Custom(Vec<CustomEvent>),
}

impl ReceivedEvents {
    /// How many events there are.
    pub fn len(&self) -> usize {
        match self {
            Self::EventGrid(events) => events.len(),
            Self::CloudEvents(events) => events.len(),
            Self::Custom(events) => events.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each event, whatever its schema, in the order received.
    pub fn iter(&self) -> impl Iterator<Item = ReceivedEvent<'_>> {
        let (grid, cloud, custom): (&[EventGridEvent], &[CloudEvent], &[CustomEvent]) = match self {
            Self::EventGrid(events) => (events, &[], &[]),
            Self::CloudEvents(events) => (&[], events, &[]),
            Self::Custom(events) => (&[], &[], events),
        };
        grid.iter()
            .map(ReceivedEvent::from)
            .chain(cloud.iter().map(ReceivedEvent::from))
            .chain(custom.iter().map(ReceivedEvent::from))
    }
}

/// A delivery of events, with its `aeg-*` headers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushDelivery {
    headers: DeliveryHeaders,
    mode: ContentMode,
    events: ReceivedEvents,
}

impl PushDelivery {
    /// The `aeg-*` headers.
    pub fn headers(&self) -> &DeliveryHeaders {
        &self.headers
    }

    /// How the events were encoded.
    pub fn mode(&self) -> ContentMode {
        self.mode
    }

    /// The events.
    pub fn events(&self) -> &ReceivedEvents {
        &self.events
    }

    /// The events, owned.
    pub fn into_events(self) -> ReceivedEvents {
        self.events
    }
}

/// Reads a request a webhook received: the handshakes of both schemas, and deliveries in the
/// Event Grid schema, CloudEvents structured (single and batch) and CloudEvents binary mode.
///
/// The body must already have been read with [`ReceiveOptions::max_body_bytes`] as its
/// limit (a longer one is refused here too). Nothing is sent: the caller answers with
/// [`Handshake::response`], 200 after processing a delivery, or [`ReceiveError::status`].
///
/// ```
/// use eventgrid_core::consumer::{Incoming, ReceiveOptions, ReceivedEvents, receive};
/// #[derive(serde::Deserialize)]
/// struct Order { total: u32 }
///
/// let body = br#"[{"id":"1","topic":"/subscriptions/s/resourceGroups/r/providers/Microsoft.EventGrid/topics/orders",
///   "subject":"orders/1","eventType":"order.placed","eventTime":"2024-05-01T10:00:00.1234567Z",
///   "data":{"total":3},"dataVersion":"1.0","metadataVersion":"1"}]"#;
/// let request = http::Request::post("/")
///     .header("aeg-event-type", "Notification")
///     .header("content-type", "application/json; charset=utf-8")
///     .body(&body[..])?;
/// let Incoming::Delivery(delivery) = receive(&request, &ReceiveOptions::default())? else {
///     panic!("a delivery")
/// };
/// let ReceivedEvents::EventGrid(events) = delivery.events() else { panic!("Event Grid schema") };
/// assert_eq!(events[0].event_type(), "order.placed");
/// assert_eq!(events[0].data_as::<Order>()?.total, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn receive<B: AsRef<[u8]>>(
    request: &Request<B>,
    options: &ReceiveOptions,
) -> Result<Incoming, ReceiveError> {
    receive_parts(
        request.method(),
        request.headers(),
        request.body().as_ref(),
        options,
    )
}

/// [`receive`] for a request already taken apart, as servers hand it over.
pub fn receive_parts(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    options: &ReceiveOptions,
) -> Result<Incoming, ReceiveError> {
    if method == Method::OPTIONS {
        return abuse_protection(headers)
            .map(|request| Incoming::Handshake(Handshake::AbuseProtection(request)));
    }
    if method != Method::POST {
        return Err(ReceiveError::UnsupportedMethod {
            method: method.to_string(),
        });
    }
    options.check_size(body.len() as u64)?;
    let aeg = DeliveryHeaders::from_headers(headers);
    if is_binary(headers) {
        let event = binary_cloud_event(headers, body)?;
        return Ok(delivery(
            aeg,
            ContentMode::CloudEventsBinary,
            ReceivedEvents::CloudEvents(vec![event]),
        ));
    }
    let content_type = match headers.get(http::header::CONTENT_TYPE) {
        None => "application/json".to_owned(),
        Some(value) => media_type(
            value
                .to_str()
                .map_err(|_| ReceiveError::header("content-type", "is not visible ASCII"))?,
        ),
    };
    match content_type.as_str() {
        "application/cloudevents+json" => {
            let event = fields::cloud_event(0, json_object(body)?, std::str::from_utf8(body).ok())?;
            Ok(delivery(
                aeg,
                ContentMode::CloudEventsStructured,
                ReceivedEvents::CloudEvents(vec![event]),
            ))
        }
        "application/cloudevents-batch+json" => {
            let events = json_array(body, options)?
                .iter()
                .enumerate()
                .map(|(index, raw)| {
                    fields::cloud_event(index, fields::object(index, raw)?, Some(raw.get()))
                })
                .collect::<Result<_, _>>()?;
            Ok(delivery(
                aeg,
                ContentMode::CloudEventsBatch,
                ReceivedEvents::CloudEvents(events),
            ))
        }
        "application/json" | "text/json" => json_delivery(aeg, body, options),
        _ => Err(ReceiveError::UnsupportedContentType { content_type }),
    }
}

fn delivery(headers: DeliveryHeaders, mode: ContentMode, events: ReceivedEvents) -> Incoming {
    Incoming::Delivery(PushDelivery {
        headers,
        mode,
        events,
    })
}

fn abuse_protection(headers: &HeaderMap) -> Result<AbuseProtection, ReceiveError> {
    let origin = headers
        .get(WEBHOOK_REQUEST_ORIGIN)
        .filter(|value| value.to_str().is_ok_and(|text| !text.trim().is_empty()))
        .ok_or_else(|| {
            ReceiveError::header(
                "webhook-request-origin",
                "is missing: an OPTIONS request is the CloudEvents handshake, which names its origin",
            )
        })?;
    let callback = headers
        .get(WEBHOOK_REQUEST_CALLBACK)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let requested_rate = headers.get(WEBHOOK_REQUEST_RATE).cloned();
    if let Some(rate) = &requested_rate {
        let valid = rate
            .to_str()
            .is_ok_and(|text| text == "*" || text.parse::<u32>().is_ok());
        if !valid {
            return Err(ReceiveError::header(
                "webhook-request-rate",
                "must be a number of requests per minute or `*`",
            ));
        }
    }
    Ok(AbuseProtection {
        origin: origin.clone(),
        callback,
        requested_rate,
    })
}

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ReceiveError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ReceiveError::body(
            "is not a JSON object, as application/cloudevents+json requires",
        )),
        Err(error) => Err(ReceiveError::body(format!("is not JSON: {error}"))),
    }
}

fn json_array<'a>(
    body: &'a [u8],
    options: &ReceiveOptions,
) -> Result<Vec<&'a RawValue>, ReceiveError> {
    let text = std::str::from_utf8(body)
        .map_err(|error| ReceiveError::body(format!("is not UTF-8: {error}")))?;
    let events: Vec<&RawValue> = serde_json::from_str(text).map_err(|error| {
        if error.is_data() {
            ReceiveError::body("is not a JSON array of events")
        } else {
            ReceiveError::body(format!("is not JSON: {error}"))
        }
    })?;
    options.check_count(events.len())?;
    Ok(events)
}

/// `application/json`: an array of Event Grid schema events (the handshake among them), of
/// CloudEvents, or of custom-schema events, told apart by the first event: `specversion`
/// makes CloudEvents, `eventType` the Event Grid schema, neither a custom schema. One
/// CloudEvent object is accepted too.
fn json_delivery(
    headers: DeliveryHeaders,
    body: &[u8],
    options: &ReceiveOptions,
) -> Result<Incoming, ReceiveError> {
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{') {
        let map = json_object(body)?;
        if !map.contains_key("specversion") {
            return Err(ReceiveError::body(
                "is one JSON object without `specversion`; Event Grid schema deliveries are arrays",
            ));
        }
        let event = fields::cloud_event(0, map, std::str::from_utf8(body).ok())?;
        return Ok(delivery(
            headers,
            ContentMode::JsonArray,
            ReceivedEvents::CloudEvents(vec![event]),
        ));
    }
    let raws = json_array(body, options)?;
    let first = raws.first().map(|raw| fields::object(0, raw)).transpose()?;
    let has = |key: &str| first.as_ref().is_some_and(|event| event.contains_key(key));
    if !raws.is_empty() && !has("specversion") && !has("eventType") {
        let events = raws
            .iter()
            .enumerate()
            .map(|(index, raw)| custom_event(index, raw))
            .collect::<Result<_, _>>()?;
        return Ok(delivery(
            headers,
            ContentMode::JsonArray,
            ReceivedEvents::Custom(events),
        ));
    }
    if has("specversion") {
        let events = raws
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                fields::cloud_event(index, fields::object(index, raw)?, Some(raw.get()))
            })
            .collect::<Result<_, _>>()?;
        return Ok(delivery(
            headers,
            ContentMode::JsonArray,
            ReceivedEvents::CloudEvents(events),
        ));
    }
    let events: Vec<EventGridEvent> = raws
        .iter()
        .enumerate()
        .map(|(index, raw)| fields::event_grid_event(index, raw))
        .collect::<Result<_, _>>()?;
    let validation = events.len() == 1
        && events[0]
            .event_type()
            .eq_ignore_ascii_case(EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT);
    if validation {
        let event = &events[0];
        let data = event
            .data_as::<ValidationData>()
            .map_err(|error| ReceiveError::event(0, Some("data"), error.to_string()))?;
        let code = data
            .validation_code
            .filter(|code| !code.trim().is_empty())
            .ok_or_else(|| {
                ReceiveError::event(0, Some("data.validationCode"), "is missing or empty")
            })?;
        return Ok(Incoming::Handshake(Handshake::SubscriptionValidation(
            SubscriptionValidation {
                code,
                url: data.validation_url,
                event_id: event.id().to_owned(),
                topic: event.topic().map(str::to_owned),
                headers,
            },
        )));
    }
    if headers.event_type() == Some(&AegEventType::SubscriptionValidation) {
        return Err(ReceiveError::body(format!(
            "is not one {EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT}, as aeg-event-type \
             SubscriptionValidation says it is"
        )));
    }
    Ok(delivery(
        headers,
        ContentMode::JsonArray,
        ReceivedEvents::EventGrid(events),
    ))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationData {
    validation_code: Option<String>,
    validation_url: Option<String>,
}

/// A custom-schema event: any JSON object.
fn custom_event(index: usize, raw: &RawValue) -> Result<CustomEvent, ReceiveError> {
    CustomEvent::from_raw(raw.to_owned())
        .map_err(|_| ReceiveError::event(index, None, "is not a JSON object"))
}
