//! The emulator's JSON scanner of publish bodies against `serde_json`: the same verdict on
//! every input.
//!
//! Input: the body.

use eventgrid_emulator::fuzzing::scan_publish_body;

/// Runs one input. Checks: the scanner accepts a body exactly when `serde_json` reads it as an
/// array, with the same number of elements.
pub fn run(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let ours = scan_publish_body(body);
    let serde = serde_json::from_str::<Vec<serde_json::Value>>(body);
    match (ours, &serde) {
        (Some(count), Ok(values)) => assert_eq!(count, values.len(), "{body:?}"),
        (None, Err(_)) => {}
        (ours, serde) => panic!(
            "the scanner says {ours:?}, serde_json says {:?}, for {body:?}",
            serde.as_ref().map(Vec::len).map_err(ToString::to_string)
        ),
    }
}
