//! `cargo xtask interop`: the official Python and JavaScript Event Grid SDKs against
//! `eventgrid-emulator`, over http and https.
//!
//! It installs what it needs itself, under `target/`: a Python virtual environment with
//! `azure-eventgrid` and an npm folder with `@azure/eventgrid`, each reinstalled only when the
//! pinned version changes. Each run starts its own emulator (the binary cargo builds), runs one
//! script from `xtask/interop/` against it, and stops it with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::{cargo, root, run as run_command};

const PYTHON_SDK: &str = "azure-eventgrid==4.22.1";
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
        let interpreter = python_environment()?;
        for tls in [false, true] {
            let emulator = EmulatorProcess::start(&binary, tls)?;
            let mut script = Command::new(&interpreter);
            script.arg(scripts.join("python_interop.py"));
            if let Some(ca) = &emulator.ca_certificate {
                script.env("EMULATOR_CA", ca).env("REQUESTS_CA_BUNDLE", ca);
            }
            run_script(script, &emulator, "python")?;
            passed += 1;
        }
        // Push delivery: a webhook with the SDK's parsers receives the emulator's deliveries.
        let emulator = EmulatorProcess::start(&binary, false)?;
        let mut script = Command::new(&interpreter);
        script.arg(scripts.join("python_webhook.py"));
        run_script(script, &emulator, "python webhook")?;
        passed += 1;
    }
    if node {
        let modules = node_environment()?;
        for tls in [false, true] {
            let emulator = EmulatorProcess::start(&binary, tls)?;
            let mut script = Command::new("node");
            script
                .arg(scripts.join("node_interop.cjs"))
                .env("NODE_PATH", &modules);
            if let Some(ca) = &emulator.ca_certificate {
                script.env("NODE_EXTRA_CA_CERTS", ca);
            }
            run_script(script, &emulator, "node")?;
            passed += 1;
        }
    }
    println!("interop: {passed} passed, 0 failed");
    Ok(())
}

/// `target/interop-venv` with the pinned SDK; returns its Python.
fn python_environment() -> Result<PathBuf> {
    let venv = root().join("target/interop-venv");
    let interpreter = venv.join("bin/python");
    if installed(&venv, PYTHON_SDK) {
        return Ok(interpreter);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut create = Command::new(python);
    create.args(["-m", "venv"]).arg(&venv);
    run_command(create)?;
    let mut install = Command::new(venv.join("bin/pip"));
    install.args([
        "install",
        "--disable-pip-version-check",
        "--quiet",
        PYTHON_SDK,
    ]);
    run_command(install)?;
    mark_installed(&venv, PYTHON_SDK)?;
    Ok(interpreter)
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

/// An emulator binary serving three topics (one per schema), all keyed with [`KEY`].
struct EmulatorProcess {
    child: Child,
    base_url: String,
    ca_certificate: Option<PathBuf>,
    /// Kept open so the emulator never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl EmulatorProcess {
    fn start(binary: &Path, tls: bool) -> Result<Self> {
        let mut command = Command::new(binary);
        command.args(["--port", "0", "--retain", "1000"]);
        for topic in ["eg", "ce:cloudevents", "custom:custom"] {
            command.arg("--topic").arg(format!("{topic}={KEY}"));
        }
        if tls {
            command.arg("--tls");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut base_url = None;
        let mut ca_certificate = None;
        let mut line = String::new();
        // The banner ends with the `inspect:` line.
        while stdout.read_line(&mut line)? > 0 {
            let text = line.trim_end();
            if let Some(url) = text.strip_prefix("listening on ") {
                base_url = Some(url.to_owned());
            } else if let Some(path) = text.strip_prefix("ca certificate: ") {
                ca_certificate = Some(PathBuf::from(path));
            } else if text.starts_with("inspect: ") {
                break;
            }
            line.clear();
        }
        let Some(base_url) = base_url else {
            let _ = child.kill();
            bail!("the emulator did not print `listening on URL`");
        };
        eprintln!("emulator listening on {base_url}");
        Ok(Self {
            child,
            base_url,
            ca_certificate,
            _stdout: stdout,
        })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if stopped && wait_until(&mut self.child, Duration::from_secs(10)).is_ok() {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_script(mut script: Command, emulator: &EmulatorProcess, name: &str) -> Result<()> {
    script
        .env("EMULATOR_URL", &emulator.base_url)
        .env("EMULATOR_KEY", KEY)
        .stdin(Stdio::null());
    let mut child = script
        .spawn()
        .with_context(|| format!("starting the {name} script"))?;
    let status = wait_until(&mut child, SCRIPT_DEADLINE).with_context(|| {
        let _ = child.kill();
        format!(
            "the {name} script against {} did not finish",
            emulator.base_url
        )
    })?;
    if !status.success() {
        bail!(
            "the {name} script against {} failed ({status})",
            emulator.base_url
        );
    }
    Ok(())
}

fn wait_until(child: &mut Child, deadline: Duration) -> Result<std::process::ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > deadline {
            bail!("still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
