//! Push delivery's control API, AzureEventGridSimulator's layout (a port per topic) and https
//! subscribers trusted through the extra CA.

mod support;
mod webhook;

use eventgrid_emulator::{EmulatorConfig, RetryPolicy, TopicSpec, WebhookSubscription};
use serde_json::{Value, json};
use support::{Client, event, start};
use webhook::{Answer, SCALE, Webhook, active, config, eventually, publish};

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
            &format!("{base}/_emulator/webhooks/orders/api-made"),
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
            .webhook_subscription("orders", "api-made")?
            .counters
            .filtered_events
            == 1)
            .then_some(())
    })
    .await;
    let listed = client
        .get(&format!("{base}/_emulator/webhooks"))
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
            &format!("{base}/_emulator/webhooks/orders/xyz1"),
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
            &format!("{base}/_emulator/webhooks/nope/xyz1"),
            &[],
            document.to_string(),
        )
        .await;
    assert_eq!(unknown_topic.status, 404);
    let removed = client
        .send(
            "DELETE",
            &format!("{base}/_emulator/webhooks/orders/api-made"),
            &[],
            "",
        )
        .await;
    assert_eq!(removed.status, 204);
    assert!(emulator.webhook_subscriptions().is_empty());
    // The endpoint hears of it, as from the service.
    let received = webhook
        .wait_until("the deletion event", |r| {
            r.iter()
                .any(|r| r.header("aeg-event-type") == Some("SubscriptionDeletion"))
        })
        .await;
    let deletion = received
        .iter()
        .find(|r| r.header("aeg-event-type") == Some("SubscriptionDeletion"))
        .unwrap();
    assert_eq!(
        deletion.json()[0]["eventType"],
        "Microsoft.EventGrid.SubscriptionDeletedEvent"
    );
    let again = client
        .send(
            "DELETE",
            &format!("{base}/_emulator/webhooks/orders/api-made"),
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
        config().webhook_ca_certificate(&ca).webhook(
            WebhookSubscription::new("orders", "secure", &endpoint)
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
        config().webhook(
            WebhookSubscription::new("orders", "insecure", &endpoint)
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

#[test]
fn blocking_code_adds_subscriptions_to_a_background_emulator() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let webhook = runtime.block_on(Webhook::accepting());
    let emulator = eventgrid_emulator::Emulator::start_in_background(config()).unwrap();
    emulator
        .add_webhook(WebhookSubscription::new("orders", "from-a-thread", &webhook.url).unwrap())
        .unwrap();
    let duplicate = WebhookSubscription::new("orders", "FROM-A-THREAD", &webhook.url).unwrap();
    let error = emulator.add_webhook(duplicate).unwrap_err().to_string();
    assert!(error.contains("already has a subscription"), "{error}");
    let unknown = WebhookSubscription::new("nope", "abc", &webhook.url).unwrap();
    assert!(emulator.add_webhook(unknown).is_err());
    let body = Value::Array(vec![event(3)]).to_string();
    let request = format!(
        "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = support::raw_exchange(emulator.local_addr(), request.as_bytes()).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let events = runtime.block_on(webhook.wait_for_events(1));
    assert_eq!(events[0]["id"], "3");
    assert!(emulator.remove_webhook("orders", "from-a-thread"));
    assert!(emulator.webhook_subscriptions().is_empty());
}

#[tokio::test]
async fn a_topic_has_at_most_500_subscriptions() {
    let emulator = start(config()).await;
    // Validation off and a closed port: nothing is sent, so adding is all this costs.
    for n in 0..500 {
        let spec = WebhookSubscription::new("orders", format!("sub-{n}"), "http://127.0.0.1:9/")
            .unwrap()
            .validation(false);
        emulator.add_webhook(spec).unwrap();
    }
    let one_more = WebhookSubscription::new("orders", "sub-500", "http://127.0.0.1:9/").unwrap();
    let error = emulator.add_webhook(one_more).unwrap_err().to_string();
    assert!(error.contains("500 subscriptions"), "{error}");
}

#[tokio::test]
async fn the_control_api_writes_dead_letters_only_under_the_dead_letter_root() {
    let root = std::env::temp_dir().join(format!("eg-dead-letter-root-{}", uuid::Uuid::new_v4()));
    let webhook = Webhook::start(|request, _| {
        if request.is_notification() {
            Answer::status(400)
        } else {
            webhook::validating(request)
        }
    })
    .await;
    let emulator = start(config().dead_letter_root(&root)).await;
    let client = Client::new();
    let base = emulator.base_url();
    let put = |name: &'static str, folder: String| {
        let document = json!({"endpoint": webhook.url, "deadLetterFolder": folder});
        let client = &client;
        let url = format!("{base}/_emulator/webhooks/orders/{name}");
        async move { client.send("PUT", &url, &[], document.to_string()).await }
    };
    let outside = std::env::temp_dir().join(format!("eg-outside-{}", uuid::Uuid::new_v4()));
    for (folder, expected) in [
        (
            outside.display().to_string(),
            "outside the dead-letter root",
        ),
        ("../escape".to_owned(), "`..` is not allowed"),
        (
            format!("{}/../escape", root.display()),
            "`..` is not allowed",
        ),
    ] {
        let refused = put("refused", folder.clone()).await;
        assert_eq!(refused.status, 400, "{folder}: {}", refused.body);
        assert!(
            refused.message().contains(expected),
            "{}",
            refused.message()
        );
    }
    assert!(emulator.webhook_subscriptions().is_empty());

    let created = put("inside", "letters".to_owned()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    active(&emulator, "orders", "inside").await;
    publish(&emulator, "orders", vec![event(1)]).await;
    eventually("the dead letter's file under the root", || {
        std::fs::read_dir(root.join("letters/ORDERS/INSIDE"))
            .ok()
            .map(drop)
    })
    .await;
    assert!(!outside.exists());
    std::fs::remove_dir_all(&root).unwrap();
}
