//! Events for topics with a custom input schema: any JSON object.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::Schema;
use crate::error::{Error, Result};
use crate::event::Event;

/// An event for a custom-schema topic: any JSON object, serialized once when made.
///
/// ```
/// use eventgrid_core::CustomEvent;
/// let event = CustomEvent::new(serde_json::json!({"customField": [1, 2]}))?;
/// assert_eq!(event.json().get(), r#"{"customField":[1,2]}"#);
/// assert!(CustomEvent::new([1, 2]).is_err());
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomEvent(Box<RawValue>);

impl CustomEvent {
    /// Serializes `value`, which must serialize to a JSON object.
    pub fn new(value: impl Serialize) -> Result<Self> {
        let raw = serde_json::value::to_raw_value(&value).map_err(Error::from)?;
        Self::from_raw(raw)
    }

    /// Wraps already-serialized JSON, which must be an object.
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self> {
        if raw.get().trim_start().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(Error::from(
                <serde_json::Error as serde::ser::Error>::custom(
                    "a custom-schema event must be a JSON object",
                ),
            ))
        }
    }

    /// The event's JSON.
    pub fn json(&self) -> &RawValue {
        &self.0
    }
}

impl Event for CustomEvent {
    const SCHEMA: Schema = Schema::Custom;

    fn check(&self) -> Result<(), String> {
        if self.0.get().trim_start().starts_with('{') {
            Ok(())
        } else {
            Err("a custom-schema event must be a JSON object".to_owned())
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.extend_from_slice(self.0.get().as_bytes());
        Ok(())
    }
}
