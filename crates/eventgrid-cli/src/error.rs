//! The command's failures: a one-line message and an exit status.

use std::fmt;

/// Why the command failed: a usage error (exit status 2) or a failure (exit status 1), with
/// a message naming the cause. Messages never contain a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    usage: bool,
    message: String,
}

impl CliError {
    /// The arguments do not make sense together (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            usage: true,
            message: message.into(),
        }
    }

    /// Something failed (exit status 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            usage: false,
            message: message.into(),
        }
    }

    /// The message on one line: line breaks (from a service's message, say) become spaces.
    pub fn one_line(&self) -> String {
        self.message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// 2 for usage errors, 1 for failures.
    pub fn exit_code(&self) -> u8 {
        if self.usage { 2 } else { 1 }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

impl std::error::Error for CliError {}

impl From<eventgrid::Error> for CliError {
    fn from(error: eventgrid::Error) -> Self {
        CliError::failure(error.to_string())
    }
}

/// An invalid event's error without the index the core names it by (its position in a send),
/// for messages that name it otherwise: by line, or as "the event".
pub(crate) fn without_index(error: &eventgrid::Error) -> String {
    match error {
        eventgrid::Error::EventTooLarge { size, limit, .. } => {
            format!("event is {size} bytes, over the per-event limit of {limit} bytes")
        }
        eventgrid::Error::InvalidEvent { reason, .. } => format!("invalid event: {reason}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_fit_on_one_line() {
        let error = CliError::failure("service answered 400:\n  bad\r\n  input");
        assert_eq!(error.one_line(), "service answered 400: bad input");
        assert_eq!(error.exit_code(), 1);
        assert_eq!(CliError::usage("x").exit_code(), 2);
    }
}
