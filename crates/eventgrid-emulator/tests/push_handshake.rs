//! Push delivery's validation handshakes against real webhooks on loopback: the Event Grid
//! schema's validation event (answered at once or by a GET of the validation URL), the CloudEvents
//! OPTIONS, refusals, unreachable endpoints and skipping validation.

mod support;
mod webhook;

use eventgrid_emulator::{
    BatchPolicy, EmulatorConfig, Schema, SubscriptionState, TopicSpec, WebhookSubscription,
};
use serde_json::{Value, json};
use support::{Client, cloud_event, event, start};
use webhook::{Answer, Webhook, active, config, eventually, publish, spec, validating};

#[tokio::test]
async fn event_grid_handshake_then_deliveries_with_the_services_headers() {
    let webhook = Webhook::accepting().await;
    let emulator = start(config().webhook(spec("orders", "audit", &webhook))).await;
    active(&emulator, "orders", "audit").await;
    let validation = &webhook.received()[0];
    assert_eq!(validation.method, "POST");
    assert_eq!(validation.path_and_query, "/hook?code=secret");
    assert_eq!(
        validation.header("aeg-event-type"),
        Some("SubscriptionValidation")
    );
    let validation_event = &validation.json()[0];
    assert_eq!(
        validation_event["eventType"],
        "Microsoft.EventGrid.SubscriptionValidationEvent"
    );
    assert!(
        validation_event["data"]["validationUrl"]
            .as_str()
            .unwrap()
            .starts_with(emulator.base_url())
    );

    publish(&emulator, "orders", vec![event(1), event(2)]).await;
    let received = webhook
        .wait_until("two notifications", |r| {
            r.iter().filter(|r| r.is_notification()).count() == 2
        })
        .await;
    let first = received.iter().find(|r| r.is_notification()).unwrap();
    assert_eq!(
        first.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(first.header("aeg-subscription-name"), Some("AUDIT"));
    assert_eq!(first.header("aeg-delivery-count"), Some("0"));
    assert_eq!(first.header("aeg-metadata-version"), Some("1"));
    assert_eq!(first.header("aeg-data-version"), Some("1.0"));
    assert_eq!(first.header("aeg-output-event-id"), Some("1"));
    let events = first.json();
    assert_eq!(
        events.as_array().unwrap().len(),
        1,
        "one event per request by default"
    );
    assert_eq!(events[0]["metadataVersion"], "1");
    assert!(
        events[0]["topic"]
            .as_str()
            .unwrap()
            .ends_with("/topics/orders")
    );
    let counters = eventually("counters", || {
        let counters = emulator.webhook_subscription("orders", "audit")?.counters;
        (counters.delivered_events == 2).then_some(counters)
    })
    .await;
    assert_eq!(
        (
            counters.delivery_attempts,
            counters.failed_attempts,
            counters.queued_events
        ),
        (2, 0, 0)
    );
    let attempts = emulator.delivery_attempts();
    assert_eq!(attempts[0].kind, "SubscriptionValidation");
    let notification = attempts.iter().find(|a| a.kind == "Notification").unwrap();
    assert_eq!(
        (
            notification.status,
            notification.outcome.as_str(),
            notification.next.as_str()
        ),
        (Some(200), "Succeeded", "done")
    );
    assert_eq!(notification.event_ids.len(), 1);
}

#[tokio::test]
async fn a_get_of_the_validation_url_validates_and_events_wait_until_then() {
    let webhook = Webhook::start(|request, _| {
        if request.header("aeg-event-type") == Some("SubscriptionValidation") {
            Answer::status(200)
        } else {
            validating(request)
        }
    })
    .await;
    let emulator = start(
        config()
            .webhook(spec("orders", "manual", &webhook).batching(BatchPolicy::new(3, 64).unwrap())),
    )
    .await;
    let info = eventually("awaiting validation", || {
        let info = emulator.webhook_subscription("orders", "manual")?;
        (info.state == SubscriptionState::AwaitingValidation).then_some(info)
    })
    .await;
    // Events published meanwhile wait, then go in batches of at most 3.
    publish(&emulator, "orders", (0..7).map(event).collect()).await;
    let url = webhook.received()[0].json()[0]["data"]["validationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(info.validation_url.as_deref(), Some(url.as_str()));
    let reply = Client::new().get(&url).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    active(&emulator, "orders", "manual").await;
    webhook.wait_for_events(7).await;
    let sizes: Vec<usize> = webhook
        .notifications()
        .iter()
        .map(|r| r.events().len())
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    let ids: Vec<Value> = webhook
        .delivered_events()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(
        ids,
        (0..7).map(|n| json!(n.to_string())).collect::<Vec<_>>(),
        "in order"
    );
    let unknown = Client::new().get(&url.replace("id=", "id=X")).await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn a_subscription_that_does_not_validate_gets_nothing_and_says_why() {
    let webhook = Webhook::start(|_, _| Answer::status(404)).await;
    let emulator = start(config().webhook(spec("orders", "refused", &webhook))).await;
    let info = eventually("failed", || {
        let info = emulator.webhook_subscription("orders", "refused")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.as_deref().unwrap().contains("404"), "{info:?}");
    assert_eq!(webhook.received().len(), 2, "a refusal is retried once");
    publish(&emulator, "orders", vec![event(1)]).await;
    let info = emulator.webhook_subscription("orders", "refused").unwrap();
    assert_eq!(info.counters.dropped_events, 1);
    assert!(webhook.notifications().is_empty());
    // 202 is not a validation either.
    let accepted_only = Webhook::start(|_, _| Answer::status(202)).await;
    emulator
        .add_webhook(spec("orders", "accepted-only", &accepted_only))
        .unwrap();
    let info = eventually("failed", || {
        let info = emulator.webhook_subscription("orders", "accepted-only")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.unwrap().contains("202"));
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_validation_when_the_window_closes() {
    // Port 1 is outside the range that other tests' listeners get, so it stays closed (a port
    // freed here could be taken by a webhook of a test running beside this one).
    let url = "http://127.0.0.1:1/";
    let emulator =
        start(config().webhook(WebhookSubscription::new("orders", "gone", url).unwrap())).await;
    let info = eventually("failed", || {
        let info = emulator.webhook_subscription("orders", "gone")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.unwrap().contains("unreachable"));
}

#[tokio::test]
async fn cloud_events_use_the_options_handshake_and_their_content_types() {
    let webhook = Webhook::accepting().await;
    let emulator = start(
        config().webhook(spec("ce", "single", &webhook)).webhook(
            spec("orders", "converted", &webhook)
                .delivery_schema(Schema::CloudEvents)
                .batching(BatchPolicy::new(10, 64).unwrap())
                // Filters use the topic's schema: Event Grid keys, even for CloudEvents out.
                .filter(
                    serde_json::from_value(json!({"includedEventTypes": ["order.placed"],
                            "advancedFilters": [{"operatorType": "StringIn", "key": "EventType",
                                                 "values": ["order.placed"]}]}))
                    .unwrap(),
                ),
        ),
    )
    .await;
    active(&emulator, "ce", "single").await;
    active(&emulator, "orders", "converted").await;
    let options: Vec<_> = webhook
        .received()
        .into_iter()
        .filter(|r| r.method == "OPTIONS")
        .collect();
    assert_eq!(options.len(), 2);
    assert_eq!(
        options[0].header("webhook-request-origin"),
        Some("eventgrid.azure.net")
    );
    assert!(
        options[0]
            .header("webhook-request-callback")
            .unwrap()
            .contains("/validate?id=")
    );

    publish(&emulator, "ce", vec![cloud_event(1)]).await;
    publish(&emulator, "orders", vec![event(2)]).await;
    webhook.wait_for_events(2).await;
    let notifications = webhook.notifications();
    let single = notifications
        .iter()
        .find(|r| r.header("aeg-subscription-name") == Some("SINGLE"))
        .unwrap();
    assert_eq!(
        single.header("content-type"),
        Some("application/cloudevents+json; charset=utf-8")
    );
    assert_eq!(single.json()["id"], "1");
    assert_eq!(single.header("aeg-data-version"), None);
    let converted = notifications
        .iter()
        .find(|r| r.header("aeg-subscription-name") == Some("CONVERTED"))
        .unwrap();
    assert_eq!(
        converted.header("content-type"),
        Some("application/cloudevents-batch+json; charset=utf-8")
    );
    let event = &converted.json()[0];
    assert_eq!(
        (event["type"].as_str(), event["specversion"].as_str()),
        (Some("order.placed"), Some("1.0"))
    );
}

#[tokio::test]
async fn a_cloud_events_endpoint_that_does_not_grant_is_refused() {
    let refusing = Webhook::start(|_, _| Answer::status(405)).await;
    let silent = Webhook::start(|_, _| Answer::status(200)).await;
    let emulator = start(
        config()
            .webhook(spec("ce", "refusing", &refusing))
            .webhook(spec("ce", "silent", &silent)),
    )
    .await;
    for (name, reason) in [("refusing", "405"), ("silent", "not visited in time")] {
        let info = eventually(name, || {
            let info = emulator.webhook_subscription("ce", name)?;
            (info.state == SubscriptionState::Failed).then_some(info)
        })
        .await;
        assert!(info.reason.as_deref().unwrap().contains(reason), "{info:?}");
    }
}

#[tokio::test]
async fn the_cloud_events_callback_grants_later() {
    // 200 without WebHook-Allowed-Origin: neither granted nor refused until the callback.
    let webhook = Webhook::start(|_, _| Answer::status(200)).await;
    let emulator = start(
        config()
            .retry_time_scale(0.1)
            .webhook(spec("ce", "later", &webhook)),
    )
    .await;
    let received = webhook.wait_until("the OPTIONS", |r| !r.is_empty()).await;
    let callback = received[0]
        .header("webhook-request-callback")
        .unwrap()
        .to_owned();
    assert_eq!(Client::new().get(&callback).await.status, 200);
    active(&emulator, "ce", "later").await;
}

#[tokio::test]
async fn validation_can_be_skipped() {
    let webhook = Webhook::start(|_, _| Answer::status(200)).await;
    let emulator =
        start(config().webhook(spec("orders", "trusted", &webhook).validation(false))).await;
    assert_eq!(
        emulator
            .webhook_subscription("orders", "trusted")
            .unwrap()
            .state,
        SubscriptionState::Active
    );
    publish(&emulator, "orders", vec![event(1)]).await;
    webhook.wait_for_events(1).await;
    assert!(
        webhook.received().iter().all(|r| r.is_notification()),
        "no handshake"
    );
}

#[tokio::test]
async fn custom_schema_topics_validate_like_event_grid_and_deliver_events_as_sent() {
    let webhook = Webhook::accepting().await;
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("custom").with_schema(Schema::Custom))
            .retry_time_scale(webhook::SCALE)
            .webhook(spec("custom", "raw", &webhook)),
    )
    .await;
    active(&emulator, "custom", "raw").await;
    assert_eq!(
        webhook.received()[0].header("aeg-event-type"),
        Some("SubscriptionValidation")
    );
    let reply = Client::new()
        .post_json(
            &support::publish_url(&emulator, "custom"),
            &[],
            json!([{"kind": "reading", "value": 21.5}]).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200);
    let events = webhook.wait_for_events(1).await;
    assert_eq!(events[0], json!({"kind": "reading", "value": 21.5}));
    let notification = &webhook.notifications()[0];
    assert_eq!(
        notification.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(notification.header("aeg-data-version"), None);
}
