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
    let listed: Vec<String> = vars
        .get(eventgrid_core::TOPICS_VAR)
        .map(|list| list.split(',').map(|name| name.trim().to_owned()).collect())
        .unwrap_or_default();
    check(&vars, &listed, &[]);
    // Again with every key and token replaced by a value no message could contain by chance.
    let mut canaries = Vec::new();
    for (name, value) in vars.iter_mut() {
        if (name.ends_with("_KEY") || name.ends_with("_SAS")) && !value.trim().is_empty() {
            *value = format!("canary-{}-c2VjcmV0", canaries.len());
            canaries.push(value.clone());
        }
    }
    check(&vars, &listed, &canaries);
}

/// Reads `vars`. Checks: every configured topic is listed; no `secret` shows in the
/// configuration's `Debug` output or in an error.
fn check(vars: &HashMap<String, String>, listed: &[String], secrets: &[String]) {
    let shown = match EventGridConfig::from_env_with(|name| vars.get(name).cloned()) {
        Ok(config) => {
            for name in config.topic_names() {
                assert!(listed.contains(&name), "unlisted topic {name:?}");
                assert!(config.topic(&name).is_ok());
            }
            format!("{config:?}")
        }
        Err(error) => format!("{error} {error:?}"),
    };
    for secret in secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "a credential shows: {shown}"
        );
    }
}
