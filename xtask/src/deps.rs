//! `cargo xtask deps`: the dependency rules of docs/architecture.md, checked on the real tree.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};

use crate::util::cargo;

/// (package, crates that must not appear in its normal dependency tree, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "eventgrid-core",
        &[
            "tokio",
            "hyper",
            "hyper-util",
            "ureq",
            "reqwest",
            "rustls",
            "native-tls",
            "openssl",
            "mio",
            "socket2",
        ],
        "the core does no I/O",
    ),
    (
        "eventgrid-blocking",
        &[
            "tokio",
            "hyper",
            "reqwest",
            "openssl",
            "openssl-sys",
            "aws-lc-rs",
            "aws-lc-sys",
        ],
        "the blocking client runs without an async runtime, on rustls with ring",
    ),
    (
        "eventgrid-tls",
        &[
            "tokio",
            "hyper",
            "hyper-util",
            "ureq",
            "reqwest",
            "openssl",
            "openssl-sys",
            "native-tls",
            "aws-lc-rs",
            "aws-lc-sys",
        ],
        "the TLS trust both front ends share: rustls with ring, no HTTP stack or runtime",
    ),
    (
        "eventgrid-async",
        &[
            "reqwest",
            "ureq",
            "openssl",
            "openssl-sys",
            "aws-lc-rs",
            "aws-lc-sys",
            "native-tls",
        ],
        "one HTTP stack (hyper) and one TLS provider (rustls with ring)",
    ),
];

/// (package, crates that must be in its normal dependency tree, why)
const REQUIRED: &[(&str, &[&str], &str)] = &[(
    "eventgrid-tls",
    &["rustls", "ring"],
    "both front ends' TLS is rustls with the ring provider",
)];

/// Crates no package of the workspace may pull in.
const EVERYWHERE: &[&str] = &["reqwest", "openssl-sys", "aws-lc-sys", "native-tls"];

fn tree(package: &str, extra: &[&str]) -> Result<BTreeSet<String>> {
    let mut command = cargo();
    command.args([
        "tree", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}",
    ]);
    command.args(extra);
    if !package.is_empty() {
        command.args(["-p", package]);
    }
    let output = command.output().context("could not run cargo tree")?;
    if !output.status.success() {
        bail!(
            "cargo tree failed for {package}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

pub fn run(_args: &[String]) -> Result<()> {
    let mut broken = Vec::new();
    for (package, forbidden, why) in RULES {
        let names = tree(package, &[])?;
        for name in *forbidden {
            if names.contains(*name) {
                broken.push(format!("{package} depends on {name}, but {why}"));
            }
        }
    }
    for (package, required, why) in REQUIRED {
        let names = tree(package, &[])?;
        for name in *required {
            if !names.contains(*name) {
                broken.push(format!("{package} does not depend on {name}, but {why}"));
            }
        }
    }
    let all = tree("", &["--workspace", "--all-features"])?;
    for name in EVERYWHERE {
        if all.contains(*name) {
            broken.push(format!("the workspace depends on {name}"));
        }
    }
    if !broken.is_empty() {
        bail!("dependency rules broken:\n  {}", broken.join("\n  "));
    }
    eprintln!(
        "dependency rules hold ({} rules checked)",
        RULES.len() + REQUIRED.len()
    );
    Ok(())
}
