//! `eventgrid-emulator`: a local Azure Event Grid service. Run `eventgrid-emulator --help`.

fn main() -> std::process::ExitCode {
    eventgrid_emulator::cli::run(std::env::args_os())
}
