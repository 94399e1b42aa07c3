//! Topics added and removed while the front end runs, and several topics at once.

use eventgrid::Error;
use eventgrid_tests::conformance::{GRID, Lab, SPARE, grid_events, sorted_ids};

use crate::support::{Counts, assert_metrics, assert_nothing_sent};

pub fn topic_added_at_run_time(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    subject.add_topic(lab.topic(SPARE[0])).expect("a new topic");
    assert_eq!(subject.topics(), [GRID, SPARE[0]]);
    subject
        .send(SPARE[0], grid_events("e", 2))
        .assert_delivered();
    assert_eq!(lab.sorted_ids(SPARE[0]), sorted_ids("e", 2));
    match subject.add_topic(lab.topic(SPARE[0])) {
        Err(Error::InvalidTopic { topic, reason }) => {
            assert_eq!(topic, SPARE[0]);
            assert!(reason.contains("duplicate"), "{reason}");
        }
        other => panic!("a second topic of the same name must be refused, got {other:?}"),
    }
    assert_metrics(
        &*subject,
        SPARE[0],
        Counts {
            published: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn topic_removed_at_run_time(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID, SPARE[0]]));
    subject.send(GRID, grid_events("a", 1)).assert_delivered();
    subject.remove_topic(GRID).expect("a configured topic");
    assert_eq!(subject.topics(), [SPARE[0]]);
    let outcome = subject.send(GRID, grid_events("b", 1));
    match outcome.error() {
        Error::UnknownTopic { name, configured } => {
            assert_eq!(name, GRID);
            assert_eq!(configured, &[SPARE[0].to_owned()]);
        }
        other => panic!("expected UnknownTopic, got: {other:?}"),
    }
    assert_eq!(lab.ids(GRID), ["a-0"]);
    assert_eq!(lab.counters(GRID).requests, 1);
    assert!(matches!(
        subject.remove_topic(GRID),
        Err(Error::UnknownTopic { .. })
    ));
    assert_nothing_sent(lab, SPARE[0]);
}

pub fn concurrent_sends_to_several_topics(lab: &Lab) {
    let topics = [GRID, SPARE[0], SPARE[1], SPARE[2]];
    let subject = lab.subject(lab.setup(&topics));
    let sends = topics
        .iter()
        .map(|topic| (topic.to_string(), grid_events(topic, 3)))
        .collect();
    for outcome in subject.send_concurrently(sends) {
        outcome.assert_delivered();
    }
    for topic in topics {
        assert_eq!(lab.sorted_ids(topic), sorted_ids(topic, 3));
        assert_metrics(
            &*subject,
            topic,
            Counts {
                published: 3,
                requests: 1,
                ..Counts::default()
            },
        );
    }
}
