//! `eventgrid publish --file`: JSON Lines streamed in batches, bad lines named by number.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Stdio;

use support::{TempFile, emulator, eventgrid, orders_env, run, stderr, stdout};

fn lines(count: usize) -> String {
    let mut text = String::new();
    for n in 1..=count {
        writeln!(
            text,
            r#"{{"eventType":"order.imported","subject":"orders/{n}","data":{{"n":{n}}}}}"#
        )
        .unwrap();
    }
    text
}

#[test]
fn ten_thousand_lines_all_arrive() {
    let emulator = emulator();
    let file = TempFile::new("10k.jsonl", lines(10_000));
    let mut command = eventgrid(&["publish", "--topic", "orders", "--file", file.arg()]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert!(output.status.success(), "{}", stderr(&output));

    let summary = stdout(&output);
    assert!(
        summary.starts_with("10000 events delivered, 0 failed, "),
        "{summary}"
    );
    assert_eq!(summary.lines().count(), 1);
    assert!(stderr(&output).is_empty(), "no progress bar off a terminal");

    let counters = emulator.counters("orders");
    assert_eq!(counters.accepted_events, 10_000);
    assert!(
        counters.accepted_requests >= 2,
        "split to the request size limit"
    );
    let subjects: BTreeSet<String> = emulator
        .events("orders")
        .iter()
        .map(|event| event["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 10_000, "every line arrived once");
    assert!(subjects.contains("orders/1") && subjects.contains("orders/10000"));
}

#[test]
fn a_bad_line_is_named_and_the_lines_before_it_are_delivered() {
    let emulator = emulator();
    let mut text = lines(10_000);
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if index + 1 == 7_500 {
                line.replace("\"subject\"", "\"subjekt\"")
            } else {
                line.to_owned()
            }
        })
        .collect();
    text = broken.join("\n");
    let file = TempFile::new("bad-line.jsonl", text);
    let mut command = eventgrid(&["publish", "--topic", "orders", "--file", file.arg()]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: line 7500: unknown field `subjekt`, expected one of `eventType`, `subject`, `data`, `id`, `dataVersion`, `eventTime`, `topic`, `metadataVersion` (column 39)\n"
    );
    assert!(
        stdout(&output).starts_with("7499 events delivered, 0 failed"),
        "{}",
        stdout(&output)
    );
    assert_eq!(emulator.counters("orders").accepted_events, 7_499);
}

#[test]
fn an_oversized_line_is_named_by_its_line_number() {
    let emulator = emulator();
    // Under the limit as a line, over it once the defaults (id, eventTime) are added.
    let big = format!(
        r#"{{"eventType":"t","subject":"big","data":"{}"}}"#,
        "x".repeat(65_450)
    );
    let text = format!("{}\n{big}\n{}", lines(3), lines(2));
    let file = TempFile::new("oversized.jsonl", text);
    let mut command = eventgrid(&["publish", "--topic", "orders", "--file", file.arg()]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(1));
    // Line 4 is blank; the events waiting for the next request are not sent either, nor
    // those read ahead of the encoder that found it too large (here the rest of the file).
    let message = stderr(&output);
    assert!(
        message.starts_with("error: line 5: event is ")
            && message.ends_with(
                "over the per-event limit of 65536 bytes (lines 1-3 before it were not sent)\n"
            ),
        "{message}"
    );
    assert!(
        stdout(&output).starts_with("0 events delivered, 6 failed"),
        "{}",
        stdout(&output)
    );
    assert_eq!(emulator.counters("orders").requests, 0);
}

#[test]
fn lines_come_from_stdin_and_blank_lines_are_skipped() {
    let emulator = emulator();
    let mut command = eventgrid(&["publish", "--topic", "orders", "--file", "-"]);
    orders_env(&mut command, &emulator);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\n\n{}", lines(2), lines(1));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("3 events delivered"),
        "{}",
        stdout(&output)
    );
    assert_eq!(emulator.counters("orders").accepted_events, 3);
}

#[test]
fn a_refused_request_names_its_lines() {
    let emulator = emulator();
    let file = TempFile::new("refused.jsonl", lines(20));
    let endpoint = emulator.topic_endpoint("orders");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--key",
        "d3Jvbmcta2V5",
        "--file",
        file.arg(),
    ]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: lines 1-20: service answered 401"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).starts_with("0 events delivered, 20 failed"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_missing_file_is_named() {
    let emulator = emulator();
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--file",
        "/nonexistent/events.jsonl",
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: /nonexistent/events.jsonl: "),
        "{}",
        stderr(&output)
    );
}
