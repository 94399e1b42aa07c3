// Interop check of eventgrid-emulator with the official JavaScript SDK (@azure/eventgrid 5.12.0).
//
// Publishes EventGridEvents with an access key, CloudEvents with a SAS token from the SDK's own
// generateSharedAccessSignature, and custom events; reads them back through the emulator's
// inspection API and checks them with the SDK's own EventGridDeserializer. Run by
// `cargo xtask interop`, which sets EMULATOR_URL, EMULATOR_KEY, NODE_PATH and, for HTTPS,
// NODE_EXTRA_CA_CERTS.
"use strict";

const {
  AzureKeyCredential,
  AzureSASCredential,
  EventGridDeserializer,
  EventGridPublisherClient,
  generateSharedAccessSignature,
} = require("@azure/eventgrid");

const BASE = process.env.EMULATOR_URL;
const KEY = process.env.EMULATOR_KEY;
let checks = 0;

function check(condition, what) {
  if (!condition) {
    console.error(`node interop FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

const endpoint = (topic) => `${BASE}/${topic}/api/events`;
// The SDK refuses plain http unless told otherwise (it never sends bearer tokens over it).
const OPTIONS = { allowInsecureConnection: BASE.startsWith("http:") };

async function inspect(path, method = "GET", body = undefined) {
  const response = await fetch(BASE + path, {
    method,
    body,
    headers: body ? { "content-type": "application/json" } : {},
    signal: AbortSignal.timeout(10000),
  });
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

async function expectStatus(status, send, what) {
  try {
    await send();
  } catch (error) {
    check(error.statusCode === status, `${what}: status ${error.statusCode}, expected ${status}`);
    return error;
  }
  check(false, `${what}: no error`);
}

const deserializer = new EventGridDeserializer();

async function eventGridEventsWithAnAccessKey() {
  const client = new EventGridPublisherClient(endpoint("eg"), "EventGrid", new AzureKeyCredential(KEY), OPTIONS);
  const sent = [0, 1, 2].map((n) => ({
    id: `node-${n}`,
    subject: `users/${n}`,
    eventType: "user.updated",
    dataVersion: "1.0",
    eventTime: new Date(Date.UTC(2024, 4, 1, 12, 0, n)),
    data: { userId: n },
  }));
  await client.send(sent);
  const kept = await inspect("/_emulator/topics/eg/events?delivered=true");
  const received = await deserializer.deserializeEventGridEvents(JSON.stringify(kept));
  check(received.length === 3, `3 EventGridEvents kept, got ${received.length}`);
  received.forEach((event, n) => {
    check(event.id === sent[n].id && event.subject === sent[n].subject, "id and subject survive");
    check(event.eventType === "user.updated" && event.dataVersion === "1.0", "type and dataVersion");
    check(event.eventTime.getTime() === sent[n].eventTime.getTime(), "eventTime");
    check(JSON.stringify(event.data) === JSON.stringify(sent[n].data), "data");
  });
  const wrongKey = new EventGridPublisherClient(endpoint("eg"), "EventGrid", new AzureKeyCredential("d3Jvbmcga2V5"), OPTIONS);
  const error = await expectStatus(401, () => wrongKey.send(sent.slice(0, 1)), "wrong access key");
  check(String(error.message).includes("not authorized"), `wrong-key message: ${error.message}`);
  const headers = Object.fromEntries((await inspect("/_emulator/topics/eg/requests"))[0].headers);
  check(headers["aeg-sas-key"] === "<redacted>", "the SDK sent aeg-sas-key");
}

async function cloudEventsWithASasToken() {
  const expiry = new Date(Date.now() + 3600 * 1000);
  const token = await generateSharedAccessSignature(endpoint("ce"), new AzureKeyCredential(KEY), expiry);
  const client = new EventGridPublisherClient(endpoint("ce"), "CloudEvent", new AzureSASCredential(token), OPTIONS);
  const sent = [0, 1].map((n) => ({
    id: `node-ce-${n}`,
    source: "/interop/node",
    type: "user.created",
    subject: `users/${n}`,
    data: { userId: n },
    extensionAttributes: { correlationid: `req-${n}` },
  }));
  sent.push({ id: "node-ce-bytes", source: "/interop/node", type: "blob.bytes", datacontenttype: "application/octet-stream", data: new Uint8Array([0, 1, 98]) });
  await client.send(sent);
  const kept = await inspect("/_emulator/topics/ce/events?delivered=true");
  const received = await deserializer.deserializeCloudEvents(JSON.stringify(kept));
  check(received.length === 3, `3 CloudEvents kept, got ${received.length}`);
  received.slice(0, 2).forEach((event, n) => {
    check(event.id === sent[n].id && event.source === "/interop/node" && event.type === "user.created", "attributes");
    check(event.specversion === "1.0", "specversion");
    check(JSON.stringify(event.data) === JSON.stringify(sent[n].data), "data");
    check(event.extensionAttributes?.correlationid === `req-${n}`, "extension attribute");
  });
  check(Buffer.from(received[2].data).equals(Buffer.from([0, 1, 98])), "binary data");
  const headers = Object.fromEntries((await inspect("/_emulator/topics/ce/requests"))[0].headers);
  check(headers["aeg-sas-token"] === "<redacted>", "the SDK sent aeg-sas-token");
  check(headers["content-type"].startsWith("application/cloudevents-batch+json"), "CloudEvents content type");

  const expired = await generateSharedAccessSignature(endpoint("ce"), new AzureKeyCredential(KEY), new Date(Date.UTC(2020, 0, 1)));
  const expiredClient = new EventGridPublisherClient(endpoint("ce"), "CloudEvent", new AzureSASCredential(expired), OPTIONS);
  await expectStatus(401, () => expiredClient.send(sent.slice(0, 1)), "expired SAS token");
}

async function customEvents() {
  const client = new EventGridPublisherClient(endpoint("custom"), "Custom", new AzureKeyCredential(KEY), OPTIONS);
  const sent = [{ customField: "x", anything: [1, 2] }];
  await client.send(sent);
  check(JSON.stringify(await inspect("/_emulator/topics/custom/events")) === JSON.stringify(sent), "custom events kept as sent");
}

async function retriesOnInjectedFaults() {
  // The JavaScript SDK retries 503 when a retry-after header is present.
  await inspect("/_emulator/faults/eg", "PUT", JSON.stringify({ rules: [{ status: 503, retry_after_ms: 10, next: 2 }] }));
  await inspect("/_emulator/topics/eg/events", "DELETE");
  const client = new EventGridPublisherClient(endpoint("eg"), "EventGrid", new AzureKeyCredential(KEY), OPTIONS);
  await client.send([{ subject: "retried", eventType: "t", dataVersion: "1", data: {} }]);
  const counters = await inspect("/_emulator/topics/eg/counters");
  check(counters.rejections["503"] === 2, `two 503s injected: ${JSON.stringify(counters)}`);
  check(counters.accepted_events === 1, "the retried event arrived once");
}

(async () => {
  await eventGridEventsWithAnAccessKey();
  await cloudEventsWithASasToken();
  await customEvents();
  await retriesOnInjectedFaults();
  console.log(`node interop (${BASE.split(":")[0]}): ${checks} checks passed`);
})().catch((error) => {
  console.error(`node interop FAILED: ${error.stack || error}`);
  process.exit(1);
});
