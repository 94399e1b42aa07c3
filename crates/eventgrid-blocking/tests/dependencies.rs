//! The promise of this crate: no async runtime, no second HTTP stack, one TLS provider.

use std::process::Command;

/// Packages that must never be among this crate's normal dependencies, on any target.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "reqwest",
    "openssl",
    "openssl-sys",
    "native-tls",
    "aws-lc-rs",
    "aws-lc-sys",
];

#[test]
fn no_async_runtime_no_other_http_or_tls_stack() {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "eventgrid-blocking",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--target",
            "all",
        ])
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo tree failed: {stderr}");
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let packages: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for expected in ["ureq", "rustls", "ring", "azure_core", "azure_identity"] {
        assert!(
            packages.contains(&expected),
            "{expected} missing from:\n{tree}"
        );
    }
    let found: Vec<&&str> = FORBIDDEN.iter().filter(|p| packages.contains(p)).collect();
    assert!(
        found.is_empty(),
        "forbidden dependencies {found:?} in:\n{tree}"
    );
}

/// `azure_identity` waits between retries of token requests with `azure_core`'s sleep. Without
/// tokio that is a timer thread, which works on the executor driving tokens here; if anything in
/// the build switches on `azure_core`'s `tokio` feature, it becomes a tokio timer that panics
/// outside a tokio runtime, and token refreshes of blocking clients would panic on retries.
#[test]
fn azure_core_sleeps_without_an_async_runtime() {
    futures::executor::block_on(azure_core::sleep(azure_core::time::Duration::milliseconds(
        5,
    )));
}
