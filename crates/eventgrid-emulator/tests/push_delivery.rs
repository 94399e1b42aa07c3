//! Push deliveries against real webhooks on loopback: batches, retries on the service's
//! schedule (shrunk 1,000 times), never-retried statuses, dead letters, time-outs, filters, and
//! publishing that never waits for a subscriber.

mod support;
mod webhook;

use std::time::Duration;

use eventgrid_emulator::{BatchPolicy, EventFilter, RetryPolicy, SubscriptionState};
use serde_json::{Value, json};
use support::{Client, event, start};
use webhook::{Answer, Webhook, active, config, eventually, publish, spec, validating};

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
        config()
            .webhook(spec("orders", "sized", &webhook).batching(BatchPolicy::new(100, 1).unwrap())),
    )
    .await;
    let padded = |n: usize| {
        let mut event = event(n);
        event["data"]["padding"] = json!("x".repeat(100));
        event
    };
    eventually("awaiting", || {
        (emulator.webhook_subscription("orders", "sized")?.state
            == SubscriptionState::AwaitingValidation)
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
    let emulator = start(config().webhook(spec("orders", "flaky", &webhook))).await;
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
    let counters = emulator
        .webhook_subscription("orders", "flaky")
        .unwrap()
        .counters;
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
        config = config.webhook(
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
        let dead_letters = emulator.webhook_dead_letters();
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
        let files: Vec<_> = files_under(&folder)
            .into_iter()
            .filter(|file| {
                file.extension()
                    .is_some_and(|extension| extension == "json")
            })
            .collect();
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
            .webhook(spec("orders", "few-attempts", &few).retry(RetryPolicy::new(3, 1440).unwrap()))
            // A minute scaled by 0.001: 60 ms, reached after the waits of 10 and 30 ms.
            .webhook(spec("orders", "short-lived", &short).retry(RetryPolicy::new(30, 1).unwrap())),
    )
    .await;
    active(&emulator, "orders", "few-attempts").await;
    active(&emulator, "orders", "short-lived").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    let dead_letters = eventually("two dead letters", || {
        let dead_letters = emulator.webhook_dead_letters();
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
            .webhook(spec("orders", "slow", &webhook)),
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
    let emulator = start(config().webhook(spec("orders", "big", &webhook).filter(filter))).await;
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
        let info = emulator.webhook_subscription("orders", "big")?;
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
    let mut config = config().webhook(spec("orders", "stuck", &webhook));
    config.push.queue_capacity = 5;
    let emulator = start(config).await;
    active(&emulator, "orders", "stuck").await;
    for n in 0..20 {
        publish(&emulator, "orders", vec![event(n)]).await;
    }
    assert_eq!(emulator.counters("orders").accepted_events, 20);
    let counters = emulator
        .webhook_subscription("orders", "stuck")
        .unwrap()
        .counters;
    assert_eq!(counters.queued_events, 5);
    assert_eq!(counters.dropped_events, 15);
}

#[tokio::test]
async fn a_dead_letter_folder_that_cannot_be_written_is_reported() {
    // A file where the folder should be: nothing can be created under it.
    let blocker = std::env::temp_dir().join(format!("eg-not-a-folder-{}", uuid::Uuid::new_v4()));
    std::fs::write(&blocker, b"").unwrap();
    let webhook = Webhook::start(|request, _| {
        if request.is_notification() {
            Answer::status(400)
        } else {
            validating(request)
        }
    })
    .await;
    let emulator = start(
        config().webhook(spec("orders", "unwritable", &webhook).dead_letter_folder(&blocker)),
    )
    .await;
    active(&emulator, "orders", "unwritable").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    let error = eventually("the write failure", || {
        emulator
            .webhook_subscription("orders", "unwritable")?
            .dead_letter_error
    })
    .await;
    assert!(error.contains("cannot write"), "{error}");
    assert_eq!(emulator.webhook_dead_letters().len(), 1, "still listed");
    std::fs::remove_file(&blocker).unwrap();
}
