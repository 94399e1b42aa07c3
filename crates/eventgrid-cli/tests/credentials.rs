//! Keys and SAS tokens without putting them on the command line (where other users of the
//! machine can read them): from a file or the environment; and never in Debug output.

mod support;

use clap::Parser;
use eventgrid_cli::{Cli, Command, KEY_VAR, SAS_VAR};
use support::{KEY, TempFile, emulator, eventgrid, run, stderr};

fn publish_to_orders(endpoint: &str, auth: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["publish", "--topic", "orders", "--endpoint", endpoint]
        .map(str::to_owned)
        .to_vec();
    args.extend(auth.iter().map(|arg| (*arg).to_owned()));
    args.extend(["--type", "t", "--subject", "s"].map(str::to_owned));
    args
}

fn args(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

#[test]
fn the_key_can_come_from_a_file() {
    let emulator = emulator();
    let key_file = TempFile::new("orders.key", format!("{KEY}\n"));
    let endpoint = emulator.topic_endpoint("orders");
    let list = publish_to_orders(&endpoint, &["--key-file", key_file.arg()]);
    let output = run(&mut eventgrid(&args(&list)));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.counters("orders").accepted_events, 1);
}

#[test]
fn the_key_can_come_from_the_environment() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let list = publish_to_orders(&endpoint, &[]);
    let output = run(eventgrid(&args(&list)).env(KEY_VAR, KEY));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.counters("orders").accepted_events, 1);
}

#[test]
fn a_sas_token_can_come_from_a_file_or_the_environment() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let key_file = TempFile::new("sas.key", KEY);
    let sas = run(&mut eventgrid(&[
        "sas",
        "--endpoint",
        &endpoint,
        "--key-file",
        key_file.arg(),
        "--expires",
        "2099-01-01T00:00:00Z",
    ]));
    assert!(sas.status.success(), "{}", stderr(&sas));
    let token = String::from_utf8(sas.stdout).unwrap();
    let token_file = TempFile::new("orders.sas", &token);

    let list = publish_to_orders(&endpoint, &["--sas-file", token_file.arg()]);
    let output = run(&mut eventgrid(&args(&list)));
    assert!(output.status.success(), "{}", stderr(&output));
    let list = publish_to_orders(&endpoint, &[]);
    let output = run(eventgrid(&args(&list)).env(SAS_VAR, token.trim()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.counters("orders").accepted_events, 2);
}

#[test]
fn sas_takes_its_key_from_the_environment_and_needs_one() {
    let sas = [
        "sas",
        "--endpoint",
        "https://t.westus2-1.eventgrid.azure.net/api/events",
    ];
    let expires = ["--expires", "2030-01-01T00:00:00Z"];
    let with_env = run(eventgrid(&[&sas[..], &expires[..]].concat()).env(KEY_VAR, "a2V5"));
    assert!(with_env.status.success(), "{}", stderr(&with_env));
    let without = run(&mut eventgrid(&[&sas[..], &expires[..]].concat()));
    assert_eq!(without.status.code(), Some(2));
    assert!(stderr(&without).contains("--key"), "{}", stderr(&without));
}

#[test]
fn help_names_the_variables() {
    let output = run(&mut eventgrid(&["publish", "--help"]));
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("EVENTGRID_KEY") && help.contains("EVENTGRID_SAS"),
        "{help}"
    );
    assert!(
        help.contains("--key-file") && help.contains("--sas-file"),
        "{help}"
    );
}

#[test]
fn a_flag_wins_over_the_variables_without_a_conflict() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let list = publish_to_orders(&endpoint, &["--key", KEY]);
    let output = run(eventgrid(&args(&list)).env(SAS_VAR, "r=x&e=1&s=wrong"));
    assert!(output.status.success(), "{}", stderr(&output));
    let list = publish_to_orders(&endpoint, &[]);
    let output = run(eventgrid(&args(&list)).env(KEY_VAR, KEY).env(SAS_VAR, "t"));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: EVENTGRID_KEY and EVENTGRID_SAS are both set: unset one\n"
    );
}

#[test]
fn debug_output_of_the_arguments_has_no_key() {
    let key = "c3VwZXItc2VjcmV0LWtleQ==";
    let token = "r=x&e=2030-01-01T00%3A00%3A00Z&s=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D";
    let cases = [
        vec!["eventgrid", "publish", "--topic", "t", "--key", key],
        vec!["eventgrid", "publish", "--topic", "t", "--sas", token],
        vec![
            "eventgrid",
            "sas",
            "--endpoint",
            "https://t.example.com",
            "--key",
            key,
            "--expires",
            "2030-01-01T00:00:00Z",
        ],
    ];
    for case in cases {
        let cli = Cli::try_parse_from(&case).unwrap();
        let debug = format!("{cli:?} {:#?}", cli.command);
        assert!(!debug.contains(key) && !debug.contains(token), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        if let Command::Publish(publish) = &cli.command {
            assert!(!format!("{:?}", publish.target).contains(key));
        }
    }
}
