//! Cancellation: an async caller that stops waiting (its future dropped) leaves the front end
//! usable, and a publisher still gives the abandoned event its one outcome. Blocking calls
//! cannot be abandoned: they return when done, so this applies to async front ends only.

use std::time::Duration;

use eventgrid_emulator::FaultRule;
use eventgrid_tests::conformance::{GRID, Lab, grid_events};

pub fn dropping_the_future_leaves_the_front_end_usable(lab: &Lab) {
    lab.fault(GRID, FaultRule::latency(Duration::from_millis(300)).next(1));
    let subject = lab.subject(lab.setup(&[GRID]));
    let abandoned = subject
        .abandon_after(GRID, grid_events("a", 1), Duration::from_millis(50))
        .expect("an async front end");
    assert!(abandoned, "the send was still under way after 50 ms");

    if subject.coalesces() {
        // Accepted before its publisher stopped waiting: still sent, exactly once.
        subject.flush();
        assert_eq!(lab.ids(GRID), ["a-0"]);
    }

    subject.send(GRID, grid_events("b", 1)).assert_delivered();
    let ids = lab.ids(GRID);
    assert!(ids.contains(&"b-0".to_owned()), "{ids:?}");
    let metrics = subject.metrics(GRID);
    let abandoned_and_delivered = u64::from(subject.coalesces());
    assert_eq!(
        metrics.events_published,
        1 + abandoned_and_delivered,
        "{metrics:?}"
    );
}
