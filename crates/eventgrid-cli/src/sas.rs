//! `eventgrid sas`: a shared access signature for a topic, signed with its access key.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use eventgrid::core::{Endpoint, Secret};
use eventgrid::generate_sas;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::CliError;
use crate::secret_file::{env_secret, read_secret_file, secret};
use crate::target::KEY_VAR;

/// The topic, its key, and when the token expires.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("key_source").multiple(false)))]
pub struct SasArgs {
    /// The topic's endpoint, such as <https://orders.westus2-1.eventgrid.azure.net/api/events>
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// The topic's access key (base64, as the Azure portal shows it). Other users of the machine
    /// can see command lines: prefer --key-file, or EVENTGRID_KEY in the environment
    #[arg(long, value_name = "KEY", group = "key_source", value_parser = secret)]
    pub key: Option<Secret>,
    /// Read the access key from this file (surrounding whitespace is ignored)
    #[arg(long, value_name = "FILE", group = "key_source")]
    pub key_file: Option<PathBuf>,
    /// When the token stops working, RFC 3339, such as 2030-01-01T00:00:00Z
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub expires: OffsetDateTime,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|error| format!("not an RFC 3339 time such as 2030-01-01T00:00:00Z: {error}"))
}

/// Prints the token on stdout, ready for `publish --sas` or the `aeg-sas-token` header.
pub fn run(args: &SasArgs) -> Result<(), CliError> {
    let endpoint = Endpoint::parse(&args.endpoint)
        .map_err(|reason| CliError::usage(format!("--endpoint: {reason}")))?;
    let key = match (&args.key, &args.key_file) {
        (Some(key), _) => key.clone(),
        (None, Some(path)) => read_secret_file("--key-file", path)?,
        (None, None) => env_secret(KEY_VAR)?.ok_or_else(|| {
            CliError::usage(format!(
                "the key is missing: give --key-file, --key or {KEY_VAR}"
            ))
        })?,
    };
    let token = generate_sas(&endpoint, key.expose(), args.expires)
        .map_err(|error| CliError::usage(format!("--key: {error}")))?;
    if args.expires <= OffsetDateTime::now_utc() {
        eprintln!("warning: the token has already expired");
    }
    println!("{}", token.expose());
    Ok(())
}
