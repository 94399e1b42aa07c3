#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target (fuzz/corpus/TARGET/seed-*) from the reference
fixtures (tests/fixtures/reference): spec examples, SDK wire captures and SAS vectors, plus
hand-made cases of each format. Run from the repository root; the fuzzer adds what it finds."""
import base64, hashlib, hmac, json, os, pathlib, urllib.parse

ROOT = pathlib.Path("fuzz/corpus")
REF = pathlib.Path("tests/fixtures/reference")
seeds = {}

def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, []).append(data)

# Publish bodies: the spec examples and SDK captures (EventGrid, CloudEvents, custom).
bodies = []
for path in sorted((REF / "spec-examples").glob("*.json")):
    events = json.loads(path.read_text()).get("parameters", {}).get("events")
    if isinstance(events, list):
        bodies.append(json.dumps(events))
for request in json.loads((REF / "sdk-wire-captures.json").read_text())["requests"]:
    bodies.append(request["body"])
for body in bodies:
    add("json_scanner", body)
for case in ["[]", "[1,]", "[\"\\ud83d\\ude00\"]", "[-0.5E+10]", "[1e400]", "[" * 127 + "]" * 127,
             "[{\"a\":1}] x", "[\"a\\u00e9\"]", "[true,false,null]", "[0.1e-400]"]:
    add("json_scanner", case)

# JSON Lines: each published event as one line, for each schema choice byte.
for body in bodies:
    events = json.loads(body)
    lines = "\n".join(json.dumps(event, separators=(",", ":")) for event in events) + "\n"
    schema = 0 if "eventType" in body else 1 if "specversion" in body else 2
    add("jsonl_line", bytes([schema]) + lines.encode())
# An event time with no UTC equivalent (issue 11 item 2: it panicked before the fix).
add("jsonl_line", b"\x00" + b'{"eventType":"t","subject":"s","eventTime":"9999-12-31T23:59:59-01:00"}\n')
add("jsonl_line", b"\x01" + b'{"source":"/s","type":"t","time":"2024-01-01T00:00:00+05:30","ext":1}\r\n\n{}\n')
add("jsonl_line", b"\x80" + b"   \n" + b"{" * 80 + b"\n")

# Answers: status, attempts so far, headers, empty line, body.
def answer(status, headers, body, attempts=0):
    head = "\n".join(f"{name}: {value}" for name, value in headers)
    return status.to_bytes(2, "big") + bytes([attempts]) + f"{head}\n\n{body}".encode()
def status_input(status):  # the target maps the two bytes to 100 + n % 900
    return status - 100
error = json.dumps({"error": {"code": "BadRequest", "message": "bad", "details": [{"code": "InputJsonInvalid", "message": "x"}]}})
add("client_response", answer(status_input(200), [("x-ms-request-id", "req-1")], ""))
add("client_response", answer(status_input(400), [("x-ms-request-id", "req-2"), ("content-type", "application/json")], error))
add("client_response", answer(status_input(503), [("retry-after", "2")], "busy", 1))
add("client_response", answer(status_input(429), [("retry-after-ms", "250"), ("x-ms-retry-after-ms", "1500")], ""))
add("client_response", answer(status_input(503), [("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], ""))
add("client_response", answer(status_input(401), [("www-authenticate", "Bearer")], "Unauthorized"))
add("client_response", answer(status_input(413), [], "x" * 600))
add("client_response", answer(status_input(503), [("retry-after", "18446744073709551615")], ""))
add("client_response", answer(status_input(429), [("retry-after-ms", "1e300")], ""))

# Environment: NAME=VALUE entries separated by NUL, after a choice byte.
def environ(list_all, pairs):
    return bytes([list_all]) + b"\0".join(f"{n}={v}".encode() for n, v in pairs)
add("env_config", environ(0, [("EVENTGRID_TOPICS", "user-events, order.events"),
    ("EVENTGRID_USER_EVENTS_ENDPOINT", "https://u.westus2-1.eventgrid.azure.net"),
    ("EVENTGRID_USER_EVENTS_KEY", "a2V5a2V5a2V5a2V5"),
    ("EVENTGRID_ORDER_EVENTS_ENDPOINT", "https://o.westus2-1.eventgrid.azure.net/api/events"),
    ("EVENTGRID_ORDER_EVENTS_SCHEMA", "cloudevents")]))
add("env_config", environ(1, [("EVENTGRID_ORDERS_ENDPOINT", "http://127.0.0.1:7070/orders/api/events"),
    ("EVENTGRID_ORDERS_SAS", "r=x&e=y&s=zzzzzzzzzzzz")]))
add("env_config", environ(0, [("EVENTGRID_TOPICS", "user-events"),
    ("EVENTGRID_USER-EVENTS_ENDPOINT", "https://u.example.com"), ("EVENTGRID_USER-EVENTS_KEY", "k"),
    ("EVENTGRID_USER_EVENTS_SAS", "s")]))

# SAS tokens: the SDK vectors as they are, and tokens for the target's topic in every expiry form.
for vector in json.loads((REF / "sas-vectors.json").read_text())["vectors"]:
    add("sas_token", b"\0" + vector["token"].encode())
resource = urllib.parse.quote("http://127.0.0.1:7070/orders/api/events?api-version=2018-01-01", safe="")
for expiry in ["2031-01-01 00:00:00+00:00", "1/1/2031 12:00:00 AM", "1/1/2031 12:00:00 AM +00:00",
               "2031-01-01T00:00:00Z", "1924992000", "2031-01-01 00:00:00.123456", "1/1/2030 12:00:00 AM --128:00"]:
    add("sas_token", b"\1" + f"r={resource}&e={urllib.parse.quote(expiry)}".encode())

# Bearer tokens: claims to sign, and a token as the emulator issues them.
claims = {"aud": "https://eventgrid.azure.net", "iss": "https://login.microsoftonline.com/t/v2.0",
          "sub": "c", "appid": "c", "tid": "t", "iat": 1899999999, "nbf": 1899999699, "exp": 1900003598}
add("jwt_token", b"\2" + json.dumps(claims).encode())
add("jwt_token", b"\2" + json.dumps({**claims, "aud": "https://eventgrid.azure.net/", "exp": -(2**63)}).encode())
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
token = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
add("jwt_token", b"\1" + token.encode() + b".x")
signature = b64(hmac.new(b"fuzz-authority-secret", token.encode(), hashlib.sha256).digest())
add("jwt_token", b"\0" + f"{token}.{signature}".encode())

# Requests to the emulator: one choice byte (1: add the keyed topic's key), then requests
# separated by "\n--\n", each "METHOD PATH", header lines, an empty line and the body.
def request(method, path, headers=(), body=""):
    head = "".join(f"\n{name}: {value}" for name, value in headers)
    return f"{method} {path}{head}\n\n{body}"
api = "?api-version=2018-01-01"
for body in bodies:
    topic = "orders" if "eventType" in body else "cloud" if "specversion" in body else "custom"
    content = "application/cloudevents-batch+json" if topic == "cloud" else "application/json"
    add("emulator_request", b"\1" + "\n--\n".join([
        request("POST", f"/{topic}/api/events{api}", [("content-type", content)], body),
        request("GET", f"/_emulator/topics/{topic}/events"),
        request("GET", f"/_emulator/topics/{topic}/requests"),
    ]).encode())
add("emulator_request", b"\0" + request("POST", f"/open/api/events{api}", [], bodies[0]).encode())
add("emulator_request", b"\0" + request("POST", f"/orders/api/events{api}", [("aeg-sas-key", "d3Jvbmc=")], "[]").encode())
add("emulator_request", b"\0" + request("POST", f"/orders/api/events{api}",
    [("aeg-sas-token", json.loads((REF / "sas-vectors.json").read_text())["vectors"][0]["token"])], "[]").encode())
add("emulator_request", b"\0" + request("POST", f"/orders/api/events{api}", [("authorization", "Bearer a.b.c")], "[]").encode())
add("emulator_request", b"\0" + "\n--\n".join([
    request("PUT", "/_emulator/faults/open", [], '{"rules":[{"status":503,"retry_after":2,"count":1}]}'),
    request("POST", f"/open/api/events{api}", [], "[]"),
    request("GET", "/_emulator/faults/open"),
    request("DELETE", "/_emulator/topics/open/events"),
]).encode())
add("emulator_request", b"\0" + request("POST", "/tenant/oauth2/v2.0/token",
    [("content-type", "application/x-www-form-urlencoded")],
    "grant_type=client_credentials&client_id=c&client_secret=s&scope=https%3A%2F%2Feventgrid.azure.net%2F.default").encode())
add("emulator_request", b"\0" + request("GET", "/_emulator/topics").encode())
add("emulator_request", b"\0" + request("POST", f"/nope/api/events{api}", [], "[]").encode())

# What a subscriber receives: push deliveries and handshakes (choice 0 POST, 2 OPTIONS: header
# lines, a blank line, the body) and namespace receive answers (choice 1: the body).
PUSH = pathlib.Path("tests/fixtures/push")
for fixture, kind in [("eventgrid-notification.json", "application/json"),
                      ("eventgrid-validation.json", "application/json"),
                      ("eventgrid-subscription-deleted.json", "application/json"),
                      ("cloudevents-blob-created.json", "application/cloudevents+json"),
                      ("cloudevents-batch.json", "application/cloudevents-batch+json")]:
    body = (PUSH / fixture).read_bytes()
    add("subscriber_input", b"\0" + f"content-type: {kind}\naeg-event-type: Notification\n\n".encode() + body)
add("subscriber_input", b"\2" + b"webhook-request-origin: eventgrid.azure.net\nwebhook-request-rate: 120\n\n")
add("subscriber_input", b"\0" + b"ce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t\ncontent-type: text/plain\n\nhello")
add("subscriber_input", b"\1" + b'{"value":[{"brokerProperties":{"lockToken":"t1","deliveryCount":1},'
    b'"event":{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"n":1}}}]}')

for target, inputs in seeds.items():
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (directory / name).write_bytes(data)
    print(target, len(inputs))
