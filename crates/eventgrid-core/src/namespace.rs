//! Namespace topics' pull delivery: the [`Subscription`] a receiver reads from, the operations
//! on it the engine runs (receive and the settlements), and the explanation of a 404 that
//! means a basic topic was used as a namespace topic, or the reverse.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};

use crate::auth::AuthHeader;
use crate::client::{ClientCore, Topic};
use crate::endpoint::{NAMESPACE_API_VERSION, check_resource_name};
use crate::engine::Operation;
use crate::error::{Error, Result, ServiceError};
use crate::receive::Receive;
use crate::settlement::{Settle, SettlementKind};

/// Receive's `maxEvents` range.
pub const MAX_EVENTS_RANGE: std::ops::RangeInclusive<usize> = 1..=100;
/// Receive's `maxWaitTime` range, in seconds.
pub const MAX_WAIT_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 10..=120;
/// The time a receive's attempt is given beyond its `max_wait`, so that the service's answer
/// at the end of the wait arrives before the attempt is cut.
pub const RECEIVE_ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// One subscription of a namespace topic: what receivers read from and settle with.
#[derive(Debug, Clone)]
pub struct Subscription {
    topic: Arc<Topic>,
    name: String,
}

impl Subscription {
    /// The topic.
    pub fn topic(&self) -> &Arc<Topic> {
        &self.topic
    }

    /// The subscription's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `{namespace}/topics/{t}/eventsubscriptions/{s}:{operation}?api-version=...{query}`.
    pub(crate) fn uri(&self, operation: &str, query: &str) -> Result<Uri> {
        let config = self.topic.config();
        let topic = config.namespace_topic().unwrap_or_default();
        format!(
            "{}/topics/{topic}/eventsubscriptions/{}:{operation}?api-version={NAMESPACE_API_VERSION}{query}",
            config.endpoint().resource(),
            self.name
        )
        .parse()
        .map_err(|e| Error::InvalidTopic {
            topic: config.name().to_owned(),
            reason: format!("subscription URL is not valid ({e})"),
        })
    }

    /// A POST of `body` to `uri` with `auth` and the client's user agent.
    pub(crate) fn post(
        &self,
        uri: Uri,
        content_type: Option<&'static str>,
        body: Bytes,
        auth: &AuthHeader,
    ) -> Request<Bytes> {
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        headers.insert(USER_AGENT, self.topic.template().user_agent.clone());
        if let Some((name, value)) = auth.header() {
            headers.insert(name, value.clone());
        }
        request
    }

    /// A 404 here means the namespace has no such topic or subscription, or the endpoint is
    /// not a namespace's: said so.
    pub(crate) fn explain(&self, error: Error) -> Error {
        explain_not_found(&self.topic, error)
    }
}

/// Says what a 404 from `topic`'s endpoint probably means: the endpoint is of the other kind
/// (a basic topic's used as a namespace, or the reverse), a common trap the service answers
/// only with "No HTTP resource was found". For a namespace topic the error becomes
/// [`Error::WrongTopicKind`]; for a basic topic it stays the service's error (status and code as
/// answered), its message completed with the hint when it has the service's wording.
pub(crate) fn explain_not_found(topic: &Topic, error: Error) -> Error {
    let Error::Service(mut service) = error else {
        return error;
    };
    if service.status != 404 {
        return Error::Service(service);
    }
    let endpoint = topic.config().endpoint();
    if topic.config().is_namespace() {
        let hint = format!(
            "not found at the namespace endpoint `{endpoint}`: is it a basic topic's endpoint rather than a namespace's (configure a basic topic with EventGridTopicConfig::new), or are the namespace topic `{}` and the subscription named as in Azure? The service said: {}",
            topic.config().namespace_topic().unwrap_or_default(),
            service.message,
        );
        return Error::WrongTopicKind {
            topic: topic.name().to_owned(),
            hint,
            status: Some(404),
        };
    }
    if service.message.contains("No HTTP resource was found") {
        service.message.push_str(&format!(
            " (is `{endpoint}` an Event Grid namespace endpoint rather than a basic topic's? Configure a namespace topic with EventGridTopicConfig::namespace(name, namespace_endpoint, topic).)"
        ));
    }
    Error::Service(service)
}

/// The error of a 200 answer whose body is not what the operation answers.
pub(crate) fn unreadable(operation: &str, error: &serde_json::Error) -> Error {
    Error::Service(ServiceError {
        status: 200,
        code: None,
        message: format!("unreadable {operation} answer: {error}"),
        details: Vec::new(),
        request_id: None,
        retry_after: None,
    })
}

impl ClientCore {
    /// The subscription `subscription` of the namespace topic named `topic` (the name it is
    /// configured under). A basic topic, or a name that cannot be a subscription's, is refused.
    pub fn subscription(&self, topic: &str, subscription: &str) -> Result<Subscription> {
        let topic = self.topic(topic)?;
        if !topic.config().is_namespace() {
            return Err(Error::WrongTopicKind {
                topic: topic.name().to_owned(),
                hint: "pull delivery needs a namespace topic (EventGridTopicConfig::namespace); this is a basic topic".to_owned(),
                status: None,
            });
        }
        check_resource_name("subscription", subscription).map_err(|reason| {
            Error::InvalidArgument {
                argument: "subscription",
                reason,
            }
        })?;
        Ok(Subscription {
            topic,
            name: subscription.to_owned(),
        })
    }

    /// The operation receiving up to `max_events` (1 to 100) events from `subscription`,
    /// waiting up to `max_wait` (10 to 120 s, whole seconds, as the service allows; anything
    /// else is an [`Error::InvalidArgument`]) for the first. The attempt may take `max_wait`
    /// plus [`RECEIVE_ANSWER_MARGIN`], whatever the client's request time-out.
    pub fn receive(
        &self,
        subscription: &Subscription,
        max_events: usize,
        max_wait: Duration,
        now: Instant,
    ) -> Result<Operation<Receive>> {
        if !MAX_EVENTS_RANGE.contains(&max_events) {
            return Err(Error::InvalidArgument {
                argument: "max_events",
                reason: format!("must be 1 to 100, not {max_events}"),
            });
        }
        let seconds = max_wait.as_secs();
        if !MAX_WAIT_SECONDS_RANGE.contains(&seconds) || max_wait.subsec_nanos() != 0 {
            return Err(Error::InvalidArgument {
                argument: "max_wait",
                reason: format!("must be 10 to 120 whole seconds, not {max_wait:?}"),
            });
        }
        let exchange = Receive::new(subscription.clone(), max_events, seconds)?;
        // The long poll is the attempt: it may outlast the request time-out, and the overall
        // deadline grows by one full attempt so that retries keep their time.
        let attempt = max_wait + RECEIVE_ANSWER_MARGIN;
        let mut retry = self.options().retry;
        retry.max_elapsed = retry.max_elapsed.saturating_add(attempt);
        Ok(self
            .operation(exchange, retry, now)
            .with_attempt_limit(attempt))
    }

    /// The operation settling `lock_tokens` of `subscription` as `kind`. An empty list is
    /// refused.
    pub fn settle(
        &self,
        subscription: &Subscription,
        kind: SettlementKind,
        lock_tokens: &[impl AsRef<str>],
        now: Instant,
    ) -> Result<Operation<Settle>> {
        let exchange = Settle::new(subscription.clone(), kind, lock_tokens)?;
        Ok(self.operation(exchange, self.options().retry, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EventGridConfig, EventGridTopicConfig};
    use crate::engine::{Action, Now};
    use crate::{ClientOptions, Credential, EventGridEvent, KeyCredential};

    fn core(credential: Credential) -> ClientCore {
        let config = EventGridConfig::new([
            EventGridTopicConfig::namespace(
                "orders",
                "https://ns.westus-1.eventgrid.azure.net",
                "orders-v2",
            )
            .unwrap()
            .with_source("/shop"),
            EventGridTopicConfig::new("basic", "https://b.westus-1.eventgrid.azure.net").unwrap(),
        ])
        .unwrap();
        ClientCore::new(config, &credential, ClientOptions::default()).unwrap()
    }

    fn first_request<X: crate::engine::Exchange>(mut op: Operation<X>) -> Request<Bytes> {
        match op.poll(Now::system()) {
            Action::Send { request, .. } => request,
            _ => panic!("the first action is not a send"),
        }
    }

    #[test]
    fn emit_publishes_a_cloud_event_with_the_configured_source_and_a_shared_access_key() {
        let core = core(Credential::access_key("k"));
        let (topic, batches) = core
            .prepare_emit("orders", "order.placed".into(), "orders/1".into(), 7)
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&batches[0].body).unwrap();
        assert_eq!(body[0]["source"], "/shop");
        assert_eq!(body[0]["subject"], "orders/1");
        assert_eq!(body[0]["data"], 7);
        let batch = batches.into_iter().next().unwrap();
        let request = first_request(core.publish(&topic, batch, Instant::now()));
        assert_eq!(
            request.uri().to_string(),
            "https://ns.westus-1.eventgrid.azure.net/topics/orders-v2:publish?api-version=2024-06-01"
        );
        assert_eq!(request.headers()["authorization"], "SharedAccessKey k");
        assert_eq!(
            request.headers()["content-type"],
            "application/cloudevents-batch+json; charset=utf-8"
        );
        assert_eq!(topic.limits().max_events_per_request, 1_000);
    }

    #[test]
    fn event_grid_events_and_sas_credentials_are_refused_for_namespaces() {
        let core = core(Credential::None);
        let err = core
            .prepare("orders", [EventGridEvent::without_data("t", "s")])
            .unwrap_err();
        assert!(matches!(err, Error::NotForNamespace { .. }), "{err}");
        for credential in [
            KeyCredential::sas_token("r=x&e=y&s=z"),
            KeyCredential::sas_from_key("k", Duration::from_secs(60)),
        ] {
            let topic = EventGridTopicConfig::namespace("n", "https://ns.example.com", "t")
                .unwrap()
                .with_credential(credential);
            let err = core.add_topic(topic).unwrap_err();
            assert!(
                err.to_string().contains("does not accept SAS tokens"),
                "{err}"
            );
        }
    }

    #[test]
    fn receive_arguments_are_checked_before_sending() {
        let core = core(Credential::None);
        let subscription = core.subscription("orders", "billing").unwrap();
        let now = Instant::now();
        for (events, wait) in [(0, 10), (101, 10), (1, 9), (1, 121)] {
            let err = core
                .receive(&subscription, events, Duration::from_secs(wait), now)
                .unwrap_err();
            assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        }
        // 60 s is longer than the default request time-out (30 s): the attempt is the long
        // poll's, and the retries' overall deadline grows with it.
        let mut long_poll = core
            .receive(&subscription, 1, Duration::from_secs(60), now)
            .unwrap();
        match long_poll.poll(Now::system()) {
            Action::Send { deadline, .. } => {
                let limit = deadline.saturating_duration_since(now);
                assert!(limit >= Duration::from_secs(65), "{limit:?}");
                assert!(limit < Duration::from_secs(66), "{limit:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(long_poll.deadline() >= now + Duration::from_secs(65));
        let request = first_request(
            core.receive(&subscription, 5, Duration::from_secs(10), now)
                .unwrap(),
        );
        assert_eq!(
            request.uri().to_string(),
            "https://ns.westus-1.eventgrid.azure.net/topics/orders-v2/eventsubscriptions/billing:receive?api-version=2024-06-01&maxEvents=5&maxWaitTime=10"
        );
        assert!(matches!(
            core.subscription("basic", "s"),
            Err(Error::WrongTopicKind { status: None, .. })
        ));
        assert!(core.subscription("orders", "a/b").is_err());
        let empty: [&str; 0] = [];
        assert!(
            core.settle(&subscription, SettlementKind::Reject, &empty, now)
                .is_err()
        );
    }

    #[test]
    fn a_404_says_the_endpoint_may_be_of_the_other_kind() {
        let core = core(Credential::None);
        let not_found = || {
            Error::Service(crate::response::parse_service_error(
                404,
                &http::HeaderMap::new(),
                br#"{"error":{"code":"NotFound","message":"No HTTP resource was found that matches the request URI"}}"#,
            ))
        };
        let namespace = explain_not_found(&core.topic("orders").unwrap(), not_found());
        assert!(
            namespace.to_string().contains("basic topic's endpoint"),
            "{namespace}"
        );
        let basic = explain_not_found(&core.topic("basic").unwrap(), not_found());
        assert!(
            basic
                .to_string()
                .contains("EventGridTopicConfig::namespace"),
            "{basic}"
        );
        assert_eq!(basic.status(), Some(404));
    }
}
