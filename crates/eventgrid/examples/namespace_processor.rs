//! A pull-delivery processor on a namespace subscription: `Receiver::process` receives in a
//! loop, runs the handler on up to eight tasks at once, renews the locks of events being
//! handled, acknowledges what succeeded, releases what may succeed later (it comes back with
//! its delivery count raised) and rejects what never will; Ctrl-C (or the last expected
//! event) stops it gracefully, settling everything received. The report and the client's
//! metrics say what happened.
//!
//! Run it with `cargo run -p eventgrid --example namespace_processor`: it starts the local
//! emulator as the namespace (`https://<namespace>.<region>-1.eventgrid.azure.net` in Azure).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eventgrid::asynchronous::{Credential, EventGridClient};
use eventgrid::{
    CloudEvent, EventGridConfig, EventGridTopicConfig, HandlerError, KeyCredential, ProcessOptions,
    ReceivedEvent, Shutdown,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, NamespaceTopicSpec, SubscriptionSpec};
use serde::Deserialize;
use serde_json::json;

/// What the shop publishes about an order.
#[derive(Debug, Deserialize)]
struct Payment {
    order: u32,
    amount: f64,
}

/// The business logic: a payment the ledger is too busy to book on its first delivery fails
/// for now (worth retrying); one without a positive amount can never be booked.
async fn book(event: &ReceivedEvent) -> Result<(), HandlerError> {
    // Data that does not fit can never succeed: rejected at once, not retried.
    let payment: Payment = event.data_as().map_err(HandlerError::never)?;
    if payment.amount <= 0.0 {
        return Err(HandlerError::never(format!(
            "order {}: amount {} is not a payment",
            payment.order, payment.amount
        )));
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // the ledger's round trip
    if payment.order.is_multiple_of(4) && event.delivery_count == 1 {
        return Err(HandlerError::retry("the ledger is busy"));
    }
    println!(
        "booked order {} ({:.2}), delivery {}",
        payment.order, payment.amount, event.delivery_count
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::keyed("payments", "bnMta2V5"))
            .subscription("payments/ledger".parse::<SubscriptionSpec>()?),
    )
    .await?;
    let payments =
        EventGridTopicConfig::namespace("payments", emulator.namespace_endpoint(), "payments")?
            .with_source("/shop/checkout")
            .with_credential(KeyCredential::access_key("bnMta2V5"));
    let client = EventGridClient::new(EventGridConfig::new([payments])?, Credential::None)?;

    // Twelve payments, one of them not a payment at all.
    let events = (1..=12).map(|order| {
        let amount = if order == 7 {
            -1.0
        } else {
            10.0 * f64::from(order)
        };
        CloudEvent::new(
            "/shop/checkout",
            "payment.received",
            json!({ "order": order, "amount": amount }),
        )
    });
    client
        .send("payments", events.collect::<Result<Vec<_>, _>>()?)
        .await?;

    // Stop on Ctrl-C, or once every payment has been handled (12, and the 3 retried twice).
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.trigger();
        }
    });
    let handled = Arc::new(AtomicUsize::new(0));
    let stop = shutdown.clone();
    let handler = move |event: ReceivedEvent| {
        let (handled, stop) = (handled.clone(), stop.clone());
        async move {
            let outcome = book(&event).await;
            if handled.fetch_add(1, Ordering::SeqCst) + 1 == 15 {
                stop.trigger();
            }
            outcome
        }
    };
    let options = ProcessOptions::default()
        .with_max_concurrency(8)
        .with_max_wait(Duration::from_secs(30))
        .with_lock_renewal_interval(Duration::from_secs(20));
    let report = receiver_report(&client, handler, options, &shutdown).await?;
    println!(
        "acknowledged {}, released {}, rejected {}, unreadable {}",
        report.acknowledged, report.released, report.rejected, report.malformed
    );
    let pull = client.metrics()["payments"].pull;
    println!(
        "metrics: {} received in {} receives, {} settlement requests",
        pull.events_received, pull.receive_requests, pull.settle_requests
    );

    let counts = emulator.subscription_counts("payments", "ledger");
    assert_eq!(
        (report.acknowledged, report.released, report.rejected),
        (11, 3, 1)
    );
    assert_eq!(
        (
            counts.available,
            counts.locked,
            counts.acknowledged,
            counts.rejected
        ),
        (0, 0, 11, 1)
    );
    Ok(())
}

/// Runs the processor until shutdown; any settlement failure or a receive that stopped the
/// loop becomes the error.
async fn receiver_report<H, F>(
    client: &EventGridClient,
    handler: H,
    options: ProcessOptions,
    shutdown: &Shutdown,
) -> eventgrid::Result<eventgrid::ProcessReport>
where
    H: Fn(ReceivedEvent) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    let ledger = client.receiver("payments", "ledger")?;
    ledger
        .process(handler, options, shutdown)
        .await
        .into_result()
}
