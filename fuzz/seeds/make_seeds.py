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
# The namespace topic `queue` and its subscription `sub` (pull delivery).
ns = "?api-version=2024-06-01"
cloud_event = '{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"n":1}}'
add("emulator_request", b"\0" + "\n--\n".join([
    request("POST", f"/topics/queue:publish{ns}", [("content-type", "application/cloudevents+json")], cloud_event),
    request("POST", f"/topics/queue:publish{ns}", [("content-type", "application/cloudevents-batch+json")], f"[{cloud_event},{cloud_event}]"),
    request("POST", f"/topics/queue/eventsubscriptions/sub:receive{ns}&maxEvents=2&maxWaitTime=1"),
    request("POST", f"/topics/queue/eventsubscriptions/sub:release{ns}&releaseDelayInSeconds=10",
            [("content-type", "application/json")], '{"lockTokens":["x"]}'),
]).encode())
add("emulator_request", b"\0" + "\n--\n".join([
    request("POST", f"/topics/queue:publish{ns}", [("content-type", "application/cloudevents+json")], cloud_event),
    request("POST", f"/topics/queue/eventsubscriptions/sub:acknowledge{ns}", [("content-type", "application/json")], '{"lockTokens":["a","b"]}'),
    request("POST", f"/topics/queue/eventsubscriptions/sub:reject{ns}", [("content-type", "application/json")], '{"lockTokens":[]}'),
    request("GET", "/_emulator/namespace/topics"),
]).encode())
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

# Configuration files (choice 0: TOML, 1: JSON): every TOML example of docs/emulator.md, and
# values at the edges of their types.
import re
DOCS = pathlib.Path("docs/emulator.md").read_text()
for block in re.findall(r"```toml\n(.*?)```", DOCS, re.S):
    add("emulator_config", b"\0" + block.encode())
    add("emulator_config", b"\0" + ('topics = ["orders"]\n' + block).encode())
add("emulator_config", b"\0" + b"""port = 9000
retain = 5
retain_bytes = 1000
admin_key = "admin"
max_connections = 8
body_read_timeout_secs = 7
idle_timeout_secs = 9
topics = ["plain", { name = "ce", schema = "cloudevents", key = "a2V5",
           faults = [{ status = 503, next = 2 }], fault_seed = 3 }]
[limits]
max_events_per_request = 10
[entra_clients]
app = "secret"
""")
add("emulator_config", b"\1" + b'{"topics": [{"name": "t", "key": "k"}], "tls": true, "namespace_topics": ["ns=a2V5"], "subscriptions": [{"topic": "ns", "name": "s"}]}')
add("emulator_config", b"\0" + pathlib.Path("tests/emulator.toml").read_bytes())
for line in ["retain = 18446744073709551615", "retain_bytes = 18446744073709551615",
             "body_read_timeout_secs = 18446744073709551615", "idle_timeout_secs = 18446744073709551615",
             "delivery_timeout_secs = 1e300", "delivery_timeout_secs = -1.0", "retry_time_scale = nan",
             "retry_time_scale = inf", "retry_time_scale = 1e-300", "max_connections = 18446744073709551615",
             "dead_letter_root = \"../up\"",
             "[limits]\nmax_events_per_request = 0\nmax_request_bytes = 18446744073709551615\nmax_event_bytes = 0",
             "[[topics]]\nname = \"t\"\nfaults = [{ latency_ms = 18446744073709551615 }, { latency_ms = 18446744073709551615 }]",
             "[[topics]]\nname = \"t\"\nfaults = [{ status = 503, retry_after = 18446744073709551615, fraction = nan }]",
             "a = " + "[" * 200 + "]" * 200]:
    add("emulator_config", b"\0" + ('topics = ["t"]\n' if not line.startswith("[[topics]]") else "").encode() + line.encode() + b"\n")
add("emulator_config", b"\1" + b'{"topics":' + b"[" * 200 + b"]" * 200 + b"}")
add("emulator_config", b"\0" + b"""topics = ["t=a2V5"]
namespace_topics = ["ns=a2V5"]
[[subscriptions]]
topic = "ns"
name = "s"
event_time_to_live_secs = 18446744073709551615
lock_duration_ms = 1
""")
add("emulator_config", b"\0" + b'namespace_topics = ["ns"]\nretry_time_scale = 1e300\n[[subscriptions]]\ntopic = "ns"\nname = "s"\n')

# AzureEventGridSimulator settings files: the project's README example and edge cases.
SETTINGS = {"topics": [
    {"name": "MyAwesomeTopic", "port": 60101, "key": "TheLocal+DevelopmentKey=",
     "subscribers": {"http": [{"name": "LocalAzureFunctionSubscription",
        "endpoint": "http://localhost:7071/runtime/webhooks/EventGrid?functionName=PersistEventToDb",
        "disableValidation": True, "deliverySchema": "CloudEventV1_0",
        "filter": {"includedEventTypes": ["some.special.event.type"], "subjectBeginsWith": "MySubject",
                   "isSubjectCaseSensitive": False,
                   "advancedFilters": [{"operatorType": "NumberGreaterThan", "key": "Data.Key1", "value": 5}]},
        "retryPolicy": {"enabled": True, "maxDeliveryAttempts": 5, "eventTimeToLiveInMinutes": 60},
        "deadLetter": {"enabled": True, "folderPath": "./dead-letters"}}],
        "serviceBus": [{"name": "sb", "namespace": "n", "topic": "t"}]}},
    {"Name": "OtherTopic", "Port": 60102, "Subscribers": [{"Name": "flat-one", "Endpoint": "https://localhost:5001/"}]},
    {"name": "Off", "port": 60103, "disabled": True}]}
add("simulator_settings", json.dumps(SETTINGS, indent=2))
add("simulator_settings", json.dumps({"Logging": {"LogLevel": {"Default": "Information"}}, **SETTINGS}))
add("simulator_settings", '{"topics":[{"name":"a","port":1},{"name":"b","port":1}]}')
add("simulator_settings", '{"topics":[{"name":"a","port":0},{"name":"b","port":0}]}')
add("simulator_settings", '{"topics":[{"name":"t1","port":70000}]}')
add("simulator_settings", '{"topics":[{"name":"t1","port":1,"key":"","subscribers":{"http":[{"name":"abc","endpoint":"http://x/","retryPolicy":{"maxDeliveryAttempts":4294967295,"eventTimeToLiveInMinutes":0}}]}}]}')
add("simulator_settings", '{"topics":[{"name":"t1","port":1,"subscribers":{"http":[{"name":"abc","endpoint":"http://x/","deadLetter":{"enabled":true}}],"storageQueue":[{},{}]}}]}')
add("simulator_settings", '{"topics":[{"name":"t1","port":1,"subscribers":{"http":[{"name":"abc","endpoint":"http://x/","deadLetter":{"enabled":true,"folderPath":"/"}}]}}]}')
add("simulator_settings", '{"topics":[{"name":"_x","port":1}],"x":' + "[" * 127 + "]" * 127 + "}")

# Command lines (choice bit 0: the emulator's, otherwise eventgrid's; bit 1: a canary secret
# flag), arguments separated by NUL.
def argv(choice, *args):
    return bytes([choice]) + b"\0".join(arg.encode() for arg in args)
add("command_line", argv(1, "--port", "7070", "--topic", "t=a2V5", "--fault", "t:status=503,retry-after=18446744073709551615"))
add("command_line", argv(3, "--topic", "orders:cloudevents=a2V5", "--topic", "open", "--fault", "orders:status=429,retry-after=1,fraction=0.05",
                        "--fault", "open:drop,fraction=0.05", "--fault", "open:latency-ms=200", "--fault-seed", "7"))
add("command_line", argv(1, "--topic", "t", "--fault", "t:latency-ms=18446744073709551615", "--fault", "t:latency-ms=18446744073709551615"))
add("command_line", argv(1, "--topic", "orders", "--webhook", "orders=http://127.0.0.1:9/hook?code=s3cret", "--webhook", "orders/billing=https://example.com/",
                        "--skip-validation", "--retry-time-scale", "0.001", "--delivery-timeout", "1e300"))
add("command_line", argv(1, "--namespace-topic", "ns=a2V5", "--subscription", "ns/billing", "--entra-client", "app=secret", "--admin-key", "k"))
add("command_line", argv(1, "--topic", "t", "--retain", "18446744073709551615", "--retain-bytes", "0", "--max-connections", "0",
                        "--max-event-bytes", "0", "--max-request-bytes", "18446744073709551615", "--max-events-per-request", "0"))
add("command_line", argv(1, "--topic", "t", "--retry-time-scale", "NaN", "--delivery-timeout", "-1", "--dead-letter-root", "../x"))
add("command_line", argv(0, "publish", "--topic", "t", "--endpoint", "http://127.0.0.1:7070/t", "--key", "a2V5", "--type", "x", "--subject", "y",
                        "--data", '{"n":1}', "--event-time", "9999-12-31T23:59:59-01:00", "--id", "1", "--data-version", "2"))
add("command_line", argv(2, "publish", "--topic", "t", "--schema", "cloudevents", "--source", "/s", "--type", "x", "--data", "[1e400]"))
add("command_line", argv(0, "publish", "--topic", "t", "--schema", "custom", "--data", '{"a":' * 130 + "1" + "}" * 130, "--max-event-bytes", "18446744073709551615"))
add("command_line", argv(0, "sas", "--endpoint", "http://127.0.0.1:7070/t/api/events", "--key", "a2V5", "--expires", "9999-12-31T23:59:59Z"))
add("command_line", argv(0, "emulator", "--topic", "t", "--fault", "t:status=503"))
add("command_line", argv(0, "receive", "--topic", "t", "--endpoint", "http://127.0.0.1:7070", "--namespace-topic", "t"))
add("command_line", argv(0, "listen", "--port", "0"))

# Webhook answers: the attempt number, then the answer's bytes as they come off the connection.
CODE = "5B2C7E1A-0F7D-4C4B-9D3E-FUZZCODE0001"
def http(status, headers=(), body=b"", reason="OK", version="HTTP/1.1", length=True):
    head = f"{version} {status} {reason}\r\n"
    if length:
        head += f"content-length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode() + b"\r\n" + body
validation = json.dumps({"validationResponse": CODE}).encode()
add("webhook_answer", b"\1" + http(200, [("content-type", "application/json")], validation))
add("webhook_answer", b"\1" + http(200, [("content-type", "application/json")], validation.lower()))
add("webhook_answer", b"\1" + http(200, [("webhook-allowed-origin", "eventgrid.azure.net")]))
add("webhook_answer", b"\1" + http(200, [("webhook-allowed-origin", "example.com, *"), ("webhook-allowed-rate", "120")]))
add("webhook_answer", b"\1" + http(202, body=validation, reason="Accepted"))
for status in [204, 400, 401, 403, 404, 408, 413, 429, 500, 503, 599, 999]:
    add("webhook_answer", b"\3" + http(status, [("retry-after", "18446744073709551615")], b"busy", reason="X"))
add("webhook_answer", b"\1" + b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nffffffffffffffff\r\nx\r\n0\r\n\r\n")
add("webhook_answer", b"\1" + http(200, body=b"x" * (70 * 1024), version="HTTP/1.0", length=False))
add("webhook_answer", b"\1" + b"HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551615\r\n\r\n{\"validationResponse\"")
add("webhook_answer", b"\1" + b"HTTP/1.1 100 Continue\r\n\r\n" + http(200, body=validation))
add("webhook_answer", b"\x1d" + http(500, [("x-long", "v" * 9000)]))
add("webhook_answer", b"\1" + b"hello")
add("webhook_answer", b"\1" + b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}")

for target, inputs in seeds.items():
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (directory / name).write_bytes(data)
    print(target, len(inputs))
