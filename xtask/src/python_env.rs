//! The one Python environment of the xtask commands: `target/python-venv`, a virtual
//! environment with the official `azure-eventgrid` SDK at the pinned version, created on first
//! use and again whenever the pin changes. `interop` runs its script with it, `bench --peers`
//! its peers.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::util::{root, run as run_command};

/// The SDK, pinned: the version whose requests `tests/fixtures` recorded.
pub(crate) const PYTHON_SDK: &str = "azure-eventgrid==4.22.1";
/// Names what is installed, so a changed pin rebuilds the environment.
const MARKER: &str = ".xtask-installed";

/// The environment's interpreter, with [`PYTHON_SDK`] installed. `PYTHON` names the
/// interpreter that creates it (default `python3`).
pub(crate) fn interpreter() -> Result<PathBuf> {
    let venv = root().join("target/python-venv");
    let interpreter = venv.join("bin/python");
    let marker = venv.join(MARKER);
    if interpreter.is_file()
        && std::fs::read_to_string(&marker).is_ok_and(|text| text == PYTHON_SDK)
    {
        return Ok(interpreter);
    }
    eprintln!("xtask: creating target/python-venv with {PYTHON_SDK}");
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
    std::fs::write(&marker, PYTHON_SDK).context("writing the install marker")?;
    Ok(interpreter)
}
