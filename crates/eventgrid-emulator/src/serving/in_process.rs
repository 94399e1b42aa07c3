//! The whole request path without sockets, for fuzzing: raw method, path, headers and body in,
//! the emulator's answer out.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};

use crate::config::EmulatorConfig;
use crate::error::{Error, Result};
use crate::serving::router::route;
use crate::store::shared::Shared;

/// The address the in-process emulator pretends to listen on (for URLs in messages and the
/// `Host` fallback).
const PRETEND_AUTHORITY: &str = "127.0.0.1:7070";

/// An emulator that answers requests handed to it as values, through the same routing,
/// authentication, validation, fault and store code as a served one.
///
/// Two differences from a served emulator, both about the transport: requests hyper would
/// refuse (a method, path or header that is not valid HTTP) get no answer, and latency faults
/// are decided and counted but not waited for, so that a fuzzer never sleeps.
///
/// ```
/// use eventgrid_emulator::{EmulatorConfig, InProcessEmulator, TopicSpec};
///
/// let emulator = InProcessEmulator::new(EmulatorConfig::new().topic(TopicSpec::open("t")))?;
/// let answer = emulator
///     .respond(b"POST", b"/t/api/events?api-version=2018-01-01", &[], b"[]")
///     .expect("an HTTP answer");
/// assert_eq!(answer.status, 200);
/// # Ok::<(), eventgrid_emulator::Error>(())
/// ```
#[doc(hidden)]
pub struct InProcessEmulator {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
}

/// The emulator's answer to an [`InProcessEmulator::respond`] call.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InProcessResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, in order, names in lower case.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The response body.
    pub body: Vec<u8>,
}

impl fmt::Debug for InProcessEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessEmulator")
            .field("topics", &self.shared.topic_order)
            .finish_non_exhaustive()
    }
}

impl InProcessEmulator {
    /// An emulator with `config`'s topics, limits, faults and clients (its host, port and TLS
    /// settings only shape URLs). Fails when the configuration is invalid.
    pub fn new(config: EmulatorConfig) -> Result<Self> {
        config.validate()?;
        let mut shared = Shared::new(&config, PRETEND_AUTHORITY.to_owned())?;
        shared.in_process = true;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|error| Error::Runtime(error.to_string()))?;
        Ok(Self {
            shared: Arc::new(shared),
            runtime,
        })
    }

    /// Answers one request; `None` when a served emulator would give no HTTP answer from the
    /// emulator's code: the request is not valid HTTP, or a fault rule drops the connection.
    pub fn respond(
        &self,
        method: &[u8],
        path: &[u8],
        headers: &[(&[u8], &[u8])],
        body: &[u8],
    ) -> Option<InProcessResponse> {
        let mut request = Request::builder()
            .method(Method::from_bytes(method).ok()?)
            .uri(Uri::try_from(path).ok()?);
        for (name, value) in headers {
            request = request.header(
                HeaderName::from_bytes(name).ok()?,
                HeaderValue::from_bytes(value).ok()?,
            );
        }
        let request = request.body(Full::new(Bytes::copy_from_slice(body))).ok()?;
        self.runtime.block_on(async {
            let response = route(Arc::clone(&self.shared), request).await.ok()?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.ok()?.to_bytes();
            Some(InProcessResponse {
                status: parts.status.as_u16(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                    .collect(),
                body: body.to_vec(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{FaultRule, TopicSpec};

    fn emulator() -> InProcessEmulator {
        InProcessEmulator::new(
            EmulatorConfig::new()
                .topic(TopicSpec::keyed("t", "a2V5"))
                .fault("t", FaultRule::latency(Duration::from_secs(3600))),
        )
        .unwrap()
    }

    const EVENTS: &[u8] = br#"[{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z","dataVersion":"1","data":{}}]"#;

    #[test]
    fn answers_like_the_served_emulator_without_waiting_for_latency() {
        let emulator = emulator();
        let path = b"/t/api/events?api-version=2018-01-01";
        let refused = emulator.respond(b"POST", path, &[], EVENTS).unwrap();
        assert_eq!(refused.status, 401);
        let key: &[(&[u8], &[u8])] = &[(b"aeg-sas-key", b"a2V5")];
        let accepted = emulator.respond(b"POST", path, key, EVENTS).unwrap();
        assert_eq!(accepted.status, 200);
        let events = emulator
            .respond(b"GET", b"/_emulator/topics/t/events", &[], b"")
            .unwrap();
        assert_eq!(events.status, 200);
        let events: serde_json::Value = serde_json::from_slice(&events.body).unwrap();
        assert_eq!(events[0]["id"], "1");
    }

    #[test]
    fn gives_no_answer_to_what_is_not_http_or_is_dropped() {
        let emulator = emulator();
        assert_eq!(emulator.respond(b"P O", b"/", &[], b""), None);
        assert_eq!(emulator.respond(b"GET", b"no path", &[], b""), None);
        assert_eq!(emulator.respond(b"GET", b"/", &[(b"a b", b"c")], b""), None);
        let drop_all = br#"{"rules":[{"drop_connection":true}]}"#;
        let set = emulator
            .respond(b"PUT", b"/_emulator/faults/t", &[], drop_all)
            .unwrap();
        assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));
        let path = b"/t/api/events?api-version=2018-01-01";
        assert_eq!(emulator.respond(b"POST", path, &[], EVENTS), None);
    }

    /// A kept event holds its own bytes only, not the rest of its request body (here 1 MB of
    /// whitespace), however long it is kept.
    #[test]
    fn kept_events_do_not_pin_their_request_body() {
        let emulator = emulator();
        let padding = " ".repeat(1 << 20);
        let body = format!(
            "[{}{padding}]",
            std::str::from_utf8(EVENTS)
                .unwrap()
                .trim_matches(['[', ']'])
        );
        let path = b"/t/api/events?api-version=2018-01-01";
        let key: &[(&[u8], &[u8])] = &[(b"aeg-sas-key", b"a2V5")];
        let accepted = emulator
            .respond(b"POST", path, key, body.as_bytes())
            .unwrap();
        assert_eq!(accepted.status, 200);
        let topic = &emulator.shared.topics["t"];
        let kept = topic.events().pop().unwrap();
        topic.clear();
        let length = kept.len();
        let memory = kept.try_into_mut().expect("the only reference").capacity();
        assert!(
            memory < 2 * length,
            "{memory} bytes held for an event of {length}"
        );
    }
}
