//! Configuration from the environment: `EventGridConfig::from_env_with` over arbitrary
//! variables.
//!
//! Input: `NAME=VALUE` entries separated by NUL bytes (as in `/proc/self/environ`), with a
//! first byte choosing whether `EVENTGRID_TOPICS` lists every topic named in the variables.

use std::collections::HashMap;

use eventgrid_core::EventGridConfig;

use crate::bytes_reader::{Bytes, split_at};

/// Runs one input. Checks: every configured topic is one listed in `EVENTGRID_TOPICS`; no key
/// or SAS token appears in an error message or in the configuration's `Debug` output.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let list_all = input.byte() % 2 == 1;
    let mut vars: HashMap<String, String> = HashMap::new();
    for entry in input.rest().split(|byte| *byte == 0) {
        let (name, value) = split_at(entry, b"=");
        let name = String::from_utf8_lossy(name).into_owned();
        let value = String::from_utf8_lossy(value).into_owned();
        vars.insert(name, value);
    }
    if list_all {
        // Reach past "missing EVENTGRID_TOPICS" more often: list every `EVENTGRID_X_ENDPOINT`.
        let names: Vec<String> = vars
            .keys()
            .filter_map(|name| name.strip_prefix("EVENTGRID_")?.strip_suffix("_ENDPOINT"))
            .map(str::to_owned)
            .collect();
        vars.insert(eventgrid_core::TOPICS_VAR.to_owned(), names.join(","));
    }
    let secrets = secrets(&vars);
    let listed: Vec<&str> = vars
        .get(eventgrid_core::TOPICS_VAR)
        .map(|list| list.split(',').map(str::trim).collect())
        .unwrap_or_default();

    match EventGridConfig::from_env_with(|name| vars.get(name).cloned()) {
        Ok(config) => {
            for name in config.topic_names() {
                assert!(listed.contains(&name.as_str()), "unlisted topic {name:?}");
                assert!(config.topic(&name).is_ok());
            }
            let debug = format!("{config:?}");
            for secret in &secrets {
                assert!(!debug.contains(secret.as_str()), "Debug shows a credential");
            }
        }
        Err(error) => {
            let message = format!("{error} {error:?}");
            for secret in &secrets {
                assert!(
                    !message.contains(secret.as_str()),
                    "an error shows a credential"
                );
            }
        }
    }
}

/// The values of `*_KEY` and `*_SAS` variables that are distinctive enough to look for: long,
/// and not part of any other name or value.
fn secrets(vars: &HashMap<String, String>) -> Vec<String> {
    let is_secret = |name: &str| name.ends_with("_KEY") || name.ends_with("_SAS");
    vars.iter()
        .filter(|(name, value)| is_secret(name) && value.trim().len() >= 12)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|secret| {
            vars.iter().all(|(name, value)| {
                !name.contains(secret.as_str())
                    && (is_secret(name) || !value.contains(secret.as_str()))
            })
        })
        .collect()
}
