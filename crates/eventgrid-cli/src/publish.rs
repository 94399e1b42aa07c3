//! `eventgrid publish`: one event from flags, or many from a JSON Lines file.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use eventgrid::{CloudEvent, CustomEvent, Error, EventGridEvent, Schema};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{CliError, without_index};
use crate::file_publish::publish_file;
use crate::target::{Target, TargetArgs};

/// What to publish and where.
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// The topic and credential.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The event type (`eventType`; CloudEvents `type`)
    #[arg(long = "type", value_name = "TYPE", conflicts_with = "file")]
    pub event_type: Option<String>,
    /// The subject, such as orders/42
    #[arg(long, conflicts_with = "file")]
    pub subject: Option<String>,
    /// The data: JSON text, or @FILE to read it from a file (for a custom-schema topic, the
    /// whole event)
    #[arg(long, value_name = "JSON|@FILE", conflicts_with = "file")]
    pub data: Option<String>,
    /// The data version (`dataVersion`) [default: v1]
    #[arg(long, value_name = "VERSION", conflicts_with = "file")]
    pub data_version: Option<String>,
    /// The event time, RFC 3339 [default: now]
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "file")]
    pub event_time: Option<OffsetDateTime>,
    /// The event id [default: a new UUID]
    #[arg(long, conflicts_with = "file")]
    pub id: Option<String>,
    /// The CloudEvents `source`, for cloudevents topics
    #[arg(long, default_value = "eventgrid-cli", conflicts_with = "file")]
    pub source: String,
    /// Publish every line of this JSON Lines file (`-` for stdin), one event per line in the
    /// topic's schema, in batches; prints a summary line
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|error| format!("not an RFC 3339 time such as 2024-01-31T12:00:00Z: {error}"))
}

/// Runs `eventgrid publish`.
pub fn run(args: &PublishArgs) -> Result<(), CliError> {
    // Bad flags are reported before any credential is looked for.
    let data = args
        .data
        .as_deref()
        .map(|data| read_data(data, args.target.max_event_bytes))
        .transpose()?;
    let target = args.target.resolve()?;
    match &args.file {
        Some(path) => {
            let (summary, outcome) = publish_file(&target, path);
            println!("{summary}");
            outcome
        }
        None => publish_one(args, data, &target),
    }
}

fn publish_one(
    args: &PublishArgs,
    data: Option<Box<RawValue>>,
    target: &Target,
) -> Result<(), CliError> {
    let id = match target.schema {
        Schema::EventGrid => send(target, event_grid_event(args, data)?)?,
        Schema::CloudEvents => send(target, cloud_event(args, data)?)?,
        Schema::Custom => send(target, custom_event(args, data)?)?,
        other => {
            return Err(CliError::failure(format!(
                "schema {other} is not supported"
            )));
        }
    };
    match id {
        Some(id) => println!("published event {id} to {}", target.topic),
        None => println!("published 1 event to {}", target.topic),
    }
    Ok(())
}

/// Sends one event, returning its id when it has one.
fn send<E: eventgrid::Event + Identified + Sync>(
    target: &Target,
    event: E,
) -> Result<Option<String>, CliError> {
    let id = event.id();
    match target.client.send(&target.topic, [event]) {
        Ok(_) => Ok(id),
        Err(error @ (Error::EventTooLarge { .. } | Error::InvalidEvent { .. })) => {
            Err(CliError::failure(format!("the {}", without_index(&error))))
        }
        Err(error) => Err(error.into()),
    }
}

trait Identified {
    fn id(&self) -> Option<String>;
}

impl Identified for EventGridEvent {
    fn id(&self) -> Option<String> {
        Some(EventGridEvent::id(self).to_owned())
    }
}

impl Identified for CloudEvent {
    fn id(&self) -> Option<String> {
        Some(CloudEvent::id(self).to_owned())
    }
}

impl Identified for CustomEvent {
    fn id(&self) -> Option<String> {
        None
    }
}

fn required<'a>(
    value: &'a Option<String>,
    flag: &str,
    schema: Schema,
) -> Result<&'a str, CliError> {
    value.as_deref().ok_or_else(|| {
        CliError::usage(format!(
            "{flag} is required for {}-schema topics (or publish a --file)",
            schema.as_str()
        ))
    })
}

pub(crate) fn event_grid_event(
    args: &PublishArgs,
    data: Option<Box<RawValue>>,
) -> Result<EventGridEvent, CliError> {
    let event_type = required(&args.event_type, "--type", Schema::EventGrid)?;
    let subject = required(&args.subject, "--subject", Schema::EventGrid)?;
    let mut event = match data {
        Some(data) => EventGridEvent::new(event_type, subject, data)?,
        None => EventGridEvent::without_data(event_type, subject),
    };
    if let Some(id) = &args.id {
        event = event.with_id(id);
    }
    if let Some(version) = &args.data_version {
        event = event.with_data_version(version);
    }
    if let Some(at) = args.event_time {
        event = event.with_event_time(at);
    }
    Ok(event)
}

pub(crate) fn cloud_event(
    args: &PublishArgs,
    data: Option<Box<RawValue>>,
) -> Result<CloudEvent, CliError> {
    if args.data_version.is_some() {
        return Err(CliError::usage(
            "--data-version is an Event Grid schema field; CloudEvents have none",
        ));
    }
    let event_type = required(&args.event_type, "--type", Schema::CloudEvents)?;
    let mut event = match data {
        Some(data) => CloudEvent::new(&args.source, event_type, data)?,
        None => CloudEvent::without_data(&args.source, event_type),
    };
    if let Some(subject) = &args.subject {
        event = event.with_subject(subject);
    }
    if let Some(id) = &args.id {
        event = event.with_id(id);
    }
    if let Some(at) = args.event_time {
        event = event.with_time(at);
    }
    Ok(event)
}

pub(crate) fn custom_event(
    args: &PublishArgs,
    data: Option<Box<RawValue>>,
) -> Result<CustomEvent, CliError> {
    let extra = [
        ("--type", args.event_type.is_some()),
        ("--subject", args.subject.is_some()),
        ("--id", args.id.is_some()),
        ("--data-version", args.data_version.is_some()),
        ("--event-time", args.event_time.is_some()),
    ];
    if let Some((flag, _)) = extra.iter().find(|(_, given)| *given) {
        return Err(CliError::usage(format!(
            "{flag} does not apply to a custom-schema topic: --data is the whole event"
        )));
    }
    let data = data.ok_or_else(|| {
        CliError::usage("--data is required for a custom-schema topic: it is the whole event")
    })?;
    CustomEvent::from_raw(data).map_err(|error| CliError::usage(format!("--data: {error}")))
}

/// `--data` as JSON: the text itself, or the contents of the file after `@`, which may be no
/// larger than the per-event limit (a device such as `/dev/zero` is read only that far).
pub(crate) fn read_data(text: &str, max_bytes: usize) -> Result<Box<RawValue>, CliError> {
    let (json, origin) = match text.strip_prefix('@') {
        Some(path) => (read_data_file(path, max_bytes)?, format!("--data @{path}")),
        None => (text.to_owned(), "--data".to_owned()),
    };
    RawValue::from_string(json.trim().to_owned())
        .map_err(|error| CliError::usage(format!("{origin} is not JSON: {error}")))
}

fn read_data_file(path: &str, max_bytes: usize) -> Result<String, CliError> {
    let fail = |reason: String| CliError::usage(format!("--data @{path}: {reason}"));
    let file = std::fs::File::open(path).map_err(|error| fail(error.to_string()))?;
    let mut json = Vec::new();
    let room = u64::try_from(max_bytes).map_or(u64::MAX, |max| max.saturating_add(1));
    file.take(room)
        .read_to_end(&mut json)
        .map_err(|error| fail(error.to_string()))?;
    if json.len() > max_bytes {
        return Err(fail(format!(
            "larger than the per-event limit of {max_bytes} bytes (--max-event-bytes)"
        )));
    }
    String::from_utf8(json).map_err(|error| {
        fail(format!(
            "not UTF-8 (byte {})",
            error.utf8_error().valid_up_to() + 1
        ))
    })
}
