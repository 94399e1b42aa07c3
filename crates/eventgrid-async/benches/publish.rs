//! Publishing throughput against a local sink (a minimal hyper server answering 200), next to
//! a floor: the same requests sent by a bare hyper client with no Event Grid logic. Compare the
//! two in one run: `cargo bench -p eventgrid-async --bench publish`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eventgrid_async::{
    Credential, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig,
};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::runtime::Runtime;

/// Requests kept in flight by the single-event benchmarks.
const IN_FLIGHT: usize = 64;

/// Starts a sink that reads each body and answers 200, on the given runtime.
fn start_sink(runtime: &Runtime) -> SocketAddr {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |request: http::Request<hyper::body::Incoming>| async move {
                            let _ = request.into_body().collect().await;
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
                        },
                    );
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        addr
    })
}

fn client(addr: SocketAddr) -> EventGridClient {
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "sink",
        format!("http://{addr}/sink/api/events"),
    )
    .unwrap()])
    .unwrap();
    EventGridClient::builder(config)
        .credential(Credential::access_key("a2V5"))
        .max_concurrent_requests(IN_FLIGHT)
        .build()
        .unwrap()
}

/// Runs `count` calls of `one` spread over `IN_FLIGHT` tasks and returns the elapsed time.
async fn spread<F, Fut>(count: u64, one: F) -> Duration
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT as u64)
        .map(|task| {
            let one = one.clone();
            tokio::spawn(async move {
                let mut n = task;
                while n < count {
                    one(n).await;
                    n += IN_FLIGHT as u64;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

fn single_events(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = start_sink(&runtime);
    let mut group = c.benchmark_group("single_event_64_in_flight");
    group.throughput(Throughput::Elements(1));

    let body = {
        let event =
            EventGridEvent::new("bench.event", "bench/1", serde_json::json!({"n": 1})).unwrap();
        Bytes::from(format!("[{}]", serde_json::to_string(&event).unwrap()))
    };
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let bare: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let bare = Arc::new(bare);
    let uri: http::Uri = format!("http://{addr}/sink/api/events?api-version=2018-01-01")
        .parse()
        .unwrap();
    group.bench_function("floor_bare_hyper", |b| {
        b.to_async(&runtime).iter_custom(|count| {
            let (bare, uri, body) = (bare.clone(), uri.clone(), body.clone());
            spread(count, move |_| {
                let (bare, uri, body) = (bare.clone(), uri.clone(), body.clone());
                async move {
                    let request = http::Request::post(uri)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("aeg-sas-key", "a2V5")
                        .body(Full::new(body))
                        .unwrap();
                    let response = bare.request(request).await.unwrap();
                    let _ = response.into_body().collect().await.unwrap();
                }
            })
        })
    });

    let eventgrid = client(addr);
    group.bench_function("emit_event", |b| {
        b.to_async(&runtime).iter_custom(|count| {
            let eventgrid = eventgrid.clone();
            spread(count, move |n| {
                let eventgrid = eventgrid.clone();
                async move {
                    eventgrid
                        .emit_event(
                            "sink",
                            "bench.event",
                            "bench/1",
                            serde_json::json!({"n": n}),
                        )
                        .await
                        .unwrap();
                }
            })
        })
    });
    group.finish();
}

fn batches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = start_sink(&runtime);
    let eventgrid = client(addr);
    let events = 100_000;
    let prepared: Vec<EventGridEvent> = (0..events)
        .map(|n| {
            EventGridEvent::new("bench.event", "bench/1", serde_json::json!({"n": n})).unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("send");
    group.throughput(Throughput::Elements(events as u64));
    group.sample_size(20);
    group.bench_function("send_100k_events", |b| {
        b.to_async(&runtime).iter(|| async {
            let summary = eventgrid.send("sink", &prepared).await.unwrap();
            assert_eq!(summary.events, events);
        })
    });
    group.finish();
}

/// About 1 KB once serialized as an event, like `cargo xtask bench`'s events.
fn kilobyte_data(n: u64) -> serde_json::Value {
    serde_json::json!({"order_id": n, "customer": format!("customer-{n}"), "notes": "x".repeat(700)})
}

/// Publishers at once in the buffered benchmark, each emitting its share one after another.
const PUBLISHERS: u64 = 10_000;

fn buffered(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = start_sink(&runtime);
    let eventgrid = client(addr);
    let events: u64 = 100_000;
    let mut group = c.benchmark_group("buffered");
    group.throughput(Throughput::Elements(events));
    group.sample_size(10);
    group.bench_function("10k_publishers_1kb_events", |b| {
        b.to_async(&runtime).iter(|| async {
            let publisher = eventgrid
                .buffered(eventgrid_async::BufferedOptions::default())
                .unwrap();
            let tasks: Vec<_> = (0..PUBLISHERS)
                .map(|task| {
                    let publisher = publisher.clone();
                    tokio::spawn(async move {
                        let mut n = task;
                        while n < events {
                            publisher
                                .emit_event("sink", "bench.event", "bench/1", kilobyte_data(n))
                                .await
                                .unwrap();
                            n += PUBLISHERS;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            publisher.close().await;
        })
    });
    group.bench_function("send_stream_1kb_events", |b| {
        b.to_async(&runtime).iter(|| async {
            let stream = (0..events)
                .map(|n| EventGridEvent::new("bench.event", "bench/1", kilobyte_data(n)).unwrap());
            let summary = eventgrid.send_stream("sink", stream).await.unwrap();
            assert_eq!(summary.events as u64, events);
        })
    });
    group.finish();
}

criterion_group!(benches, single_events, batches, buffered);
criterion_main!(benches);
