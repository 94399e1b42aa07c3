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
