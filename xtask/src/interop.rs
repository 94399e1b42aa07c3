//! `cargo xtask interop`: the official Python and JavaScript Event Grid SDKs against
//! `eventgrid-emulator`, over http and https.
//!
//! It installs what it needs itself, under `target/`: the xtask Python environment with
//! `azure-eventgrid` ([`crate::python_env`]) and an npm folder with `@azure/eventgrid`, each
//! reinstalled only when the pinned version changes. Each run starts its own emulator (the binary cargo builds), runs one
//! script from `xtask/interop/` against it, and stops it with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::emulator_process::EmulatorProcess;
use crate::util::{cargo, root, run as run_command, wait_with_deadline};

const NODE_SDK: &str = "@azure/eventgrid@5.12.0";
/// The topics' access key: base64, so SAS tokens can be signed with it.
const KEY: &str = "aW50ZXJvcC10ZXN0LWtleQ==";
/// A script that has not finished by then is stuck; it is killed and the run fails.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(120);

const USAGE: &str = "\
cargo xtask interop [--python-only | --node-only]

Publishes with azure-eventgrid (Python) and @azure/eventgrid (JavaScript) to eventgrid-emulator
over http and https, and checks what arrived with the SDKs' own parsers; then a Python webhook
parses the emulator's push deliveries with EventGridEvent.from_dict and CloudEvent.from_dict.
";

pub fn run(args: &[String]) -> Result<()> {
    let (mut python, mut node) = (true, true);
    for arg in args {
        match arg.as_str() {
            "--python-only" => node = false,
            "--node-only" => python = false,
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
    run_command(build)?;
    let binary = root().join("target/debug/eventgrid-emulator");
    let scripts = root().join("xtask/interop");

    let mut passed = 0;
    if python {
        let interpreter = crate::python_env::interpreter()?;
        for tls in [false, true] {
            let mut emulator = start_emulator(&binary, tls)?;
            let mut script = Command::new(&interpreter);
            script.arg(scripts.join("python_interop.py"));
            if let Some(ca) = emulator.ca_certificate() {
                script.env("EMULATOR_CA", ca).env("REQUESTS_CA_BUNDLE", ca);
            }
            run_script(script, &mut emulator, "python")?;
            passed += 1;
        }
        // Push delivery: a webhook with the SDK's parsers receives the emulator's deliveries.
        let mut emulator = start_emulator(&binary, false)?;
        let mut script = Command::new(&interpreter);
        script.arg(scripts.join("python_webhook.py"));
        run_script(script, &mut emulator, "python webhook")?;
        passed += 1;
    }
    if node {
        let modules = node_environment()?;
        for tls in [false, true] {
            let mut emulator = start_emulator(&binary, tls)?;
            let mut script = Command::new("node");
            script
                .arg(scripts.join("node_interop.cjs"))
                .env("NODE_PATH", &modules);
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

/// `target/interop-node` with the pinned SDK; returns its `node_modules`.
fn node_environment() -> Result<PathBuf> {
    let folder = root().join("target/interop-node");
    let modules = folder.join("node_modules");
    if installed(&folder, NODE_SDK) {
        return Ok(modules);
    }
    std::fs::create_dir_all(&folder)?;
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&folder)
        .arg(NODE_SDK);
    run_command(install)?;
    mark_installed(&folder, NODE_SDK)?;
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
