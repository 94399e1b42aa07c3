//! Small helpers shared by the commands.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// `cargo` as the running toolchain knows it.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root());
    command
}

/// Runs `command`, echoing it first, and fails if it fails.
pub fn run(mut command: Command) -> Result<()> {
    eprintln!("$ {}", describe(&command));
    let status = command
        .status()
        .with_context(|| format!("could not start {}", describe(&command)))?;
    if !status.success() {
        bail!("{} failed with {status}", describe(&command));
    }
    Ok(())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Waits for `child` to exit, failing (and leaving it running) once `deadline` has passed.
pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Result<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > deadline {
            bail!("still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
