//! Serializing and planning 10,000 events of about 1 KB, beside plain `serde_json::to_vec` of
//! the same structs as the floor: today's two passes (`EventGridEvent::new` serializes the
//! data, the encoder copies it) beside the single pass (`TypedEventGridEvent` serializes its
//! data straight into the body), and `send`'s plan (measure every event, then encode each
//! batch) beside encoding everything at once.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eventgrid_core::frontend::{SendPlan, encode_all};
use eventgrid_core::{EventGridEvent, Limits, TypedEventGridEvent};
use serde::Serialize;
use std::hint::black_box;

const EVENTS: usize = 10_000;

#[derive(Serialize, Clone)]
struct Order {
    order_id: u64,
    customer: String,
    notes: String,
    lines: Vec<u32>,
}

fn order(n: u64) -> Order {
    Order {
        order_id: n,
        customer: format!("customer-{n}"),
        notes: "x".repeat(800),
        lines: (0..20).collect(),
    }
}

/// The same fields the Event Grid schema carries, as one plain derived struct.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlainEvent {
    id: String,
    subject: String,
    data: Order,
    event_type: String,
    event_time: String,
    data_version: String,
}

fn bench(c: &mut Criterion) {
    let orders: Vec<Order> = (0..EVENTS as u64).map(order).collect();
    let events: Vec<EventGridEvent> = orders
        .iter()
        .map(|o| EventGridEvent::new("order.created", format!("orders/{}", o.order_id), o).unwrap())
        .collect();
    let size = serde_json::to_vec(&events[0]).unwrap().len();
    let plain: Vec<PlainEvent> = orders
        .iter()
        .zip(&events)
        .map(|(o, e)| PlainEvent {
            id: e.id().to_owned(),
            subject: e.subject().to_owned(),
            data: o.clone(),
            event_type: e.event_type().to_owned(),
            event_time: "2026-11-26T16:22:19.436982Z".to_owned(),
            data_version: "v1".to_owned(),
        })
        .collect();

    let mut group = c.benchmark_group(format!("10k_events_of_{size}_bytes"));
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(30);
    group.bench_function(
        BenchmarkId::new("floor", "serde_json::to_vec(plain structs)"),
        |b| b.iter(|| black_box(serde_json::to_vec(black_box(&plain)).unwrap())),
    );
    group.bench_function(
        BenchmarkId::new("core", "encode_all(prebuilt events)"),
        |b| b.iter(|| black_box(encode_all(black_box(&events), Limits::default()).unwrap())),
    );
    group.bench_function(
        BenchmarkId::new("core", "EventGridEvent::new + encode_all"),
        |b| {
            b.iter(|| {
                let events = orders
                    .iter()
                    .map(|o| EventGridEvent::new("order.created", "orders/1", o).unwrap());
                black_box(encode_all(events, Limits::default()).unwrap())
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(
            "core",
            "TypedEventGridEvent::new + encode_all (single pass)",
        ),
        |b| {
            b.iter(|| {
                let events = orders
                    .iter()
                    .map(|o| TypedEventGridEvent::new("order.created", "orders/1", o));
                black_box(encode_all(events, Limits::default()).unwrap())
            })
        },
    );
    group.bench_function(
        BenchmarkId::new(
            "core",
            "TypedEventGridEvent::new + SendPlan, every batch encoded",
        ),
        |b| {
            b.iter(|| {
                let events = orders
                    .iter()
                    .map(|o| TypedEventGridEvent::new("order.created", "orders/1", o));
                let plan = SendPlan::new(events, Limits::default()).unwrap();
                for batch in 0..plan.len() {
                    black_box(plan.encode(batch).unwrap());
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
