//! Finding the load-test tools (nginx, wrk) and installing them from Debian's packages when they
//! are missing. Shared by every xtask command that measures against a local sink.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::util::run as run_command;

/// Where a program is: the `PATH`, then the system directories a non-login root shell may not
/// have on it (nginx lives in `/usr/sbin`).
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}

/// Whether `thing` is there: a program on the path, or, given an absolute path, that file.
fn present(thing: &str) -> bool {
    if thing.starts_with('/') {
        std::path::Path::new(thing).is_file()
    } else {
        find(thing).is_some()
    }
}

/// Makes sure `things` (programs, or absolute paths of files, each with the Debian package that
/// provides it) are installed: those missing are installed with `apt-get` when `install` allows
/// it and the machine has apt-get and runs as root. Says what it does. Returns which things are
/// there afterwards; a missing one is reported and skipped by the caller, never an error.
pub(crate) fn ensure(things: &[(&str, &str)], install: bool) -> Result<Vec<String>> {
    let missing: Vec<&(&str, &str)> = things.iter().filter(|(thing, _)| !present(thing)).collect();
    if !missing.is_empty() {
        let packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
        if !install {
            eprintln!(
                "bench: {} not installed (--no-install); those parts are skipped",
                packages.join(" and ")
            );
        } else if find("apt-get").is_none() || !is_root() {
            eprintln!(
                "bench: {} not installed and cannot install here (needs apt-get as root); \
                 those parts are skipped",
                packages.join(" and ")
            );
        } else {
            eprintln!(
                "bench: installing {} with apt-get (pass --no-install to skip this)",
                packages.join(" and ")
            );
            let mut update = Command::new("apt-get");
            update.args(["update", "-qq"]);
            run_command(update)?;
            let mut add = Command::new("apt-get");
            add.args(["install", "-y", "-qq"])
                .args(&packages)
                .env("DEBIAN_FRONTEND", "noninteractive");
            run_command(add)?;
        }
    }
    Ok(things
        .iter()
        .filter(|(thing, _)| present(thing))
        .map(|(thing, _)| (*thing).to_owned())
        .collect())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}
