//! The one error type of the emulator's library API.

use std::io;
use std::path::PathBuf;

/// Why the emulator could not be configured, started or controlled.
///
/// Errors never contain access keys, SAS tokens or bearer tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be opened (for example: the port is in use).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The `host:port` the emulator tried to listen on.
        address: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A configuration file could not be read or parsed; `message` names the line.
    #[error("invalid configuration file {}: {message}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (line and column when known).
        message: String,
    },
    /// A topic specification (`NAME[:SCHEMA][=KEY]` or its config-file form) is invalid.
    #[error("invalid topic `{topic}`: {reason}")]
    InvalidTopic {
        /// The topic's name as given (never the key).
        topic: String,
        /// What is wrong.
        reason: String,
    },
    /// Two topics share one name.
    #[error("topic `{0}` is configured twice")]
    DuplicateTopic(String),
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The address is not a loopback address and the configuration lacks what the network
    /// requires; `missing` names the flags to add.
    #[error(
        "{address} is not a loopback address: anyone who reaches it could use the emulator's \
         API and token endpoint; add {}",
        missing.join(", and ")
    )]
    OpenOnNetwork {
        /// The address the emulator would listen on.
        address: String,
        /// The flags (and configuration methods) to add.
        missing: Vec<&'static str>,
    },
    /// A fault rule or fault specification is invalid.
    #[error("invalid fault: {0}")]
    InvalidFault(String),
    /// An event subscription (or a push delivery setting, `*`) is invalid.
    #[error("invalid subscription `{subscription}`: {reason}")]
    InvalidSubscription {
        /// `topic/name` of the subscription (never its endpoint's query).
        subscription: String,
        /// What is wrong.
        reason: String,
    },
    /// The named topic is not configured in this emulator.
    #[error("unknown topic `{0}`")]
    UnknownTopic(String),
    /// The self-signed TLS certificate could not be created, written or loaded.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The background runtime or its thread could not be started.
    #[error("could not start the emulator's runtime: {0}")]
    Runtime(String),
}

/// The emulator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
