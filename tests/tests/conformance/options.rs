//! Options: what a user sets is what is in force, and the defaults are the documented ones.

use std::time::Duration;

use eventgrid::Limits;
use eventgrid::RetryOptions;
use eventgrid::core::ClientOptions;
use eventgrid::core::frontend::USER_AGENT_BASE;
use eventgrid_tests::conformance::{GRID, Lab, grid_events};

// Field by field, as a user of a `#[non_exhaustive]` options struct must.
#[allow(clippy::field_reassign_with_default)]
pub fn options_given_are_in_force(lab: &Lab) {
    let mut setup = lab.setup(&[GRID]);
    let mut options = ClientOptions::default();
    options.retry = RetryOptions::default()
        .with_max_retries(5)
        .with_initial_delay(Duration::from_millis(7))
        .with_max_delay(Duration::from_millis(70))
        .with_max_elapsed(Duration::from_secs(3));
    options.limits = Limits::default()
        .with_max_event_bytes(10_000)
        .with_max_request_bytes(100_000)
        .with_max_events_per_request(100);
    options.connect_timeout = Duration::from_millis(1_500);
    options.request_timeout = Duration::from_millis(2_500);
    options.max_concurrent_requests = 3;
    options.user_agent_suffix = Some("conformance/1.0".to_owned());
    setup.options = options.clone();
    let subject = lab.subject(setup);
    assert_eq!(subject.options(), options);

    subject.send(GRID, grid_events("e", 1)).assert_delivered();
    let agent = lab.requests(GRID)[0]
        .header("user-agent")
        .expect("a user agent")
        .to_owned();
    assert!(agent.starts_with(USER_AGENT_BASE), "{agent}");
    assert!(agent.ends_with("conformance/1.0"), "{agent}");
}

pub fn default_options_are_the_documented_ones(lab: &Lab) {
    let mut setup = lab.setup(&[GRID]);
    setup.defaults = true;
    let subject = lab.subject(setup);
    assert_eq!(subject.options(), ClientOptions::default());
    let retry = subject.options().retry;
    assert_eq!(
        (
            retry.max_retries,
            retry.initial_delay,
            retry.max_delay,
            retry.max_elapsed
        ),
        (
            3,
            Duration::from_millis(500),
            Duration::from_secs(30),
            Duration::from_secs(60)
        )
    );
    subject.send(GRID, grid_events("e", 1)).assert_delivered();
    assert_eq!(lab.ids(GRID), ["e-0"]);
}
