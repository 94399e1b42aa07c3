//! The bodies of the fuzz targets. `fuzz/` (a cargo-fuzz crate outside the workspace, built
//! with a nightly compiler) calls these functions, and `tests/corpus.rs` replays every
//! committed corpus file (`fuzz/corpus/TARGET/*`) through them on stable, so CI needs no fuzzer.
//!
//! Each target takes arbitrary bytes, must not panic, and checks what must hold for every
//! input (a failed check is a panic too, which the fuzzer reports as a crash).

#![deny(missing_docs)]

mod bytes_reader;
pub mod client_response;
pub mod command_line;
pub mod emulator_config;
pub mod emulator_request;
mod emulator_settings;
pub mod env_config;
pub mod json_scanner;
pub mod jsonl_line;
pub mod jwt_token;
pub mod proxy_policy;
pub mod sas_token;
pub mod simulator_settings;
pub mod subscriber_input;
pub mod webhook_answer;

/// A fuzz target: its name (the directory of its corpus) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name: the one list. `fuzz/Cargo.toml` has a binary of each name (a thin
/// `fuzz/fuzz_targets/NAME.rs`), `fuzz/corpus/NAME` its corpus, and `cargo xtask fuzz` reads
/// the names from `fuzz/fuzz_targets`; `tests/corpus.rs` checks that they all agree.
pub const TARGETS: &[Target] = &[
    ("client_response", client_response::run),
    ("command_line", command_line::run),
    ("emulator_config", emulator_config::run),
    ("emulator_request", emulator_request::run),
    ("env_config", env_config::run),
    ("json_scanner", json_scanner::run),
    ("jsonl_line", jsonl_line::run),
    ("jwt_token", jwt_token::run),
    ("proxy_policy", proxy_policy::run),
    ("sas_token", sas_token::run),
    ("simulator_settings", simulator_settings::run),
    ("subscriber_input", subscriber_input::run),
    ("webhook_answer", webhook_answer::run),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, run)| *run)
}
