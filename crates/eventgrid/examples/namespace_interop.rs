//! Namespace topics end to end with both clients, and the Rust side of `cargo xtask interop`.
//!
//! Without arguments (`cargo run -p eventgrid --example namespace_interop`), it starts the
//! emulator in-process, publishes the events of `support/namespace_events.jsonl` with the
//! async and the blocking client, and receives them with each, checking every attribute and
//! settling through every path: acknowledge, release (at once and after 10 s), reject and
//! renew, with the per-token failures of stale tokens. About 15 seconds, mostly the release
//! delay. See `namespace_publish_receive` for a tutorial.
//!
//! `cargo xtask interop` runs it against an emulator shared with the official SDKs:
//!
//! ```text
//! namespace_interop publish PREFIX
//! namespace_interop consume SUBSCRIPTION PREFIX,PREFIX,... [--blocking]
//! ```
//!
//! The environment then names the namespace: `EMULATOR_URL` (its endpoint), `EMULATOR_KEY`,
//! `NAMESPACE_TOPIC`, `LOCK_SECONDS` (the subscriptions' lock duration) and, over https,
//! `EMULATOR_CA` (the CA certificate to trust).

use std::collections::BTreeMap;
use std::time::Duration;

use eventgrid::asynchronous::EventGridClient;
use eventgrid::{
    CloudEvent, CloudEventData, EventGridConfig, EventGridTopicConfig, KeyCredential,
    ReceivedBatch, ReceivedEvent, ReleaseDelay, SettlementResult,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, NamespaceTopicSpec, SubscriptionSpec};
use serde_json::Value;
use tokio::runtime::Runtime;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The events every publisher sends, ids prefixed with the publisher's name.
const FIXTURE: &str = include_str!("support/namespace_events.jsonl");
/// The publishers whose SDK drops extension attributes when it sends
/// (`@azure/eventgrid-namespaces` 1.0.0).
const WITHOUT_EXTENSIONS: &[&str] = &["js"];
/// The name the clients know the namespace topic by.
const TOPIC: &str = "interop";

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Two workers: the in-process emulator runs on them while a client waits.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let fixture: Vec<CloudEvent> = FIXTURE
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    if args.is_empty() {
        return self_check(&runtime, &fixture);
    }
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let namespace = Namespace {
        endpoint: env("EMULATOR_URL")?,
        topic: env("NAMESPACE_TOPIC")?,
        key: env("EMULATOR_KEY")?,
        ca: std::env::var_os("EMULATOR_CA")
            .map(std::fs::read)
            .transpose()?,
    };
    let scheme = namespace
        .endpoint
        .split(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["publish", prefix] => {
            let client = namespace.async_client(&runtime)?;
            let sent = publish(&client, &runtime, &fixture, prefix)?;
            println!("rust namespace publish ({scheme}): {sent} events");
        }
        ["consume", subscription, prefixes, ref rest @ ..] => {
            let lock = Duration::from_secs_f64(env("LOCK_SECONDS")?.parse()?);
            let expected = expected(&fixture, prefixes.split(','));
            let checks = match rest {
                [] => {
                    let client = namespace.async_client(&runtime)?;
                    let receiver = client.receiver(TOPIC, subscription)?;
                    consume(&Async(&receiver, &runtime), &expected, lock)?
                }
                ["--blocking"] => {
                    let client = namespace.blocking_client()?;
                    consume(
                        &Blocking(&client.receiver(TOPIC, subscription)?),
                        &expected,
                        lock,
                    )?
                }
                _ => return Err(format!("unknown arguments {rest:?}").into()),
            };
            println!("rust namespace consume {subscription} ({scheme}): {checks} checks passed");
        }
        _ => {
            return Err(format!(
                "usage: namespace_interop [publish PREFIX | consume SUBSCRIPTION PREFIX,... [--blocking]]; got {args:?}"
            )
            .into());
        }
    }
    Ok(())
}

/// Both clients against an in-process emulator: each publishes, each receives everything.
fn self_check(runtime: &Runtime, fixture: &[CloudEvent]) -> Result<(), Failure> {
    const KEY: &str = "bnMtaW50ZXJvcA==";
    let lock = Duration::from_secs(4);
    let subscription = |name: &str| {
        SubscriptionSpec::new("interop", name).map(|spec| spec.with_lock_duration(lock))
    };
    let emulator = runtime.block_on(Emulator::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::keyed("interop", KEY))
            .subscription(subscription("async")?)
            .subscription(subscription("blocking")?),
    ))?;
    let namespace = Namespace {
        endpoint: emulator.namespace_endpoint().to_owned(),
        topic: "interop".to_owned(),
        key: KEY.to_owned(),
        ca: None,
    };
    let (async_client, blocking_client) = (
        namespace.async_client(runtime)?,
        namespace.blocking_client()?,
    );
    publish(&async_client, runtime, fixture, "async")?;
    let events = prefixed(fixture, "blocking");
    blocking_client.send(TOPIC, events[..1].to_vec())?;
    blocking_client.send(TOPIC, events[1..].to_vec())?;

    let expected = expected(fixture, ["async", "blocking"]);
    let blocking_receiver = blocking_client.receiver(TOPIC, "blocking")?;
    let async_receiver = async_client.receiver(TOPIC, "async")?;
    let (blocking, asynchronous) = std::thread::scope(|scope| {
        let blocking = scope.spawn(|| consume(&Blocking(&blocking_receiver), &expected, lock));
        let asynchronous = consume(&Async(&async_receiver, runtime), &expected, lock);
        (
            blocking
                .join()
                .expect("the blocking consumer does not panic"),
            asynchronous,
        )
    });
    let checks = blocking? + asynchronous?;
    for name in ["async", "blocking"] {
        let counts = emulator.subscription_counts("interop", name);
        let settled = (
            counts.acknowledged,
            counts.rejected,
            counts.dead_lettered,
            counts.released,
        );
        let left = (counts.available, counts.delayed, counts.locked);
        let events = expected.len() as u64;
        if settled != (events - 1, 1, 1, 2) || left != (0, 0, 0) {
            return Err(format!("subscription {name}: {counts:?}").into());
        }
    }
    println!(
        "both clients published {} events and received, checked and settled them: {checks} checks passed",
        expected.len()
    );
    Ok(())
}

/// Where the namespace is and how to reach it.
struct Namespace {
    endpoint: String,
    topic: String,
    key: String,
    ca: Option<Vec<u8>>,
}

impl Namespace {
    fn config(&self) -> Result<EventGridConfig, Failure> {
        let topic = EventGridTopicConfig::namespace(TOPIC, &self.endpoint, &self.topic)?
            .with_credential(KeyCredential::access_key(self.key.as_str()));
        Ok(EventGridConfig::new([topic])?)
    }

    fn async_client(&self, runtime: &Runtime) -> Result<EventGridClient, Failure> {
        let mut builder = EventGridClient::builder(self.config()?);
        if let Some(pem) = &self.ca {
            builder = builder.extra_ca_pem(pem);
        }
        // Built inside the runtime, whose reactor its connections use.
        Ok(runtime.block_on(async { builder.build() })?)
    }

    fn blocking_client(&self) -> Result<eventgrid_blocking::EventGridClient, Failure> {
        let mut builder = eventgrid_blocking::EventGridClient::builder(self.config()?);
        if let Some(pem) = &self.ca {
            builder = builder.extra_ca_pem(pem);
        }
        Ok(builder.build()?)
    }
}

fn prefixed(fixture: &[CloudEvent], prefix: &str) -> Vec<CloudEvent> {
    fixture
        .iter()
        .map(|event| event.clone().with_id(format!("{prefix}-{}", event.id())))
        .collect()
}

/// Publishes the fixture with the async client: the first event alone, then the rest.
fn publish(
    client: &EventGridClient,
    runtime: &Runtime,
    fixture: &[CloudEvent],
    prefix: &str,
) -> Result<usize, Failure> {
    let events = prefixed(fixture, prefix);
    runtime.block_on(async {
        client.send(TOPIC, events[..1].to_vec()).await?;
        client.send(TOPIC, events[1..].to_vec()).await
    })?;
    Ok(events.len())
}

/// The fixture's events by the ids each publisher gave them.
fn expected<'a, 'p>(
    fixture: &'a [CloudEvent],
    prefixes: impl IntoIterator<Item = &'p str>,
) -> BTreeMap<String, &'a CloudEvent> {
    prefixes
        .into_iter()
        .flat_map(|prefix| {
            fixture
                .iter()
                .map(move |event| (format!("{prefix}-{}", event.id()), event))
        })
        .collect()
}

/// What the settlement scenario needs of a receiver, for the async and the blocking one.
trait Subscription {
    fn receive(&self, max_events: usize, max_wait: Duration) -> eventgrid::Result<ReceivedBatch>;
    fn acknowledge(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult>;
    fn release(&self, tokens: &[&str], delay: ReleaseDelay) -> eventgrid::Result<SettlementResult>;
    fn reject(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult>;
    fn renew_locks(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult>;
}

struct Async<'a>(
    &'a eventgrid::asynchronous::Receiver,
    &'a tokio::runtime::Runtime,
);

impl Subscription for Async<'_> {
    fn receive(&self, max_events: usize, max_wait: Duration) -> eventgrid::Result<ReceivedBatch> {
        self.1.block_on(self.0.receive(max_events, max_wait))
    }
    fn acknowledge(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.1.block_on(self.0.acknowledge(tokens))
    }
    fn release(&self, tokens: &[&str], delay: ReleaseDelay) -> eventgrid::Result<SettlementResult> {
        self.1.block_on(self.0.release(tokens, delay))
    }
    fn reject(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.1.block_on(self.0.reject(tokens))
    }
    fn renew_locks(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.1.block_on(self.0.renew_locks(tokens))
    }
}

struct Blocking<'a>(&'a eventgrid_blocking::Receiver);

impl Subscription for Blocking<'_> {
    fn receive(&self, max_events: usize, max_wait: Duration) -> eventgrid::Result<ReceivedBatch> {
        self.0.receive(max_events, max_wait)
    }
    fn acknowledge(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.0.acknowledge(tokens)
    }
    fn release(&self, tokens: &[&str], delay: ReleaseDelay) -> eventgrid::Result<SettlementResult> {
        self.0.release(tokens, delay)
    }
    fn reject(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.0.reject(tokens)
    }
    fn renew_locks(&self, tokens: &[&str]) -> eventgrid::Result<SettlementResult> {
        self.0.renew_locks(tokens)
    }
}

/// Counts what it checked; the first failed check is the error.
struct Checks(usize);

impl Checks {
    fn that(&mut self, condition: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
        self.0 += 1;
        if condition {
            Ok(())
        } else {
            Err(format!("rust namespace interop FAILED: {}", what()).into())
        }
    }

    /// `received` carries what `sent` (a fixture event) says, id aside.
    fn event(&mut self, received: &CloudEvent, sent: &CloudEvent) -> Result<(), Failure> {
        let id = received.id();
        self.that(received.event_type() == sent.event_type(), || {
            format!("{id}: type {}", received.event_type())
        })?;
        self.that(received.source() == sent.source(), || {
            format!("{id}: source {}", received.source())
        })?;
        self.that(received.subject() == sent.subject(), || {
            format!("{id}: subject {:?}", received.subject())
        })?;
        if sent.time().is_some() {
            self.that(received.time() == sent.time(), || {
                format!("{id}: time {:?}", received.time())
            })?;
        }
        let (got, want) = (data(received)?, data(sent)?);
        self.that(got == want, || {
            format!("{id}: data {got:?}, expected {want:?}")
        })?;
        let publisher = id.split('-').next().unwrap_or_default();
        let empty = BTreeMap::new();
        let want = if WITHOUT_EXTENSIONS.contains(&publisher) {
            &empty
        } else {
            sent.extensions()
        };
        self.that(received.extensions() == want, || {
            format!("{id}: extensions {:?}", received.extensions())
        })
    }

    /// Every token of `tokens` settled, none failed.
    fn settled(
        &mut self,
        result: SettlementResult,
        tokens: &[&str],
        what: &str,
    ) -> Result<(), Failure> {
        let mut succeeded = result.succeeded.clone();
        succeeded.sort();
        let mut want: Vec<String> = tokens.iter().map(|t| (*t).to_owned()).collect();
        want.sort();
        self.that(succeeded == want && result.failed.is_empty(), || {
            format!("{what}: {result:?}")
        })
    }

    /// `token` failed with the service's `TokenLost`, and nothing settled.
    fn lost(&mut self, result: &SettlementResult, token: &str, what: &str) -> Result<(), Failure> {
        let lost = result.succeeded.is_empty()
            && result.failed.len() == 1
            && result.failed[0].lock_token == token
            && result.failed[0].code == "TokenLost";
        self.that(lost, || format!("{what}: {result:?}"))
    }
}

/// The event's data: JSON as a value (`null` when it has none), binary data as its bytes,
/// marked binary so that it never equals JSON data.
fn data(event: &CloudEvent) -> Result<(bool, Value), Failure> {
    Ok(match event.data() {
        CloudEventData::Json(raw) => (false, serde_json::from_str(raw.get())?),
        CloudEventData::Binary(bytes) => (true, Value::from(bytes.clone())),
        CloudEventData::None => (false, Value::Null),
    })
}

/// The events of one receive; every one of them must be readable.
fn receive(
    subscription: &dyn Subscription,
    max_events: usize,
) -> Result<Vec<ReceivedEvent>, Failure> {
    let batch = subscription.receive(max_events, Duration::from_secs(10))?;
    if !batch.malformed.is_empty() {
        return Err(format!("events the client could not read: {:?}", batch.malformed).into());
    }
    Ok(batch.events)
}

fn receive_all(
    subscription: &dyn Subscription,
    count: usize,
) -> Result<Vec<ReceivedEvent>, Failure> {
    let mut received = Vec::new();
    for _ in 0..3 {
        if received.len() >= count {
            break;
        }
        received.extend(receive(subscription, 100)?);
    }
    Ok(received)
}

/// Receives every expected event, checks it, and settles through every path: acknowledge,
/// release (at once and after 10 s), reject and renew, with stale tokens' per-token failures.
fn consume(
    subscription: &dyn Subscription,
    expected: &BTreeMap<String, &CloudEvent>,
    lock: Duration,
) -> Result<usize, Failure> {
    let mut check = Checks(0);
    let received = receive_all(subscription, expected.len())?;
    let mut ids: Vec<&str> = received.iter().map(|r| r.event.id()).collect();
    ids.sort();
    check.that(
        ids.iter().copied().eq(expected.keys().map(String::as_str)),
        || format!("every published id once: {ids:?}"),
    )?;
    for event in &received {
        check.that(event.delivery_count == 1, || {
            format!("first delivery of {}", event.event.id())
        })?;
        check.event(&event.event, expected[event.event.id()])?;
    }
    let token: BTreeMap<&str, &str> = received
        .iter()
        .map(|r| (r.event.id(), r.lock_token.as_str()))
        .collect();
    let tokens = |ids: &[&str]| -> Vec<&str> { ids.iter().map(|id| token[id]).collect() };
    let (rejected, released, delayed, renewed) = (ids[0], ids[1], ids[2], ids[3]);
    let acknowledged = &ids[4..];

    check.settled(
        subscription.acknowledge(&tokens(acknowledged))?,
        &tokens(acknowledged),
        "acknowledge",
    )?;
    let stale = token[acknowledged[0]];
    check.lost(
        &subscription.acknowledge(&[stale])?,
        stale,
        "acknowledging an acknowledged event",
    )?;
    let mixed = subscription.renew_locks(&[token[renewed], stale])?;
    check.that(
        mixed.succeeded == [token[renewed]]
            && mixed.failed.len() == 1
            && mixed.failed[0].lock_token == stale
            && mixed.failed[0].code == "TokenLost",
        || format!("renewing a held and a settled lock: {mixed:?}"),
    )?;
    let failure = mixed
        .into_result()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    check.that(failure.contains("TokenLost"), || {
        format!("into_result names the reason: {failure}")
    })?;
    check.settled(
        subscription.reject(&[token[rejected]])?,
        &[token[rejected]],
        "reject",
    )?;
    check.settled(
        subscription.release(&[token[released]], ReleaseDelay::None)?,
        &[token[released]],
        "release",
    )?;
    check.settled(
        subscription.release(&[token[delayed]], ReleaseDelay::TenSeconds)?,
        &[token[delayed]],
        "release after 10 s",
    )?;
    check.lost(
        &subscription.reject(&[token[rejected]])?,
        token[rejected],
        "rejecting a rejected event",
    )?;

    let again = receive(subscription, 10)?;
    let again_ids: Vec<&str> = again.iter().map(|r| r.event.id()).collect();
    check.that(again_ids == [released], || {
        format!("the released event, alone (the delayed one waits): {again_ids:?}")
    })?;
    check.that(again[0].delivery_count == 2, || {
        "second delivery of the released event".to_owned()
    })?;
    check.event(&again[0].event, expected[released])?;
    check.settled(
        subscription.acknowledge(&[&again[0].lock_token])?,
        &[&again[0].lock_token],
        "acknowledge the redelivered event",
    )?;

    // The held event outlives its first lock only because its lock is renewed.
    std::thread::sleep(lock.mul_f64(0.6));
    check.settled(
        subscription.renew_locks(&[token[renewed]])?,
        &[token[renewed]],
        "renew_locks",
    )?;
    std::thread::sleep(lock.mul_f64(0.6));
    check.settled(
        subscription.acknowledge(&[token[renewed]])?,
        &[token[renewed]],
        "acknowledge after the first lock's end, renewed",
    )?;

    let late = receive_all(subscription, 1)?;
    let late_ids: Vec<&str> = late.iter().map(|r| r.event.id()).collect();
    check.that(late_ids == [delayed], || {
        format!("the delayed event: {late_ids:?}")
    })?;
    check.that(late[0].delivery_count == 2, || {
        "second delivery of the delayed event".to_owned()
    })?;
    check.settled(
        subscription.acknowledge(&[&late[0].lock_token])?,
        &[&late[0].lock_token],
        "acknowledge the delayed event",
    )?;
    Ok(check.0)
}
