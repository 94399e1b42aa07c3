//! From a received event to a typed system event.

use crate::consumer::error::DataError;
use crate::consumer::received::ReceivedEvent;
use crate::consumer::system::container_registry::ContainerRegistryImageEventData;
use crate::consumer::system::event_grid::{
    SubscriptionDeletedEventData, SubscriptionValidationEventData,
};
use crate::consumer::system::key_vault::KeyVaultObjectEventData;
use crate::consumer::system::names;
use crate::consumer::system::resources::ResourceEventData;
use crate::consumer::system::service_bus::ServiceBusMessagesAvailableEventData;
use crate::consumer::system::storage::{StorageBlobCreatedEventData, StorageBlobDeletedEventData};

macro_rules! system_events {
    ($($(#[$doc:meta])* $variant:ident($data:ty) = $name:ident,)*) => {
        /// A received event with its data typed, for the system events this library has
        /// types for; [`SystemEvent::Other`] for every other event.
        ///
        /// ```
        /// use eventgrid_core::CloudEvent;
        /// use eventgrid_core::consumer::system::SystemEvent;
        /// let event = CloudEvent::new(
        ///     "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/acct",
        ///     "Microsoft.Storage.BlobCreated",
        ///     serde_json::json!({"api": "PutBlob", "contentLength": 17555,
        ///         "url": "https://acct.blob.core.windows.net/photos/cat.jpg"}),
        /// )?;
        /// match SystemEvent::parse(&event)? {
        ///     SystemEvent::StorageBlobCreated(blob) => {
        ///         assert_eq!(blob.content_length, Some(17555));
        ///     }
        ///     other => panic!("unexpected {}", other.event_type()),
        /// }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum SystemEvent {
            $(
                $(#[$doc])*
                $variant($data),
            )*
            /// Any other event: a system event without typed data here (see
            /// [`names::is_system_event`]), or an application's own event. Holds its type.
            Other(String),
        }

        impl SystemEvent {
            /// Reads `event` as a system event. Types compare ignoring ASCII case; a known
            /// type whose data does not have the specification's shape is a [`DataError`].
            pub fn parse<'a>(event: impl Into<ReceivedEvent<'a>>) -> Result<Self, DataError> {
                let event = event.into();
                let Some(name) = names::canonical(event.event_type()) else {
                    return Ok(Self::Other(event.event_type().to_owned()));
                };
                $(
                    if name == names::$name {
                        return event.data_as::<$data>().map(Self::$variant);
                    }
                )*
                Ok(Self::Other(name.to_owned()))
            }

            /// The event's type, in the specification's spelling for typed ones.
            pub fn event_type(&self) -> &str {
                match self {
                    $(Self::$variant(_) => names::$name,)*
                    Self::Other(event_type) => event_type,
                }
            }
        }
    };
}

system_events! {
    /// `Microsoft.EventGrid.SubscriptionValidationEvent`.
    SubscriptionValidation(SubscriptionValidationEventData) = EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT,
    /// `Microsoft.EventGrid.SubscriptionDeletedEvent`.
    SubscriptionDeleted(SubscriptionDeletedEventData) = EVENT_GRID_SUBSCRIPTION_DELETED_EVENT,
    /// `Microsoft.Storage.BlobCreated`.
    StorageBlobCreated(StorageBlobCreatedEventData) = STORAGE_BLOB_CREATED,
    /// `Microsoft.Storage.BlobDeleted`.
    StorageBlobDeleted(StorageBlobDeletedEventData) = STORAGE_BLOB_DELETED,
    /// `Microsoft.Resources.ResourceWriteSuccess`.
    ResourceWriteSuccess(ResourceEventData) = RESOURCES_RESOURCE_WRITE_SUCCESS,
    /// `Microsoft.Resources.ResourceWriteFailure`.
    ResourceWriteFailure(ResourceEventData) = RESOURCES_RESOURCE_WRITE_FAILURE,
    /// `Microsoft.Resources.ResourceWriteCancel`.
    ResourceWriteCancel(ResourceEventData) = RESOURCES_RESOURCE_WRITE_CANCEL,
    /// `Microsoft.Resources.ResourceDeleteSuccess`.
    ResourceDeleteSuccess(ResourceEventData) = RESOURCES_RESOURCE_DELETE_SUCCESS,
    /// `Microsoft.Resources.ResourceDeleteFailure`.
    ResourceDeleteFailure(ResourceEventData) = RESOURCES_RESOURCE_DELETE_FAILURE,
    /// `Microsoft.Resources.ResourceDeleteCancel`.
    ResourceDeleteCancel(ResourceEventData) = RESOURCES_RESOURCE_DELETE_CANCEL,
    /// `Microsoft.Resources.ResourceActionSuccess`.
    ResourceActionSuccess(ResourceEventData) = RESOURCES_RESOURCE_ACTION_SUCCESS,
    /// `Microsoft.Resources.ResourceActionFailure`.
    ResourceActionFailure(ResourceEventData) = RESOURCES_RESOURCE_ACTION_FAILURE,
    /// `Microsoft.Resources.ResourceActionCancel`.
    ResourceActionCancel(ResourceEventData) = RESOURCES_RESOURCE_ACTION_CANCEL,
    /// `Microsoft.KeyVault.SecretNearExpiry`.
    KeyVaultSecretNearExpiry(KeyVaultObjectEventData) = KEY_VAULT_SECRET_NEAR_EXPIRY,
    /// `Microsoft.KeyVault.SecretExpired`.
    KeyVaultSecretExpired(KeyVaultObjectEventData) = KEY_VAULT_SECRET_EXPIRED,
    /// `Microsoft.KeyVault.SecretNewVersionCreated`.
    KeyVaultSecretNewVersionCreated(KeyVaultObjectEventData) = KEY_VAULT_SECRET_NEW_VERSION_CREATED,
    /// `Microsoft.KeyVault.KeyNearExpiry`.
    KeyVaultKeyNearExpiry(KeyVaultObjectEventData) = KEY_VAULT_KEY_NEAR_EXPIRY,
    /// `Microsoft.KeyVault.KeyExpired`.
    KeyVaultKeyExpired(KeyVaultObjectEventData) = KEY_VAULT_KEY_EXPIRED,
    /// `Microsoft.KeyVault.KeyNewVersionCreated`.
    KeyVaultKeyNewVersionCreated(KeyVaultObjectEventData) = KEY_VAULT_KEY_NEW_VERSION_CREATED,
    /// `Microsoft.KeyVault.CertificateNearExpiry`.
    KeyVaultCertificateNearExpiry(KeyVaultObjectEventData) = KEY_VAULT_CERTIFICATE_NEAR_EXPIRY,
    /// `Microsoft.KeyVault.CertificateExpired`.
    KeyVaultCertificateExpired(KeyVaultObjectEventData) = KEY_VAULT_CERTIFICATE_EXPIRED,
    /// `Microsoft.KeyVault.CertificateNewVersionCreated`.
    KeyVaultCertificateNewVersionCreated(KeyVaultObjectEventData) = KEY_VAULT_CERTIFICATE_NEW_VERSION_CREATED,
    /// `Microsoft.KeyVault.VaultAccessPolicyChanged`.
    KeyVaultAccessPolicyChanged(KeyVaultObjectEventData) = KEY_VAULT_VAULT_ACCESS_POLICY_CHANGED,
    /// `Microsoft.ServiceBus.ActiveMessagesAvailableWithNoListeners`.
    ServiceBusActiveMessagesAvailableWithNoListeners(ServiceBusMessagesAvailableEventData) = SERVICE_BUS_ACTIVE_MESSAGES_AVAILABLE_WITH_NO_LISTENERS,
    /// `Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners`.
    ServiceBusDeadletterMessagesAvailableWithNoListeners(ServiceBusMessagesAvailableEventData) = SERVICE_BUS_DEADLETTER_MESSAGES_AVAILABLE_WITH_NO_LISTENERS,
    /// `Microsoft.ServiceBus.ActiveMessagesAvailablePeriodicNotifications`.
    ServiceBusActiveMessagesAvailablePeriodicNotifications(ServiceBusMessagesAvailableEventData) = SERVICE_BUS_ACTIVE_MESSAGES_AVAILABLE_PERIODIC_NOTIFICATIONS,
    /// `Microsoft.ServiceBus.DeadletterMessagesAvailablePeriodicNotifications`.
    ServiceBusDeadletterMessagesAvailablePeriodicNotifications(ServiceBusMessagesAvailableEventData) = SERVICE_BUS_DEADLETTER_MESSAGES_AVAILABLE_PERIODIC_NOTIFICATIONS,
    /// `Microsoft.ContainerRegistry.ImagePushed`.
    ContainerRegistryImagePushed(ContainerRegistryImageEventData) = CONTAINER_REGISTRY_IMAGE_PUSHED,
    /// `Microsoft.ContainerRegistry.ImageDeleted`.
    ContainerRegistryImageDeleted(ContainerRegistryImageEventData) = CONTAINER_REGISTRY_IMAGE_DELETED,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{CloudEvent, EventGridEvent};

    #[test]
    fn every_typed_name_is_a_known_system_event() {
        for name in [
            names::KEY_VAULT_VAULT_ACCESS_POLICY_CHANGED,
            names::SERVICE_BUS_DEADLETTER_MESSAGES_AVAILABLE_PERIODIC_NOTIFICATIONS,
            names::CONTAINER_REGISTRY_IMAGE_DELETED,
        ] {
            let event = EventGridEvent::new(name, "s", json!({})).unwrap();
            let parsed = SystemEvent::parse(&event).unwrap();
            assert!(!matches!(parsed, SystemEvent::Other(_)), "{name}");
            assert_eq!(parsed.event_type(), name);
        }
    }

    #[test]
    fn other_events_fall_back_with_their_type() {
        let own = CloudEvent::new("/orders", "order.placed", json!({})).unwrap();
        assert_eq!(
            SystemEvent::parse(&own).unwrap(),
            SystemEvent::Other("order.placed".into())
        );
        let untyped =
            EventGridEvent::new("microsoft.maps.geofenceentered", "s", json!({})).unwrap();
        assert_eq!(
            SystemEvent::parse(&untyped).unwrap(),
            SystemEvent::Other(names::MAPS_GEOFENCE_ENTERED.into())
        );
    }

    #[test]
    fn a_known_type_with_the_wrong_shape_is_an_error() {
        let event = EventGridEvent::new(
            names::STORAGE_BLOB_CREATED,
            "s",
            json!({"contentLength": "big"}),
        )
        .unwrap();
        let error = SystemEvent::parse(&event).unwrap_err().to_string();
        assert!(
            error.contains("Microsoft.Storage.BlobCreated")
                && error.contains("StorageBlobCreatedEventData"),
            "{error}"
        );
        let without_data = EventGridEvent::without_data(names::KEY_VAULT_SECRET_EXPIRED, "s");
        assert!(matches!(
            SystemEvent::parse(&without_data),
            Err(DataError::Missing { .. })
        ));
    }
}
