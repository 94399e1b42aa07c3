//! `eventgrid publish` to a namespace topic and `eventgrid receive` from its subscription,
//! through the real binary against the emulator.

mod support;

use eventgrid_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, NamespaceTopicSpec, SubscriptionSpec,
};
use support::{KEY, eventgrid, run, stderr, stdout};

fn emulator() -> EmulatorHandle {
    Emulator::start_in_background(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::keyed("orders", KEY))
            .subscription("orders/billing".parse::<SubscriptionSpec>().unwrap()),
    )
    .expect("the emulator starts")
}

fn with_target<'a>(emulator: &'a EmulatorHandle, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend([
        "--topic",
        "orders",
        "--endpoint",
        emulator.namespace_endpoint(),
        "--namespace-topic",
        "orders",
        "--key",
        KEY,
    ]);
    all
}

fn receive(emulator: &EmulatorHandle, settle: &str) -> Vec<serde_json::Value> {
    let args = with_target(
        emulator,
        &["receive", "--subscription", "billing", "--settle", settle],
    );
    let output = run(&mut eventgrid(&args));
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn publishes_then_receives_as_json_lines_and_settles_as_asked() {
    let emulator = emulator();
    let publish = with_target(
        &emulator,
        &[
            "publish",
            "--type",
            "order.placed",
            "--subject",
            "orders/1",
            "--data",
            "{\"total\":3}",
        ],
    );
    let output = run(&mut eventgrid(&publish));
    assert!(output.status.success(), "{}", stderr(&output));

    // Released: it comes back with its delivery count raised, then acknowledged: gone.
    let first = receive(&emulator, "release");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["event"]["type"], "order.placed");
    assert_eq!(first[0]["event"]["data"]["total"], 3);
    assert_eq!(first[0]["deliveryCount"], 1);
    assert!(first[0]["lockToken"].is_string());
    let second = receive(&emulator, "acknowledge");
    assert_eq!(second[0]["deliveryCount"], 2);
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(
        (counts.available, counts.locked, counts.acknowledged),
        (0, 0, 1)
    );
}

#[test]
fn out_of_range_arguments_are_refused_before_sending() {
    let emulator = emulator();
    let args = with_target(
        &emulator,
        &[
            "receive",
            "--subscription",
            "billing",
            "--max-events",
            "101",
        ],
    );
    let output = run(&mut eventgrid(&args));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("max_events"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        emulator.subscription_counts("orders", "billing").delivered,
        0
    );
}

#[test]
fn data_goes_out_and_comes_back_digit_for_digit() {
    // Integers past 64 bits are JSON (Python's json keeps them); nothing on the way may
    // turn them into floating point.
    let emulator = emulator();
    let folder = std::env::temp_dir().join(format!("eventgrid-cli-exact-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("events.jsonl");
    std::fs::write(
        &file,
        "{\"source\":\"/s\",\"type\":\"t\",\"data\":{\"big\":123456789012345678901234567890}}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let output = run(&mut eventgrid(&with_target(
        &emulator,
        &["publish", "--file", path],
    )));
    assert!(output.status.success(), "{}", stderr(&output));
    let args = with_target(&emulator, &["receive", "--subscription", "billing"]);
    let output = run(&mut eventgrid(&args));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(
        printed.contains("\"data\":{\"big\":123456789012345678901234567890}"),
        "{printed}"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}
