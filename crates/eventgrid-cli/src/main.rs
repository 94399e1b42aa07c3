//! The `eventgrid` command. See `eventgrid --help` and the `eventgrid_cli` library.

fn main() -> std::process::ExitCode {
    eventgrid_cli::run(std::env::args_os())
}
