//! The `eventgrid` command: publish events to Azure Event Grid (or the local emulator),
//! generate SAS tokens, run the emulator, and see the whole client family work in one
//! `eventgrid demo`.
//!
//! This library is the command's implementation, so that tests can check its argument parsing
//! without starting a process:
//!
//! ```
//! use clap::Parser;
//! use eventgrid_cli::{Cli, Command};
//!
//! let cli = Cli::try_parse_from([
//!     "eventgrid", "publish", "--topic", "orders", "--type", "order.placed",
//!     "--subject", "orders/1", "--data", r#"{"total": 3}"#,
//! ])?;
//! assert!(matches!(cli.command, Command::Publish(_)));
//!
//! // Usage errors are clap's, and the command exits with status 2 for them.
//! let error = Cli::try_parse_from(["eventgrid", "publish", "--type", "t"]).unwrap_err();
//! assert_eq!(error.exit_code(), 2);
//! # Ok::<(), clap::Error>(())
//! ```
//!
//! Exit status: 0 on success; 1 with a one-line `error: ...` naming the cause (unknown topic,
//! missing variable, oversized event, the service's status and message) on failure; 2 for
//! usage errors.

#![deny(missing_docs)]

mod demo;
mod demo_flows;
mod demo_subscriber;
mod emulator;
mod error;
mod file_publish;
#[doc(hidden)]
pub mod fuzzing;
mod jsonl;
mod line_event;
mod line_splice;
mod listen;
mod listen_print;
mod progress;
mod publish;
mod receive;
mod sas;
mod secret_file;
mod table;
mod target;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;
pub use listen::ListenArgs;
pub use listen_print::Format as ListenFormat;
pub use publish::PublishArgs;
pub use receive::{ReceiveArgs, Settle};
pub use sas::SasArgs;
pub use target::{KEY_VAR, SAS_VAR, TargetArgs};

/// Publish events to Azure Event Grid or the local emulator.
///
/// Topics come from the environment (`EVENTGRID_TOPICS=orders`,
/// `EVENTGRID_ORDERS_ENDPOINT=...`, optional `EVENTGRID_ORDERS_KEY`, `_SAS`, `_SCHEMA`) or from
/// `--endpoint` with `--key-file`, `--sas-file`, `--key`, `--sas` or `--entra`. A key or token
/// can also come from `EVENTGRID_KEY` or `EVENTGRID_SAS` (command lines are visible to other
/// users of the machine; files and the environment are not).
#[derive(Debug, Parser)]
#[command(name = "eventgrid", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the emulator in-process and publish the seed library's flows with both clients,
    /// then print what the emulator received
    Demo,
    /// Publish one event from flags, or many from a JSON Lines file
    Publish(Box<PublishArgs>),
    /// Receive events from a namespace topic's subscription as JSON Lines (and acknowledge,
    /// release or leave them locked; --follow to keep receiving)
    Receive(Box<ReceiveArgs>),
    /// Print a SAS token for a topic, signed with its access key
    Sas(SasArgs),
    /// Run the local Event Grid emulator (the `eventgrid-emulator` command line)
    Emulator(emulator::EmulatorArgs),
    /// Run a local webhook that answers Event Grid's handshakes and prints each delivery
    Listen(ListenArgs),
}

/// Runs the command line `args` (the first being the program name) and returns the exit
/// status. Usage errors print clap's message and give status 2; other failures print one
/// line, `error: ...`, and give status 1.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Prints help and version to stdout (status 0), errors to stderr (status 2).
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let outcome = match cli.command {
        Command::Demo => demo::run(),
        Command::Publish(args) => publish::run(&args),
        Command::Receive(args) => receive::run(&args),
        Command::Sas(args) => sas::run(&args),
        Command::Emulator(args) => return emulator::run(args),
        Command::Listen(args) => listen::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.one_line());
            ExitCode::from(error.exit_code())
        }
    }
}
