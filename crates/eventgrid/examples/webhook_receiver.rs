//! A webhook that receives Event Grid push deliveries, on hyper, with `eventgrid::consumer`
//! doing the reading: it answers both handshakes (the Event Grid schema validation event and
//! the CloudEvents `OPTIONS` request), reads deliveries in either schema and any content mode,
//! and acts on system events by their typed data and on an application's own events by
//! `data_as`.
//!
//! ```text
//! cargo run -p eventgrid --example webhook_receiver -- 127.0.0.1:8080   # serve until Ctrl-C
//! cargo run -p eventgrid --example webhook_receiver                     # self-check, then exit
//! ```
//!
//! Without an address it serves on a free port, sends itself the two handshakes and a
//! delivery of each kind, in the shapes the service sends them, then has the emulator
//! subscribe it twice (Event Grid schema and CloudEvents, each with its handshake) and push
//! it an application event and a system event; it exits with status 1 if anything was not read
//! as it should have been.

use std::convert::Infallible;
use std::error::Error;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use eventgrid::asynchronous::{EventGridClient, HyperTransport};
use eventgrid::consumer::system::SystemEvent;
use eventgrid::consumer::{
    DataError, Handshake, Incoming, ReceiveOptions, ReceivedEvent, receive_parts,
};
use eventgrid::core::bytes::Bytes;
use eventgrid::core::http::{Method, Request, Response, StatusCode};
use eventgrid::core::{AsyncTransport, ClientOptions};
use eventgrid::{Credential, EventGridConfig, EventGridTopicConfig};
use eventgrid_emulator::{Emulator, EmulatorConfig, Schema, TopicSpec, WebhookSubscription};
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

/// An application's own event, published as `order.placed`.
#[derive(Debug, serde::Deserialize)]
struct Order {
    order_id: u64,
    total: f64,
}

/// The webhook: its limits, and what it did (a real one would act instead of noting).
#[derive(Default)]
struct Webhook {
    options: ReceiveOptions,
    done: Mutex<Vec<String>>,
}

impl Webhook {
    fn note(&self, line: String) {
        println!("{line}");
        self.done.lock().expect("not poisoned").push(line);
    }

    /// Reads one request, bounded, and answers it.
    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        if let Err(error) = self.options.check_content_length(&parts.headers) {
            return status(error.status(), error.to_string());
        }
        let body = match Limited::new(body, self.options.max_body_bytes())
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return status(StatusCode::PAYLOAD_TOO_LARGE, error.to_string()),
        };
        match receive_parts(&parts.method, &parts.headers, &body, &self.options) {
            Ok(Incoming::Handshake(handshake)) => {
                self.note(match &handshake {
                    Handshake::SubscriptionValidation(validation) => format!(
                        "answered the Event Grid validation handshake with code {}",
                        validation.code()
                    ),
                    Handshake::AbuseProtection(request) => format!(
                        "allowed deliveries from {} (CloudEvents handshake)",
                        request.origin()
                    ),
                    other => format!("answered a handshake: {other:?}"),
                });
                handshake.response().map(Full::new)
            }
            Ok(Incoming::Delivery(delivery)) => {
                for event in delivery.events().iter() {
                    match act_on(event) {
                        Ok(line) => self.note(line),
                        // Event Grid dead-letters a batch answered 400 instead of retrying it.
                        Err(error) => return status(StatusCode::BAD_REQUEST, error.to_string()),
                    }
                }
                status(StatusCode::OK, String::new())
            }
            Ok(_) => status(StatusCode::BAD_REQUEST, "not a delivery".into()),
            Err(error) => status(error.status(), error.to_string()),
        }
    }
}

/// What the webhook does with one event.
fn act_on(event: ReceivedEvent<'_>) -> Result<String, DataError> {
    Ok(match SystemEvent::parse(event)? {
        SystemEvent::StorageBlobCreated(blob) => format!(
            "index blob {} ({} bytes)",
            blob.url.unwrap_or_default(),
            blob.content_length.unwrap_or_default()
        ),
        SystemEvent::StorageBlobDeleted(blob) => {
            format!("forget blob {}", blob.url.unwrap_or_default())
        }
        SystemEvent::ResourceWriteSuccess(write) => format!(
            "audit {} on {}",
            write.operation_name.unwrap_or_default(),
            write.resource_uri.unwrap_or_default()
        ),
        SystemEvent::KeyVaultSecretNearExpiry(secret) => format!(
            "rotate secret {} of vault {} (expires at {})",
            secret.object_name.clone().unwrap_or_default(),
            secret.vault_name.clone().unwrap_or_default(),
            secret.exp.unwrap_or_default()
        ),
        SystemEvent::ServiceBusActiveMessagesAvailableWithNoListeners(bus) => format!(
            "start a consumer for {}",
            bus.request_uri.unwrap_or_default()
        ),
        SystemEvent::ContainerRegistryImagePushed(image) => {
            let target = image.target.unwrap_or_default();
            format!(
                "deploy {}:{}",
                target.repository.unwrap_or_default(),
                target.tag.unwrap_or_default()
            )
        }
        SystemEvent::Other(event_type) if event_type == "order.placed" => {
            let order: Order = event.data_as()?;
            format!("ship order {} ({:.2})", order.order_id, order.total)
        }
        other => format!("ignore {}", other.event_type()),
    })
}

fn status(code: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = code;
    response
}

/// Serves on `listener` until `stop` resolves.
async fn serve(listener: TcpListener, webhook: Arc<Webhook>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut stop => return,
        };
        let webhook = Arc::clone(&webhook);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let webhook = Arc::clone(&webhook);
                async move { Ok::<_, Infallible>(webhook.answer(request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The requests Event Grid would send, each with what the webhook should answer and do.
fn deliveries() -> Vec<(Request<Bytes>, StatusCode, &'static str, &'static str)> {
    let post = |content_type: &str, kind: &str, body: &'static str| {
        Request::post("/")
            .header("content-type", content_type)
            .header("aeg-event-type", kind)
            .body(Bytes::from_static(body.as_bytes()))
            .expect("a valid request")
    };
    vec![
        (
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/")
                .header("WebHook-Request-Origin", "eventgrid.azure.net")
                .body(Bytes::new())
                .expect("a valid request"),
            StatusCode::OK,
            "allowed deliveries from eventgrid.azure.net",
            "",
        ),
        (
            post(
                "application/json",
                "SubscriptionValidation",
                include_str!("../../../tests/fixtures/push/eventgrid-validation.json"),
            ),
            StatusCode::OK,
            "answered the Event Grid validation handshake",
            r#"{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}"#,
        ),
        (
            post(
                "application/json; charset=utf-8",
                "Notification",
                include_str!("../../../tests/fixtures/push/eventgrid-notification.json"),
            ),
            StatusCode::OK,
            "ship order 42 (99.50)",
            "",
        ),
        (
            post(
                "application/cloudevents+json; charset=utf-8",
                "Notification",
                include_str!("../../../tests/fixtures/push/cloudevents-blob-created.json"),
            ),
            StatusCode::OK,
            "index blob https://jolovstorage.blob.core.windows.net/gaocontainer/Template1.xlsx (17555 bytes)",
            "",
        ),
        (
            post(
                "application/cloudevents-batch+json; charset=utf-8",
                "Notification",
                include_str!("../../../tests/fixtures/push/cloudevents-batch.json"),
            ),
            StatusCode::OK,
            "deploy samples/nginx:latest",
            "",
        ),
        (
            post(
                "application/json",
                "Notification",
                r#"[{"eventType": "order.placed", "id": 7}]"#,
            ),
            StatusCode::BAD_REQUEST,
            "",
            "event 0: `id` must be a string",
        ),
    ]
}

/// Serves on a free port, sends itself [`deliveries`], and checks the answers and actions.
async fn self_check() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let webhook = Arc::new(Webhook::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, Arc::clone(&webhook), async {
        let _ = stopped.await;
    }));
    let client = HyperTransport::new(&ClientOptions::default())?;
    for (mut request, expected_status, expected_action, expected_body) in deliveries() {
        *request.uri_mut() = format!("http://{address}/api/updates").parse()?;
        let response = client.send(request).await?;
        if response.status() != expected_status {
            return Err(format!(
                "answered {} instead of {expected_status}: {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            )
            .into());
        }
        if !String::from_utf8_lossy(response.body()).contains(expected_body) {
            return Err(format!("answered {:?}, not {expected_body:?}", response.body()).into());
        }
        let done = webhook.done.lock().expect("not poisoned").clone();
        if !done.iter().any(|line| line.contains(expected_action)) {
            return Err(format!("did not {expected_action:?}; did {done:?}").into());
        }
    }
    through_the_emulator(address, &webhook).await?;
    let _ = stop.send(());
    server.await?;
    println!("webhook_receiver: both handshakes and every kind of delivery were read");
    Ok(())
}

/// Event Grid played by the emulator: two subscriptions on a topic, one delivering the Event
/// Grid schema and one CloudEvents, each validated by its own handshake; then an application
/// event and a system event published and pushed to the webhook twice over.
async fn through_the_emulator(
    address: SocketAddr,
    webhook: &Webhook,
) -> Result<(), Box<dyn Error>> {
    let emulator = Emulator::start(EmulatorConfig::new().topic(TopicSpec::open("orders"))).await?;
    for (name, schema) in [
        ("grid-schema", Schema::EventGrid),
        ("cloud-schema", Schema::CloudEvents),
    ] {
        let endpoint = format!("http://{address}/{name}");
        emulator.add_webhook(
            WebhookSubscription::new("orders", name, &endpoint)?.delivery_schema(schema),
        )?;
    }
    let topic = EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders"))?;
    let client = EventGridClient::new(EventGridConfig::new([topic])?, Credential::None)?;
    client
        .emit_event(
            "orders",
            "order.placed",
            "orders/77",
            json!({"order_id": 77, "total": 12.5}),
        )
        .await?;
    client
        .emit_event(
            "orders",
            "Microsoft.Storage.BlobCreated",
            "/blobServices/default/containers/photos/blobs/cat.jpg",
            json!({"api": "PutBlob", "url": "https://acct.blob.core.windows.net/photos/cat.jpg", "contentLength": 5}),
        )
        .await?;
    let expected = [
        "answered the Event Grid validation handshake",
        "allowed deliveries from",
        "ship order 77 (12.50)",
        "index blob https://acct.blob.core.windows.net/photos/cat.jpg (5 bytes)",
    ];
    // A bound on a loopback exchange of milliseconds, so that a broken one fails instead of hanging.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let done = webhook.done.lock().expect("not poisoned").clone();
        let count = |action: &str| done.iter().filter(|line| line.contains(action)).count();
        // One handshake of each kind; each event once per subscription.
        let wanted = [1, 1, 2, 2];
        if expected
            .iter()
            .zip(wanted)
            .all(|(action, n)| count(action) >= n)
        {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            let states: Vec<_> = emulator
                .webhook_subscriptions()
                .into_iter()
                .map(|info| format!("{} {:?} {:?}", info.name, info.state, info.reason))
                .collect();
            return Err(format!(
                "the emulator's deliveries did not all arrive: did {done:?}; {states:?}"
            )
            .into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    emulator.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let outcome = match std::env::args().nth(1) {
        Some(address) => match address.parse::<SocketAddr>() {
            Ok(address) => match TcpListener::bind(address).await {
                Ok(listener) => {
                    println!("webhook_receiver: listening on http://{address}/ (Ctrl-C to stop)");
                    let stop = async {
                        let _ = tokio::signal::ctrl_c().await;
                    };
                    serve(listener, Arc::new(Webhook::default()), stop).await;
                    Ok(())
                }
                Err(error) => Err(format!("cannot listen on {address}: {error}").into()),
            },
            Err(error) => {
                Err(format!("{address:?} is not an address like 127.0.0.1:8080: {error}").into())
            }
        },
        None => self_check().await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("webhook_receiver: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn answers_handshakes_and_acts_on_each_kind_of_delivery() {
        super::self_check().await.expect("the self-check passes");
    }
}
