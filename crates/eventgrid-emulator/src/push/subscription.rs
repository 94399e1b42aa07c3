//! Event subscription specifications: a webhook endpoint on a topic, with its delivery schema,
//! filter, batching, retry policy, dead-letter folder and validation choice.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use http::Uri;

use super::batch::BatchPolicy;
use super::filter::EventFilter;
use super::retry::RetryPolicy;
use crate::config::topic::Schema;

/// One event subscription with a webhook endpoint.
///
/// ```
/// use eventgrid_emulator::{EventFilter, RetryPolicy, Schema, WebhookSubscription};
///
/// let spec = WebhookSubscription::new("orders", "audit", "http://127.0.0.1:8080/events?code=s3cret")
///     .unwrap()
///     .delivery_schema(Schema::CloudEvents)
///     .filter(EventFilter::new().subject_begins_with("orders/"))
///     .retry(RetryPolicy::new(3, 5).unwrap());
/// assert_eq!(spec.endpoint_base_url(), "http://127.0.0.1:8080/events");
/// // The command line's form: TOPIC=URL, or TOPIC/NAME=URL.
/// let parsed: WebhookSubscription = "orders/audit=http://127.0.0.1:8080/".parse().unwrap();
/// assert_eq!((parsed.topic(), parsed.name()), ("orders", "audit"));
/// // The endpoint's query (often a secret) never shows in Debug output.
/// assert!(!format!("{spec:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq)]
pub struct WebhookSubscription {
    topic: String,
    name: String,
    endpoint: Uri,
    delivery_schema: Option<Schema>,
    /// Which events are delivered.
    pub event_filter: EventFilter,
    /// How many events one request carries.
    pub batching: BatchPolicy,
    /// How long and how often failed deliveries are retried.
    pub retry_policy: RetryPolicy,
    /// Where dead letters are written as JSON files (they are listed by the inspection API
    /// either way).
    pub dead_letter_folder: Option<PathBuf>,
    /// Whether the validation handshake runs when the subscription is created (default true);
    /// without it, the subscription is active at once.
    pub validate: bool,
}

/// The name a subscription gets from `TOPIC=URL`.
pub(crate) const DEFAULT_NAME: &str = "webhook";

impl WebhookSubscription {
    /// A subscription `name` on `topic` delivering to `endpoint` (an `http` or `https` URL),
    /// with the topic's schema, no filter, the service's default batching and retry policy,
    /// and the validation handshake.
    ///
    /// Names are 3 to 64 ASCII letters, digits and hyphens, as the service's.
    pub fn new(
        topic: impl Into<String>,
        name: impl Into<String>,
        endpoint: &str,
    ) -> Result<Self, String> {
        let name = name.into();
        check_name(&name)?;
        let endpoint = parse_endpoint(endpoint)?;
        Ok(Self {
            topic: topic.into(),
            name,
            endpoint,
            delivery_schema: None,
            event_filter: EventFilter::default(),
            batching: BatchPolicy::default(),
            retry_policy: RetryPolicy::default(),
            dead_letter_folder: None,
            validate: true,
        })
    }

    /// Delivers in `schema` instead of the topic's: Event Grid schema topics can deliver
    /// CloudEvents; other topics deliver only their own schema.
    pub fn delivery_schema(mut self, schema: Schema) -> Self {
        self.delivery_schema = Some(schema);
        self
    }

    /// Sets the filter.
    pub fn filter(mut self, filter: EventFilter) -> Self {
        self.event_filter = filter;
        self
    }

    /// Sets the batching.
    pub fn batching(mut self, batching: BatchPolicy) -> Self {
        self.batching = batching;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Writes dead letters under `folder`.
    pub fn dead_letter_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.dead_letter_folder = Some(folder.into());
        self
    }

    /// Skips the validation handshake (`false`), as the simulator's `disableValidation`.
    pub fn validation(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// The topic the subscription is on.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The subscription's name (`aeg-subscription-name` carries it in upper case).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoint, query included.
    pub fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    /// The endpoint without its query, as the service shows it (`endpointBaseUrl`).
    pub fn endpoint_base_url(&self) -> String {
        let scheme = self.endpoint.scheme_str().unwrap_or("http");
        let authority = self.endpoint.authority().map_or("", |a| a.as_str());
        format!("{scheme}://{authority}{}", self.endpoint.path())
    }

    /// The schema chosen with [`delivery_schema`](Self::delivery_schema), if any.
    pub fn chosen_delivery_schema(&self) -> Option<Schema> {
        self.delivery_schema
    }

    /// The schema deliveries use on a topic of schema `topic_schema`, or why the pair is not
    /// possible.
    pub(crate) fn resolve_schema(&self, topic_schema: Schema) -> Result<Schema, String> {
        let wanted = self.delivery_schema.unwrap_or(topic_schema);
        match (topic_schema, wanted) {
            (from, to) if from == to => Ok(to),
            (Schema::EventGrid, Schema::CloudEvents) => Ok(Schema::CloudEvents),
            (from, to) => Err(format!(
                "a {from} topic cannot deliver in the {to} schema (only eventgrid topics convert, to cloudevents)"
            )),
        }
    }

    /// Everything checkable without the topic.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.event_filter.validate()?;
        self.batching.validate()?;
        self.retry_policy.validate()
    }

    /// Renames (the command line names its unnamed webhooks `webhook`, `webhook-2`, ...).
    pub(crate) fn renamed(mut self, name: String) -> Self {
        self.name = name;
        self
    }
}

impl fmt::Debug for WebhookSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSubscription")
            .field("topic", &self.topic)
            .field("name", &self.name)
            .field("endpoint", &self.endpoint_base_url())
            .field("delivery_schema", &self.delivery_schema)
            .field("event_filter", &self.event_filter)
            .field("batching", &self.batching)
            .field("retry_policy", &self.retry_policy)
            .field("dead_letter_folder", &self.dead_letter_folder)
            .field("validate", &self.validate)
            .finish()
    }
}

/// `TOPIC=URL` or `TOPIC/NAME=URL`, as given to `--webhook`.
impl FromStr for WebhookSubscription {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (head, url) = text
            .split_once('=')
            .ok_or_else(|| "expected TOPIC=URL or TOPIC/NAME=URL".to_owned())?;
        let (topic, name) = match head.split_once('/') {
            Some((topic, name)) => (topic, name),
            None => (head, DEFAULT_NAME),
        };
        if topic.is_empty() {
            return Err("the topic is empty (expected TOPIC=URL)".to_owned());
        }
        Self::new(topic, name, url)
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if !(3..=64).contains(&name.len()) {
        return Err(format!(
            "subscription name `{name}`: 3 to 64 characters are allowed"
        ));
    }
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        return Err(format!(
            "subscription name `{name}`: only ASCII letters, digits and `-` are allowed"
        ));
    }
    Ok(())
}

/// An absolute `http` or `https` URL. The message never repeats the query.
fn parse_endpoint(text: &str) -> Result<Uri, String> {
    let shown = text.split('?').next().unwrap_or(text);
    let uri: Uri = text
        .parse()
        .map_err(|error| format!("endpoint `{shown}` is not a URL: {error}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|host| !host.is_empty()) => Ok(uri),
        Some("http" | "https") => Err(format!("endpoint `{shown}` has no host")),
        _ => Err(format!(
            "endpoint `{shown}` must be an http:// or https:// URL"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_line_forms() {
        let plain: WebhookSubscription = "orders=https://example.com/hook".parse().unwrap();
        assert_eq!((plain.topic(), plain.name()), ("orders", "webhook"));
        assert!(plain.validate);
        let named: WebhookSubscription =
            "orders/billing-1=http://127.0.0.1:9/x?a=b".parse().unwrap();
        assert_eq!(named.name(), "billing-1");
        assert_eq!(named.endpoint().query(), Some("a=b"));
    }

    #[test]
    fn bad_specs_say_why_without_the_query() {
        let error = |text: &str| text.parse::<WebhookSubscription>().unwrap_err();
        assert!(error("orders").contains("TOPIC=URL"));
        assert!(error("=http://x/").contains("topic is empty"));
        assert!(error("orders=ftp://x/?key=secret").contains("http:// or https://"));
        assert!(!error("orders=ftp://x/?key=secret").contains("secret"));
        assert!(error("orders/a_b=http://x/").contains("only ASCII letters"));
        assert!(error("orders/ab=http://x/").contains("3 to 64"));
        assert!(error("orders=not a url").contains("not a URL"));
    }

    #[test]
    fn schemas_convert_only_from_event_grid_to_cloud_events() {
        let spec: WebhookSubscription = "t=http://x/".parse().unwrap();
        assert_eq!(spec.resolve_schema(Schema::Custom), Ok(Schema::Custom));
        let cloud = spec.clone().delivery_schema(Schema::CloudEvents);
        assert_eq!(
            cloud.resolve_schema(Schema::EventGrid),
            Ok(Schema::CloudEvents)
        );
        let event_grid = spec.delivery_schema(Schema::EventGrid);
        assert!(
            event_grid
                .resolve_schema(Schema::CloudEvents)
                .unwrap_err()
                .contains("cannot deliver")
        );
    }
}
