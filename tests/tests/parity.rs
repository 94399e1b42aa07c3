//! The two clients are one protocol: the same events reach the service as the same JSON with
//! the same headers, whichever client sends them.

use eventgrid::{Credential, EventGridEvent};
use eventgrid_tests::sandbox;
use serde_json::json;
use time::macros::datetime;

fn events() -> Vec<EventGridEvent> {
    (0..3)
        .map(|n| {
            EventGridEvent::new(
                "order.placed",
                format!("orders/{n}"),
                json!({"n": n, "note": "é ✓"}),
            )
            .unwrap()
            .with_id(format!("id-{n}"))
            .with_event_time(datetime!(2024-05-01 08:30:00.123 UTC))
            .with_data_version("1.1")
        })
        .collect()
}

#[test]
fn both_clients_send_the_same_events_and_headers() {
    let sandbox = sandbox();
    sandbox.reset("parity-async");
    sandbox.reset("parity-blocking");

    let blocking = eventgrid::blocking::EventGridClient::new(
        sandbox.config(&["parity-blocking"]),
        Credential::None,
    )
    .unwrap();
    blocking.send("parity-blocking", events()).unwrap();

    let asynchronous = eventgrid::asynchronous::EventGridClient::new(
        sandbox.config(&["parity-async"]),
        Credential::None,
    )
    .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(asynchronous.send("parity-async", events()))
        .unwrap();

    let received = sandbox.events("parity-async");
    assert_eq!(received.len(), 3);
    assert_eq!(received, sandbox.events("parity-blocking"));
    assert_eq!(received[2]["data"]["note"], "é ✓");
    assert_eq!(received[2]["eventTime"], "2024-05-01T08:30:00.123Z");

    let (from_async, from_blocking) = (
        &sandbox.requests("parity-async")[0],
        &sandbox.requests("parity-blocking")[0],
    );
    assert_eq!(from_async.method, from_blocking.method);
    assert_eq!(
        from_async.path.replace("parity-async", "TOPIC"),
        from_blocking.path.replace("parity-blocking", "TOPIC")
    );
    for header in ["content-type", "user-agent", "aeg-sas-key"] {
        assert_eq!(
            from_async.header(header),
            from_blocking.header(header),
            "{header}"
        );
    }
    assert!(
        from_async
            .header("user-agent")
            .is_some_and(|agent| agent.starts_with(eventgrid::core::frontend::USER_AGENT_BASE))
    );
}
