//! System events: the events Azure services publish, by type name ([`names`]), and typed data
//! for the ones subscribers meet first ([`SystemEvent`]).
//!
//! Each data type has every field optional: the service adds fields over time and omits
//! some for some operations, and a subscriber should not refuse an event for either.

mod container_registry;
mod event_grid;
mod key_vault;
pub mod names;
mod resources;
mod service_bus;
mod storage;
mod system_event;

pub use container_registry::{
    ContainerRegistryConnectedRegistry, ContainerRegistryEventActor, ContainerRegistryEventRequest,
    ContainerRegistryEventSource, ContainerRegistryEventTarget, ContainerRegistryImageEventData,
};
pub use event_grid::{SubscriptionDeletedEventData, SubscriptionValidationEventData};
pub use key_vault::KeyVaultObjectEventData;
pub use resources::{ResourceAuthorization, ResourceEventData, ResourceHttpRequest};
pub use service_bus::ServiceBusMessagesAvailableEventData;
pub use storage::{StorageBlobCreatedEventData, StorageBlobDeletedEventData};
pub use system_event::SystemEvent;
