//! Push delivery against real webhooks on loopback: handshakes, headers, batches, retries, dead
//! letters, filters, the control API and the simulator's layout. Every test shrinks the
//! service's times with a retry time scale of 0.001 (10 s becomes 10 ms).

mod support;
mod webhook;

use std::time::Duration;

use eventgrid_emulator::{
    EmulatorConfig, EventFilter, RetryPolicy, Schema, SubscriptionSpec, SubscriptionState,
    TopicSpec,
};
use serde_json::{Value, json};
use support::{Client, cloud_event, event, publish_url, start};
use webhook::{Answer, Webhook, eventually, validating};

const SCALE: f64 = 0.001;

fn config() -> EmulatorConfig {
    EmulatorConfig::new()
        .topic(TopicSpec::open("orders"))
        .topic(TopicSpec::open("ce").with_schema(Schema::CloudEvents))
        .retry_time_scale(SCALE)
}

fn spec(topic: &str, name: &str, webhook: &Webhook) -> SubscriptionSpec {
    SubscriptionSpec::new(topic, name, &webhook.url).unwrap()
}

async fn publish(emulator: &eventgrid_emulator::RunningEmulator, topic: &str, events: Vec<Value>) {
    let content_type = if topic == "ce" {
        "application/cloudevents-batch+json; charset=utf-8"
    } else {
        "application/json"
    };
    let reply = Client::new()
        .send(
            "POST",
            &publish_url(emulator, topic),
            &[("content-type", content_type)],
            Value::Array(events).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn active(emulator: &eventgrid_emulator::RunningEmulator, topic: &str, name: &str) {
    eventually(&format!("{topic}/{name} active"), || {
        let info = emulator.subscription(topic, name)?;
        assert_ne!(info.state, SubscriptionState::Failed, "{info:?}");
        (info.state == SubscriptionState::Active).then_some(())
    })
    .await;
}

#[tokio::test]
async fn event_grid_handshake_then_deliveries_with_the_services_headers() {
    let webhook = Webhook::accepting().await;
    let emulator = start(config().subscription(spec("orders", "audit", &webhook))).await;
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
        let counters = emulator.subscription("orders", "audit")?.counters;
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
        config().subscription(
            spec("orders", "manual", &webhook)
                .batching(eventgrid_emulator::BatchPolicy::new(3, 64).unwrap()),
        ),
    )
    .await;
    let info = eventually("awaiting validation", || {
        let info = emulator.subscription("orders", "manual")?;
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
    let emulator = start(config().subscription(spec("orders", "refused", &webhook))).await;
    let info = eventually("failed", || {
        let info = emulator.subscription("orders", "refused")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.as_deref().unwrap().contains("404"), "{info:?}");
    assert_eq!(webhook.received().len(), 2, "a refusal is retried once");
    publish(&emulator, "orders", vec![event(1)]).await;
    let info = emulator.subscription("orders", "refused").unwrap();
    assert_eq!(info.counters.dropped_events, 1);
    assert!(webhook.notifications().is_empty());
    // 202 is not a validation either.
    let accepted_only = Webhook::start(|_, _| Answer::status(202)).await;
    emulator
        .add_subscription(spec("orders", "accepted-only", &accepted_only))
        .unwrap();
    let info = eventually("failed", || {
        let info = emulator.subscription("orders", "accepted-only")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.unwrap().contains("202"));
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_validation_when_the_window_closes() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let emulator =
        start(config().subscription(SubscriptionSpec::new("orders", "gone", &url).unwrap())).await;
    let info = eventually("failed", || {
        let info = emulator.subscription("orders", "gone")?;
        (info.state == SubscriptionState::Failed).then_some(info)
    })
    .await;
    assert!(info.reason.unwrap().contains("unreachable"));
}

#[tokio::test]
async fn cloud_events_use_the_options_handshake_and_their_content_types() {
    let webhook = Webhook::accepting().await;
    let emulator = start(
        config()
            .subscription(spec("ce", "single", &webhook))
            .subscription(
                spec("orders", "converted", &webhook)
                    .delivery_schema(Schema::CloudEvents)
                    .batching(eventgrid_emulator::BatchPolicy::new(10, 64).unwrap()),
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
            .subscription(spec("ce", "refusing", &refusing))
            .subscription(spec("ce", "silent", &silent)),
    )
    .await;
    for (name, reason) in [("refusing", "405"), ("silent", "not visited in time")] {
        let info = eventually(name, || {
            let info = emulator.subscription("ce", name)?;
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
            .subscription(spec("ce", "later", &webhook)),
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
        start(config().subscription(spec("orders", "trusted", &webhook).validation(false))).await;
    assert_eq!(
        emulator.subscription("orders", "trusted").unwrap().state,
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
async fn the_preferred_batch_size_closes_batches() {
    let webhook = Webhook::start(|request, _| {
        if request.header("aeg-event-type") == Some("SubscriptionValidation") {
            Answer::status(200)
        } else {
            validating(request)
        }
    })
    .await;
    let emulator = start(
        config().subscription(
            spec("orders", "sized", &webhook)
                .batching(eventgrid_emulator::BatchPolicy::new(100, 1).unwrap()),
        ),
    )
    .await;
    let padded = |n: usize| {
        let mut event = event(n);
        event["data"]["padding"] = json!("x".repeat(100));
        event
    };
    eventually("awaiting", || {
        (emulator.subscription("orders", "sized")?.state == SubscriptionState::AwaitingValidation)
            .then_some(())
    })
    .await;
    publish(&emulator, "orders", (0..5).map(padded).collect()).await;
    let url = webhook.received()[0].json()[0]["data"]["validationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    Client::new().get(&url).await;
    webhook.wait_for_events(5).await;
    let sizes: Vec<usize> = webhook
        .notifications()
        .iter()
        .map(|r| r.events().len())
        .collect();
    assert_eq!(
        sizes,
        [2, 2, 1],
        "about 400 bytes per event, 1 KB preferred"
    );
}

#[tokio::test]
async fn failures_are_retried_with_the_delivery_count() {
    let webhook = Webhook::start(|request, earlier| {
        if !request.is_notification() {
            return validating(request);
        }
        match earlier {
            0 => Answer::status(503),
            1 => Answer::status(500),
            _ => Answer::status(200),
        }
    })
    .await;
    let emulator = start(config().subscription(spec("orders", "flaky", &webhook))).await;
    active(&emulator, "orders", "flaky").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    webhook
        .wait_until("three attempts", |r| {
            r.iter().filter(|r| r.is_notification()).count() == 3
        })
        .await;
    let counts: Vec<_> = webhook
        .notifications()
        .iter()
        .map(|r| r.header("aeg-delivery-count").unwrap().to_owned())
        .collect();
    assert_eq!(counts, ["0", "1", "2"]);
    let attempts = eventually("three logged attempts", || {
        let attempts: Vec<_> = emulator
            .delivery_attempts()
            .into_iter()
            .filter(|a| a.kind == "Notification")
            .collect();
        (attempts.len() == 3).then_some(attempts)
    })
    .await;
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.status, a.outcome.as_str(), a.next.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some(503), "ServiceUnavailable", "retry in 30 ms"),
            (Some(500), "InternalServerError", "retry in 30 ms"),
            (Some(200), "Succeeded", "done"),
        ]
    );
    let counters = emulator.subscription("orders", "flaky").unwrap().counters;
    assert_eq!(
        (
            counters.delivered_events,
            counters.failed_attempts,
            counters.dead_lettered_events
        ),
        (1, 2, 0)
    );
}

#[tokio::test]
async fn never_retried_statuses_dead_letter_at_once_into_the_folder() {
    let folder =
        std::env::temp_dir().join(format!("eg-push-dead-letters-{}", uuid::Uuid::new_v4()));
    let mut config = config();
    let mut webhooks = Vec::new();
    for status in [400u16, 401, 403, 413] {
        let webhook = Webhook::start(move |request, _| {
            if request.is_notification() {
                Answer::status(status)
            } else {
                validating(request)
            }
        })
        .await;
        config = config.subscription(
            spec("orders", &format!("status-{status}"), &webhook).dead_letter_folder(&folder),
        );
        webhooks.push(webhook);
    }
    let emulator = start(config).await;
    for status in [400, 401, 403, 413] {
        active(&emulator, "orders", &format!("status-{status}")).await;
    }
    publish(&emulator, "orders", vec![event(7)]).await;
    let dead_letters = eventually("four dead letters", || {
        let dead_letters = emulator.dead_letters();
        (dead_letters.len() == 4).then_some(dead_letters)
    })
    .await;
    for webhook in &webhooks {
        assert_eq!(webhook.notifications().len(), 1, "not retried");
    }
    let mut reasons: Vec<_> = dead_letters
        .iter()
        .map(|d| {
            (
                d.reason().to_owned(),
                d.delivery_attempts(),
                d.event["lastHttpStatusCode"].as_u64().unwrap(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("UndeliverableDueToHttpBadRequest".to_owned(), 1, 400),
            ("UndeliverableDueToHttpForbidden".to_owned(), 1, 403),
            (
                "UndeliverableDueToHttpRequestEntityTooLarge".to_owned(),
                1,
                413
            ),
            ("UndeliverableDueToHttpUnauthorized".to_owned(), 1, 401),
        ]
    );
    let record = &dead_letters[0].event;
    assert_eq!(record["id"], "7");
    for field in [
        "lastDeliveryOutcome",
        "publishTime",
        "lastDeliveryAttemptTime",
    ] {
        assert!(record[field].is_string(), "{field} in {record}");
    }
    // The folder has one file per dead-lettered batch, where the service puts blobs.
    let files = eventually("four files", || {
        let files = files_under(&folder);
        (files.len() == 4).then_some(files)
    })
    .await;
    let relative = files[0]
        .strip_prefix(&folder)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(relative.starts_with("ORDERS/STATUS-4"), "{relative}");
    let written: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(written[0]["id"], "7");
    assert!(
        written[0]["deadLetterReason"]
            .as_str()
            .unwrap()
            .starts_with("UndeliverableDueToHttp")
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

fn files_under(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path)
            } else {
                files.push(path)
            }
        }
    }
    files
}

#[tokio::test]
async fn max_attempts_and_time_to_live_dead_letter_whichever_comes_first() {
    let failing = || async {
        Webhook::start(|request, _| {
            if request.is_notification() {
                Answer::status(500)
            } else {
                validating(request)
            }
        })
        .await
    };
    let (few, short) = (failing().await, failing().await);
    let emulator = start(
        config()
            .subscription(
                spec("orders", "few-attempts", &few).retry(RetryPolicy::new(3, 1440).unwrap()),
            )
            // A minute scaled by 0.001: 60 ms, reached after the waits of 10 and 30 ms.
            .subscription(
                spec("orders", "short-lived", &short).retry(RetryPolicy::new(30, 1).unwrap()),
            ),
    )
    .await;
    active(&emulator, "orders", "few-attempts").await;
    active(&emulator, "orders", "short-lived").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    let dead_letters = eventually("two dead letters", || {
        let dead_letters = emulator.dead_letters();
        (dead_letters.len() == 2).then_some(dead_letters)
    })
    .await;
    let by_name = |name: &str| {
        dead_letters
            .iter()
            .find(|d| d.subscription == name)
            .unwrap()
    };
    let few_attempts = by_name("few-attempts");
    assert_eq!(
        (few_attempts.reason(), few_attempts.delivery_attempts()),
        ("MaxDeliveryAttemptsExceeded", 3)
    );
    assert_eq!(
        few_attempts.event["lastDeliveryOutcome"],
        "InternalServerError"
    );
    assert_eq!(few.notifications().len(), 3);
    let short_lived = by_name("short-lived");
    assert_eq!(short_lived.reason(), "TimeToLiveExceeded");
    // How many attempts fit in 60 ms depends on the machine's speed; fewer than the 30 allowed.
    assert!((1..30).contains(&short_lived.delivery_attempts()));
}

#[tokio::test]
async fn a_subscriber_that_does_not_answer_in_time_is_retried() {
    let webhook = Webhook::start(
        |request, earlier| match (request.is_notification(), earlier) {
            (false, _) => validating(request),
            (true, 0) => Answer::status(200).delay(Duration::from_secs(30)),
            (true, _) => Answer::status(200),
        },
    )
    .await;
    let emulator = start(
        config()
            .delivery_timeout(Duration::from_secs(1))
            .subscription(spec("orders", "slow", &webhook)),
    )
    .await;
    active(&emulator, "orders", "slow").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    let attempts = eventually("a success after the time-out", || {
        let attempts: Vec<_> = emulator
            .delivery_attempts()
            .into_iter()
            .filter(|a| a.kind == "Notification")
            .collect();
        (attempts.len() == 2).then_some(attempts)
    })
    .await;
    assert_eq!(
        (attempts[0].outcome.as_str(), attempts[0].status),
        ("TimedOut", None)
    );
    assert_eq!(attempts[1].outcome, "Succeeded");
}

#[tokio::test]
async fn filters_choose_the_events_delivered() {
    let webhook = Webhook::accepting().await;
    let filter: EventFilter = serde_json::from_value(json!({
        "includedEventTypes": ["order.placed"],
        "subjectBeginsWith": "ORDERS/",
        "advancedFilters": [{"operatorType": "NumberGreaterThanOrEquals", "key": "data.order", "value": 2}]
    }))
    .unwrap();
    let emulator =
        start(config().subscription(spec("orders", "big", &webhook).filter(filter))).await;
    active(&emulator, "orders", "big").await;
    let mut other_type = event(5);
    other_type["eventType"] = json!("order.cancelled");
    let mut other_subject = event(6);
    other_subject["subject"] = json!("invoices/6");
    publish(
        &emulator,
        "orders",
        vec![event(1), event(2), other_type, other_subject, event(3)],
    )
    .await;
    let info = eventually("all five handled", || {
        let info = emulator.subscription("orders", "big")?;
        (info.counters.queued_events == 0
            && info.counters.delivered_events + info.counters.filtered_events == 5)
            .then_some(info)
    })
    .await;
    assert_eq!(
        (
            info.counters.delivered_events,
            info.counters.filtered_events
        ),
        (2, 3)
    );
    let ids: Vec<Value> = webhook
        .delivered_events()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(ids, [json!("2"), json!("3")]);
}

#[tokio::test]
async fn a_dead_subscriber_never_slows_publishing() {
    // A subscriber that takes the connection and never answers, and a queue of 5.
    let webhook = Webhook::start(|request, _| {
        if request.is_notification() {
            Answer::status(200).delay(Duration::from_secs(3600))
        } else {
            validating(request)
        }
    })
    .await;
    let mut config = config().subscription(spec("orders", "stuck", &webhook));
    config.push.queue_capacity = 5;
    let emulator = start(config).await;
    active(&emulator, "orders", "stuck").await;
    for n in 0..20 {
        publish(&emulator, "orders", vec![event(n)]).await;
    }
    assert_eq!(emulator.counters("orders").accepted_events, 20);
    let counters = emulator.subscription("orders", "stuck").unwrap().counters;
    assert_eq!(counters.queued_events, 5);
    assert_eq!(counters.dropped_events, 15);
}

#[tokio::test]
async fn the_control_api_adds_lists_and_removes_subscriptions() {
    let webhook = Webhook::accepting().await;
    let emulator = start(config()).await;
    let client = Client::new();
    let base = emulator.base_url();
    let document = json!({
        "endpoint": webhook.url, "maxEventsPerBatch": 2,
        "retryPolicy": {"maxDeliveryAttempts": 2, "eventTimeToLiveInMinutes": 5},
        "filter": {"subjectEndsWith": "/1"}
    });
    let created = client
        .send(
            "PUT",
            &format!("{base}/_emulator/subscriptions/orders/api-made"),
            &[("content-type", "application/json")],
            document.to_string(),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["name"], "api-made");
    assert!(
        !created.body.contains("secret"),
        "the endpoint's query stays hidden: {}",
        created.body
    );
    active(&emulator, "orders", "api-made").await;
    publish(&emulator, "orders", vec![event(1), event(2)]).await;
    webhook.wait_for_events(1).await;

    eventually("the other event filtered", || {
        (emulator
            .subscription("orders", "api-made")?
            .counters
            .filtered_events
            == 1)
            .then_some(())
    })
    .await;
    let listed = client
        .get(&format!("{base}/_emulator/subscriptions"))
        .await
        .json();
    assert_eq!(listed[0]["state"], "active");
    assert_eq!(listed[0]["counters"]["filtered_events"], 1);
    let deliveries = client
        .get(&format!(
            "{base}/_emulator/deliveries?subscription=api-made"
        ))
        .await
        .json();
    assert_eq!(
        deliveries.as_array().unwrap().len(),
        2,
        "handshake and notification: {deliveries}"
    );
    for field in ["time", "latency_ms", "status", "outcome", "event_ids"] {
        assert!(deliveries[1].get(field).is_some(), "{field}");
    }
    assert_eq!(
        client
            .get(&format!("{base}/_emulator/dead-letters"))
            .await
            .json(),
        json!([])
    );

    let bad = client
        .send(
            "PUT",
            &format!("{base}/_emulator/subscriptions/orders/xyz1"),
            &[],
            r#"{"endpoint": "ftp://x/"}"#,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.message().contains("http:// or https://"),
        "{}",
        bad.message()
    );
    let unknown_topic = client
        .send(
            "PUT",
            &format!("{base}/_emulator/subscriptions/nope/xyz1"),
            &[],
            document.to_string(),
        )
        .await;
    assert_eq!(unknown_topic.status, 404);
    let removed = client
        .send(
            "DELETE",
            &format!("{base}/_emulator/subscriptions/orders/api-made"),
            &[],
            "",
        )
        .await;
    assert_eq!(removed.status, 204);
    assert!(emulator.subscriptions().is_empty());
    let again = client
        .send(
            "DELETE",
            &format!("{base}/_emulator/subscriptions/orders/api-made"),
            &[],
            "",
        )
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn simulator_settings_serve_each_topic_on_its_own_port() {
    let webhook = Webhook::start(|_, _| Answer::status(200)).await;
    let settings = json!({"topics": [{
        "name": "MyTopic", "port": 0, "key": "TheLocal+DevelopmentKey=",
        "subscribers": {"http": [{
            "name": "LocalSubscription", "endpoint": webhook.url, "disableValidation": true,
            "filter": {"advancedFilters": [{"operatorType": "NumberIn", "key": "data.order", "values": [2]}]}
        }]}
    }]});
    let path = std::env::temp_dir().join(format!("appsettings-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, settings.to_string()).unwrap();
    let config = EmulatorConfig::new()
        .retry_time_scale(SCALE)
        .simulator_settings(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let emulator = start(config).await;
    let endpoint = emulator.topic_port_endpoint("MyTopic").unwrap();
    assert!(
        !endpoint.contains(&emulator.local_addr().port().to_string()),
        "its own port: {endpoint}"
    );
    let client = Client::new();
    let url = format!("{endpoint}?api-version=2018-01-01");
    let body = Value::Array(vec![event(1), event(2)]).to_string();
    let refused = client.post_json(&url, &[], body.clone()).await;
    assert_eq!(refused.status, 401, "the topic's key is required");
    let accepted = client
        .post_json(&url, &[("aeg-sas-key", "TheLocal+DevelopmentKey=")], body)
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let events = webhook.wait_for_events(1).await;
    assert_eq!(events[0]["id"], "2");
}

#[tokio::test]
async fn https_subscribers_are_trusted_through_the_extra_ca() {
    // Another emulator, serving HTTPS, stands in for an https webhook.
    let receiver = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("inbox"))
            .tls(true),
    )
    .await;
    let endpoint = format!(
        "{}?api-version=2018-01-01",
        receiver.topic_endpoint("inbox")
    );
    let ca = receiver.ca_certificate_path().unwrap().to_owned();
    let trusting = start(
        config().webhook_ca_certificate(&ca).subscription(
            SubscriptionSpec::new("orders", "secure", &endpoint)
                .unwrap()
                .validation(false),
        ),
    )
    .await;
    publish(&trusting, "orders", vec![event(1)]).await;
    eventually("delivered over https", || {
        (receiver.events("inbox").len() == 1).then_some(())
    })
    .await;
    assert_eq!(receiver.events("inbox")[0]["id"], "1");

    let untrusting = start(
        config().subscription(
            SubscriptionSpec::new("orders", "insecure", &endpoint)
                .unwrap()
                .validation(false)
                .retry(RetryPolicy::new(1, 1440).unwrap()),
        ),
    )
    .await;
    publish(&untrusting, "orders", vec![event(2)]).await;
    let attempt = eventually("a failed attempt", || {
        untrusting.delivery_attempts().into_iter().next()
    })
    .await;
    assert_eq!(attempt.outcome, "GenericError");
    assert!(
        attempt
            .error
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("certificate"),
        "{attempt:?}"
    );
}
