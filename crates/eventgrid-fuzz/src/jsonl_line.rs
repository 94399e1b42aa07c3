//! A `--file` of JSON Lines to events, as `eventgrid publish --file` reads it.
//!
//! Input: one byte choosing the schema and the line limit, then the file's bytes.

use eventgrid_cli::fuzzing::{json_lines, line_event};
use eventgrid_core::Schema;

use crate::bytes_reader::Bytes;

/// Runs one input. Checks: no line longer than the limit is returned; line numbers rise;
/// an event read from a line serializes to JSON that reads back as the same event.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let choice = input.byte();
    let schema = match choice % 3 {
        0 => Schema::EventGrid,
        1 => Schema::CloudEvents,
        _ => Schema::Custom,
    };
    let max_line_bytes = if choice & 0x80 == 0 { 1 << 16 } else { 64 };
    let mut last_number = 0;
    for line in json_lines(input.rest(), max_line_bytes) {
        let Ok((number, text)) = line else {
            break;
        };
        assert!(number > last_number, "line numbers go back");
        last_number = number;
        assert!(text.len() <= max_line_bytes, "a line over the limit");
        if let Ok(json) = line_event(schema, &text) {
            serde_json::from_str::<serde_json::Value>(&json).expect("a sent event is JSON");
            let again = line_event(schema, &json)
                .unwrap_or_else(|error| panic!("{json} does not read back: {error}"));
            assert_eq!(again, json, "an event changes when read back");
        }
    }
}
