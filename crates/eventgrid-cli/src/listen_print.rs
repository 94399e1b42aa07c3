//! How `eventgrid listen` shows what arrives: readable lines on a terminal, one JSON object
//! per line (JSON Lines) otherwise.

use std::io::Write;

use eventgrid::consumer::system::names;
use eventgrid::consumer::{ContentMode, Handshake, PushDelivery, ReceivedEvents};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How much of an event's data a terminal line shows; JSON Lines carry all of it.
const TEXT_DATA_CHARS: usize = 400;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable lines when standard output is a terminal, JSON Lines otherwise
    Auto,
    /// Readable lines
    Text,
    /// One JSON object per event or handshake (JSON Lines)
    Json,
}

/// Writes what arrives to standard output, one delivery at a time.
#[derive(Debug)]
pub(crate) struct Printer {
    json: bool,
}

impl Printer {
    pub(crate) fn new(format: Format) -> Self {
        use std::io::IsTerminal;
        let json = match format {
            Format::Auto => !std::io::stdout().is_terminal(),
            Format::Text => false,
            Format::Json => true,
        };
        Self { json }
    }

    /// One delivery: a line per event (JSON Lines), or a heading and two lines per event.
    pub(crate) fn delivery(&self, path: &str, delivery: &PushDelivery) {
        let received = now();
        let headers = delivery.headers();
        let (schema, mode) = describe(delivery);
        let mut out = String::new();
        if self.json {
            for event in delivery.events().iter() {
                let line = json!({
                    "received": received,
                    "kind": "event",
                    "path": path,
                    "schema": schema,
                    "mode": mode,
                    "eventType": headers.event_type().map(|kind| kind.to_string()),
                    "subscription": headers.subscription_name(),
                    "deliveryCount": headers.delivery_count(),
                    "event": event.to_json(),
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        } else {
            let count = delivery.events().len();
            out.push_str(&format!(
                "{received}  {path}  {count} event{} ({schema}, {mode})",
                if count == 1 { "" } else { "s" }
            ));
            if let Some(name) = headers.subscription_name() {
                out.push_str(&format!("  subscription {name}"));
            }
            if let Some(count) = headers.delivery_count() {
                out.push_str(&format!("  delivery count {count}"));
            }
            out.push('\n');
            for event in delivery.events().iter() {
                let system = if names::is_system_event(event.event_type()) {
                    "  (system event)"
                } else {
                    ""
                };
                if event.event_type().is_empty() {
                    out.push_str("  (custom schema event)\n");
                } else {
                    out.push_str(&format!(
                        "  {}  subject {}  id {}{system}\n",
                        event.event_type(),
                        event.subject().unwrap_or("-"),
                        event.id()
                    ));
                }
                let json = event.to_json();
                let data = match delivery.events() {
                    ReceivedEvents::EventGrid(_) | ReceivedEvents::CloudEvents(_) => {
                        json.get("data").or_else(|| json.get("data_base64"))
                    }
                    _ => Some(&json),
                };
                out.push_str(&format!("    data {}\n", shorten(data)));
            }
        }
        write(&out);
    }

    /// One handshake and the answer given.
    pub(crate) fn handshake(&self, path: &str, handshake: &Handshake) {
        let received = now();
        let line = match handshake {
            Handshake::SubscriptionValidation(validation) if self.json => json!({
                "received": received,
                "kind": "handshake",
                "path": path,
                "handshake": "SubscriptionValidation",
                "validationCode": validation.code(),
                "validationUrl": validation.url(),
            })
            .to_string(),
            Handshake::SubscriptionValidation(validation) => format!(
                "{received}  {path}  Event Grid validation handshake: answered with code {}",
                validation.code()
            ),
            Handshake::AbuseProtection(request) if self.json => json!({
                "received": received,
                "kind": "handshake",
                "path": path,
                "handshake": "AbuseProtection",
                "origin": request.origin(),
                "requestedRate": request.requested_rate(),
            })
            .to_string(),
            Handshake::AbuseProtection(request) => format!(
                "{received}  {path}  CloudEvents handshake (OPTIONS): allowed origin {}",
                request.origin()
            ),
            other => format!("{received}  {path}  handshake answered: {other:?}"),
        };
        write(&format!("{line}\n"));
    }
}

fn describe(delivery: &PushDelivery) -> (&'static str, &'static str) {
    let schema = match delivery.events() {
        ReceivedEvents::EventGrid(_) => "Event Grid schema",
        ReceivedEvents::CloudEvents(_) => "CloudEvents",
        _ => "custom schema",
    };
    let mode = match delivery.mode() {
        ContentMode::JsonArray => "JSON array",
        ContentMode::CloudEventsStructured => "structured",
        ContentMode::CloudEventsBatch => "batch",
        ContentMode::CloudEventsBinary => "binary",
        _ => "other",
    };
    (schema, mode)
}

fn shorten(data: Option<&Value>) -> String {
    let Some(data) = data else {
        return "(none)".to_owned();
    };
    let text = data.to_string();
    match text.char_indices().nth(TEXT_DATA_CHARS) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Writes whole deliveries under the lock, so concurrent ones do not interleave; a closed
/// standard output (`eventgrid listen | head`) is not a reason to stop answering Event Grid.
fn write(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_is_shortened_on_a_terminal() {
        let long = Value::String("x".repeat(1_000));
        let text = shorten(Some(&long));
        assert!(text.ends_with("... (1002 bytes)"), "{text}");
        assert_eq!(shorten(Some(&json!({"a": 1}))), r#"{"a":1}"#);
        assert_eq!(shorten(None), "(none)");
    }
}
