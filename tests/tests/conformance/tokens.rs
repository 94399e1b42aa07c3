//! Microsoft Entra ID tokens that cannot be had: a credential that fails, one that never
//! answers, and a token the service refuses.

use std::time::Duration;

use eventgrid::{Credential, Error, TransportErrorKind};
use eventgrid_tests::conformance::{Behaviour, GRID, Lab, SPARE, TestCredential, grid_events};

use crate::support::{Counts, assert_metrics, assert_nothing_sent, transport_kind};

/// The error behind `error` once retries are taken off.
fn last(error: &Error) -> &Error {
    match error {
        Error::RetriesExhausted { last, .. } => last,
        other => other,
    }
}

/// The error and its causes, as a user logging it in full reads it.
fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

pub fn failing_credential_is_called_once_for_concurrent_sends(lab: &Lab) {
    // Four sends (to four topics, so publishers send four batches too) need a token at once:
    // the identity service is asked once, and its failure reaches all four.
    let credential = TestCredential::new(Behaviour::Fail {
        delay: Duration::from_millis(300),
    });
    let topics = [GRID, SPARE[0], SPARE[1], SPARE[2]];
    let mut setup = lab.setup(&topics);
    setup.credential = Credential::token(credential.clone());
    let subject = lab.subject(setup);
    let sends = topics
        .iter()
        .map(|topic| (topic.to_string(), grid_events(topic, 1)))
        .collect();
    for outcome in subject.send_concurrently(sends) {
        let error = last(outcome.error());
        assert!(matches!(error, Error::Credential(_)), "{error:?}");
        assert!(
            chain(error).contains(TestCredential::FAILURE),
            "{}",
            chain(error)
        );
    }
    assert_eq!(
        credential.calls(),
        1,
        "one call for the four sends waiting together"
    );
    for topic in topics {
        assert_nothing_sent(lab, topic);
    }
    // A later send asks again: a failure is not kept.
    let outcome = subject.send(GRID, grid_events("later", 1));
    assert!(matches!(last(outcome.error()), Error::Credential(_)));
    assert_eq!(credential.calls(), 2);
}

pub fn hanging_credential_times_out(lab: &Lab) {
    let credential = TestCredential::new(Behaviour::Hang);
    let mut setup = lab.setup(&[GRID]);
    setup.credential = Credential::token(credential.clone());
    setup.options.request_timeout = Duration::from_millis(300);
    setup.options.retry = setup.options.retry.with_max_elapsed(Duration::from_secs(1));
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 1));
    let error = outcome.error();
    assert!(
        matches!(last(error), Error::Credential(_))
            || transport_kind(error) == Some(TransportErrorKind::Timeout),
        "expected the credential call to time out, got: {error:?}"
    );
    assert!(credential.calls() >= 1);
    assert_nothing_sent(lab, GRID);
}

pub fn token_refused_by_the_service(lab: &Lab) {
    let credential = TestCredential::new(Behaviour::Issue {
        token: "not-a-token".to_owned(),
        lifetime: Duration::from_secs(3_600),
        delay: Duration::ZERO,
    });
    let mut setup = lab.setup(&[GRID]);
    setup.credential = Credential::token(credential.clone());
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert!(matches!(error, Error::Service(_)), "not retried: {error:?}");
    assert_eq!(error.status(), Some(401));
    assert!(!error.to_string().contains("not-a-token"), "{error}");
    assert_eq!(credential.calls(), 1);
    assert_eq!(lab.counters(GRID).requests, 1);
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn token_fetched_once_for_concurrent_sends(lab: &Lab) {
    // Four sends need a token while the identity service takes its time: one call.
    let credential = TestCredential::new(Behaviour::Issue {
        token: lab.emulator().bearer_token(),
        lifetime: Duration::from_secs(3_600),
        delay: Duration::from_millis(200),
    });
    let topics = [GRID, SPARE[0], SPARE[1], SPARE[2]];
    let mut setup = lab.setup(&topics);
    setup.credential = Credential::token(credential.clone());
    let subject = lab.subject(setup);
    let sends = topics
        .iter()
        .map(|topic| (topic.to_string(), grid_events(topic, 2)))
        .collect();
    for outcome in subject.send_concurrently(sends) {
        outcome.assert_delivered();
    }
    assert_eq!(credential.calls(), 1);
    for topic in topics {
        assert_eq!(lab.counters(topic).accepted_events, 2, "{topic}");
    }
}
