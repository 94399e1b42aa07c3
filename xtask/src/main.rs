//! Project automation, in the style of rust-analyzer's xtask: one small dispatcher,
//! one module per command. Run `cargo xtask help`.

mod bench;
mod ci;
mod deps;
mod emulator_process;
mod fuzz;
mod interop;
mod itest;
mod python_env;
mod util;

use anyhow::{Result, bail};

const HELP: &str = "\
cargo xtask <command>

commands:
  bench     throughput of the clients beside the wire floor (and --peers: the Python SDK)
  ci        rustfmt check, clippy (warnings denied), all tests, rustdoc (warnings denied)
  deps      check the dependency rules of docs/architecture.md (cargo tree)
  interop   the official Python and JavaScript SDKs against eventgrid-emulator
  bench-emulator  eventgrid-emulator's requests/s beside nginx's, under wrk
  itest     the tests/ suite and the examples against eventgrid-emulator run as a process
  fuzz      the cargo-fuzz targets of fuzz/, N seconds each (--seconds N, default 600)
  help      this text
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".to_owned());
    let rest: Vec<String> = args.collect();
    match command.as_str() {
        "bench" => bench::run(&rest),
        "ci" => ci::run(&rest),
        "deps" => deps::run(&rest),
        "interop" => interop::run(&rest),
        "bench-emulator" => bench::emulator_vs_nginx::run(&rest),
        "fuzz" => fuzz::run(&rest),
        "itest" => itest::run(&rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{HELP}"),
    }
}
