"""Push delivery interop: a webhook written with the official Python SDK's parsers receives
eventgrid-emulator's deliveries.

The webhook (http.server) answers both validation handshakes as the documentation says: the
Event Grid schema's SubscriptionValidationEvent with its validationCode (read with
EventGridEvent.from_dict), and the CloudEvents OPTIONS with WebHook-Allowed-Origin. It creates
three subscriptions through the emulator's control API (Event Grid schema; CloudEvents; Event
Grid events converted to CloudEvents in batches), publishes with EventGridPublisherClient, and
parses every delivery with EventGridEvent.from_dict or azure-core's CloudEvent.from_dict. Run by
`cargo xtask interop` with EMULATOR_URL, EMULATOR_KEY and, for HTTPS, EMULATOR_CA.
"""

import json
import os
import ssl
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from azure.core.credentials import AzureKeyCredential
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent, EventGridPublisherClient

BASE = os.environ["EMULATOR_URL"]
KEY = os.environ["EMULATOR_KEY"]
CA = os.environ.get("EMULATOR_CA")
DEADLINE_SECONDS = 60

LOCK = threading.Lock()
RECEIVED = {"eg": [], "ce": [], "converted": []}  # (headers, parsed event)
HANDSHAKES = []
PROBLEMS = []
CHECKS = 0


def check(condition, what):
    global CHECKS
    if not condition:
        sys.exit(f"python webhook interop FAILED: {what}")
    CHECKS += 1


def emulator(path, method="GET", body=None):
    context = ssl.create_default_context(cafile=CA) if CA else None
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, method=method, data=data)
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


class Webhook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self):
        origin = self.headers.get("WebHook-Request-Origin")
        with LOCK:
            HANDSHAKES.append(("OPTIONS", self.path, origin))
        self.answer(200, headers=[("WebHook-Allowed-Origin", origin or "*"), ("Allow", "POST")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            self.handle_post(json.loads(body))
        except Exception as error:  # a parser refusing a delivery is the failure under test
            with LOCK:
                PROBLEMS.append(f"{self.path}: {type(error).__name__}: {error}")
            self.answer(500)

    def handle_post(self, payload):
        kind = self.headers.get("aeg-event-type")
        if kind == "SubscriptionValidation":
            event = EventGridEvent.from_dict(payload[0])
            with LOCK:
                HANDSHAKES.append(("SubscriptionValidation", self.path, event.event_type))
            code = event.data["validationCode"]
            self.answer(200, json.dumps({"validationResponse": code}).encode(),
                        [("Content-Type", "application/json")])
            return
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/cloudevents"):
            items = payload if isinstance(payload, list) else [payload]
            events = [CloudEvent.from_dict(item) for item in items]
        else:
            events = [EventGridEvent.from_dict(item) for item in payload]
        headers = {name.lower(): value for name, value in self.headers.items()}
        with LOCK:
            RECEIVED[self.path.strip("/")].extend((headers, event) for event in events)
        self.answer(200)

    def log_message(self, *args):
        pass


def wait_for(what, condition):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        with LOCK:
            if PROBLEMS:
                sys.exit(f"python webhook interop FAILED: {PROBLEMS}")
        if condition():
            return
        time.sleep(0.05)
    sys.exit(f"python webhook interop FAILED: gave up waiting for {what}")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}"

    subscriptions = [
        ("eg", "python-eg", {"endpoint": f"{hook}/eg"}),
        ("ce", "python-ce", {"endpoint": f"{hook}/ce"}),
        ("eg", "python-converted", {"endpoint": f"{hook}/converted",
                                    "deliverySchema": "cloudevents", "maxEventsPerBatch": 10}),
    ]
    for topic, name, document in subscriptions:
        emulator(f"/_emulator/webhooks/{topic}/{name}", "PUT", document)
    for topic, name, _ in subscriptions:
        wait_for(f"{name} validated",
                 lambda: emulator(f"/_emulator/webhooks/{topic}/{name}")["state"] == "active")
    # The handshake follows the delivery schema: CloudEvents deliveries use the OPTIONS one.
    kinds = sorted((kind, path) for kind, path, _ in HANDSHAKES)
    check(kinds == [("OPTIONS", "/ce"), ("OPTIONS", "/converted"), ("SubscriptionValidation", "/eg")],
          f"handshakes {HANDSHAKES}")
    check(all(origin in ("eventgrid.azure.net", "Microsoft.EventGrid.SubscriptionValidationEvent")
              for _, _, origin in HANDSHAKES), f"handshake contents {HANDSHAKES}")

    credential = AzureKeyCredential(KEY)
    EventGridPublisherClient(f"{BASE}/eg/api/events", credential).send([
        EventGridEvent(subject=f"orders/{n}", event_type="order.placed", data={"order": n},
                       data_version="2.0", id=f"eg-{n}")
        for n in range(3)
    ])
    EventGridPublisherClient(f"{BASE}/ce/api/events", credential).send([
        CloudEvent(source="/orders", type="order.placed", data={"order": n}, id=f"ce-{n}",
                   extensions={"tenant": "contoso"})
        for n in range(2)
    ])
    wait_for("every delivery", lambda: (len(RECEIVED["eg"]), len(RECEIVED["ce"]),
                                        len(RECEIVED["converted"])) == (3, 2, 3))

    for headers, event in RECEIVED["eg"]:
        check(isinstance(event, EventGridEvent), "EventGridEvent.from_dict")
        check(event.event_type == "order.placed" and event.data_version == "2.0", "eventType, dataVersion")
        check(event.subject == f"orders/{event.data['order']}", "subject and data")
        check(event.topic.endswith("/topics/eg"), f"topic {event.topic}")
        check(headers["aeg-subscription-name"] == "PYTHON-EG", "aeg-subscription-name")
        check(headers["aeg-event-type"] == "Notification", "aeg-event-type")
        check(headers["aeg-delivery-count"] == "0", "aeg-delivery-count")
        check(headers["aeg-data-version"] == "2.0", "aeg-data-version")
        check(headers["content-type"].startswith("application/json"), "content type")
    check(sorted(event.id for _, event in RECEIVED["eg"]) == ["eg-0", "eg-1", "eg-2"], "ids")

    for headers, event in RECEIVED["ce"]:
        check(isinstance(event, CloudEvent), "CloudEvent.from_dict")
        check(event.source == "/orders" and event.type == "order.placed", "source, type")
        check(event.extensions.get("tenant") == "contoso", f"extensions {event.extensions}")
        check(headers["content-type"].startswith("application/cloudevents+json"), "single content type")
    check(sorted(event.id for _, event in RECEIVED["ce"]) == ["ce-0", "ce-1"], "CloudEvent ids")

    for headers, event in RECEIVED["converted"]:
        check(event.type == "order.placed" and event.source.endswith("/topics/eg"), "converted type, source")
        check(event.subject == f"orders/{event.data['order']}", "converted subject and data")
        check(headers["content-type"].startswith("application/cloudevents-batch+json"), "batch content type")

    attempts = emulator("/_emulator/deliveries")
    notifications = [a for a in attempts if a["kind"] == "Notification"]
    check(notifications and all(a["outcome"] == "Succeeded" for a in notifications), "attempts listed")
    check(emulator("/_emulator/dead-letters") == [], "no dead letters")
    server.shutdown()
    print(f"python webhook interop: {CHECKS} checks passed against {BASE}")


main()
