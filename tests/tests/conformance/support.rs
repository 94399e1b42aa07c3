//! Assertions the scenarios share: what the service saw, what the metrics say, what an error
//! is made of.

use eventgrid::{Error, ServiceError, TopicMetrics, TransportErrorKind};
use eventgrid_tests::conformance::{Lab, Subject};

/// The counts a user reads from `metrics()`, latency left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub published: u64,
    pub failed: u64,
    pub requests: u64,
    pub retries: u64,
}

/// Panics unless the topic's metrics show `expected` (and one latency sample per request).
#[track_caller]
pub fn assert_metrics(subject: &dyn Subject, topic: &str, expected: Counts) {
    let metrics: TopicMetrics = subject.metrics(topic);
    let actual = Counts {
        published: metrics.events_published,
        failed: metrics.events_failed,
        requests: metrics.requests,
        retries: metrics.retries,
    };
    assert_eq!(actual, expected, "metrics of `{topic}`: {metrics:?}");
    assert_eq!(metrics.latency.count, metrics.requests, "{metrics:?}");
}

/// Panics unless the emulator saw no request to the topic.
#[track_caller]
pub fn assert_nothing_sent(lab: &Lab, topic: &str) {
    let counters = lab.counters(topic);
    assert_eq!(
        counters.requests, 0,
        "nothing may reach `{topic}`: {counters:?}"
    );
}

/// The service's answer behind `error` (the last one, when retries ran out).
#[track_caller]
pub fn service_error(error: &Error) -> &ServiceError {
    match error {
        Error::Service(service) => service,
        Error::RetriesExhausted { last, .. } => service_error(last),
        other => panic!("expected the service's error, got: {other:?}"),
    }
}

/// The kind of transport failure behind `error` (the last one, when retries ran out).
pub fn transport_kind(error: &Error) -> Option<TransportErrorKind> {
    match error {
        Error::Transport(transport) => Some(transport.kind()),
        Error::RetriesExhausted { last, .. } => transport_kind(last),
        _ => None,
    }
}

/// The attempts of a send whose retries ran out.
#[track_caller]
pub fn attempts(error: &Error) -> u32 {
    match error {
        Error::RetriesExhausted { attempts, .. } => *attempts,
        other => panic!("expected retries to run out, got: {other:?}"),
    }
}
