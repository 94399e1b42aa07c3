//! Push delivery to webhooks, as Event Grid does it: event subscriptions on topics, the
//! validation handshakes, filters, batches, the retry schedule, dead letters, and the
//! inspection of every attempt. See `docs/emulator.md`, "Push delivery".

pub(crate) mod advanced_filter;
pub(crate) mod api;
pub(crate) mod batch;
pub(crate) mod client;
pub(crate) mod config;
mod control;
pub(crate) mod dead_letter;
pub(crate) mod document;
pub(crate) mod filter;
pub(crate) mod filter_operator;
pub(crate) mod handshake;
pub(crate) mod log;
pub(crate) mod registry;
pub(crate) mod request;
pub(crate) mod retry;
pub(crate) mod simulator_settings;
pub(crate) mod state;
pub(crate) mod subscription;
pub(crate) mod worker;

pub use advanced_filter::{
    AdvancedFilter, FilterOperator, MAX_FILTER_STRING_CHARS, MAX_FILTER_VALUES,
};
pub use batch::BatchPolicy;
pub use config::PushConfig;
pub use dead_letter::DeadLetter;
pub use filter::{EventFilter, MAX_ADVANCED_FILTERS};
pub use log::DeliveryAttempt;
pub use retry::RetryPolicy;
pub use state::{SubscriptionCounters, SubscriptionInfo, SubscriptionState};
pub use subscription::WebhookSubscription;
