//! Namespace topics refuse what the service refuses, in its error shape (`{"error":{"code",
//! "message"}}` and `x-ms-error-code`): credentials, content, paths, limits; and fault rules
//! apply to their operations.

mod namespace_support;
mod support;

use eventgrid_emulator::{
    EmulatorConfig, FaultRule, Limits, NamespaceTopicSpec, RunningEmulator, SubscriptionSpec,
};
use namespace_support::{Namespace, VERSION, cloud_event, ids};
use serde_json::json;

const KEY: &str = "bmFtZXNwYWNlLWtleQ==";

async fn emulator() -> RunningEmulator {
    support::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::keyed("orders", KEY))
            .namespace_topic(NamespaceTopicSpec::open("open"))
            .topic(eventgrid_emulator::TopicSpec::open("basic"))
            .subscription("orders/billing".parse::<SubscriptionSpec>().unwrap())
            .subscription("open/queue".parse::<SubscriptionSpec>().unwrap())
            .limits(Limits {
                max_events_per_request: 3,
                ..Limits::default()
            })
            .admin_key("admin"),
    )
    .await
}

fn assert_refused(reply: &support::Reply, status: u16, code: &str, message_part: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert_eq!(reply.header("x-ms-error-code"), Some(code));
    assert!(reply.message().contains(message_part), "{}", reply.body);
}

#[tokio::test]
async fn keys_and_bearer_tokens_are_accepted_and_sas_tokens_refused() {
    let emulator = emulator().await;
    let event = [cloud_event("1", "t")];
    let keyed = Namespace::new(&emulator, "orders")
        .with_header("authorization", &format!("SharedAccessKey {KEY}"));
    assert_eq!(keyed.publish(&event).await.status, 200);
    let bearer = Namespace::new(&emulator, "orders").with_header(
        "authorization",
        &format!("Bearer {}", emulator.bearer_token()),
    );
    assert_eq!(bearer.publish(&event).await.status, 200);
    assert_eq!(ids(&bearer.receive("billing", 10, 10).await), ["1", "1"]);

    let anonymous = Namespace::new(&emulator, "orders");
    assert_refused(
        &anonymous.publish(&event).await,
        401,
        "Unauthorized",
        "SharedAccessKey",
    );
    assert_refused(
        &anonymous.receive_reply("billing", 1, 10).await,
        401,
        "Unauthorized",
        "SharedAccessKey",
    );
    let wrong = Namespace::new(&emulator, "orders")
        .with_header("authorization", "SharedAccessKey d3Jvbmc=");
    assert_refused(
        &wrong.publish(&event).await,
        401,
        "Unauthorized",
        "not authorized",
    );
    let sas = Namespace::new(&emulator, "orders")
        .with_header("authorization", "SharedAccessSignature r=x&e=1&s=y");
    assert_refused(
        &sas.publish(&event).await,
        401,
        "Unauthorized",
        "SAS tokens are not accepted",
    );
    let sas_header =
        Namespace::new(&emulator, "orders").with_header("aeg-sas-token", "r=x&e=1&s=y");
    assert_refused(
        &sas_header.publish(&event).await,
        401,
        "Unauthorized",
        "SAS tokens",
    );
    let basic_key = Namespace::new(&emulator, "orders").with_header("aeg-sas-key", KEY);
    assert_refused(
        &basic_key.publish(&event).await,
        401,
        "Unauthorized",
        "aeg-sas-key",
    );
    let bad_bearer =
        Namespace::new(&emulator, "orders").with_header("authorization", "Bearer not.a.token");
    let reply = bad_bearer.publish(&event).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    // Open topics take any request.
    assert_eq!(
        Namespace::new(&emulator, "open")
            .publish(&event)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn bodies_that_are_not_cloud_events_are_refused_with_the_service_shape() {
    let emulator = emulator().await;
    let open = Namespace::new(&emulator, "open");
    let event_grid_event = json!([{"id": "1", "subject": "s", "eventType": "t",
        "eventTime": "2024-01-01T00:00:00Z", "dataVersion": "1", "data": {}}]);
    let reply = open
        .publish_raw(
            "application/cloudevents-batch+json",
            &event_grid_event.to_string(),
        )
        .await;
    assert_refused(&reply, 400, "BadRequest", "");
    assert!(
        reply.json()["error"].get("details").is_none(),
        "{}",
        reply.body
    );
    let reply = open.publish_raw("application/json", "[]").await;
    assert_refused(&reply, 400, "BadRequest", "CloudEvents only");
    let reply = open
        .publish_raw(
            "application/cloudevents+json",
            &json!([cloud_event("1", "t")]).to_string(),
        )
        .await;
    assert_refused(&reply, 400, "BadRequest", "one CloudEvent");
    let mut no_id = cloud_event("1", "t");
    no_id.as_object_mut().unwrap().remove("id");
    assert_refused(&open.publish_one(&no_id).await, 400, "BadRequest", "'id'");
    let four: Vec<_> = (0..4).map(|n| cloud_event(&n.to_string(), "t")).collect();
    assert_refused(
        &open.publish(&four).await,
        413,
        "RequestEntityTooLarge",
        "limit is 3",
    );
    assert_eq!(emulator.subscription_counts("open", "queue").enqueued, 0);
}

#[tokio::test]
async fn paths_versions_and_methods_are_checked() {
    let emulator = emulator().await;
    let client = support::Client::new();
    let base = emulator.namespace_endpoint();
    let post = |path: String| {
        let client = client.clone();
        async move { client.post_json(&format!("{base}{path}"), &[], "[]").await }
    };
    assert_refused(
        &post(format!("/topics/missing:publish?{VERSION}")).await,
        404,
        "NotFound",
        "Configured namespace topics: orders, open",
    );
    assert_refused(
        &post(format!(
            "/topics/open/eventsubscriptions/missing:receive?{VERSION}"
        ))
        .await,
        404,
        "NotFound",
        "its subscriptions: queue",
    );
    assert_refused(
        &post(format!(
            "/topics/open/eventsubscriptions/queue:peek?{VERSION}"
        ))
        .await,
        404,
        "NotFound",
        "",
    );
    // The common mix-up of basic and namespace endpoints says what happened.
    assert_refused(
        &post(format!("/topics/basic:publish?{VERSION}")).await,
        404,
        "NotFound",
        "'basic' is a basic topic, not a namespace topic",
    );
    let reply = post("/open/api/events?api-version=2018-01-01".to_owned()).await;
    assert_eq!(reply.status, 404);
    assert!(
        reply
            .message()
            .contains("'open' is a namespace topic: publish to /topics/open:publish"),
        "{}",
        reply.body
    );
    assert_refused(
        &post("/topics/open:publish".to_owned()).await,
        400,
        "BadRequest",
        "api-version",
    );
    assert_refused(
        &post("/topics/open:publish?api-version=2018-01-01".to_owned()).await,
        400,
        "BadRequest",
        "2024-06-01",
    );
    let reply = client
        .get(&format!("{base}/topics/open:publish?{VERSION}"))
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("x-ms-error-code"), Some("MethodNotAllowed"));
}

#[tokio::test]
async fn fault_rules_apply_to_every_namespace_operation() {
    let emulator = emulator().await;
    let open = Namespace::new(&emulator, "open");
    emulator
        .set_namespace_fault("open", FaultRule::status(503).retry_after_secs(1).next(1))
        .unwrap();
    let reply = open.publish(&[cloud_event("1", "t")]).await;
    assert_refused(&reply, 503, "ServiceUnavailable", "Injected");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(open.publish(&[cloud_event("1", "t")]).await.status, 200);

    // A refused receive locks nothing.
    emulator
        .set_namespace_fault("open", FaultRule::status(500).next(1))
        .unwrap();
    assert_eq!(open.receive_reply("queue", 1, 10).await.status, 500);
    assert_eq!(emulator.subscription_counts("open", "queue").available, 1);
    let received = open.receive("queue", 1, 10).await;

    // Over HTTP too, and a dropped connection gives no answer.
    let client = support::Client::new();
    let admin = [("authorization", "Bearer admin")];
    let url = format!("{}/_emulator/namespace/faults/open", emulator.base_url());
    let rule = json!({"rules": [{"drop": true, "next": 1}]}).to_string();
    let reply = client.send("PUT", &url, &admin, rule).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let url = format!(
        "{}/topics/open/eventsubscriptions/queue:acknowledge?{VERSION}",
        emulator.namespace_endpoint()
    );
    let body = json!({"lockTokens": [namespace_support::token(&received[0])]}).to_string();
    assert!(
        client
            .try_send("POST", &url, &[], body.clone())
            .await
            .is_err()
    );
    let reply = client.send("POST", &url, &[], body).await;
    assert_eq!(
        reply.json()["succeededLockTokens"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    emulator
        .set_namespace_fault("open", FaultRule::status(503))
        .unwrap();
    emulator.clear_all_faults();
    assert_eq!(open.publish(&[cloud_event("2", "t")]).await.status, 200);
    emulator.clear_namespace_faults("open");
    let url = format!("{}/_emulator/namespace/faults/open", emulator.base_url());
    let reply = client.send("GET", &url, &admin, "").await;
    assert_eq!(reply.json()["rules"], json!([]));
}

#[tokio::test]
async fn the_admin_key_guards_the_namespace_inspection_api() {
    let emulator = emulator().await;
    let client = support::Client::new();
    let url = format!("{}/_emulator/namespace/topics", emulator.base_url());
    assert_eq!(client.get(&url).await.status, 401);
    let reply = client
        .send("GET", &url, &[("authorization", "Bearer admin")], "")
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()[0]["auth"], "key");
}
