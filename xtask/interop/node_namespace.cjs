// Namespace topics with the official JavaScript SDK (@azure/eventgrid-namespaces 1.0.0) against
// eventgrid-emulator. `cargo xtask interop` runs it in one of two modes:
//
// - `publish PREFIX`: publishes the events of namespace_events.jsonl, ids prefixed `PREFIX-`,
//   with EventGridSenderClient.sendEvents: the first alone (the single-event content type), the
//   rest as one batch; and checks that a wrong key is refused.
// - `consume SUBSCRIPTION PREFIX,...`: receives every event those publishers published with
//   EventGridReceiverClient, checks each against the fixture, and settles them through every
//   path: acknowledgeEvents, releaseEvents (at once and after 10 s), rejectEvents and
//   renewEventLocks, with the per-token results of stale tokens.
//
// The receiver of 1.0.0 keeps only the standard attributes of what it receives (it drops
// extension attributes), so extension attributes are checked by the Python and Rust consumers.
//
// Environment: EMULATOR_URL (the namespace endpoint), EMULATOR_KEY, NAMESPACE_TOPIC,
// NAMESPACE_EVENTS (the fixture file), LOCK_SECONDS, NODE_PATH and, for https,
// NODE_EXTRA_CA_CERTS. Over https the first event is published, and the delayed event received
// and acknowledged, with a Microsoft Entra token from the emulator's token endpoint.
"use strict";

const fs = require("node:fs");
const {
  AzureKeyCredential,
  EventGridReceiverClient,
  EventGridSenderClient,
} = require("@azure/eventgrid-namespaces");

const BASE = process.env.EMULATOR_URL;
const KEY = process.env.EMULATOR_KEY;
const TOPIC = process.env.NAMESPACE_TOPIC;
const LOCK_SECONDS = Number(process.env.LOCK_SECONDS);
const FIXTURE = fs
  .readFileSync(process.env.NAMESPACE_EVENTS, "utf8")
  .split("\n")
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line));
const STANDARD = new Set(["specversion", "id", "source", "type", "subject", "time", "data", "data_base64", "datacontenttype", "dataschema"]);
// The SDK refuses plain http unless told otherwise.
const OPTIONS = { allowInsecureConnection: BASE.startsWith("http:") };
let checks = 0;

function check(condition, what) {
  if (!condition) {
    console.error(`node namespace interop FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

// A TokenCredential taking its tokens from the emulator's Microsoft Entra token endpoint
// (@azure/identity would do the same with authorityHost pointed at it).
const entraCredential = {
  async getToken(scopes) {
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: "interop", client_secret: "interop-secret", scope: [scopes].flat()[0] });
    const response = await fetch(`${BASE}/interop-tenant/oauth2/v2.0/token`, { method: "POST", body: form, signal: AbortSignal.timeout(10000) });
    const token = await response.json();
    return { token: token.access_token, expiresOnTimestamp: Date.now() + token.expires_in * 1000 };
  },
};
// Over https, an Entra token (the SDK sends bearer tokens over https only); else the key.
const credential = () => (BASE.startsWith("https:") ? entraCredential : new AzureKeyCredential(KEY));

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function extensionsOf(spec) {
  return Object.fromEntries(Object.entries(spec).filter(([name]) => !STANDARD.has(name)));
}

function expectedEvents(prefixes) {
  const expected = new Map();
  for (const prefix of prefixes) {
    for (const spec of FIXTURE) {
      expected.set(`${prefix}-${spec.id}`, spec);
    }
  }
  return expected;
}

// JSON text with object members in name order: data compared as values, whatever the order.
function canonical(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((name) => `${JSON.stringify(name)}:${canonical(value[name])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function checkEvent(event, spec, who) {
  const what = `${who}: event ${event.id}`;
  check(event.type === spec.type, `${what}: type ${event.type}`);
  check(event.source === spec.source, `${what}: source ${event.source}`);
  check(event.subject === spec.subject, `${what}: subject ${event.subject}`);
  // The receiver gives binary data (data_base64) as its base64 text.
  const data = spec.data_base64 ?? spec.data;
  check(canonical(event.data) === canonical(data), `${what}: data ${JSON.stringify(event.data)}`);
  if (spec.datacontenttype !== undefined) {
    check(event.dataContentType === spec.datacontenttype, `${what}: datacontenttype ${event.dataContentType}`);
  }
  if (spec.time !== undefined) {
    check(new Date(event.time).getTime() === new Date(spec.time).getTime(), `${what}: time ${event.time}`);
  }
}

async function publish(prefix) {
  const sender = new EventGridSenderClient(BASE, new AzureKeyCredential(KEY), TOPIC, OPTIONS);
  const events = FIXTURE.map((spec) => {
    const extensions = extensionsOf(spec);
    return {
      id: `${prefix}-${spec.id}`,
      source: spec.source,
      type: spec.type,
      subject: spec.subject,
      time: spec.time === undefined ? undefined : new Date(spec.time),
      data: spec.data_base64 === undefined ? spec.data : new Uint8Array(Buffer.from(spec.data_base64, "base64")),
      dataContentType: spec.datacontenttype,
      extensionAttributes: Object.keys(extensions).length ? extensions : undefined,
    };
  });
  await new EventGridSenderClient(BASE, credential(), TOPIC, OPTIONS).sendEvents(events[0]);
  await sender.sendEvents(events.slice(1));

  const wrongKey = new EventGridSenderClient(BASE, new AzureKeyCredential("d3Jvbmcga2V5"), TOPIC, OPTIONS);
  try {
    await wrongKey.sendEvents(events[0]);
    check(false, "a wrong key was accepted");
  } catch (error) {
    check(error.statusCode === 401, `wrong key: status ${error.statusCode}`);
  }
}

function tokensOf(result) {
  const failed = Object.fromEntries(result.failedLockTokens.map((f) => [f.lockToken, f.error.code]));
  return { succeeded: [...result.succeededLockTokens].sort(), failed };
}

function settled(result, tokens, what) {
  const { succeeded, failed } = tokensOf(result);
  check(
    JSON.stringify(succeeded) === JSON.stringify([...tokens].sort()) && Object.keys(failed).length === 0,
    `${what}: ${JSON.stringify(tokensOf(result))}`,
  );
}

function lost(result, token, what) {
  const { succeeded, failed } = tokensOf(result);
  check(succeeded.length === 0 && JSON.stringify(failed) === JSON.stringify({ [token]: "TokenLost" }), `${what}: ${JSON.stringify(tokensOf(result))}`);
}

async function receiveAll(receiver, count) {
  const received = [];
  const deadline = Date.now() + 30000;
  while (received.length < count && Date.now() < deadline) {
    const { details } = await receiver.receiveEvents({ maxEvents: 100, maxWaitTime: 10 });
    received.push(...details);
  }
  return received;
}

async function refused(call, status, code, what) {
  try {
    await call();
    check(false, `${what}: accepted`);
  } catch (error) {
    check(error.statusCode === status && (code === undefined || error.code === code), `${what}: ${error.statusCode} ${error.code}, expected ${status} ${code}`);
  }
}

async function consume(subscription, prefixes) {
  const expected = expectedEvents(prefixes);
  const receiver = new EventGridReceiverClient(BASE, new AzureKeyCredential(KEY), TOPIC, subscription, OPTIONS);
  // The service's refusals, as the SDK parses them (nothing is locked by them).
  await refused(() => receiver.receiveEvents({ maxEvents: 1, maxWaitTime: 5 }), 400, "ArgumentInvalid", "maxWaitTime 5");
  await refused(() => receiver.releaseEvents(["x"], { releaseDelay: "5" }), 400, "ArgumentInvalid", "release delay 5");
  const unknown = new EventGridReceiverClient(BASE, new AzureKeyCredential(KEY), TOPIC, "unknown", OPTIONS);
  // 404 (the live service's code for it is not recorded).
  await refused(() => unknown.receiveEvents({ maxWaitTime: 10 }), 404, undefined, "an unknown subscription");
  const received = await receiveAll(receiver, expected.size);
  check(received.length === expected.size, `received ${received.length} of ${expected.size} events`);
  const ids = received.map((detail) => detail.event.id).sort();
  check(JSON.stringify(ids) === JSON.stringify([...expected.keys()].sort()), "every published id, once");
  for (const detail of received) {
    check(detail.brokerProperties.deliveryCount === 1, `first delivery of ${detail.event.id}`);
    checkEvent(detail.event, expected.get(detail.event.id), "node consumer");
  }
  const token = Object.fromEntries(received.map((detail) => [detail.event.id, detail.brokerProperties.lockToken]));
  const [rejected, released, delayed, renewed, ...acknowledged] = ids;
  const tokens = (list) => list.map((id) => token[id]);

  settled(await receiver.acknowledgeEvents(tokens(acknowledged)), tokens(acknowledged), "acknowledgeEvents");
  lost(await receiver.acknowledgeEvents([token[acknowledged[0]]]), token[acknowledged[0]], "acknowledging an acknowledged event");
  const mixed = tokensOf(await receiver.renewEventLocks([token[renewed], token[acknowledged[0]]]));
  check(
    JSON.stringify(mixed) === JSON.stringify({ succeeded: [token[renewed]], failed: { [token[acknowledged[0]]]: "TokenLost" } }),
    `renewing a held and a settled lock: ${JSON.stringify(mixed)}`,
  );
  settled(await receiver.rejectEvents([token[rejected]]), [token[rejected]], "rejectEvents");
  settled(await receiver.releaseEvents([token[released]]), [token[released]], "releaseEvents");
  settled(await receiver.releaseEvents([token[delayed]], { releaseDelay: "10" }), [token[delayed]], "releaseEvents with a 10 s delay");
  lost(await receiver.rejectEvents([token[rejected]]), token[rejected], "rejecting a rejected event");

  const again = (await receiver.receiveEvents({ maxEvents: 10, maxWaitTime: 10 })).details;
  check(JSON.stringify(again.map((d) => d.event.id)) === JSON.stringify([released]), `the released event, alone: ${again.map((d) => d.event.id)}`);
  check(again[0].brokerProperties.deliveryCount === 2, "second delivery of the released event");
  checkEvent(again[0].event, expected.get(released), "node consumer, redelivered");
  settled(await receiver.acknowledgeEvents([again[0].brokerProperties.lockToken]), [again[0].brokerProperties.lockToken], "acknowledge the redelivered event");

  // The held event outlives its first lock only because its lock is renewed.
  await sleep(LOCK_SECONDS * 0.6);
  settled(await receiver.renewEventLocks([token[renewed]]), [token[renewed]], "renewEventLocks");
  await sleep(LOCK_SECONDS * 0.6);
  settled(await receiver.acknowledgeEvents([token[renewed]]), [token[renewed]], "acknowledge after the first lock's end, renewed");

  // Over https, the last settlements with an Entra token.
  const entraReceiver = new EventGridReceiverClient(BASE, credential(), TOPIC, subscription, OPTIONS);
  const late = await receiveAll(entraReceiver, 1);
  check(JSON.stringify(late.map((d) => d.event.id)) === JSON.stringify([delayed]), `the delayed event: ${late.map((d) => d.event.id)}`);
  check(late[0].brokerProperties.deliveryCount === 2, "second delivery of the delayed event");
  settled(await entraReceiver.acknowledgeEvents([late[0].brokerProperties.lockToken]), [late[0].brokerProperties.lockToken], "acknowledge the delayed event");
}

(async () => {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === "publish") {
    await publish(args[0]);
  } else if (mode === "consume") {
    await consume(args[0], args[1].split(","));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  console.log(`node namespace ${mode} (${BASE.split(":")[0]}): ${checks} checks passed`);
})().catch((error) => {
  console.error(`node namespace interop FAILED: ${error.stack || error}`);
  process.exit(1);
});
