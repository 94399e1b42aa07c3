//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use anyhow::Result;

use crate::util::{cargo, run as run_command};

pub fn run_ci_steps() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run_command(fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run_command(clippy)?;

    crate::deps::run(&[])?;

    let mut test = cargo();
    test.args(["test", "--workspace", "--locked"]);
    run_command(test)?;
    crate::itest::run(&[])?;
    crate::interop::run(&[])?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--locked"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    run_command(doc)?;
    Ok(())
}

pub fn run(_args: &[String]) -> Result<()> {
    run_ci_steps()
}
