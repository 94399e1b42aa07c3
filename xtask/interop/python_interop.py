"""Interop check of eventgrid-emulator with the official Python SDK (azure-eventgrid 4.22.1).

Publishes EventGridEvents with an access key, CloudEvents with a SAS token from the SDK's own
generate_sas, and custom events; reads them back through the emulator's inspection API and
checks them with the SDK's own parsers. Run by `cargo xtask interop`, which sets:
EMULATOR_URL (e.g. http://127.0.0.1:PORT), EMULATOR_KEY (the topics' key) and, for HTTPS,
EMULATOR_CA (the CA certificate file).
"""

import datetime
import json
import os
import ssl
import sys
import urllib.request

from azure.core.credentials import AzureKeyCredential, AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent, EventGridPublisherClient, generate_sas

BASE = os.environ["EMULATOR_URL"]
KEY = os.environ["EMULATOR_KEY"]
CA = os.environ.get("EMULATOR_CA")
# HTTPS trust comes from REQUESTS_CA_BUNDLE, which `cargo xtask interop` sets to EMULATOR_CA.
CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        sys.exit(f"python interop FAILED: {what}")
    CHECKS += 1


def endpoint(topic):
    return f"{BASE}/{topic}/api/events"


def inspect(path, method="GET", body=None):
    context = ssl.create_default_context(cafile=CA) if CA else None
    request = urllib.request.Request(BASE + path, method=method, data=body)
    if body is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


def client(topic, credential):
    return EventGridPublisherClient(endpoint(topic), credential)


def expect_status(status, send, what):
    try:
        send()
    except HttpResponseError as error:
        check(error.status_code == status, f"{what}: status {error.status_code}, expected {status}")
        return error
    sys.exit(f"python interop FAILED: {what}: no error")


def event_grid_events_with_an_access_key():
    sent = [
        EventGridEvent(subject=f"users/{n}", event_type="user.updated", data={"user_id": n}, data_version="1.0")
        for n in range(3)
    ]
    publisher = client("eg", AzureKeyCredential(KEY))
    publisher.send(sent)
    # data=None: the SDK leaves `data` out; the service accepts that.
    publisher.send(EventGridEvent(subject="users/none", event_type="user.none", data=None, data_version="1"))
    received = [EventGridEvent.from_dict(event) for event in inspect("/_emulator/topics/eg/events")]
    check(len(received) == 4, f"4 EventGridEvents kept, got {len(received)}")
    for before, after in zip(sent, received):
        check(str(after.id) == str(before.id), "id survives")
        check(after.subject == before.subject and after.event_type == before.event_type, "subject and type")
        check(after.data == before.data, f"data {after.data!r}")
        check(after.data_version == "1.0", "dataVersion")
        sent_time = datetime.datetime.fromisoformat(str(before.event_time))
        check(abs(after.event_time - sent_time) < datetime.timedelta(milliseconds=1), "eventTime")
    check(received[3].data is None, "absent data parses as None")

    error = expect_status(
        401,
        lambda: client("eg", AzureKeyCredential("d3Jvbmcga2V5")).send(sent[:1]),
        "wrong access key",
    )
    check("not authorized" in str(error.message or error), f"wrong-key message: {error}")
    requests = inspect("/_emulator/topics/eg/requests")
    check(requests[0]["status"] == 200 and requests[0]["events"] == 3, "first request recorded")
    headers = dict(requests[0]["headers"])
    check(headers.get("aeg-sas-key") == "<redacted>", "the SDK sent aeg-sas-key")
    check(headers.get("content-type", "").startswith("application/json"), "EventGridEvent content type")


def cloud_events_with_a_sas_token():
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    token = generate_sas(endpoint("ce"), KEY, expiry)
    sent = [
        CloudEvent(source="/interop/python", type="user.created", data={"user_id": n}, subject=f"users/{n}",
                   extensions={"correlationid": f"req-{n}"})
        for n in range(2)
    ]
    sent.append(CloudEvent(source="/interop/python", type="blob.bytes", data=b"\x00\x01binary"))
    client("ce", AzureSasCredential(token)).send(sent)
    received = [CloudEvent.from_dict(event) for event in inspect("/_emulator/topics/ce/events")]
    check(len(received) == 3, f"3 CloudEvents kept, got {len(received)}")
    for before, after in zip(sent, received):
        check(str(after.id) == str(before.id) and after.source == before.source and after.type == before.type, "attributes")
        check(after.data == before.data, f"data {after.data!r}")
        check(after.extensions == before.extensions, f"extensions {after.extensions!r}")
    headers = dict(inspect("/_emulator/topics/ce/requests")[0]["headers"])
    check(headers.get("aeg-sas-token") == "<redacted>", "the SDK sent aeg-sas-token")
    check(headers.get("content-type", "").startswith("application/cloudevents-batch+json"), "CloudEvents content type")

    expired = generate_sas(endpoint("ce"), KEY, datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    expect_status(401, lambda: client("ce", AzureSasCredential(expired)).send(sent[:1]), "expired SAS token")
    other_topic = generate_sas(endpoint("eg"), KEY, expiry)
    expect_status(401, lambda: client("ce", AzureSasCredential(other_topic)).send(sent[:1]), "SAS for another topic")
    expect_status(
        400,
        lambda: client("ce", AzureKeyCredential(KEY)).send([EventGridEvent(subject="s", event_type="t", data=1, data_version="1")]),
        "EventGridEvent sent to a CloudEvents topic",
    )


def custom_events():
    sent = [{"customField": "x", "anything": [1, 2]}, {"sub": "Test event", "ver": "1.0", "data": {"a": "b"}}]
    client("custom", AzureKeyCredential(KEY)).send(sent)
    check(inspect("/_emulator/topics/custom/events") == sent, "custom events kept as sent")


def retries_on_injected_faults():
    # azure-core retries 503 and honours retry-after-ms: the send succeeds on the third try.
    inspect("/_emulator/faults/eg", "PUT", json.dumps({"rules": [{"status": 503, "retry_after_ms": 10, "next": 2}]}).encode())
    inspect("/_emulator/topics/eg/events", "DELETE")
    client("eg", AzureKeyCredential(KEY)).send(
        EventGridEvent(subject="retried", event_type="t", data={}, data_version="1")
    )
    counters = inspect("/_emulator/topics/eg/counters")
    check(counters["rejections"].get("503") == 2, f"two 503s injected: {counters}")
    check(counters["accepted_events"] == 1, "the retried event arrived once")


event_grid_events_with_an_access_key()
cloud_events_with_a_sas_token()
custom_events()
retries_on_injected_faults()
print(f"python interop ({BASE.split(':')[0]}): {CHECKS} checks passed")
