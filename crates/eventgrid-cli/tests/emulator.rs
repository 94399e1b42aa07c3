//! `eventgrid emulator ...` is the emulator's own command line.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{eventgrid, run, stderr, stdout};

#[test]
fn runs_the_emulator_and_takes_its_options() {
    let help = run(&mut eventgrid(&["emulator", "--help"]));
    assert!(help.status.success(), "{}", stderr(&help));
    assert!(stdout(&help).contains("--fault"), "the emulator's own help");

    let mut emulator = eventgrid(&["emulator", "--port", "0", "--topic", "orders=dGVzdC1rZXk="])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(emulator.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base_url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    assert!(lines.next().unwrap().unwrap().starts_with("topic orders "));

    let endpoint = format!("{base_url}/orders/api/events");
    let published = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--key",
        "dGVzdC1rZXk=",
        "--type",
        "t",
        "--subject",
        "s",
    ]));
    assert!(published.status.success(), "{}", stderr(&published));
    // The emulator runs inside `eventgrid`: stopping it stops the emulator.
    emulator.kill().unwrap();
    emulator.wait().unwrap();
    assert!(std::net::TcpStream::connect(base_url.trim_start_matches("http://")).is_err());

    let bad = run(&mut eventgrid(&["emulator", "--topic", "bad name!"]));
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
