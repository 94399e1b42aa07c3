//! Where `publish` sends: the topic, its endpoint and schema, and the credential, from the
//! environment or from flags.

use std::path::PathBuf;

use clap::Args;
use eventgrid::blocking::{EventGridClient, default_credential, default_credential_with_ca};
use eventgrid::core::Secret;
use eventgrid::core::TOPICS_VAR;
use eventgrid::{Credential, Error, EventGridConfig, EventGridTopicConfig, Limits, Schema};

use crate::error::CliError;
use crate::secret_file::{env_secret, read_secret_file, secret};

/// The variable `--key` is read from when the flag is not given.
pub const KEY_VAR: &str = "EVENTGRID_KEY";
/// The variable `--sas` is read from when the flag is not given.
pub const SAS_VAR: &str = "EVENTGRID_SAS";

/// The topic to publish to and how to authenticate.
///
/// Without `--endpoint`, the topic must be configured in the environment:
/// `EVENTGRID_TOPICS=orders` and `EVENTGRID_ORDERS_ENDPOINT=URL`, optionally
/// `EVENTGRID_ORDERS_KEY`, `EVENTGRID_ORDERS_SAS` and `EVENTGRID_ORDERS_SCHEMA`.
///
/// The key or SAS token comes from a flag or a file (`--key-file`, `--sas-file`), which wins
/// over the topic's own `EVENTGRID_<TOPIC>_KEY` or `_SAS`; failing both, from `EVENTGRID_KEY`
/// or `EVENTGRID_SAS`. Debug output shows none of them.
///
/// Without a key or SAS token, a topic on loopback (the emulator's open topics) gets no
/// credential, and any other topic uses Microsoft Entra ID (the default credential chain:
/// environment, workload identity, managed identity, Azure CLI, Azure Developer CLI).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The topic's name: one listed in EVENTGRID_TOPICS, or any name with --endpoint
    #[arg(long, value_name = "NAME")]
    pub topic: String,
    /// The topic's endpoint, instead of the environment's `EVENTGRID_<TOPIC>_ENDPOINT`
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Authenticate with the topic's access key. Other users of the machine can see command
    /// lines: prefer --key-file, or EVENTGRID_KEY in the environment (used when no flag gives a
    /// credential and the topic has none of its own)
    #[arg(long, value_name = "KEY", group = "auth", value_parser = secret)]
    pub key: Option<Secret>,
    /// Authenticate with the access key in this file (surrounding whitespace is ignored)
    #[arg(long, value_name = "FILE", group = "auth")]
    pub key_file: Option<PathBuf>,
    /// Authenticate with a SAS token (see `eventgrid sas`). Prefer --sas-file, or EVENTGRID_SAS
    /// in the environment (used as EVENTGRID_KEY is)
    #[arg(long, value_name = "TOKEN", group = "auth", value_parser = secret)]
    pub sas: Option<Secret>,
    /// Authenticate with the SAS token in this file (surrounding whitespace is ignored)
    #[arg(long, value_name = "FILE", group = "auth")]
    pub sas_file: Option<PathBuf>,
    /// Authenticate with Microsoft Entra ID (the default credential chain)
    #[arg(long, group = "auth")]
    pub entra: bool,
    /// The schema the topic accepts: eventgrid (default), cloudevents or custom
    #[arg(long, value_name = "SCHEMA", value_parser = parse_schema)]
    pub schema: Option<Schema>,
    /// Also trust this CA certificate (PEM), e.g. the emulator's when it serves HTTPS
    #[arg(long, value_name = "FILE")]
    pub ca_certificate: Option<PathBuf>,
    /// Largest event accepted, in bytes (the service allows up to 1048576)
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_event_bytes)]
    pub max_event_bytes: usize,
}

fn parse_schema(text: &str) -> Result<Schema, String> {
    text.parse()
}

/// A blocking client for one topic, and that topic's name and schema.
#[derive(Debug)]
pub struct Target {
    /// The topic's name.
    pub topic: String,
    /// The schema its events must have.
    pub schema: Schema,
    /// A client configured with just that topic.
    pub client: EventGridClient,
    /// The largest event it sends, in bytes, which also bounds each line read from a file.
    pub max_event_bytes: usize,
}

impl TargetArgs {
    /// Resolves the topic and credential and builds the client. Nothing is sent.
    pub fn resolve(&self) -> Result<Target, CliError> {
        let mut topic = match &self.endpoint {
            Some(endpoint) => EventGridTopicConfig::new(&self.topic, endpoint)?,
            None => self.topic_from_env()?,
        };
        if let Some(schema) = self.schema {
            topic = topic.with_schema(schema);
        }
        let extra_ca = match &self.ca_certificate {
            Some(path) => Some(std::fs::read(path).map_err(|error| {
                CliError::failure(format!("--ca-certificate {}: {error}", path.display()))
            })?),
            None => None,
        };
        let flag_credential = self.flag_credential(extra_ca.as_deref())?;
        let credential = match flag_credential {
            // A flag wins over the topic's own key from the environment.
            Some(credential) => {
                topic = without_credential(&topic)?;
                credential
            }
            None if topic.credential().is_some() => Credential::None,
            // The variables apply to topics without a credential of their own.
            None => match env_credential()? {
                Some(credential) => credential,
                None if topic.endpoint().is_loopback() => Credential::None,
                None => entra(extra_ca.as_deref())?,
            },
        };
        let limits = Limits::default().with_max_event_bytes(self.max_event_bytes);
        let limits = if limits.validate().is_err() {
            // Raising the event limit needs room in the request body too.
            limits.with_max_request_bytes(eventgrid::core::SERVICE_MAX_REQUEST_BYTES)
        } else {
            limits
        };
        let (name, schema) = (topic.name().to_owned(), topic.schema());
        let mut builder = EventGridClient::builder(EventGridConfig::new([topic])?)
            .credential(credential)
            .limits(limits)
            .user_agent_suffix(concat!("eventgrid-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &extra_ca {
            builder = builder.extra_ca_pem(pem);
        }
        let client = builder.build().map_err(|error| match error {
            Error::InvalidOption(reason) => CliError::usage(format!("--max-event-bytes: {reason}")),
            other => other.into(),
        })?;
        Ok(Target {
            topic: name,
            schema,
            client,
            max_event_bytes: self.max_event_bytes,
        })
    }

    fn topic_from_env(&self) -> Result<EventGridTopicConfig, CliError> {
        let config = EventGridConfig::from_env().map_err(|error| match error {
            Error::MissingEnvVar { ref variable, .. } if variable == TOPICS_VAR => {
                CliError::failure(format!("{error}; or give the topic's --endpoint"))
            }
            other => other.into(),
        })?;
        Ok(config.topic(&self.topic)?.clone())
    }

    fn flag_credential(&self, extra_ca: Option<&[u8]>) -> Result<Option<Credential>, CliError> {
        Ok(if let Some(key) = &self.key {
            Some(Credential::access_key(key.clone()))
        } else if let Some(path) = &self.key_file {
            Some(Credential::access_key(read_secret_file(
                "--key-file",
                path,
            )?))
        } else if let Some(token) = &self.sas {
            Some(Credential::sas_token(token.clone()))
        } else if let Some(path) = &self.sas_file {
            Some(Credential::sas_token(read_secret_file("--sas-file", path)?))
        } else if self.entra {
            Some(entra(extra_ca)?)
        } else {
            None
        })
    }
}

/// The key from `EVENTGRID_KEY` or the token from `EVENTGRID_SAS`, read here rather than by clap
/// so that a variable never conflicts with a flag (flags win) or with a topic's own credential.
fn env_credential() -> Result<Option<Credential>, CliError> {
    match (env_secret(KEY_VAR)?, env_secret(SAS_VAR)?) {
        (Some(_), Some(_)) => Err(CliError::usage(format!(
            "{KEY_VAR} and {SAS_VAR} are both set: unset one"
        ))),
        (Some(key), None) => Ok(Some(Credential::access_key(key))),
        (None, Some(token)) => Ok(Some(Credential::sas_token(token))),
        (None, None) => Ok(None),
    }
}

/// The default Microsoft Entra ID chain, its identity requests on the blocking client's HTTP
/// stack (trusting the extra CA too).
fn entra(extra_ca: Option<&[u8]>) -> Result<Credential, CliError> {
    Ok(match extra_ca {
        Some(pem) => default_credential_with_ca(pem)?,
        None => default_credential()?,
    })
}

fn without_credential(topic: &EventGridTopicConfig) -> Result<EventGridTopicConfig, CliError> {
    let mut bare =
        EventGridTopicConfig::new(topic.name(), topic.endpoint().publish_uri().to_string())?
            .with_schema(topic.schema());
    if let Some(channel) = topic.channel_name() {
        bare = bare.with_channel_name(channel);
    }
    Ok(bare)
}
