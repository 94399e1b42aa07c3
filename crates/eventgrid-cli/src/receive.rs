//! `eventgrid receive`: events of a namespace topic's subscription as JSON Lines, settled as
//! asked; `--follow` keeps receiving (a tail for development).

use std::io::Write;
use std::time::Duration;

use clap::{Args, ValueEnum};
use eventgrid::{CloudEvent, ReceivedEvent, ReleaseDelay};
use serde::Serialize;

use crate::error::CliError;
use crate::target::TargetArgs;

/// Which subscription to read and what to do with what is read.
#[derive(Debug, Clone, Args)]
pub struct ReceiveArgs {
    /// The namespace topic and credential.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The subscription's name
    #[arg(long, value_name = "NAME")]
    pub subscription: String,
    /// The most events per receive, 1 to 100
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_events: usize,
    /// Seconds to wait for events, 10 to 120 (a long poll: the request time-out does not cut it)
    #[arg(long = "wait", value_name = "SECONDS", default_value_t = 10)]
    pub wait: u64,
    /// What to do with the events received
    #[arg(long, value_enum, default_value_t = Settle::Leave)]
    pub settle: Settle,
    /// Keep receiving (and settling) until interrupted
    #[arg(long)]
    pub follow: bool,
}

/// What `receive` does with the events it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Settle {
    /// Acknowledge them: they are done.
    Acknowledge,
    /// Release them: they can be received again at once.
    Release,
    /// Leave them locked: they come back when their locks expire.
    Leave,
}

/// Runs `eventgrid receive`.
pub fn run(args: &ReceiveArgs) -> Result<(), CliError> {
    let target = args.target.resolve()?;
    let receiver = target.client.receiver(&target.topic, &args.subscription)?;
    let wait = Duration::from_secs(args.wait);
    loop {
        let batch = receiver.receive(args.max_events, wait)?;
        for bad in &batch.malformed {
            // Left locked: it comes back when its lock expires, until it is dead-lettered.
            let token = bad.lock_token.as_deref().unwrap_or("unknown");
            eprintln!(
                "event {} could not be read (lock token {token}): {}",
                bad.index, bad.reason
            );
        }
        let events = batch.events;
        print(&events)?;
        let tokens: Vec<&str> = events.iter().map(|e| e.lock_token.as_str()).collect();
        if !tokens.is_empty() {
            let settled = match args.settle {
                Settle::Acknowledge => Some(receiver.acknowledge(&tokens)?),
                Settle::Release => Some(receiver.release(&tokens, ReleaseDelay::None)?),
                Settle::Leave => None,
            };
            if let Some(settled) = settled {
                settled.into_result()?;
            }
        }
        if !args.follow {
            return Ok(());
        }
    }
}

/// One line per event: `{"lockToken":..,"deliveryCount":..,"event":{..}}`.
fn print(events: &[ReceivedEvent]) -> Result<(), CliError> {
    /// Written straight to text: through `json!` the event's data would become a `Value`,
    /// rounding integers past 64 bits.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Line<'a> {
        lock_token: &'a str,
        delivery_count: u32,
        event: &'a CloudEvent,
    }
    let mut out = std::io::stdout().lock();
    for received in events {
        let line = serde_json::to_string(&Line {
            lock_token: &received.lock_token,
            delivery_count: received.delivery_count,
            event: &received.event,
        })
        .map_err(|error| CliError::failure(format!("writing an event: {error}")))?;
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|error| CliError::failure(format!("writing to stdout: {error}")))?;
    }
    Ok(())
}
