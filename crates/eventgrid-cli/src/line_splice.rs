//! An Event Grid line turned into the JSON the client sends in one pass: the line is read
//! without copying its strings or its `data`, checked, and the event's JSON written with
//! `data`'s bytes spliced in as they are, so nothing is parsed into values and serialized
//! again.
//!
//! The bytes are exactly those [`EventGridEvent`] would send for the line (same field order,
//! same escaping, `data` verbatim). A line this path has any doubt about (not an event, an
//! empty required field, an event time with no UTC equivalent) is read by
//! [`LineEvent::from_line`] instead, so every refusal and its message stay as they were.

use std::borrow::Cow;

use eventgrid::core::DEFAULT_DATA_VERSION;
use eventgrid::{Event, EventGridEvent, Schema};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::line_event::LineEvent;

/// An Event Grid event from one line: its JSON, or (for a line the fast path leaves to the
/// ordinary reader) the event read the ordinary way.
#[derive(Debug)]
pub enum SplicedEventGridEvent {
    /// The event's JSON, checked, as the client sends it.
    Json(Vec<u8>),
    /// Read by [`EventGridEvent::from_line`]; its own `check` reports what is wrong.
    Parsed(EventGridEvent),
}

/// The fields of [`line_event`](crate::line_event)'s `EventGridLine`, borrowed from the line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BorrowedLine<'a> {
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    subject: Cow<'a, str>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data_version: Option<Cow<'a, str>>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    event_time: Option<OffsetDateTime>,
    #[serde(default, borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "metadataVersion")]
    _metadata_version: Option<Cow<'a, str>>,
}

impl LineEvent for SplicedEventGridEvent {
    fn from_line(line: &str) -> Result<Self, String> {
        match splice(line) {
            Some(json) => Ok(Self::Json(json)),
            None => EventGridEvent::from_line(line).map(Self::Parsed),
        }
    }
}

/// The event's JSON, or `None` when the line is not a valid event as far as this path can
/// tell (the ordinary reader then says why, or reads what this path does not).
fn splice(line: &str) -> Option<Vec<u8>> {
    let fields: BorrowedLine<'_> = serde_json::from_str(line).ok()?;
    let event_time = match fields.event_time {
        Some(at) => at.checked_to_offset(UtcOffset::UTC)?,
        None => OffsetDateTime::now_utc(),
    };
    let mut uuid = uuid::Uuid::encode_buffer();
    let id: &str = match &fields.id {
        Some(id) => id,
        None => uuid::Uuid::new_v4().hyphenated().encode_lower(&mut uuid),
    };
    let data_version = fields
        .data_version
        .as_deref()
        .unwrap_or(DEFAULT_DATA_VERSION);
    let required = [id, &*fields.event_type, &*fields.subject, data_version];
    if required.iter().any(|value| value.trim().is_empty()) {
        return None;
    }
    let data = fields.data.map(RawValue::get);
    let capacity = line.len() + 160;
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(b"{\"id\":");
    write_string(&mut out, id)?;
    out.extend_from_slice(b",\"subject\":");
    write_string(&mut out, &fields.subject)?;
    if let Some(data) = data {
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(data.as_bytes());
    }
    out.extend_from_slice(b",\"eventType\":");
    write_string(&mut out, &fields.event_type)?;
    out.extend_from_slice(b",\"eventTime\":\"");
    event_time.format_into(&mut out, &Rfc3339).ok()?;
    out.extend_from_slice(b"\",\"dataVersion\":");
    write_string(&mut out, data_version)?;
    if let Some(topic) = &fields.topic {
        out.extend_from_slice(b",\"topic\":");
        write_string(&mut out, topic)?;
    }
    out.push(b'}');
    Some(out)
}

/// `value` as a JSON string, escaped as serde_json escapes it (which cannot fail for a string
/// written to memory).
fn write_string(out: &mut Vec<u8>, value: &str) -> Option<()> {
    serde_json::to_writer(&mut *out, value).ok()
}

impl Event for SplicedEventGridEvent {
    const SCHEMA: Schema = Schema::EventGrid;

    fn check(&self) -> Result<(), String> {
        match self {
            // Checked as it was spliced: the same checks as `EventGridEvent::check`.
            Self::Json(_) => Ok(()),
            Self::Parsed(event) => event.check(),
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        match self {
            Self::Json(json) => {
                out.extend_from_slice(json);
                Ok(())
            }
            Self::Parsed(event) => event.write_json(out),
        }
    }
}

#[cfg(test)]
#[path = "line_splice_tests.rs"]
mod tests;
