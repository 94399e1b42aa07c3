//! `cargo xtask interop`: the official Python and JavaScript Event Grid SDKs against
//! `eventgrid-emulator`, over http and https: basic topics here, namespace topics (with our
//! own clients and the `eventgrid` command in both directions) in [`namespace`].
//!
//! It installs what it needs itself, under `target/`: the xtask Python environment with
//! `azure-eventgrid` ([`crate::python_env`]) and an npm folder with `@azure/eventgrid` and
//! `@azure/eventgrid-namespaces`, each reinstalled only when the pinned versions change. Each
//! run starts its own emulator (the binary cargo builds), runs scripts from `xtask/interop/`
//! against it, and stops it with SIGTERM.

mod namespace;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::emulator_process::EmulatorProcess;
use crate::util::{cargo, root, run as run_command, wait_with_deadline};

/// The JavaScript SDKs, pinned: basic topics, and namespace topics.
const NODE_SDKS: [&str; 2] = [
    "@azure/eventgrid@5.12.0",
    "@azure/eventgrid-namespaces@1.0.0",
];
/// The topics' access key: base64, so SAS tokens can be signed with it.
const KEY: &str = "aW50ZXJvcC10ZXN0LWtleQ==";
/// A script that has not finished by then is stuck; it is killed and the run fails.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(120);

const USAGE: &str = "\
cargo xtask interop [--python-only | --node-only] [--namespace-only | --basic-only]

Basic topics: publishes with azure-eventgrid (Python) and @azure/eventgrid (JavaScript) to
eventgrid-emulator over http and https, and checks what arrived with the SDKs' own parsers; then
a Python webhook parses the emulator's push deliveries with EventGridEvent.from_dict and
CloudEvent.from_dict.

Namespace topics: Python (EventGridPublisherClient, EventGridConsumerClient), JavaScript
(@azure/eventgrid-namespaces), our async and blocking clients and the eventgrid command each
publish the same events and each receive everything the others published, checking every
attribute and settling through acknowledge, release (with and without delay), reject and renew.
";

pub fn run(args: &[String]) -> Result<()> {
    let (mut python, mut node) = (true, true);
    let (mut basic, mut namespaces) = (true, true);
    for arg in args {
        match arg.as_str() {
            "--python-only" => node = false,
            "--node-only" => python = false,
            "--namespace-only" => basic = false,
            "--basic-only" => namespaces = false,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "eventgrid-emulator",
        "--bin",
        "eventgrid-emulator",
    ]);
    if namespaces {
        // The Rust side of the namespace round: the command and the clients' driver.
        build.args(["-p", "eventgrid-cli", "--bin", "eventgrid"]);
        build.args(["-p", "eventgrid", "--example", "namespace_interop"]);
    }
    run_command(build)?;
    let binary = root().join("target/debug/eventgrid-emulator");
    let scripts = root().join("xtask/interop");
    let interpreter = python.then(crate::python_env::interpreter).transpose()?;
    let modules = node.then(node_environment).transpose()?;

    let mut passed = 0;
    if namespaces {
        let participants = namespace::Participants {
            emulator: &binary,
            cli: &root().join("target/debug/eventgrid"),
            rust: &root().join("target/debug/examples/namespace_interop"),
            python: interpreter.as_deref(),
            node_modules: modules.as_deref(),
        };
        for tls in [false, true] {
            namespace::run(&participants, tls)?;
            passed += 1;
        }
    }
    if let Some(interpreter) = interpreter.as_ref().filter(|_| basic) {
        for tls in [false, true] {
            let mut emulator = start_emulator(&binary, tls)?;
            let mut script = Command::new(interpreter);
            script.arg(scripts.join("python_interop.py"));
            if let Some(ca) = emulator.ca_certificate() {
                script.env("EMULATOR_CA", ca).env("REQUESTS_CA_BUNDLE", ca);
            }
            run_script(script, &mut emulator, "python")?;
            passed += 1;
        }
        // Push delivery: a webhook with the SDK's parsers receives the emulator's deliveries.
        let mut emulator = start_emulator(&binary, false)?;
        let mut script = Command::new(interpreter);
        script.arg(scripts.join("python_webhook.py"));
        run_script(script, &mut emulator, "python webhook")?;
        passed += 1;
    }
    if let Some(modules) = modules.as_ref().filter(|_| basic) {
        for tls in [false, true] {
            let mut emulator = start_emulator(&binary, tls)?;
            let mut script = Command::new("node");
            script
                .arg(scripts.join("node_interop.cjs"))
                .env("NODE_PATH", modules);
            if let Some(ca) = emulator.ca_certificate() {
                script.env("NODE_EXTRA_CA_CERTS", ca);
            }
            run_script(script, &mut emulator, "node")?;
            passed += 1;
        }
    }
    println!("interop: {passed} passed, 0 failed");
    Ok(())
}

/// `target/interop-node` with the pinned SDKs; returns its `node_modules`.
fn node_environment() -> Result<PathBuf> {
    let folder = root().join("target/interop-node");
    let modules = folder.join("node_modules");
    let packages = NODE_SDKS.join(" ");
    if installed(&folder, &packages) {
        return Ok(modules);
    }
    std::fs::create_dir_all(&folder)?;
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&folder)
        .args(NODE_SDKS);
    run_command(install)?;
    mark_installed(&folder, &packages)?;
    Ok(modules)
}

fn installed(folder: &Path, package: &str) -> bool {
    std::fs::read_to_string(folder.join(".interop-installed")).is_ok_and(|text| text == package)
}

fn mark_installed(folder: &Path, package: &str) -> Result<()> {
    std::fs::write(folder.join(".interop-installed"), package).context("writing the install marker")
}

/// The emulator binary serving three topics (one per schema), all keyed with [`KEY`], over
/// https when `tls`.
fn start_emulator(binary: &Path, tls: bool) -> Result<EmulatorProcess> {
    let mut args: Vec<String> = ["--port", "0", "--retain", "1000"]
        .map(str::to_owned)
        .into();
    for topic in ["eg", "ce:cloudevents", "custom:custom"] {
        args.push("--topic".to_owned());
        args.push(format!("{topic}={KEY}"));
    }
    if tls {
        args.push("--tls".to_owned());
    }
    EmulatorProcess::start(binary, args)
}

/// Runs `script` against `emulator`, then stops the emulator: the run fails if the script
/// fails or outlives [`SCRIPT_DEADLINE`], or if the emulator does not exit cleanly on SIGTERM.
fn run_script(mut script: Command, emulator: &mut EmulatorProcess, name: &str) -> Result<()> {
    let url = emulator.base_url().to_owned();
    script
        .env("EMULATOR_URL", &url)
        .env("EMULATOR_KEY", KEY)
        .stdin(Stdio::null());
    let mut child = script
        .spawn()
        .with_context(|| format!("starting the {name} script"))?;
    let status = wait_with_deadline(&mut child, SCRIPT_DEADLINE).with_context(|| {
        let _ = child.kill();
        let _ = child.wait();
        format!("the {name} script against {url} did not finish")
    })?;
    if !status.success() {
        bail!("the {name} script against {url} failed ({status})");
    }
    let stopped = emulator.stop()?;
    if !stopped.success() {
        bail!("the emulator at {url} exited with {stopped} on SIGTERM");
    }
    Ok(())
}
