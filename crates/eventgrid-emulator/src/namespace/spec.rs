//! What a namespace topic and a queue subscription are configured with.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::config::topic::check_name;
use crate::error::Error;

/// The longest lock the service allows (its shortest is 60 s; the emulator allows shorter
/// locks so that tests need not wait).
const MAX_LOCK_DURATION: Duration = Duration::from_secs(300);

/// The longest event time-to-live the service allows (7 days); a longer one also overflowed
/// the clock (`Instant + ttl`) on publish.
const MAX_EVENT_TIME_TO_LIVE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A namespace topic: a name, and an access key unless it is open.
///
/// Clients publish to `{endpoint}/topics/{name}:publish?api-version=2024-06-01`, the emulator's
/// root URL being the namespace endpoint.
///
/// ```
/// use eventgrid_emulator::NamespaceTopicSpec;
///
/// let keyed: NamespaceTopicSpec = "orders=a2V5".parse().unwrap();
/// assert_eq!((keyed.name(), keyed.key()), ("orders", Some("a2V5")));
/// assert!(NamespaceTopicSpec::open("audit").key().is_none());
/// assert!(!format!("{keyed:?}").contains("a2V5"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NamespaceTopicSpec {
    name: String,
    key: Option<String>,
}

impl NamespaceTopicSpec {
    /// A topic that accepts requests without a credential.
    ///
    /// # Panics
    /// If `name` is not a valid topic name (see [`NamespaceTopicSpec::new`]).
    pub fn open(name: impl Into<String>) -> Self {
        Self::new(name, None).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A topic that demands `Authorization: SharedAccessKey KEY` or a bearer token.
    ///
    /// # Panics
    /// If `name` is not a valid topic name or `key` is empty.
    pub fn keyed(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(name, Some(key.into())).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A topic with every part given; names follow the rules of
    /// [`TopicSpec::new`](crate::TopicSpec::new), keys must not be empty.
    pub fn new(name: impl Into<String>, key: Option<String>) -> Result<Self, Error> {
        let name = name.into();
        check_name(&name)?;
        if key.as_deref() == Some("") {
            return Err(Error::InvalidTopic {
                topic: name,
                reason: "the key is empty".to_owned(),
            });
        }
        Ok(Self { name, key })
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The access key, or `None` for an open topic.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

impl fmt::Debug for NamespaceTopicSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceTopicSpec")
            .field("name", &self.name)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Parses `NAME[=KEY]`, as on the command line (`--namespace-topic orders=a2V5`).
impl FromStr for NamespaceTopicSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        match spec.split_once('=') {
            Some((name, key)) => Self::new(name, Some(key.to_owned())),
            None => Self::new(spec, None),
        }
    }
}

/// A queue subscription of a namespace topic (pull delivery): every event published to the
/// topic that passes the subscription's event-type filter waits in it until a client receives,
/// locks and settles it.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_emulator::SubscriptionSpec;
///
/// let spec: SubscriptionSpec = "orders/billing".parse().unwrap();
/// let spec = spec
///     .with_lock_duration(Duration::from_millis(500))
///     .with_max_delivery_count(3)
///     .with_event_time_to_live(Duration::from_secs(600))
///     .with_event_types(["order.placed"]);
/// assert_eq!((spec.topic(), spec.name()), ("orders", "billing"));
/// assert_eq!(spec.lock_duration(), Duration::from_millis(500));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionSpec {
    topic: String,
    name: String,
    lock_duration: Duration,
    max_delivery_count: u32,
    event_time_to_live: Option<Duration>,
    event_types: Vec<String>,
}

impl SubscriptionSpec {
    /// A subscription `name` of namespace topic `topic` with the service's defaults: 60 s locks,
    /// 10 deliveries at most, no time-to-live, every event type.
    pub fn new(topic: impl Into<String>, name: impl Into<String>) -> Result<Self, Error> {
        let (topic, name) = (topic.into(), name.into());
        check_name(&topic)?;
        check_name(&name).map_err(|error| match error {
            Error::InvalidTopic { reason, .. } => Error::InvalidConfig(format!(
                "subscription `{topic}/{name}`: {}",
                reason.replace("topic name", "subscription name")
            )),
            other => other,
        })?;
        Ok(Self {
            topic,
            name,
            lock_duration: Duration::from_secs(60),
            max_delivery_count: 10,
            event_time_to_live: None,
            event_types: Vec::new(),
        })
    }

    /// How long a received event stays locked to its receiver (default 60 s, at most 300 s;
    /// shorter than the service's 60 s minimum is allowed, for tests).
    pub fn with_lock_duration(mut self, duration: Duration) -> Self {
        self.lock_duration = duration;
        self
    }

    /// How many times an event is delivered at most (1 to 10, default 10); an event released
    /// or whose lock expires after its last delivery is dead-lettered.
    pub fn with_max_delivery_count(mut self, count: u32) -> Self {
        self.max_delivery_count = count;
        self
    }

    /// How long an event may wait after it was published; older events are dead-lettered
    /// (default: no limit but the queue's size).
    pub fn with_event_time_to_live(mut self, duration: Duration) -> Self {
        self.event_time_to_live = Some(duration);
        self
    }

    /// Only events whose `type` is one of `types` (compared without regard to case) enter the
    /// subscription; an empty list (the default) lets every event in.
    pub fn with_event_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.event_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The subscription's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lock duration.
    pub fn lock_duration(&self) -> Duration {
        self.lock_duration
    }

    /// The maximum delivery count.
    pub fn max_delivery_count(&self) -> u32 {
        self.max_delivery_count
    }

    /// The time-to-live, if any.
    pub fn event_time_to_live(&self) -> Option<Duration> {
        self.event_time_to_live
    }

    /// The event types let in (empty: all).
    pub fn event_types(&self) -> &[String] {
        &self.event_types
    }

    /// Whether an event of type `event_type` enters the subscription.
    pub(crate) fn admits(&self, event_type: &str) -> bool {
        self.event_types.is_empty()
            || self
                .event_types
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(event_type))
    }

    /// Checks the values against the service's ranges.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| {
            Err(Error::InvalidConfig(format!(
                "subscription `{}/{}`: {reason}",
                self.topic, self.name
            )))
        };
        if self.lock_duration.is_zero() || self.lock_duration > MAX_LOCK_DURATION {
            return invalid(format!(
                "the lock duration is {:?}; it must be more than 0 and at most 300 s",
                self.lock_duration
            ));
        }
        if !(1..=10).contains(&self.max_delivery_count) {
            return invalid(format!(
                "the maximum delivery count is {}; it must be 1 to 10",
                self.max_delivery_count
            ));
        }
        if let Some(ttl) = self.event_time_to_live
            && (ttl.is_zero() || ttl > MAX_EVENT_TIME_TO_LIVE)
        {
            return invalid(format!(
                "the event time-to-live is {ttl:?}; it must be more than 0 and at most 7 days"
            ));
        }
        Ok(())
    }
}

/// Parses `TOPIC/NAME`, as on the command line (`--subscription orders/billing`).
impl FromStr for SubscriptionSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (topic, name) = spec.split_once('/').ok_or_else(|| {
            Error::InvalidConfig(format!("subscription `{spec}`: expected TOPIC/NAME"))
        })?;
        Self::new(topic, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_specs() {
        let topic: NamespaceTopicSpec = "t=k=".parse().unwrap();
        assert_eq!(topic.key(), Some("k="));
        assert!("t=".parse::<NamespaceTopicSpec>().is_err());
        assert!("no-slash".parse::<SubscriptionSpec>().is_err());
        let error = "t/a b".parse::<SubscriptionSpec>().unwrap_err().to_string();
        assert!(error.contains("subscription name"), "{error}");
        let spec: SubscriptionSpec = "t/s".parse().unwrap();
        assert!(spec.validate().is_ok());
        assert!(spec.clone().with_max_delivery_count(11).validate().is_err());
        assert!(
            spec.clone()
                .with_lock_duration(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(
            spec.clone()
                .with_lock_duration(Duration::from_secs(301))
                .validate()
                .is_err()
        );
        // Found by the emulator_config fuzz target: publishing panicked adding it to an Instant.
        let error = spec
            .clone()
            .with_event_time_to_live(Duration::MAX)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(error.contains("at most 7 days"), "{error}");
        assert!(
            spec.clone()
                .with_event_time_to_live(MAX_EVENT_TIME_TO_LIVE)
                .validate()
                .is_ok()
        );
        assert!(spec.admits("anything"));
        let filtered = spec.with_event_types(["A.B"]);
        assert!(filtered.admits("a.b") && !filtered.admits("a.c"));
    }
}
