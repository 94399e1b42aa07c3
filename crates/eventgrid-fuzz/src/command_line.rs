//! The flag values of `eventgrid-emulator` and `eventgrid` as our code parses them: topic,
//! namespace topic, subscription and webhook specs, fault rules, Entra clients, durations,
//! scales, sizes, times, schemas and `--data`, through clap and into the configuration (the
//! emulator's is validated as at start-up; `eventgrid emulator ...` forwards to it).
//!
//! Input: one byte of choices, then the arguments, separated by NUL bytes. Choice bit 0: the
//! emulator's command line, otherwise `eventgrid`'s; bit 1 adds a secret flag with a canary
//! value (`--admin-key` for the emulator, `--key` for `eventgrid`).

use crate::bytes_reader::Bytes;
use crate::emulator_settings::{assert_debug_hides_secrets, run_in_process};

/// Most arguments taken from one input.
const MAX_ARGS: usize = 32;

/// A secret value no message has a reason to contain.
const CANARY: &str = "Y2FuYXJ5LXNlY3JldA==";

/// Flags whose values name files that would be read: a fuzzer must not read the machine's
/// files (their contents have targets of their own).
const FILE_FLAGS: &[&str] = &[
    "--config",
    "--simulator-settings",
    "--key-file",
    "--sas-file",
    "--file",
    "--ca-certificate",
    "--webhook-ca",
];

/// Runs one input. Checks: nothing panics; an emulator configuration that is accepted is valid,
/// shows no secret in its `Debug` output and runs in process; the canary secret never shows in
/// what a command line parses to or in its error, unless the input itself has its text.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let choice = input.byte();
    let mut args: Vec<String> = input
        .rest()
        .split(|byte| *byte == 0)
        .take(MAX_ARGS)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .filter(|arg| !reads_a_file(arg))
        .collect();
    let canary_in_input = args.iter().any(|arg| arg.contains(CANARY));
    let with_canary = choice & 2 == 2;
    if choice & 1 == 1 {
        if with_canary {
            args.extend(["--admin-key".to_owned(), CANARY.to_owned()]);
        }
        let shown = emulator(args);
        assert!(
            !with_canary || canary_in_input || !shown.contains(CANARY),
            "the admin key shows: {shown}"
        );
    } else {
        if with_canary {
            args.extend(["--key".to_owned(), CANARY.to_owned()]);
        }
        let shown = eventgrid(args);
        assert!(
            !with_canary || canary_in_input || !shown.contains(CANARY),
            "the key shows: {shown}"
        );
    }
}

fn reads_a_file(arg: &str) -> bool {
    arg.starts_with('@')
        || FILE_FLAGS.iter().any(|flag| {
            arg.strip_prefix(flag)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
        })
}

/// The emulator's command line; what it shows (its configuration's `Debug` output or its
/// error).
pub(crate) fn emulator(args: Vec<String>) -> String {
    let argv: Vec<String> = std::iter::once("eventgrid-emulator".to_owned())
        .chain(args)
        .collect();
    match eventgrid_emulator::fuzzing::command_line(&argv) {
        Ok(config) => {
            assert_debug_hides_secrets(&config);
            let shown = format!("{config:?}");
            run_in_process(config);
            shown
        }
        Err(error) => error,
    }
}

/// `eventgrid`'s command line; what it shows.
fn eventgrid(args: Vec<String>) -> String {
    let argv: Vec<String> = std::iter::once("eventgrid".to_owned())
        .chain(args)
        .collect();
    match eventgrid_cli::fuzzing::command_line(&argv) {
        eventgrid_cli::fuzzing::Parsed::Emulator(args) => emulator(args),
        eventgrid_cli::fuzzing::Parsed::Other(shown) => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator_config(args: &[&str]) -> Result<eventgrid_emulator::EmulatorConfig, String> {
        let argv: Vec<String> = std::iter::once("eventgrid-emulator")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        eventgrid_emulator::fuzzing::command_line(&argv)
    }

    #[test]
    fn the_issues_fault_flag_parses_and_runs() {
        let config = emulator_config(&[
            "--topic",
            "t=a2V5",
            "--fault",
            "t:status=503,retry-after=18446744073709551615",
        ])
        .unwrap();
        assert_eq!(config.faults["t"].rules().len(), 1);
        run_in_process(config);
    }

    #[test]
    fn bad_values_are_refused_with_the_flag() {
        let error = emulator_config(&["--topic", "t", "--delivery-timeout", "1e300"]).unwrap_err();
        assert!(error.contains("--delivery-timeout"), "{error}");
        let error = emulator_config(&["--topic", "t", "--fault", "t"]).unwrap_err();
        assert!(error.contains("TOPIC:RULE"), "{error}");
        let error = emulator_config(&["--dead-letter-root", "a/../b"]).unwrap_err();
        assert!(error.contains("dead-letter root"), "{error}");
    }

    #[test]
    fn file_flags_are_left_out() {
        for arg in [
            "--config",
            "--config=x.toml",
            "@/dev/zero",
            "--file",
            "--webhook-ca=x",
        ] {
            assert!(reads_a_file(arg), "{arg}");
        }
        for arg in ["--configx", "--topic", "x@y"] {
            assert!(!reads_a_file(arg), "{arg}");
        }
    }
}
