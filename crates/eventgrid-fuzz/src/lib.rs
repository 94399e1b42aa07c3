//! The bodies of the fuzz targets. `fuzz/` (a cargo-fuzz crate outside the workspace, built
//! with a nightly compiler) calls these functions, and `tests/corpus.rs` replays every
//! committed corpus file (`fuzz/corpus/TARGET/*`) through them on stable, so CI needs no fuzzer.
//!
//! Each target takes arbitrary bytes, must not panic, and checks what must hold for every
//! input (a failed check is a panic too, which the fuzzer reports as a crash).

#![deny(missing_docs)]

mod bytes_reader;
pub mod client_response;
pub mod emulator_request;
pub mod env_config;
pub mod json_scanner;
pub mod jsonl_line;
pub mod jwt_token;
pub mod sas_token;
pub mod subscriber_input;

/// A fuzz target: its name (the directory of its corpus) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("client_response", client_response::run),
    ("emulator_request", emulator_request::run),
    ("env_config", env_config::run),
    ("json_scanner", json_scanner::run),
    ("jsonl_line", jsonl_line::run),
    ("jwt_token", jwt_token::run),
    ("sas_token", sas_token::run),
    ("subscriber_input", subscriber_input::run),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, run)| *run)
}
