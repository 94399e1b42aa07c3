//! CloudEvents in binary content mode: the attributes in `ce-*` headers, the data as the
//! body, its type in `Content-Type`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::cloud_event::{CloudEvent, check_extension_name};
use crate::consumer::error::ReceiveError;
use crate::consumer::fields;

/// The header prefix of CloudEvents attributes in binary mode.
pub const CE_HEADER_PREFIX: &str = "ce-";

/// Whether the request carries a CloudEvent in binary mode (it has `ce-specversion`).
pub(crate) fn is_binary(headers: &HeaderMap) -> bool {
    headers.contains_key("ce-specversion")
}

/// Whether a media type holds JSON: `application/json`, `text/json` or any `+json` type.
pub(crate) fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json" || media_type == "text/json" || media_type.ends_with("+json")
}

/// The media type of a `Content-Type` value: before any parameter, trimmed, lower case.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Reads the one CloudEvent of a binary-mode request.
///
/// Header values are percent-decoded as the CloudEvents HTTP binding says; extension values
/// arrive as strings (the binding carries no types). JSON data (by `Content-Type`) must be
/// valid JSON; any other data is kept as bytes.
pub(crate) fn binary_cloud_event(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CloudEvent, ReceiveError> {
    let mut map = Map::new();
    for (name, value) in headers {
        let Some(attribute) = name.as_str().strip_prefix(CE_HEADER_PREFIX) else {
            continue;
        };
        let text = value
            .to_str()
            .ok()
            .and_then(|text| percent_decode_str(text).decode_utf8().ok())
            .ok_or_else(|| ReceiveError::header(name.as_str(), "is not percent-encoded UTF-8"))?;
        if matches!(attribute, "data" | "data_base64" | "datacontenttype") {
            return Err(ReceiveError::header(
                name.as_str(),
                "is not an attribute in binary mode: the data is the body, its type Content-Type",
            ));
        }
        if !is_context_attribute(attribute) {
            check_extension_name(attribute)
                .map_err(|reason| ReceiveError::header(name.as_str(), reason))?;
        }
        if map.contains_key(attribute) {
            return Err(ReceiveError::header(
                name.as_str(),
                "is given more than once",
            ));
        }
        map.insert(attribute.to_owned(), Value::String(text.into_owned()));
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ReceiveError::header("content-type", "is not visible ASCII"))
        })
        .transpose()?;
    if let Some(content_type) = content_type {
        map.insert(
            "datacontenttype".into(),
            Value::String(content_type.to_owned()),
        );
    }
    let mut json_data = None;
    if !body.is_empty() {
        let json = content_type.is_some_and(|value| is_json_media_type(&media_type(value)));
        if json {
            // Checked, and kept as the publisher wrote it: through a `Value` integers past 64
            // bits and decimals past `f64` would lose digits.
            let data: &RawValue = serde_json::from_slice(body).map_err(|error| {
                ReceiveError::body(format!("is not the JSON its Content-Type says: {error}"))
            })?;
            json_data = Some(data);
        } else {
            map.insert("data_base64".into(), Value::String(STANDARD.encode(body)));
        }
    }
    let text = json_data.map(|data| with_data(&map, data));
    if json_data.is_some() {
        // For the checks, which look at the attributes only.
        map.insert("data".into(), Value::Null);
    }
    fields::cloud_event(0, map, text.as_deref()).map_err(|error| match error {
        // A binary-mode attribute is a header: name it so.
        ReceiveError::InvalidEvent {
            field: Some(field),
            reason,
            ..
        } => ReceiveError::InvalidHeader {
            name: format!("{CE_HEADER_PREFIX}{field}"),
            reason,
        },
        other => other,
    })
}

/// The event's JSON text: the attributes, then `"data"` with the body's own text.
fn with_data(attributes: &Map<String, Value>, data: &RawValue) -> String {
    let mut text = Value::Object(attributes.clone()).to_string();
    text.pop();
    if !attributes.is_empty() {
        text.push(',');
    }
    text.push_str("\"data\":");
    text.push_str(data.get());
    text.push('}');
    text
}

fn is_context_attribute(name: &str) -> bool {
    matches!(
        name,
        "id" | "source" | "specversion" | "type" | "dataschema" | "subject" | "time"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_event::CloudEventData;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    const REQUIRED: [(&str, &str); 4] = [
        ("ce-specversion", "1.0"),
        ("ce-id", "A234-1234-1234"),
        ("ce-source", "/mycontext/subcontext"),
        ("ce-type", "com.example.someevent"),
    ];

    #[test]
    fn attributes_come_from_headers_and_json_data_from_the_body() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            ("ce-time", "2018-04-05T03:56:24Z"),
            ("ce-subject", "caf%C3%A9"),
            ("ce-comexampleextension1", "value"),
            ("content-type", "application/json; charset=utf-8"),
        ]);
        let event = binary_cloud_event(&headers(&pairs), br#"{"total": 3}"#).unwrap();
        assert_eq!(event.id(), "A234-1234-1234");
        assert_eq!(event.subject(), Some("café"));
        assert_eq!(event.extensions()["comexampleextension1"], "value");
        assert!(event.time().is_some());
        let CloudEventData::Json(data) = event.data() else {
            panic!("JSON data")
        };
        assert_eq!(data.get(), r#"{"total": 3}"#, "the body's own text");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["datacontenttype"], "application/json; charset=utf-8");
    }

    #[test]
    fn json_data_keeps_every_digit() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("content-type", "application/json"));
        let body = br#" [123456789012345678901234567890, 0.10000000000000000000001] "#;
        let event = binary_cloud_event(&headers(&pairs), body).unwrap();
        let CloudEventData::Json(data) = event.data() else {
            panic!("JSON data")
        };
        assert_eq!(
            data.get(),
            "[123456789012345678901234567890, 0.10000000000000000000001]"
        );
        let without_attributes = binary_cloud_event(&headers(&[]), b"1");
        assert!(
            without_attributes.is_err(),
            "specversion, id, source and type are required"
        );
    }

    #[test]
    fn other_data_stays_bytes_and_no_time_is_invented() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("content-type", "application/octet-stream"));
        let event = binary_cloud_event(&headers(&pairs), b"\x00\xff").unwrap();
        assert!(matches!(event.data(), CloudEventData::Binary(bytes) if bytes == b"\x00\xff"));
        assert_eq!(event.time(), None);
        let empty = binary_cloud_event(&headers(&REQUIRED), b"").unwrap();
        assert!(matches!(empty.data(), CloudEventData::None));
    }

    #[test]
    fn bad_headers_are_named() {
        let without_source: Vec<_> = REQUIRED
            .iter()
            .copied()
            .filter(|(n, _)| *n != "ce-source")
            .collect();
        let error = binary_cloud_event(&headers(&without_source), b"").unwrap_err();
        assert_eq!(error.to_string(), "header `ce-source`: is missing");

        let mut pairs = REQUIRED.to_vec();
        pairs.push(("ce-bad-name", "x"));
        let error = binary_cloud_event(&headers(&pairs), b"").unwrap_err();
        assert!(
            error.to_string().starts_with("header `ce-bad-name`:"),
            "{error}"
        );

        let mut pairs = REQUIRED.to_vec();
        pairs.push(("ce-time", "soon"));
        let error = binary_cloud_event(&headers(&pairs), b"").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("header `ce-time`: is not an RFC 3339"),
            "{error}"
        );

        let mut pairs = REQUIRED.to_vec();
        pairs.push(("content-type", "application/json"));
        let error = binary_cloud_event(&headers(&pairs), b"{not json").unwrap_err();
        assert!(
            error.to_string().starts_with("the body is not the JSON"),
            "{error}"
        );

        let mut pairs = REQUIRED.to_vec();
        pairs.push(("ce-subject", "%FF"));
        let error = binary_cloud_event(&headers(&pairs), b"").unwrap_err();
        assert_eq!(
            error.to_string(),
            "header `ce-subject`: is not percent-encoded UTF-8"
        );
    }
}
