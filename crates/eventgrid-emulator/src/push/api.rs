//! The HTTP side of push delivery: the control API under `/_emulator/` (webhook subscriptions, delivery
//! attempts, dead letters) and the validation URL subscribers GET.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::Serialize;

use super::document::SubscriptionDocument;
use super::registry::PushRegistry;
use crate::config::topic::Schema;
use crate::serving::response::{Body, ServiceError, empty_response, json_response};

/// Answers `/_emulator/{webhooks|deliveries|dead-letters}/...` (`segments` after
/// `_emulator`). `topic_schema` names the schema of a configured topic.
pub(crate) fn control(
    registry: &PushRegistry,
    topic_schema: impl Fn(&str) -> Option<Schema>,
    method: &Method,
    segments: &[&str],
    query: Option<&str>,
    body: &Bytes,
) -> Result<Response<Body>, ServiceError> {
    let topic = query_value(query, "topic");
    let subscription = query_value(query, "subscription");
    match (method, segments) {
        (&Method::GET, ["webhooks"]) => Ok(json_ok(&registry.list())),
        (&Method::GET, ["webhooks", topic]) => {
            let all = registry.list();
            Ok(json_ok(
                &all.into_iter()
                    .filter(|info| info.topic == *topic)
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::GET, ["webhooks", topic, name]) => registry
            .get(topic, name)
            .map(|info| json_ok(&info))
            .ok_or_else(|| unknown_subscription(topic, name)),
        (&Method::PUT, ["webhooks", topic, name]) => {
            put_subscription(registry, &topic_schema, topic, name, body)
        }
        (&Method::DELETE, ["webhooks", topic, name]) => {
            if registry.remove(topic, name, true) {
                Ok(empty_response(StatusCode::NO_CONTENT))
            } else {
                Err(unknown_subscription(topic, name))
            }
        }
        (&Method::GET, ["deliveries"]) => Ok(json_ok(
            &registry.attempts(topic.as_deref(), subscription.as_deref()),
        )),
        (&Method::GET, ["dead-letters"]) => Ok(json_ok(
            &registry.dead_letters(topic.as_deref(), subscription.as_deref()),
        )),
        (&Method::DELETE, ["deliveries"] | ["dead-letters"]) => {
            registry.clear_log();
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        (_, ["webhooks"] | ["webhooks", _] | ["webhooks", _, _])
        | (_, ["deliveries"] | ["dead-letters"]) => Err(ServiceError::method_not_allowed(method)),
        _ => Err(ServiceError::not_found(
            &format!("/_emulator/{}", segments.join("/")),
            " Use /_emulator/webhooks[/{topic}[/{name}]], /_emulator/deliveries or \
             /_emulator/dead-letters.",
        )),
    }
}

fn put_subscription(
    registry: &PushRegistry,
    topic_schema: &impl Fn(&str) -> Option<Schema>,
    topic: &str,
    name: &str,
    body: &Bytes,
) -> Result<Response<Body>, ServiceError> {
    let schema = topic_schema(topic).ok_or_else(|| {
        ServiceError::not_found(
            &format!("/_emulator/webhooks/{topic}/{name}"),
            &format!(" Topic '{topic}' is not configured."),
        )
    })?;
    let document: SubscriptionDocument = serde_json::from_slice(body)
        .map_err(|error| ServiceError::bad_request(format!("Invalid subscription: {error}.")))?;
    let mut spec = document
        .into_spec(Some(topic), Some(name))
        .map_err(|reason| ServiceError::bad_request(format!("Invalid subscription: {reason}.")))?;
    if let Some(folder) = &spec.dead_letter_folder {
        let confined =
            super::dead_letter::confine(registry.dead_letter_root(), folder).map_err(|reason| {
                ServiceError::bad_request(format!("Invalid subscription: {reason}."))
            })?;
        spec.dead_letter_folder = Some(confined);
    }
    // Checked before the old one goes, so a bad replacement leaves it in place.
    spec.resolve_schema(schema)
        .map_err(|reason| ServiceError::bad_request(format!("Invalid subscription: {reason}.")))?;
    let replaced = registry.remove(topic, name, false);
    let info = registry
        .add(spec, schema)
        .map_err(|reason| ServiceError::bad_request(format!("Invalid subscription: {reason}.")))?;
    let status = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(
        status,
        serde_json::to_vec(&info).expect("infos serialize"),
    ))
}

/// `GET /eventsubscriptions/{name}/validate?id=CODE`: the validation URL of the Event Grid
/// handshake, and the callback of the CloudEvents one.
pub(crate) fn validation_url(
    registry: &PushRegistry,
    method: &Method,
    name: &str,
    query: Option<&str>,
) -> Response<Body> {
    if method != Method::GET {
        return ServiceError::method_not_allowed(method).into_response();
    }
    let Some(id) = query_value(query, "id") else {
        return ServiceError::bad_request("The validation URL needs its `id` query parameter.")
            .into_response();
    };
    match registry.visit_validation_url(name, &id) {
        Ok(_) => json_response(
            StatusCode::OK,
            serde_json::to_vec(&serde_json::json!({
                "message": "Webhook successfully validated as a subscription endpoint."
            }))
            .expect("JSON serializes"),
        ),
        Err(reason) => ServiceError::bad_request(reason).into_response(),
    }
}

fn unknown_subscription(topic: &str, name: &str) -> ServiceError {
    ServiceError::not_found(
        &format!("/_emulator/webhooks/{topic}/{name}"),
        &format!(" Topic '{topic}' has no subscription '{name}'."),
    )
}

/// The percent-decoded value of query parameter `name`.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_encoding::percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn json_ok(value: &impl Serialize) -> Response<Body> {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).expect("inspection answers serialize"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value(Some("a=1&topic=my%20t"), "topic").as_deref(),
            Some("my t")
        );
        assert_eq!(query_value(Some("a=1"), "topic"), None);
        assert_eq!(query_value(None, "topic"), None);
    }
}
