//! Sends each request to the topic endpoint, the token endpoint or the emulator's own API.

use std::sync::Arc;

use http::{Request, Response};

use crate::auth::token_endpoint::token;
use crate::inspection::inspect;
use crate::namespace::serve::{is_namespace_path, route as namespace_route};
use crate::push::api::validation_url;
use crate::serving::body::{RequestBody, SmallBody, read_small_body};
use crate::serving::publish::{DropConnection, full_uri, publish};
use crate::serving::response::{Body, ServiceError, with_supported_versions};
use crate::store::shared::Shared;

/// Token requests are small forms.
const MAX_TOKEN_REQUEST_BYTES: usize = 64 * 1024;

pub(crate) async fn route<B: RequestBody>(
    shared: Arc<Shared>,
    request: Request<B>,
) -> Result<Response<Body>, DropConnection> {
    let path = request.uri().path();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(inspect(&shared, request).await);
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segments.as_slice() {
        ["eventsubscriptions", name, "validate"] => {
            let name = (*name).to_owned();
            let (parts, body) = request.into_parts();
            let _ = read_small_body(body, MAX_TOKEN_REQUEST_BYTES, shared.body_read_timeout).await;
            Ok(validation_url(
                &shared.push,
                &parts.method,
                &name,
                parts.uri.query(),
            ))
        }
        [topic, "api", "events"] => {
            if let Some(topic) = shared.topics.get(*topic).cloned() {
                return publish(&shared, &topic, request).await;
            }
            let hint = if shared.namespace.topics.contains_key(*topic) {
                format!(
                    " '{topic}' is a namespace topic: publish to /topics/{topic}:publish?api-version={}.",
                    crate::NAMESPACE_API_VERSION
                )
            } else {
                format!(" Topic '{topic}' is not configured.{}", shared.topic_hint())
            };
            Ok(not_found(&shared, request, &hint).await)
        }
        namespace if is_namespace_path(namespace) => namespace_route(&shared, request).await,
        [tenant, "oauth2", "v2.0", "token"] => {
            let tenant = (*tenant).to_owned();
            let (parts, body) = request.into_parts();
            let body = match read_small_body(
                body,
                MAX_TOKEN_REQUEST_BYTES,
                shared.body_read_timeout,
            )
            .await
            {
                SmallBody::Complete(body) => body,
                SmallBody::TooLarge => {
                    return Ok(
                        ServiceError::too_large("The token request is too large.").into_response()
                    );
                }
                SmallBody::TimedOut => {
                    return Ok(ServiceError::request_timeout(
                        "The token request did not arrive in time.",
                    )
                    .into_response());
                }
            };
            Ok(token(
                &shared,
                &tenant,
                &parts.method,
                &body,
                &shared.base_url,
            ))
        }
        _ => Ok(not_found(
            &shared,
            request,
            " Topics answer at /{topic}/api/events?api-version=2018-01-01.",
        )
        .await),
    }
}

async fn not_found<B: RequestBody>(
    shared: &Shared,
    request: Request<B>,
    hint: &str,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    // Reading a small body lets the client see the answer instead of a reset connection.
    let _ = read_small_body(body, MAX_TOKEN_REQUEST_BYTES, shared.body_read_timeout).await;
    let uri = full_uri(shared, &parts);
    with_supported_versions(ServiceError::not_found(&uri, hint).into_response())
}

/// On a topic's own port, `/api/events?...` is `/{topic}/api/events?...`.
pub(crate) fn to_topic_endpoint<B>(mut request: Request<B>, topic: &str) -> Request<B> {
    let uri = request.uri();
    if uri.path().trim_end_matches('/') != "/api/events" {
        return request;
    }
    let rewritten = match uri.query() {
        Some(query) => format!("/{topic}/api/events?{query}"),
        None => format!("/{topic}/api/events"),
    };
    if let Ok(rewritten) = rewritten.parse() {
        *request.uri_mut() = rewritten;
    }
    request
}
