//! `eventgrid emulator ...`: the `eventgrid-emulator` command line, run in this process
//! through the emulator library's own entry point, so the two commands cannot drift apart.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Args;

/// Everything after `eventgrid emulator`, handed to the emulator's command line untouched (so
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

/// Runs the emulator in the foreground until Ctrl-C or SIGTERM; returns its exit status.
pub fn run(args: EmulatorArgs) -> ExitCode {
    let program = OsString::from("eventgrid emulator");
    eventgrid_emulator::cli::run(std::iter::once(program).chain(args.args))
}
