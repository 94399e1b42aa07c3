//! The parsers that read what a network peer sends, reachable from outside the crate for the
//! fuzz targets (`crates/eventgrid-fuzz`). Hidden from the documentation: not part of the
//! emulator's API, and free to change with the parsers.

use time::OffsetDateTime;

use crate::auth::jwt::TokenAuthority;

/// Whether `token` is a valid SAS token for the topic at `endpoint` with the base64 access
/// `key` at `now` (`verify_sas`), and why not when it is not.
pub fn verify_sas(
    token: &str,
    key: &str,
    endpoint: &str,
    now: OffsetDateTime,
) -> Result<(), String> {
    crate::auth::sas::verify_sas(token, key, endpoint, now).map_err(|error| format!("{error:?}"))
}

/// A SAS expiry (`e=`, already percent-decoded) in any form the SDKs write.
pub fn parse_sas_expiry(text: &str) -> Option<OffsetDateTime> {
    crate::auth::sas_expiry::parse_expiry(text)
}

/// Verifies a bearer token with an authority whose HS256 secret is `secret` (so a fuzzer can
/// sign its own tokens and reach the claims), and why not when it is refused.
pub fn verify_jwt(secret: &[u8], token: &str, now: OffsetDateTime) -> Result<(), String> {
    TokenAuthority::with_secret(secret)
        .verify(token, now)
        .map_err(|error| error.message())
}

/// The publish-body scanner's verdict: the element count, or `None` when the body is refused.
pub fn scan_publish_body(body: &str) -> Option<usize> {
    crate::validation::json_scan::scan_array(body, |_, _, _| {})
}

/// A configuration file's text (TOML, or JSON when `is_json`) as
/// [`EmulatorConfig::from_file`](crate::EmulatorConfig::from_file) reads and validates it.
pub fn parse_config_file(text: &str, is_json: bool) -> Result<crate::EmulatorConfig, String> {
    crate::config::file::parse(text, is_json)
}

/// AzureEventGridSimulator's settings (`appsettings.json` text) added to `config` as
/// [`EmulatorConfig::simulator_settings`](crate::EmulatorConfig::simulator_settings) adds
/// them, then validated as at start-up; with the warnings about skipped parts.
pub fn simulator_settings(
    config: crate::EmulatorConfig,
    text: &str,
) -> Result<(crate::EmulatorConfig, Vec<String>), String> {
    let (config, warnings) = config.simulator_settings_text(text)?;
    config.validate().map_err(|error| error.to_string())?;
    Ok((config, warnings))
}

/// The configuration the emulator's command line `args` (the first being the program name)
/// starts with, or the message it is refused with.
pub fn command_line(args: &[String]) -> Result<crate::EmulatorConfig, String> {
    crate::cli::config_from_args(args)
}

/// How push delivery judged a webhook's answer: what it read of it and what it does next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookVerdict {
    /// The status, or `None` when hyper found no HTTP answer in the bytes (a failed attempt).
    pub status: Option<u16>,
    /// The body as read (at most [`MAX_WEBHOOK_ANSWER_BYTES`]).
    pub body: Vec<u8>,
    /// The answer to the Event Grid schema's validation event: `granted`, `pending` or
    /// `refused`.
    pub validation: &'static str,
    /// The answer to the CloudEvents abuse-protection `OPTIONS`, the same way.
    pub abuse_protection: &'static str,
    /// After a notification: `done`, `retry` or `dead-letter`.
    pub next: &'static str,
    /// The wait before the retry, with `next == "retry"`.
    pub retry_wait: Option<std::time::Duration>,
    /// The service's `lastDeliveryOutcome` word.
    pub outcome: &'static str,
}

/// The most of a webhook's answer body push delivery reads.
pub const MAX_WEBHOOK_ANSWER_BYTES: usize = crate::push::client::MAX_ANSWER_BYTES;

/// Feeds `raw` (a webhook's whole answer as it comes off the connection, which then closes) to
/// hyper's HTTP/1 client, reads it as push delivery does (status, headers, bounded body) and
/// judges it as the handshakes (expecting `code`) and the retry rules (after attempt number
/// `attempts`, with the time scale 1) do.
pub fn webhook_answer(raw: &[u8], code: &str, attempts: u32) -> WebhookVerdict {
    use crate::push::handshake::{HandshakeAnswer, judge_options_answer, judge_validation_answer};
    use crate::push::retry::{AttemptResult, NextStep, RetryPolicy, next_step};

    let answer = ANSWER_RUNTIME.with(|runtime| runtime.block_on(exchange_over_memory(raw)));
    let (result, headers, body) = match answer {
        Some((status, headers, body)) => (AttemptResult::Status(status), headers, body),
        None => (
            AttemptResult::Failed("no HTTP answer".to_owned()),
            http::HeaderMap::new(),
            bytes::Bytes::new(),
        ),
    };
    let word = |answer: HandshakeAnswer| match answer {
        HandshakeAnswer::Granted => "granted",
        HandshakeAnswer::Pending => "pending",
        HandshakeAnswer::Refused(_) => "refused",
    };
    let status = result.status();
    let (validation, abuse_protection) = match status {
        Some(status) => (
            word(judge_validation_answer(status, &body, code)),
            word(judge_options_answer(status, &headers)),
        ),
        None => ("refused", "refused"),
    };
    let step = next_step(
        &result,
        attempts.max(1),
        std::time::Duration::ZERO,
        &RetryPolicy::default(),
        1.0,
    );
    let (next, retry_wait) = match step {
        NextStep::Done => ("done", None),
        NextStep::RetryAfter(wait) => ("retry", Some(wait)),
        NextStep::DeadLetter(_) => ("dead-letter", None),
    };
    WebhookVerdict {
        status,
        body: body.to_vec(),
        validation,
        abuse_protection,
        next,
        retry_wait,
        outcome: result.outcome(),
    }
}

thread_local! {
    static ANSWER_RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
}

/// The body of the POST the fuzzed answer answers.
const REQUEST_BODY: &[u8] = b"[]";

/// One POST over an in-memory connection whose other end reads it, answers `raw` and closes.
async fn exchange_over_memory(raw: &[u8]) -> Option<(u16, http::HeaderMap, bytes::Bytes)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let raw = raw.to_vec();
    let answering = tokio::spawn(async move {
        // hyper refuses an answer that comes before its request, as a real webhook's cannot.
        let mut request = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            let complete = request
                .windows(4)
                .position(|window| window == b"\r\n\r\n")
                .is_some_and(|end| request.len() >= end + 4 + REQUEST_BODY.len());
            if complete {
                break;
            }
            match server.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => request.extend_from_slice(&buffer[..read]),
            }
        }
        let _ = server.write_all(&raw).await;
        let _ = server.shutdown().await;
        // Held until aborted, so that the connection ends only as `raw` says.
        std::future::pending::<()>().await;
    });
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(client))
            .await
            .ok()?;
    let driving = tokio::spawn(connection);
    let request = http::Request::post("/hook")
        .header(http::header::HOST, "127.0.0.1")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            REQUEST_BODY,
        )))
        .expect("a valid request");
    let answer = match sender.send_request(request).await {
        Ok(response) => Some(crate::push::client::read_answer(response).await),
        Err(_) => None,
    };
    drop(sender);
    driving.abort();
    answering.abort();
    answer
}
