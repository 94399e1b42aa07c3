//! The data of Key Vault's events: a secret, key or certificate near expiry, expired or in a
//! new version, and access policy changes (all of one shape).

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

/// The data of every `Microsoft.KeyVault.*` event. Its fields are in PascalCase on the wire
/// (`VaultName`, `NBF`, `EXP`), as the service writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KeyVaultObjectEventData {
    /// The object's id (its URL, with the version).
    pub id: Option<String>,
    /// The vault's name.
    pub vault_name: Option<String>,
    /// `Secret`, `Key`, `Certificate` or `Vault`.
    pub object_type: Option<String>,
    /// The object's name.
    pub object_name: Option<String>,
    /// The object's version.
    pub version: Option<String>,
    /// Not valid before, in seconds since the Unix epoch.
    #[serde(rename = "NBF", default, deserialize_with = "seconds")]
    pub nbf: Option<f64>,
    /// Expiry, in seconds since the Unix epoch.
    #[serde(rename = "EXP", default, deserialize_with = "seconds")]
    pub exp: Option<f64>,
}

impl KeyVaultObjectEventData {
    /// [`KeyVaultObjectEventData::nbf`] as a date-time.
    pub fn not_before(&self) -> Option<OffsetDateTime> {
        self.nbf.and_then(from_seconds)
    }

    /// [`KeyVaultObjectEventData::exp`] as a date-time.
    pub fn expires(&self) -> Option<OffsetDateTime> {
        self.exp.and_then(from_seconds)
    }
}

fn from_seconds(seconds: f64) -> Option<OffsetDateTime> {
    if !seconds.is_finite() {
        return None;
    }
    // Whole seconds: the service writes integers, and an i64 holds any date `time` can.
    OffsetDateTime::from_unix_timestamp(seconds.trunc() as i64).ok()
}

/// The specification says a number; the service's examples write the number as a string.
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(f64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Seconds::Number(value)) => Ok(Some(value)),
        Some(Seconds::Text(text)) => {
            text.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!("{text:?} is not a number of seconds"))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_from_numbers_and_strings() {
        let data: KeyVaultObjectEventData =
            serde_json::from_str(r#"{"NBF": "1559081980", "EXP": 1559082102}"#).unwrap();
        assert_eq!(data.not_before().unwrap().unix_timestamp(), 1_559_081_980);
        assert_eq!(data.expires().unwrap().unix_timestamp(), 1_559_082_102);
        let error = serde_json::from_str::<KeyVaultObjectEventData>(r#"{"EXP": "soon"}"#);
        assert!(
            error
                .unwrap_err()
                .to_string()
                .contains("\"soon\" is not a number")
        );
        let huge: KeyVaultObjectEventData = serde_json::from_str(r#"{"EXP": 1e300}"#).unwrap();
        assert_eq!(huge.expires(), None);
    }
}
