//! One conformance suite for every front end: each scenario below is written once and run
//! against the async and blocking clients and the async and blocking buffered publishers,
//! each test through an emulator of its own (`eventgrid_tests::conformance`). Each test is
//! named `SCENARIO::ADAPTER`, so a failure names both. A new front end (or a client on a
//! transport of one's own) proves itself by implementing `Subject` and joining the adapters.
//!
//! A behaviour that differs between front ends is a bug: the assertion stays strict (the
//! behaviour the issue asks for) and that one test is ignored with `differs: ...` (or
//! `missing: ...` when no front end has it yet) until the front end is fixed.

mod cancellation;
mod credentials;
mod deadlines;
mod metrics;
mod namespace;
mod options;
mod partial;
mod proxy;
mod refusals;
mod schemas;
mod splitting;
mod statuses;
mod support;
mod tokens;
mod topics;
mod transport;

/// The adapters by the names the tests carry.
#[allow(non_upper_case_globals)]
mod adapters {
    use eventgrid_tests::conformance::Adapter;
    pub const async_client: Adapter = Adapter::AsyncClient;
    pub const blocking_client: Adapter = Adapter::BlockingClient;
    pub const async_publisher: Adapter = Adapter::AsyncPublisher;
    pub const blocking_publisher: Adapter = Adapter::BlockingPublisher;
}

/// The table: `group::scenario;` runs against every adapter; `=> [...]` names the adapters a
/// scenario applies to, each with the attributes of its test (`#[ignore = "..."]`).
macro_rules! conformance {
    (@row $group:ident :: $scenario:ident [$( $(#[$meta:meta])* $adapter:ident ),+ $(,)?]) => {
        mod $scenario {
            $(
                #[test]
                $(#[$meta])*
                fn $adapter() {
                    eventgrid_tests::conformance::run(
                        crate::adapters::$adapter,
                        crate::$group::$scenario,
                    );
                }
            )+
        }
    };
    () => {};
    ($group:ident :: $scenario:ident; $($rest:tt)*) => {
        conformance!(@row $group::$scenario [async_client, blocking_client, async_publisher, blocking_publisher]);
        conformance!($($rest)*);
    };
    ($group:ident :: $scenario:ident => [$($adapters:tt)*]; $($rest:tt)*) => {
        conformance!(@row $group::$scenario [$($adapters)*]);
        conformance!($($rest)*);
    };
}

conformance! {
    // Credentials: each kind a user can configure, and what the service sees.
    credentials::no_credential_on_an_open_topic;
    credentials::access_key;
    credentials::sas_token_generated_from_the_key;
    credentials::sas_token_given;
    credentials::topic_credential_overrides_the_client_credential;
    credentials::bearer_token_from_a_token_credential;
    credentials::bearer_token_refreshed_when_about_to_expire;
    credentials::bearer_token_from_the_emulator_token_endpoint;
    credentials::wrong_key_is_refused_once;
    credentials::missing_credential_is_refused_once;
    credentials::expired_sas_token_is_refused_once;

    // Schemas and domains: the same events arrive, with the schema's content type.
    schemas::event_grid_schema;
    schemas::cloudevents_schema;
    schemas::custom_schema;
    schemas::domain_events;
    schemas::emit_event_fills_in_id_time_and_version;

    // Refusals before anything is sent.
    refusals::nothing_to_send;
    refusals::oversize_event;
    refusals::invalid_event;
    refusals::too_many_events_per_request;
    refusals::schema_mismatch;
    refusals::unknown_topic;
    refusals::credential_over_plain_http_to_another_host;

    // Statuses worth retrying, with and without the service's hint.
    statuses::retried_408;
    statuses::retried_408_after_retry_after_ms;
    statuses::retried_429;
    statuses::retried_429_after_retry_after_ms;
    statuses::retried_500;
    statuses::retried_500_after_retry_after_ms;
    statuses::retried_503;
    statuses::retried_503_after_retry_after_ms;
    statuses::retry_after_seconds_beyond_the_deadline;
    statuses::retries_exhausted;

    // Statuses never retried.
    statuses::not_retried_400;
    statuses::not_retried_401;
    statuses::not_retried_403;
    statuses::not_retried_404;
    statuses::not_retried_413;
    statuses::unknown_topic_path_is_404;
    statuses::request_over_the_service_limit_is_413;

    // Below HTTP: dropped connections, time-outs, nothing listening.
    transport::dropped_connection_is_retried;
    transport::dropped_connections_exhaust_the_retries;
    transport::request_timeout_is_retried;
    transport::request_timeout_without_retries;
    transport::connection_refused;

    // Microsoft Entra ID tokens: shared, and those that cannot be had.
    tokens::failing_credential_is_called_once_for_concurrent_sends;
    tokens::hanging_credential_times_out;
    tokens::token_refused_by_the_service;
    tokens::token_fetched_once_for_concurrent_sends;

    // The overall deadline.
    deadlines::deadline_stops_the_retries;
    deadlines::deadline_bounds_the_attempt_in_flight;

    // Cancellation: only async callers can stop waiting (a blocking call returns when done).
    cancellation::dropping_the_future_leaves_the_front_end_usable => [async_client, async_publisher];

    // Options.
    options::options_given_are_in_force;
    options::default_options_are_the_documented_ones;

    // Metrics.
    metrics::metrics_count_requests_bytes_and_latency;
    metrics::metrics_count_retries_and_failures;
    metrics::metrics_survive_removing_and_adding_the_topic;

    // Topics added and removed at run time.
    topics::topic_added_at_run_time;
    topics::topic_removed_at_run_time;
    topics::concurrent_sends_to_several_topics;

    // Proxies: one policy, the same tunnel, the same refusals.
    proxy::requests_go_through_a_connect_tunnel;
    proxy::no_proxy_hosts_go_direct;
    proxy::loopback_never_goes_through_a_proxy;
    proxy::unsupported_proxy_is_refused_alike;
    proxy::proxy_refusing_the_credentials_is_reported_alike;

    // Splitting into requests.
    splitting::send_splits_by_event_count;
    splitting::send_splits_by_body_size;
    splitting::event_at_the_size_limit_is_sent;
    splitting::send_stream_splits_like_send => [async_client, blocking_client];
    splitting::send_stream_stops_at_an_invalid_event => [async_client, blocking_client];
    splitting::send_stream_names_the_events_read_past_a_refused_one => [async_client, blocking_client];

    // Partial failure: which events were delivered.
    partial::partial_failure_names_the_delivered_events;

    // Namespace topics: publishing from every front end; pull delivery through the clients'
    // receivers (the publishers have none).
    namespace::publishing_reaches_every_subscription;
    namespace::receive_and_every_settlement => [async_client, blocking_client];
    namespace::stale_lock_tokens_are_reported_failed => [async_client, blocking_client];
    namespace::receive_arguments_are_refused_before_sending => [async_client, blocking_client];
    namespace::a_long_poll_outlasts_the_request_timeout => [async_client, blocking_client];
    namespace::the_processor_settles_by_the_handlers_word => [async_client, blocking_client];
    namespace::shutdown_stops_a_waiting_processor => [async_client, blocking_client];
    namespace::the_processor_settles_events_in_batches => [async_client, blocking_client];
    namespace::metrics_count_receives_and_settlements => [async_client, blocking_client];
    namespace::pull_retries_and_failures_are_counted => [async_client, blocking_client];
}
