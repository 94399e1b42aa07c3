//! Each failure `eventgrid` reports: one line naming the cause, and the exit status.

mod support;

use support::{KEY, emulator, eventgrid, orders_env, run, stderr, stdout};

/// Asserts a failure with exit status `code` and exactly one stderr line starting `prefix`.
fn assert_fails(output: &std::process::Output, code: i32, prefix: &str) -> String {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{message}");
    assert!(
        message.starts_with(prefix),
        "expected {prefix:?}, got {message:?}"
    );
    assert_eq!(message.lines().count(), 1, "one line: {message:?}");
    message
}

#[test]
fn unknown_topic_lists_the_configured_ones() {
    let emulator = emulator();
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "invoices",
        "--type",
        "t",
        "--subject",
        "s",
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    let message = assert_fails(&output, 1, "error: unknown topic `invoices`");
    assert!(message.contains("configured topics: orders"), "{message}");
    assert_eq!(emulator.counters("orders").requests, 0);
}

#[test]
fn missing_variables_are_named() {
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "t",
        "--subject",
        "s",
    ]));
    assert_fails(
        &output,
        1,
        "error: environment variable `EVENTGRID_TOPICS` is not set",
    );

    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "t",
        "--subject",
        "s",
    ]);
    command.env("EVENTGRID_TOPICS", "orders");
    let output = run(&mut command);
    assert_fails(
        &output,
        1,
        "error: environment variable `EVENTGRID_ORDERS_ENDPOINT` is not set",
    );
}

#[test]
fn oversized_event_is_refused_before_sending() {
    let emulator = emulator();
    let data = format!(r#"{{"blob": "{}"}}"#, "x".repeat(70_000));
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "t",
        "--subject",
        "s",
        "--data",
        &data,
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    let message = assert_fails(&output, 1, "error: the event is ");
    assert!(
        message.contains("over the per-event limit of 65536 bytes"),
        "{message}"
    );
    assert_eq!(emulator.counters("orders").requests, 0, "nothing was sent");

    // The limit can be raised to the service's.
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "t",
        "--subject",
        "s",
        "--data",
        &data,
        "--max-event-bytes",
        "1048576",
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.counters("orders").accepted_events, 1);
}

#[test]
fn service_errors_give_status_and_message() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--key",
        "d3Jvbmcta2V5",
        "--type",
        "t",
        "--subject",
        "s",
    ]));
    let message = assert_fails(&output, 1, "error: service answered 401 Unauthorized: ");
    assert!(message.contains("x-ms-request-id"), "{message}");
    assert!(!message.contains("d3Jvbmcta2V5"), "the key is not shown");

    // Event Grid events to a CloudEvents topic: the service's 400 and its reason.
    let cloud = emulator.topic_endpoint("cloud");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "cloud",
        "--endpoint",
        &cloud,
        "--type",
        "t",
        "--subject",
        "s",
    ]));
    assert_fails(&output, 1, "error: service answered 400 BadRequest: ");
}

#[test]
fn service_errors_after_retries_name_the_attempts() {
    let emulator = emulator();
    emulator
        .set_fault("orders", eventgrid_emulator::FaultRule::status(403).next(1))
        .unwrap();
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "t",
        "--subject",
        "s",
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_fails(&output, 1, "error: service answered 403");
    assert_eq!(
        emulator.counters("orders").requests,
        1,
        "403 is not retried"
    );
}

#[test]
fn usage_errors_exit_2() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let cases: &[&[&str]] = &[
        &["publish", "--type", "t", "--subject", "s"],
        &["publish", "--topic", "orders", "--no-such-flag"],
        &[
            "publish",
            "--topic",
            "orders",
            "--type",
            "t",
            "--file",
            "events.jsonl",
        ],
        &[
            "publish",
            "--topic",
            "orders",
            "--key",
            "k",
            "--sas",
            "s",
            "--type",
            "t",
            "--subject",
            "s",
        ],
        &[
            "publish",
            "--topic",
            "orders",
            "--type",
            "t",
            "--subject",
            "s",
            "--event-time",
            "yesterday",
        ],
        &[
            "publish",
            "--topic",
            "orders",
            "--endpoint",
            &endpoint,
            "--type",
            "t",
        ],
        &[
            "publish",
            "--topic",
            "orders",
            "--type",
            "t",
            "--subject",
            "s",
            "--data",
            "{oops",
        ],
        &[
            "publish",
            "--topic",
            "orders",
            "--type",
            "t",
            "--subject",
            "s",
            "--schema",
            "xml",
        ],
        &[
            "sas",
            "--endpoint",
            "https://t.example.com",
            "--key",
            "a2V5",
        ],
        &[
            "sas",
            "--endpoint",
            "https://t.example.com",
            "--key",
            "not base64!",
            "--expires",
            "2030-01-01T00:00:00Z",
        ],
        &["frobnicate"],
        &[],
    ];
    for args in cases {
        let mut command = eventgrid(args);
        orders_env(&mut command, &emulator);
        let output = run(&mut command);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).is_empty(), "{args:?} explains itself");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    assert_eq!(
        emulator.counters("orders").requests,
        0,
        "no usage error sent anything"
    );
}

#[test]
fn help_and_version_succeed() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["publish", "--help"],
        &["sas", "--help"],
    ] {
        let output = run(&mut eventgrid(args));
        assert!(output.status.success(), "{args:?}");
        assert!(!stdout(&output).is_empty());
    }
    let help = stdout(&run(&mut eventgrid(&["publish", "--help"])));
    assert!(help.contains("EVENTGRID_TOPICS"), "{help}");
    assert!(!help.contains(KEY));
}
