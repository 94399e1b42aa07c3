//! The emulator's configuration file, TOML or JSON (`--config FILE`), as
//! `EmulatorConfig::from_file` reads and validates it.
//!
//! Input: one byte of choices (bit 0: JSON, otherwise TOML), then the file's text.

use crate::bytes_reader::Bytes;
use crate::emulator_settings::{assert_debug_hides_secrets, run_in_process};

/// Runs one input. Checks: a configuration that loads is valid, shows no secret in its `Debug`
/// output, and runs (an in-process emulator with it answers a publish).
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let is_json = input.byte() & 1 == 1;
    let text = String::from_utf8_lossy(input.rest());
    if let Ok(config) = eventgrid_emulator::fuzzing::parse_config_file(&text, is_json) {
        assert_debug_hides_secrets(&config);
        run_in_process(config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_every_kind_of_secret_shows_none_and_runs() {
        let config = eventgrid_emulator::fuzzing::parse_config_file(
            "admin_key = \"s3cret\"\ntopics = [\"t=a2V5\"]\n[entra_clients]\napp = \"pw\"\n",
            false,
        )
        .unwrap();
        assert_debug_hides_secrets(&config);
        assert!(!format!("{config:?}").contains("s3cret"));
        run_in_process(config);
    }
}
