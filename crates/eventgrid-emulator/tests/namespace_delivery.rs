//! Namespace subscriptions over time: lock expiry, the maximum delivery count and the event
//! time-to-live, with short durations (the emulator allows locks shorter than the service).

mod namespace_support;
mod support;

use std::time::Duration;

use eventgrid_emulator::{EmulatorConfig, NamespaceTopicSpec, SubscriptionSpec};
use namespace_support::{Namespace, cloud_event, delivery_count, ids, token};
use serde_json::json;

async fn emulator_with(subscription: SubscriptionSpec) -> eventgrid_emulator::RunningEmulator {
    support::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::open("orders"))
            .subscription(subscription),
    )
    .await
}

fn queue() -> SubscriptionSpec {
    "orders/queue".parse().unwrap()
}

#[tokio::test]
async fn an_expired_lock_makes_the_event_available_again_with_a_raised_count() {
    let emulator = emulator_with(queue().with_lock_duration(Duration::from_millis(200))).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    let first = orders.receive("queue", 1, 10).await;
    assert_eq!(delivery_count(&first[0]), 1);
    // Nothing else is there: this receive waits, and is answered when the lock expires.
    let second = orders.receive("queue", 1, 30).await;
    assert_eq!(ids(&second), ["1"]);
    assert_eq!(delivery_count(&second[0]), 2);
    assert_ne!(token(&first[0]), token(&second[0]));

    let reply = orders
        .settle("queue", "acknowledge", &[token(&first[0])], "")
        .await;
    assert_eq!(
        reply.json()["failedLockTokens"][0]["error"]["code"],
        "TokenLost"
    );
    let reply = orders
        .settle("queue", "acknowledge", &[token(&second[0])], "")
        .await;
    assert_eq!(
        reply.json()["succeededLockTokens"],
        json!([token(&second[0])])
    );
}

#[tokio::test]
async fn after_the_maximum_delivery_count_an_event_is_dead_lettered() {
    let emulator = emulator_with(queue().with_max_delivery_count(2)).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    for expected in 1..=2 {
        let received = orders.receive("queue", 1, 10).await;
        assert_eq!(delivery_count(&received[0]), expected);
        orders
            .settle("queue", "release", &[token(&received[0])], "")
            .await;
    }
    let counts = emulator.subscription_counts("orders", "queue");
    assert_eq!((counts.available, counts.dead_lettered), (0, 1));
    let dead = emulator.dead_letters("orders", "queue");
    assert_eq!(dead[0]["reason"], "MaxDeliveryCountExceeded");
    assert_eq!(dead[0]["delivery_count"], 2);
}

#[tokio::test]
async fn a_lock_expiring_on_the_last_delivery_dead_letters_the_event() {
    let lock = Duration::from_millis(100);
    let emulator = emulator_with(queue().with_lock_duration(lock).with_max_delivery_count(1)).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    let received = orders.receive("queue", 1, 10).await;
    // The lock started before the answer was sent, so it has expired after this.
    tokio::time::sleep(lock * 3).await;
    let counts = emulator.subscription_counts("orders", "queue");
    assert_eq!((counts.locked, counts.dead_lettered), (0, 1));
    assert_eq!(
        emulator.dead_letters("orders", "queue")[0]["reason"],
        "MaxDeliveryCountExceeded"
    );
    let reply = orders
        .settle("queue", "acknowledge", &[token(&received[0])], "")
        .await;
    assert_eq!(
        reply.json()["failedLockTokens"][0]["error"]["code"],
        "TokenLost"
    );
}

#[tokio::test]
async fn events_past_their_time_to_live_are_dead_lettered() {
    let ttl = Duration::from_millis(100);
    let emulator = emulator_with(queue().with_event_time_to_live(ttl)).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("old", "t")]).await;
    tokio::time::sleep(ttl * 3).await;
    orders.publish(&[cloud_event("new", "t")]).await;
    assert_eq!(ids(&orders.receive("queue", 10, 10).await), ["new"]);
    let dead = emulator.dead_letters("orders", "queue");
    assert_eq!(dead[0]["reason"], "TimeToLiveExceeded");
    assert_eq!(dead[0]["event"]["id"], "old");
}

#[tokio::test]
async fn renewing_a_lock_keeps_the_event_locked_past_its_first_expiry() {
    let lock = Duration::from_secs(2);
    let emulator = emulator_with(queue().with_lock_duration(lock)).await;
    let orders = Namespace::new(&emulator, "orders");
    orders.publish(&[cloud_event("1", "t")]).await;
    let received = orders.receive("queue", 1, 10).await;
    let held = token(&received[0]);
    // Renewed every quarter of the lock, the lock outlives its first duration.
    for _ in 0..5 {
        tokio::time::sleep(lock / 4).await;
        let reply = orders.settle("queue", "renewLock", &[held], "").await;
        assert_eq!(reply.json()["succeededLockTokens"], json!([held]));
    }
    let reply = orders.settle("queue", "acknowledge", &[held], "").await;
    assert_eq!(reply.json()["succeededLockTokens"], json!([held]));
    assert_eq!(emulator.subscription_counts("orders", "queue").delivered, 1);
}
