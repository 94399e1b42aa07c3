//! Namespace topics with queue subscriptions: publishing, receiving and settling over HTTP as
//! the official SDKs do.

mod namespace_support;
mod support;

use std::time::Duration;

use eventgrid_emulator::{EmulatorConfig, NamespaceTopicSpec, SubscriptionSpec};
use namespace_support::{Namespace, cloud_event, delivery_count, ids, token};
use serde_json::json;

fn subscription(spec: &str) -> SubscriptionSpec {
    spec.parse().unwrap()
}

fn config() -> EmulatorConfig {
    EmulatorConfig::new()
        .namespace_topic(NamespaceTopicSpec::open("orders"))
        .subscription(subscription("orders/billing"))
        .subscription(subscription("orders/shipping"))
}

#[tokio::test]
async fn every_subscription_gets_every_event_in_both_content_types() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    let reply = orders
        .publish(&[
            cloud_event("1", "order.placed"),
            cloud_event("2", "order.placed"),
        ])
        .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "{}"));
    let reply = orders.publish_one(&cloud_event("3", "order.paid")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    for name in ["billing", "shipping"] {
        let received = orders.receive(name, 10, 10).await;
        assert_eq!(ids(&received), ["1", "2", "3"], "{name}");
        assert!(received.iter().all(|item| delivery_count(item) == 1));
        // The event comes back as published, extension attributes included.
        assert_eq!(received[0]["event"], cloud_event("1", "order.placed"));
    }
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(
        (counts.locked, counts.available, counts.delivered),
        (3, 0, 3)
    );
}

#[tokio::test]
async fn receive_answers_with_at_most_max_events_and_acknowledged_events_are_gone() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    let events: Vec<_> = (0..5).map(|n| cloud_event(&n.to_string(), "t")).collect();
    orders.publish(&events).await;
    let first = orders.receive("billing", 2, 10).await;
    assert_eq!(ids(&first), ["0", "1"]);
    let tokens: Vec<&str> = first.iter().map(token).collect();
    let reply = orders.settle("billing", "acknowledge", &tokens, "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"failedLockTokens": [], "succeededLockTokens": tokens})
    );
    let rest = orders.receive("billing", 100, 10).await;
    assert_eq!(ids(&rest), ["2", "3", "4"]);
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!((counts.acknowledged, counts.locked), (2, 3));
}

#[tokio::test]
async fn a_waiting_receive_is_answered_as_soon_as_an_event_arrives() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    let receiver = Namespace::new(&emulator, "orders");
    let waiting = tokio::spawn(async move { receiver.receive("billing", 10, 120).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    orders.publish(&[cloud_event("late", "t")]).await;
    // Far less than the 120 s the receive may wait: only a wake-up on arrival passes.
    let received = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the receive is answered when the event arrives")
        .unwrap();
    assert_eq!(ids(&received), ["late"]);
}

#[tokio::test]
async fn released_events_come_back_with_a_raised_delivery_count_and_rejected_ones_never() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    orders
        .publish(&[cloud_event("keep", "t"), cloud_event("bad", "t")])
        .await;
    let received = orders.receive("billing", 2, 10).await;
    let reply = orders
        .settle("billing", "release", &[token(&received[0])], "")
        .await;
    assert_eq!(
        reply.json()["succeededLockTokens"],
        json!([token(&received[0])])
    );
    let reply = orders
        .settle("billing", "reject", &[token(&received[1])], "")
        .await;
    assert_eq!(
        reply.json()["succeededLockTokens"],
        json!([token(&received[1])])
    );

    let again = orders.receive("billing", 10, 10).await;
    assert_eq!(ids(&again), ["keep"]);
    assert_eq!(delivery_count(&again[0]), 2);
    let reply = orders
        .settle("billing", "renewLock", &[token(&again[0])], "")
        .await;
    assert_eq!(
        reply.json()["succeededLockTokens"],
        json!([token(&again[0])])
    );

    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(
        (
            counts.released,
            counts.rejected,
            counts.dead_lettered,
            counts.locked
        ),
        (1, 1, 1, 1)
    );
    let dead = emulator.dead_letters("orders", "billing");
    assert_eq!(dead[0]["reason"], "Rejected");
    assert_eq!(dead[0]["event"]["id"], "bad");
}

#[tokio::test]
async fn settled_and_unknown_tokens_fail_with_200_and_the_service_reason() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    let received = orders.receive("billing", 1, 10).await;
    let lock = token(&received[0]);
    orders.settle("billing", "acknowledge", &[lock], "").await;
    for operation in ["acknowledge", "release", "reject", "renewLock"] {
        let reply = orders
            .settle("billing", operation, &[lock, "never-issued"], "")
            .await;
        assert_eq!(reply.status, 200, "{operation}: {}", reply.body);
        let lost = json!({"code": "TokenLost", "message": "Token has expired."});
        assert_eq!(
            reply.json(),
            json!({
                "failedLockTokens": [
                    {"lockToken": lock, "error": lost},
                    {"lockToken": "never-issued", "error": lost},
                ],
                "succeededLockTokens": [],
            }),
            "{operation}"
        );
    }
}

#[tokio::test]
async fn a_release_delay_holds_the_event_back() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    let received = orders.receive("billing", 1, 10).await;
    let reply = orders
        .settle(
            "billing",
            "release",
            &[token(&received[0])],
            "&releaseDelayInSeconds=10",
        )
        .await;
    assert_eq!(reply.json()["failedLockTokens"], json!([]));
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(
        (counts.delayed, counts.available, counts.released),
        (1, 0, 1)
    );

    let reply = orders
        .settle("billing", "release", &["x"], "&releaseDelayInSeconds=5")
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "ArgumentInvalid");
    assert_eq!(reply.header("x-ms-error-code"), Some("ArgumentInvalid"));
}

#[tokio::test]
async fn event_type_filters_choose_what_enters_a_subscription() {
    let emulator = support::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::open("orders"))
            .subscription(subscription("orders/placed").with_event_types(["Order.Placed"]))
            .subscription(subscription("orders/all")),
    )
    .await;
    let orders = Namespace::new(&emulator, "orders");
    orders
        .publish(&[
            cloud_event("1", "order.placed"),
            cloud_event("2", "order.cancelled"),
        ])
        .await;
    assert_eq!(ids(&orders.receive("placed", 10, 10).await), ["1"]);
    assert_eq!(ids(&orders.receive("all", 10, 10).await), ["1", "2"]);
    assert_eq!(emulator.subscription_counts("orders", "placed").enqueued, 1);
}

#[tokio::test]
async fn receive_parameters_out_of_range_are_refused() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    for (max_events, wait, parameter) in [
        (0, 10, "maxEvents"),
        (101, 10, "maxEvents"),
        (1, 9, "maxWaitTime"),
        (1, 121, "maxWaitTime"),
    ] {
        let reply = orders.receive_reply("billing", max_events, wait).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.code(), "ArgumentInvalid");
        assert!(
            reply
                .message()
                .starts_with(&format!("Invalid {parameter} parameter")),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_inspection_api_shows_counts_and_dead_letters() {
    let emulator = support::start(config()).await;
    let orders = Namespace::new(&emulator, "orders");
    orders
        .publish(&[cloud_event("1", "t"), cloud_event("2", "t")])
        .await;
    let received = orders.receive("billing", 1, 10).await;
    orders
        .settle("billing", "reject", &[token(&received[0])], "")
        .await;
    let client = support::Client::new();
    let base = emulator.base_url();
    let reply = client
        .get(&format!(
            "{base}/_emulator/namespace/topics/orders/subscriptions/billing"
        ))
        .await;
    let counts = &reply.json()["counts"];
    assert_eq!(
        (
            &counts["available"],
            &counts["rejected"],
            &counts["dead_lettered"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    let reply = client
        .get(&format!(
            "{base}/_emulator/namespace/topics/orders/subscriptions/billing/deadletters"
        ))
        .await;
    assert_eq!(reply.json()[0]["event"]["id"], "1");
    let reply = client
        .get(&format!("{base}/_emulator/namespace/topics"))
        .await;
    let topics = reply.json();
    assert_eq!(topics[0]["published_events"], 2);
    assert_eq!(topics[0]["subscriptions"][1]["counts"]["available"], 2);
}
