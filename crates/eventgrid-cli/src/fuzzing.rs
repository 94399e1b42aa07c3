//! The command's readers of untrusted input, reachable from outside the crate for the fuzz
//! targets (`crates/eventgrid-fuzz`). Hidden from the documentation: not part of the API.

use eventgrid::{CloudEvent, CustomEvent, Schema};

use crate::jsonl::JsonLines;
use crate::line_event::LineEvent;
use crate::line_splice::SplicedEventGridEvent;

/// One line of a `--file` as an event of `schema`, serialized as the client would send it, or
/// why the line is not one.
pub fn line_event(schema: Schema, line: &str) -> Result<String, String> {
    fn serialized<E: LineEvent>(line: &str) -> Result<String, String> {
        let event = E::from_line(line)?;
        let mut json = Vec::new();
        event
            .write_json(&mut json)
            .map_err(|error| format!("does not serialize: {error}"))?;
        String::from_utf8(json).map_err(|error| format!("not UTF-8: {error}"))
    }
    match schema {
        Schema::CloudEvents => serialized::<CloudEvent>(line),
        Schema::Custom => serialized::<CustomEvent>(line),
        _ => serialized::<SplicedEventGridEvent>(line),
    }
}

/// The non-blank lines of `input` as `--file` reads them, each with its number, up to the
/// first line that cannot be read (too long, not UTF-8), whose number and reason end the list.
pub fn json_lines(input: &[u8], max_line_bytes: usize) -> Vec<Result<(usize, String), String>> {
    let mut lines = JsonLines::new(input, max_line_bytes);
    let mut out = Vec::new();
    loop {
        match lines.next_line() {
            Ok(Some((number, text))) => out.push(Ok((number, text.to_owned()))),
            Ok(None) => return out,
            Err(error) => {
                out.push(Err(format!("line {}: {}", error.line, error.reason)));
                return out;
            }
        }
    }
}

/// What an `eventgrid` command line parses to (exhaustive: the fuzz target matches on it).
#[derive(Debug)]
pub enum Parsed {
    /// `eventgrid emulator ARGS`: the emulator's arguments, for its own command line.
    Emulator(Vec<String>),
    /// Anything else: the parsed arguments' `Debug` output, and for `publish` the event its
    /// flags make in each schema (or why they make none); or the error message.
    Other(String),
}

/// `args` (the first being the program name) through clap and our value parsers, and for
/// `publish`, its flags (a `--data` given inline, not `@FILE`) to the event of each schema.
pub fn command_line(args: &[String]) -> Parsed {
    use clap::Parser;

    use crate::{Cli, Command, publish};

    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return Parsed::Other(error.to_string()),
    };
    let args = match cli.command {
        Command::Emulator(emulator) => {
            return Parsed::Emulator(
                emulator
                    .args
                    .iter()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect(),
            );
        }
        Command::Publish(args) => args,
        other => return Parsed::Other(format!("{other:?}")),
    };
    let mut shown = format!("{args:?}");
    let data = match args.data.as_deref() {
        Some(text) if text.starts_with('@') => return Parsed::Other(shown),
        Some(text) => match publish::read_data(text, args.target.max_event_bytes) {
            Ok(data) => Some(data),
            Err(error) => {
                shown.push_str(&error.to_string());
                return Parsed::Other(shown);
            }
        },
        None => None,
    };
    fn show<E: serde::Serialize>(event: Result<E, crate::CliError>) -> String {
        match event {
            Ok(event) => serde_json::to_string(&event)
                .unwrap_or_else(|error| panic!("a valid event does not serialize: {error}")),
            Err(error) => error.to_string(),
        }
    }
    shown.push_str(&show(publish::event_grid_event(&args, data.clone())));
    shown.push_str(&show(publish::cloud_event(&args, data.clone())));
    shown.push_str(&show(publish::custom_event(&args, data)));
    Parsed::Other(shown)
}
