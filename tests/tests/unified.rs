//! The facade's unified client (the seed's `EventGridClient`): one configuration, async and
//! blocking publishing, against the emulator.

use eventgrid::{Credential, Error, EventGridClient, EventGridConfig};
use eventgrid_tests::sandbox;
use serde_json::json;

#[test]
fn publishes_from_async_and_blocking_code_with_one_configuration() {
    sandbox().reset("unified");
    let client = EventGridClient::builder(sandbox().config(&["unified"]))
        .async_credential(Credential::None)
        .sync_credential(Credential::None)
        .build()
        .unwrap();

    client
        .sync_emit_event(
            "unified",
            "order.placed",
            "orders/1",
            json!({"via": "sync"}),
        )
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(client.async_emit_event(
            "unified",
            "order.placed",
            "orders/2",
            json!({"via": "async"}),
        ))
        .unwrap();
    // The async side from inside a task, on a clone.
    let clone = client.clone();
    runtime
        .block_on(async move {
            tokio::spawn(async move {
                clone
                    .async_emit_event(
                        "unified",
                        "order.placed",
                        "orders/3",
                        json!({"via": "task"}),
                    )
                    .await
            })
            .await
        })
        .unwrap()
        .unwrap();

    let via: Vec<_> = sandbox()
        .events("unified")
        .iter()
        .map(|event| event["data"]["via"].clone())
        .collect();
    assert_eq!(via, [json!("sync"), json!("async"), json!("task")]);
    let published = |metrics: std::collections::BTreeMap<String, eventgrid::TopicMetrics>| {
        metrics["unified"].events_published
    };
    assert_eq!(published(client.sync_client().unwrap().metrics()), 1);
    assert_eq!(published(client.async_client().unwrap().metrics()), 2);
}

#[test]
fn a_side_without_a_credential_says_which_is_missing() {
    let config = sandbox().config(&["unified"]);
    let sync_only =
        EventGridClient::with_sync_credential(config.clone(), Credential::None).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(sync_only.async_emit_event("unified", "t", "s", json!({})))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidOption(_)));
    assert!(error.to_string().contains("async_credential"), "{error}");

    let async_only =
        EventGridClient::with_async_credential(config.clone(), Credential::None).unwrap();
    let error = async_only
        .sync_emit_event("unified", "t", "s", json!({}))
        .unwrap_err();
    assert!(error.to_string().contains("sync_credential"), "{error}");

    let error = EventGridClient::builder(config).build().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("async credential, a sync credential or both"),
        "{error}"
    );
}

#[test]
fn topics_added_at_run_time_reach_both_sides() {
    let client = EventGridClient::builder(EventGridConfig::default())
        .async_credential(Credential::None)
        .sync_credential(Credential::None)
        .build()
        .unwrap();
    client.add_topic(sandbox().topic_config("unified")).unwrap();
    assert_eq!(client.async_client().unwrap().topics(), ["unified"]);
    assert_eq!(client.sync_client().unwrap().topics(), ["unified"]);
    let error = client
        .add_topic(sandbox().topic_config("unified"))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidTopic { .. }), "{error}");

    client.remove_topic("unified").unwrap();
    assert!(client.topics().is_empty());
    assert!(client.sync_client().unwrap().topics().is_empty());
    let error = client.remove_topic("unified").unwrap_err();
    assert!(matches!(error, Error::UnknownTopic { .. }), "{error}");
}
