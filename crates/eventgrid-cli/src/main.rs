//! The `eventgrid` command.
fn main() {}
