//! `eventgrid emulator ...`: the `eventgrid-emulator` command line, run as it is.
//!
//! The emulator's options, parsing and start-up belong to its own binary (the
//! `eventgrid-emulator` library exposes no command-line entry point); this subcommand runs
//! that binary, installed next to `eventgrid`, with the same arguments, so the two commands
//! cannot drift apart.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

use crate::error::CliError;

/// Everything after `eventgrid emulator`, handed to `eventgrid-emulator` untouched (so
/// `eventgrid emulator --help` shows the emulator's own help).
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct EmulatorArgs {
    /// The emulator's options: --port, --topic NAME[:SCHEMA][=KEY], --tls, --fault ... (see
    /// `eventgrid emulator --help`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "OPTIONS"
    )]
    pub args: Vec<OsString>,
}

/// The emulator binary: beside this one (as `cargo build` and `cargo install` place them),
/// else on the `PATH`.
fn emulator_binary() -> PathBuf {
    let name = format!("eventgrid-emulator{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(&name))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Runs the emulator in the foreground. On Unix this process becomes the emulator (`exec`), so
/// signals such as Ctrl-C and SIGTERM reach it directly and its exit status is the command's.
pub fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let binary = emulator_binary();
    let mut command = Command::new(&binary);
    command.args(&args.args);
    let not_found = |error: std::io::Error| {
        CliError::failure(format!(
            "could not run {}: {error} (build it with `cargo build -p eventgrid-emulator`, or \
             install it with `cargo install --path crates/eventgrid-emulator`)",
            binary.display()
        ))
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Returns only when the emulator could not be started.
        Err(not_found(command.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(not_found)?;
        if status.success() {
            return Ok(());
        }
        std::process::exit(status.code().unwrap_or(1));
    }
}
