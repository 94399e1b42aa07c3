//! `--file` lines and `--data @FILE` are read only up to the per-event limit: an endless line
//! or a device such as `/dev/zero` is refused by name instead of filling memory.

mod support;

use support::{TempFile, emulator, eventgrid, orders_env, run, stderr, stdout};

#[test]
fn a_line_longer_than_the_limit_is_named_and_the_lines_before_it_are_delivered() {
    let emulator = emulator();
    // Whitespace only: read whole, this line would be skipped as blank and the run succeed.
    let long_blank = " ".repeat(2 * 1024 * 1024);
    let text = format!(
        "{{\"eventType\":\"t\",\"subject\":\"s/1\"}}\n{long_blank}\n{{\"eventType\":\"t\",\"subject\":\"s/3\"}}\n"
    );
    let file = TempFile::new("long-line.jsonl", text);
    let mut command = eventgrid(&["publish", "--topic", "orders", "--file", file.arg()]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert_eq!(
        stderr(&output),
        "error: line 2: the line is longer than the per-event limit of 65536 bytes (--max-event-bytes)\n"
    );
    assert!(stdout(&output).starts_with("1 events delivered, 0 failed"));
    assert_eq!(emulator.counters("orders").accepted_events, 1);
}

#[test]
fn the_line_limit_follows_max_event_bytes() {
    let emulator = emulator();
    let data = "x".repeat(200);
    let line = format!("{{\"eventType\":\"t\",\"subject\":\"s\",\"data\":\"{data}\"}}\n");
    let file = TempFile::new("limit.jsonl", &line);
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--max-event-bytes",
        "100",
        "--file",
        file.arg(),
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_eq!(
        stderr(&output),
        "error: line 1: the line is longer than the per-event limit of 100 bytes (--max-event-bytes)\n"
    );
}

#[test]
fn data_from_a_file_over_the_limit_is_refused_before_sending() {
    let emulator = emulator();
    let padded = format!("{}{{\"total\":3}}", " ".repeat(100_000));
    let file = TempFile::new("big-data.json", padded);
    let data = format!("@{}", file.arg());
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
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: --data {data}: larger than the per-event limit of 65536 bytes (--max-event-bytes)\n"
        )
    );
    assert_eq!(emulator.counters("orders").accepted_requests, 0);
}

#[cfg(unix)]
#[test]
fn data_from_dev_zero_is_refused_without_reading_it_all() {
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        "http://127.0.0.1:9/orders/api/events",
        "--type",
        "t",
        "--subject",
        "s",
        "--data",
        "@/dev/zero",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: --data @/dev/zero: larger than the per-event limit of 65536 bytes (--max-event-bytes)\n"
    );
}

#[cfg(unix)]
#[test]
fn an_endless_line_on_stdin_is_refused() {
    use std::process::Stdio;
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "open",
        "--endpoint",
        "http://127.0.0.1:9/open/api/events",
        "--file",
        "-",
    ]);
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let output = run(command.stdin(Stdio::from(zero)));
    assert_eq!(
        stderr(&output),
        "error: line 1: the line is longer than the per-event limit of 65536 bytes (--max-event-bytes)\n"
    );
}
