use super::*;

fn spliced(line: &str) -> Result<SplicedEventGridEvent, String> {
    SplicedEventGridEvent::from_line(line)
}

fn json_of(event: &impl Event) -> String {
    let mut out = Vec::new();
    event.write_json(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// What the ordinary reader sends for `line`.
fn ordinary(line: &str) -> String {
    json_of(&EventGridEvent::from_line(line).unwrap())
}

#[test]
fn lines_with_every_field_give_the_same_bytes_as_the_ordinary_reader() {
    let lines = [
        r#"{"id":"e-1","eventType":"order.placed","subject":"orders/1","eventTime":"2024-01-01T00:00:00Z","data":{"total":3}}"#,
        // Escapes, non-ASCII, data with its own spacing, a time with an offset and a fraction.
        r#"{"id":"e\u0032","eventType":"a\"b\\c\/d\n","subject":"é 雪 \ud83d\ude00","eventTime":"2024-06-30T23:59:59.123456789+02:00","data": [1, {"x" : "y\u0000"} ],"dataVersion":"2.0","topic":"t/1","metadataVersion":"1"}"#,
        r#"{"id":"e-3","eventType":"t","subject":"s","eventTime":"2024-01-01T00:00:00Z","data":null}"#,
        r#"{"id":"e-4","eventType":"t","subject":"s","eventTime":"2024-01-01T00:00:00-00:30","data":"text"}"#,
        r#"  {"subject":"s","eventType":"t","id":"e-5","eventTime":"2024-01-01T00:00:00Z"}"#,
    ];
    for line in lines {
        let event = spliced(line.trim()).unwrap();
        assert!(matches!(event, SplicedEventGridEvent::Json(_)), "{line}");
        assert_eq!(json_of(&event), ordinary(line.trim()), "{line}");
        assert!(event.check().is_ok());
    }
}

#[test]
fn defaults_are_the_ordinary_readers() {
    let line = r#"{"eventType":"order.placed","subject":"orders/1","data":{"total":3}}"#;
    let json: serde_json::Value = serde_json::from_str(&json_of(&spliced(line).unwrap())).unwrap();
    let mut expected: serde_json::Value = serde_json::from_str(&ordinary(line)).unwrap();
    assert_eq!(json["dataVersion"], "v1");
    assert_eq!(json["id"].as_str().unwrap().len(), 36);
    uuid::Uuid::parse_str(json["id"].as_str().unwrap()).unwrap();
    let at = json["eventTime"].as_str().unwrap();
    OffsetDateTime::parse(at, &Rfc3339).unwrap();
    assert!(at.ends_with('Z'), "{at}");
    // Apart from the new id and the current time, the same event.
    let mut json = json;
    for field in ["id", "eventTime"] {
        json.as_object_mut().unwrap().remove(field);
        expected.as_object_mut().unwrap().remove(field);
    }
    assert_eq!(json, expected);
}

#[test]
fn lines_that_are_not_events_are_refused_with_the_ordinary_message() {
    for line in [
        r#"{"event_type":"t","subject":"s"}"#,
        r#"{"eventType":"t"}"#,
        r#"{"eventType": "t", "#,
        r#"{"eventType":1,"subject":"s"}"#,
        r#"{"eventType":"t","subject":"s","eventTime":"yesterday"}"#,
        r#"{"eventType":"t","subject":"s","metadataVersion":1}"#,
        r#"[1]"#,
    ] {
        let ours = spliced(line).unwrap_err();
        let theirs = EventGridEvent::from_line(line).unwrap_err();
        assert_eq!(ours, theirs, "{line}");
    }
}

#[test]
fn events_the_client_refuses_keep_the_clients_reason() {
    for line in [
        r#"{"eventType":" ","subject":"s"}"#,
        r#"{"eventType":"t","subject":""}"#,
        r#"{"eventType":"t","subject":"s","id":""}"#,
        r#"{"eventType":"t","subject":"s","dataVersion":"  "}"#,
        r#"{"eventType":"t","subject":"s","eventTime":"9999-12-31T23:00:00-05:00"}"#,
    ] {
        let event = spliced(line).unwrap();
        let SplicedEventGridEvent::Parsed(ordinary) = &event else {
            panic!("{line} was spliced");
        };
        let reason = event.check().unwrap_err();
        assert_eq!(reason, ordinary.check().unwrap_err());
        assert!(!reason.is_empty());
    }
}
