//! Running the real `eventgrid` binary against an in-process emulator.
#![allow(dead_code)] // each test file uses part of this

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use eventgrid_emulator::{Emulator, EmulatorConfig, EmulatorHandle, TopicSpec};

/// The access key of keyed test topics ("test-key", base64).
pub const KEY: &str = "dGVzdC1rZXk=";

/// An emulator with a keyed topic `orders`, an open topic `open` and a CloudEvents topic
/// `cloud`.
pub fn emulator() -> EmulatorHandle {
    Emulator::start_in_background(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .topic(TopicSpec::open("open"))
            .topic("cloud:cloudevents".parse().expect("a valid topic spec")),
    )
    .expect("the emulator starts")
}

/// `eventgrid` with `args` and none of the caller's `EVENTGRID_*` variables.
pub fn eventgrid(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventgrid"));
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EVENTGRID_") {
            command.env_remove(name);
        }
    }
    command
}

/// The variables that configure `orders` (and only it) from the environment.
pub fn orders_env(command: &mut Command, emulator: &EmulatorHandle) {
    command
        .env("EVENTGRID_TOPICS", "orders")
        .env(
            "EVENTGRID_ORDERS_ENDPOINT",
            emulator.topic_endpoint("orders"),
        )
        .env("EVENTGRID_ORDERS_KEY", KEY);
}

/// Runs the command and returns its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("eventgrid runs")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A file in the temporary directory, unique to this process and `name`, removed on drop.
#[derive(Debug)]
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// Writes `contents` to a new temporary file.
    pub fn new(name: &str, contents: impl AsRef<[u8]>) -> Self {
        let path =
            std::env::temp_dir().join(format!("eventgrid-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("the temporary file is written");
        Self(path)
    }

    /// The path as text, for arguments.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
