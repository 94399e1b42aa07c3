"""Namespace topics with the official Python SDK (azure-eventgrid 4.22.1) against eventgrid-emulator.

`cargo xtask interop` runs it in one of three modes:

- `publish PREFIX`: publishes the events of namespace_events.jsonl, ids prefixed `PREFIX-`, with
  EventGridPublisherClient(namespace_topic=...): the first alone, the rest as one batch; and
  checks the refusals a user meets (wrong key, a basic-topic client pointed at a namespace).
- `consume SUBSCRIPTION PREFIX,...`: receives every event those publishers published with
  EventGridConsumerClient, checks each against the fixture (id, type, source, subject, time,
  data, extension attributes), and settles them through every path: acknowledge, release (at
  once and after 10 s), reject and renew_locks, with the per-token results of stale tokens.
- `check-cli FILE DELIVERY_COUNT PREFIX,...`: parses `eventgrid receive` output (JSON Lines)
  with the SDK's CloudEvent.from_dict and checks it against the fixture the same way.

Environment: EMULATOR_URL (the namespace endpoint), EMULATOR_KEY, NAMESPACE_TOPIC,
NAMESPACE_EVENTS (the fixture file), LOCK_SECONDS (the subscriptions' lock duration) and, for
https, REQUESTS_CA_BUNDLE and EMULATOR_CA. Over https the first event is published, and the
delayed event received and acknowledged, with a Microsoft Entra token from the emulator's token
endpoint instead of the key.
"""

import base64
import datetime
import json
import os
import ssl
import sys
import time
import urllib.parse
import urllib.request

from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridConsumerClient, EventGridPublisherClient

BASE = os.environ["EMULATOR_URL"]
KEY = os.environ["EMULATOR_KEY"]
TOPIC = os.environ["NAMESPACE_TOPIC"]
LOCK_SECONDS = float(os.environ["LOCK_SECONDS"])
with open(os.environ["NAMESPACE_EVENTS"], encoding="utf-8") as fixture_file:
    FIXTURE = [json.loads(line) for line in fixture_file if line.strip()]
STANDARD = {"specversion", "id", "source", "type", "subject", "time", "data", "data_base64",
            "datacontenttype", "dataschema"}
# @azure/eventgrid-namespaces 1.0.0 sends only the standard attributes: what it publishes
# arrives without its extension attributes.
WITHOUT_EXTENSIONS = {"js"}
CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        sys.exit(f"python namespace interop FAILED: {what}")
    CHECKS += 1


class EmulatorEntraCredential:
    """A TokenCredential taking its tokens from the emulator's Microsoft Entra token endpoint
    (azure-identity would do the same with authority= pointed at it)."""

    def get_token(self, *scopes, **kwargs):
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "interop",
                                       "client_secret": "interop-secret", "scope": scopes[0]}).encode()
        context = ssl.create_default_context(cafile=os.environ["EMULATOR_CA"])
        with urllib.request.urlopen(f"{BASE}/interop-tenant/oauth2/v2.0/token", data=form, context=context,
                                    timeout=10) as response:
            token = json.load(response)
        return AccessToken(token["access_token"], int(time.time()) + token["expires_in"])


def credential():
    """Over https, an Entra token (azure-core sends bearer tokens over https only); else the key."""
    return EmulatorEntraCredential() if BASE.startswith("https:") else AzureKeyCredential(KEY)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_events(prefixes):
    """The fixture events as each publisher sent them, by id."""
    return {f"{prefix}-{spec['id']}": spec for prefix in prefixes for spec in FIXTURE}


def data_of(spec):
    """The fixture event's data as the SDK holds it: bytes for data_base64."""
    if "data_base64" in spec:
        return base64.b64decode(spec["data_base64"])
    return spec.get("data")


def cloud_event(prefix, spec):
    extensions = {name: value for name, value in spec.items() if name not in STANDARD}
    return CloudEvent(
        id=f"{prefix}-{spec['id']}",
        source=spec["source"],
        type=spec["type"],
        subject=spec.get("subject"),
        time=parse_time(spec["time"]) if "time" in spec else None,
        data=data_of(spec),
        datacontenttype=spec.get("datacontenttype"),
        extensions=extensions or None,
    )


def check_event(event, spec, who):
    """`event` (an azure.core CloudEvent) carries what the fixture's `spec` says."""
    what = f"{who}: event {event.id}"
    check(event.type == spec["type"], f"{what}: type {event.type!r}")
    check(event.source == spec["source"], f"{what}: source {event.source!r}")
    check(event.subject == spec.get("subject"), f"{what}: subject {event.subject!r}")
    check(event.data == data_of(spec), f"{what}: data {event.data!r}")
    if "datacontenttype" in spec:
        check(event.datacontenttype == spec["datacontenttype"], f"{what}: datacontenttype {event.datacontenttype!r}")
    if "time" in spec:
        check(event.time == parse_time(spec["time"]), f"{what}: time {event.time!r}")
    extensions = {name: value for name, value in spec.items() if name not in STANDARD}
    if event.id.split("-")[0] in WITHOUT_EXTENSIONS:
        extensions = {}
    check((event.extensions or {}) == extensions, f"{what}: extensions {event.extensions!r}")


def publish(prefix):
    publisher = EventGridPublisherClient(BASE, AzureKeyCredential(KEY), namespace_topic=TOPIC)
    events = [cloud_event(prefix, spec) for spec in FIXTURE]
    EventGridPublisherClient(BASE, credential(), namespace_topic=TOPIC).send(events[0])
    publisher.send(events[1:])

    wrong_key = EventGridPublisherClient(BASE, AzureKeyCredential("d3Jvbmcga2V5"), namespace_topic=TOPIC)
    try:
        wrong_key.send(events[0])
        check(False, "a wrong key was accepted")
    except HttpResponseError as error:
        check(error.status_code == 401, f"wrong key: status {error.status_code}")
    # A basic-topic client (no namespace_topic) at a namespace endpoint: the SDK's 404 hint.
    try:
        EventGridPublisherClient(BASE, AzureKeyCredential(KEY)).send(events[0])
        check(False, "a basic-topic publish to the namespace endpoint was accepted")
    except ResourceNotFoundError as error:
        check("namespace_topic" in str(error), f"404 hint: {error}")


def tokens_of(result):
    failed = {failed.lock_token: failed.error.code for failed in result.failed_lock_tokens}
    return set(result.succeeded_lock_tokens), failed


def settled(result, expected_tokens, what):
    succeeded, failed = tokens_of(result)
    check(succeeded == set(expected_tokens) and not failed, f"{what}: succeeded {succeeded}, failed {failed}")


def lost(result, token, what):
    succeeded, failed = tokens_of(result)
    check(not succeeded and failed == {token: "TokenLost"}, f"{what}: succeeded {succeeded}, failed {failed}")


def receive_all(consumer, count):
    received = []
    deadline = time.monotonic() + 30
    while len(received) < count and time.monotonic() < deadline:
        received += consumer.receive(max_events=100, max_wait_time=10)
    return received


def refused(call, status, code, what):
    try:
        call()
        check(False, f"{what}: accepted")
    except HttpResponseError as error:
        got = (error.status_code, error.error.code if error.error else None)
        check(got[0] == status and code in (None, got[1]), f"{what}: {got}, expected {(status, code)}")


def consume(subscription, prefixes):
    expected = expected_events(prefixes)
    consumer = EventGridConsumerClient(BASE, AzureKeyCredential(KEY), namespace_topic=TOPIC,
                                       subscription=subscription)
    # The service's refusals, as the SDK parses them (nothing is locked by them).
    refused(lambda: consumer.receive(max_events=1, max_wait_time=5), 400, "ArgumentInvalid", "maxWaitTime 5")
    refused(lambda: consumer.release(lock_tokens=["x"], release_delay=5), 400, "ArgumentInvalid", "release delay 5")
    unknown = EventGridConsumerClient(BASE, AzureKeyCredential(KEY), namespace_topic=TOPIC, subscription="unknown")
    # 404 (the live service's code for it is not recorded).
    refused(lambda: unknown.receive(max_events=1, max_wait_time=10), 404, None, "an unknown subscription")
    received = receive_all(consumer, len(expected))
    check(len(received) == len(expected), f"received {len(received)} of {len(expected)} events")
    check(sorted(detail.event.id for detail in received) == sorted(expected), "every published id, once")
    for detail in received:
        check(detail.broker_properties.delivery_count == 1, f"first delivery of {detail.event.id}")
        check_event(detail.event, expected[detail.event.id], "python consumer")
    token = {detail.event.id: detail.broker_properties.lock_token for detail in received}
    ids = sorted(expected)
    rejected, released, delayed, renewed, acknowledged = ids[0], ids[1], ids[2], ids[3], ids[4:]

    settled(consumer.acknowledge(lock_tokens=[token[i] for i in acknowledged]),
            [token[i] for i in acknowledged], "acknowledge")
    lost(consumer.acknowledge(lock_tokens=[token[acknowledged[0]]]), token[acknowledged[0]],
         "acknowledging an acknowledged event")
    result = consumer.renew_locks(lock_tokens=[token[renewed], token[acknowledged[0]]])
    check(tokens_of(result) == ({token[renewed]}, {token[acknowledged[0]]: "TokenLost"}),
          f"renewing a held and a settled lock: {tokens_of(result)}")
    settled(consumer.reject(lock_tokens=[token[rejected]]), [token[rejected]], "reject")
    settled(consumer.release(lock_tokens=[token[released]]), [token[released]], "release")
    settled(consumer.release(lock_tokens=[token[delayed]], release_delay=10), [token[delayed]],
            "release with a 10 s delay")
    lost(consumer.reject(lock_tokens=[token[rejected]]), token[rejected], "rejecting a rejected event")

    again = consumer.receive(max_events=10, max_wait_time=10)
    check([detail.event.id for detail in again] == [released],
          f"the released event, alone (the delayed one waits): {[d.event.id for d in again]}")
    check(again[0].broker_properties.delivery_count == 2, "second delivery of the released event")
    check_event(again[0].event, expected[released], "python consumer, redelivered")
    settled(consumer.acknowledge(lock_tokens=[again[0].broker_properties.lock_token]),
            [again[0].broker_properties.lock_token], "acknowledge the redelivered event")

    # The held event outlives its first lock only because its lock is renewed.
    time.sleep(LOCK_SECONDS * 0.6)
    settled(consumer.renew_locks(lock_tokens=[token[renewed]]), [token[renewed]], "renew_locks")
    time.sleep(LOCK_SECONDS * 0.6)
    settled(consumer.acknowledge(lock_tokens=[token[renewed]]), [token[renewed]],
            "acknowledge after the first lock's end, renewed")

    # Over https, the last settlements with an Entra token.
    consumer = EventGridConsumerClient(BASE, credential(), namespace_topic=TOPIC, subscription=subscription)
    late = receive_all(consumer, 1)
    check([detail.event.id for detail in late] == [delayed], f"the delayed event: {[d.event.id for d in late]}")
    check(late[0].broker_properties.delivery_count == 2, "second delivery of the delayed event")
    settled(consumer.acknowledge(lock_tokens=[late[0].broker_properties.lock_token]),
            [late[0].broker_properties.lock_token], "acknowledge the delayed event")


def check_cli(path, delivery_count, prefixes):
    expected = expected_events(prefixes)
    with open(path, encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    check(sorted(record["event"]["id"] for record in records) == sorted(expected),
          f"eventgrid receive printed every published id once: {len(records)} lines")
    for record in records:
        check(record["deliveryCount"] == delivery_count, f"deliveryCount {record['deliveryCount']}")
        check(bool(record["lockToken"]), "a lock token")
        event = CloudEvent.from_dict(record["event"])
        check_event(event, expected[event.id], "eventgrid receive")


MODE = sys.argv[1]
if MODE == "publish":
    publish(sys.argv[2])
elif MODE == "consume":
    consume(sys.argv[2], sys.argv[3].split(","))
elif MODE == "check-cli":
    check_cli(sys.argv[2], int(sys.argv[3]), sys.argv[4].split(","))
else:
    sys.exit(f"unknown mode {MODE}")
print(f"python namespace {MODE} ({BASE.split(':')[0]}): {CHECKS} checks passed")
