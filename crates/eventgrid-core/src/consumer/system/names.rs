//! The type name of every system event in the service's specification, as constants.
//!
//! The list is the union of Azure/azure-rest-api-specs `specification/eventgrid/data-plane`
//! (the `EventGridSystemEvents` TypeSpec tree) and the `SystemEventNames` the official Python
//! SDK (`azure-eventgrid` 4.22.1) generates from it, which still lists the retired Media
//! Services events that subscribers of old topics may meet. Constants are named after the
//! type without its `Microsoft.` prefix: `Microsoft.Storage.BlobCreated` is
//! [`STORAGE_BLOB_CREATED`].
//!
//! ```
//! use eventgrid_core::consumer::system::names;
//! assert_eq!(names::STORAGE_BLOB_CREATED, "Microsoft.Storage.BlobCreated");
//! assert!(names::is_system_event("microsoft.storage.blobcreated"));
//! assert!(!names::is_system_event("order.placed"));
//! assert!(names::ALL.len() > 200);
//! ```

macro_rules! system_event_names {
    ($($name:ident = $value:literal;)*) => {
        $(
            #[doc = concat!("`", $value, "`")]
            pub const $name: &str = $value;
        )*

        /// Every name above, sorted (byte order), without duplicates.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

system_event_names! {
    AVS_CLUSTER_CREATED = "Microsoft.AVS.ClusterCreated";
    AVS_CLUSTER_DELETED = "Microsoft.AVS.ClusterDeleted";
    AVS_CLUSTER_FAILED = "Microsoft.AVS.ClusterFailed";
    AVS_CLUSTER_UPDATED = "Microsoft.AVS.ClusterUpdated";
    AVS_CLUSTER_UPDATING = "Microsoft.AVS.ClusterUpdating";
    AVS_PRIVATE_CLOUD_FAILED = "Microsoft.AVS.PrivateCloudFailed";
    AVS_PRIVATE_CLOUD_UPDATED = "Microsoft.AVS.PrivateCloudUpdated";
    AVS_PRIVATE_CLOUD_UPDATING = "Microsoft.AVS.PrivateCloudUpdating";
    AVS_SCRIPT_EXECUTION_CANCELLED = "Microsoft.AVS.ScriptExecutionCancelled";
    AVS_SCRIPT_EXECUTION_FAILED = "Microsoft.AVS.ScriptExecutionFailed";
    AVS_SCRIPT_EXECUTION_FINISHED = "Microsoft.AVS.ScriptExecutionFinished";
    AVS_SCRIPT_EXECUTION_STARTED = "Microsoft.AVS.ScriptExecutionStarted";
    API_CENTER_API_DEFINITION_ADDED = "Microsoft.ApiCenter.ApiDefinitionAdded";
    API_CENTER_API_DEFINITION_UPDATED = "Microsoft.ApiCenter.ApiDefinitionUpdated";
    API_MANAGEMENT_API_CREATED = "Microsoft.ApiManagement.APICreated";
    API_MANAGEMENT_API_DELETED = "Microsoft.ApiManagement.APIDeleted";
    API_MANAGEMENT_API_RELEASE_CREATED = "Microsoft.ApiManagement.APIReleaseCreated";
    API_MANAGEMENT_API_RELEASE_DELETED = "Microsoft.ApiManagement.APIReleaseDeleted";
    API_MANAGEMENT_API_RELEASE_UPDATED = "Microsoft.ApiManagement.APIReleaseUpdated";
    API_MANAGEMENT_API_UPDATED = "Microsoft.ApiManagement.APIUpdated";
    API_MANAGEMENT_CIRCUIT_BREAKER_CLOSED = "Microsoft.ApiManagement.CircuitBreaker.Closed";
    API_MANAGEMENT_CIRCUIT_BREAKER_OPENED = "Microsoft.ApiManagement.CircuitBreaker.Opened";
    API_MANAGEMENT_GATEWAY_API_ADDED = "Microsoft.ApiManagement.GatewayAPIAdded";
    API_MANAGEMENT_GATEWAY_API_REMOVED = "Microsoft.ApiManagement.GatewayAPIRemoved";
    API_MANAGEMENT_GATEWAY_CERTIFICATE_AUTHORITY_CREATED = "Microsoft.ApiManagement.GatewayCertificateAuthorityCreated";
    API_MANAGEMENT_GATEWAY_CERTIFICATE_AUTHORITY_DELETED = "Microsoft.ApiManagement.GatewayCertificateAuthorityDeleted";
    API_MANAGEMENT_GATEWAY_CERTIFICATE_AUTHORITY_UPDATED = "Microsoft.ApiManagement.GatewayCertificateAuthorityUpdated";
    API_MANAGEMENT_GATEWAY_CREATED = "Microsoft.ApiManagement.GatewayCreated";
    API_MANAGEMENT_GATEWAY_DELETED = "Microsoft.ApiManagement.GatewayDeleted";
    API_MANAGEMENT_GATEWAY_HOSTNAME_CONFIGURATION_CREATED = "Microsoft.ApiManagement.GatewayHostnameConfigurationCreated";
    API_MANAGEMENT_GATEWAY_HOSTNAME_CONFIGURATION_DELETED = "Microsoft.ApiManagement.GatewayHostnameConfigurationDeleted";
    API_MANAGEMENT_GATEWAY_HOSTNAME_CONFIGURATION_UPDATED = "Microsoft.ApiManagement.GatewayHostnameConfigurationUpdated";
    API_MANAGEMENT_GATEWAY_TOKEN_EXPIRED = "Microsoft.ApiManagement.GatewayTokenExpired";
    API_MANAGEMENT_GATEWAY_TOKEN_NEAR_EXPIRY = "Microsoft.ApiManagement.GatewayTokenNearExpiry";
    API_MANAGEMENT_GATEWAY_UPDATED = "Microsoft.ApiManagement.GatewayUpdated";
    API_MANAGEMENT_PRODUCT_CREATED = "Microsoft.ApiManagement.ProductCreated";
    API_MANAGEMENT_PRODUCT_DELETED = "Microsoft.ApiManagement.ProductDeleted";
    API_MANAGEMENT_PRODUCT_UPDATED = "Microsoft.ApiManagement.ProductUpdated";
    API_MANAGEMENT_SUBSCRIPTION_CREATED = "Microsoft.ApiManagement.SubscriptionCreated";
    API_MANAGEMENT_SUBSCRIPTION_DELETED = "Microsoft.ApiManagement.SubscriptionDeleted";
    API_MANAGEMENT_SUBSCRIPTION_UPDATED = "Microsoft.ApiManagement.SubscriptionUpdated";
    API_MANAGEMENT_USER_CREATED = "Microsoft.ApiManagement.UserCreated";
    API_MANAGEMENT_USER_DELETED = "Microsoft.ApiManagement.UserDeleted";
    API_MANAGEMENT_USER_UPDATED = "Microsoft.ApiManagement.UserUpdated";
    APP_CONFIGURATION_KEY_VALUE_DELETED = "Microsoft.AppConfiguration.KeyValueDeleted";
    APP_CONFIGURATION_KEY_VALUE_MODIFIED = "Microsoft.AppConfiguration.KeyValueModified";
    APP_CONFIGURATION_SNAPSHOT_CREATED = "Microsoft.AppConfiguration.SnapshotCreated";
    APP_CONFIGURATION_SNAPSHOT_MODIFIED = "Microsoft.AppConfiguration.SnapshotModified";
    CACHE_EXPORT_RDB_COMPLETED = "Microsoft.Cache.ExportRDBCompleted";
    CACHE_IMPORT_RDB_COMPLETED = "Microsoft.Cache.ImportRDBCompleted";
    CACHE_PATCHING_COMPLETED = "Microsoft.Cache.PatchingCompleted";
    CACHE_SCALING_COMPLETED = "Microsoft.Cache.ScalingCompleted";
    COMMUNICATION_ADVANCED_MESSAGE_DELIVERY_STATUS_UPDATED = "Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated";
    COMMUNICATION_ADVANCED_MESSAGE_RECEIVED = "Microsoft.Communication.AdvancedMessageReceived";
    COMMUNICATION_CALL_ENDED = "Microsoft.Communication.CallEnded";
    COMMUNICATION_CALL_PARTICIPANT_ADDED = "Microsoft.Communication.CallParticipantAdded";
    COMMUNICATION_CALL_PARTICIPANT_REMOVED = "Microsoft.Communication.CallParticipantRemoved";
    COMMUNICATION_CALL_STARTED = "Microsoft.Communication.CallStarted";
    COMMUNICATION_CHAT_AZURE_BOT_COMMAND_RECEIVED_IN_THREAD = "Microsoft.Communication.ChatAzureBotCommandReceivedInThread";
    COMMUNICATION_CHAT_MEMBER_ADDED_TO_THREAD_WITH_USER = "Microsoft.Communication.ChatMemberAddedToThreadWithUser";
    COMMUNICATION_CHAT_MEMBER_REMOVED_FROM_THREAD_WITH_USER = "Microsoft.Communication.ChatMemberRemovedFromThreadWithUser";
    COMMUNICATION_CHAT_MESSAGE_DELETED = "Microsoft.Communication.ChatMessageDeleted";
    COMMUNICATION_CHAT_MESSAGE_DELETED_IN_THREAD = "Microsoft.Communication.ChatMessageDeletedInThread";
    COMMUNICATION_CHAT_MESSAGE_EDITED = "Microsoft.Communication.ChatMessageEdited";
    COMMUNICATION_CHAT_MESSAGE_EDITED_IN_THREAD = "Microsoft.Communication.ChatMessageEditedInThread";
    COMMUNICATION_CHAT_MESSAGE_RECEIVED = "Microsoft.Communication.ChatMessageReceived";
    COMMUNICATION_CHAT_MESSAGE_RECEIVED_IN_THREAD = "Microsoft.Communication.ChatMessageReceivedInThread";
    COMMUNICATION_CHAT_PARTICIPANT_ADDED_TO_THREAD_WITH_USER = "Microsoft.Communication.ChatParticipantAddedToThreadWithUser";
    COMMUNICATION_CHAT_PARTICIPANT_REMOVED_FROM_THREAD_WITH_USER = "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser";
    COMMUNICATION_CHAT_THREAD_CREATED = "Microsoft.Communication.ChatThreadCreated";
    COMMUNICATION_CHAT_THREAD_CREATED_WITH_USER = "Microsoft.Communication.ChatThreadCreatedWithUser";
    COMMUNICATION_CHAT_THREAD_DELETED = "Microsoft.Communication.ChatThreadDeleted";
    COMMUNICATION_CHAT_THREAD_PARTICIPANT_ADDED = "Microsoft.Communication.ChatThreadParticipantAdded";
    COMMUNICATION_CHAT_THREAD_PARTICIPANT_REMOVED = "Microsoft.Communication.ChatThreadParticipantRemoved";
    COMMUNICATION_CHAT_THREAD_PROPERTIES_UPDATED = "Microsoft.Communication.ChatThreadPropertiesUpdated";
    COMMUNICATION_CHAT_THREAD_PROPERTIES_UPDATED_PER_USER = "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser";
    COMMUNICATION_CHAT_THREAD_WITH_USER_DELETED = "Microsoft.Communication.ChatThreadWithUserDeleted";
    COMMUNICATION_CHAT_TYPING_INDICATOR_RECEIVED_IN_THREAD = "Microsoft.Communication.ChatTypingIndicatorReceivedInThread";
    COMMUNICATION_EMAIL_DELIVERY_REPORT_RECEIVED = "Microsoft.Communication.EmailDeliveryReportReceived";
    COMMUNICATION_EMAIL_ENGAGEMENT_TRACKING_REPORT_RECEIVED = "Microsoft.Communication.EmailEngagementTrackingReportReceived";
    COMMUNICATION_INCOMING_CALL = "Microsoft.Communication.IncomingCall";
    COMMUNICATION_RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated";
    COMMUNICATION_ROUTER_JOB_CANCELLED = "Microsoft.Communication.RouterJobCancelled";
    COMMUNICATION_ROUTER_JOB_CLASSIFICATION_FAILED = "Microsoft.Communication.RouterJobClassificationFailed";
    COMMUNICATION_ROUTER_JOB_CLASSIFIED = "Microsoft.Communication.RouterJobClassified";
    COMMUNICATION_ROUTER_JOB_CLOSED = "Microsoft.Communication.RouterJobClosed";
    COMMUNICATION_ROUTER_JOB_COMPLETED = "Microsoft.Communication.RouterJobCompleted";
    COMMUNICATION_ROUTER_JOB_DELETED = "Microsoft.Communication.RouterJobDeleted";
    COMMUNICATION_ROUTER_JOB_EXCEPTION_TRIGGERED = "Microsoft.Communication.RouterJobExceptionTriggered";
    COMMUNICATION_ROUTER_JOB_QUEUED = "Microsoft.Communication.RouterJobQueued";
    COMMUNICATION_ROUTER_JOB_RECEIVED = "Microsoft.Communication.RouterJobReceived";
    COMMUNICATION_ROUTER_JOB_SCHEDULING_FAILED = "Microsoft.Communication.RouterJobSchedulingFailed";
    COMMUNICATION_ROUTER_JOB_UNASSIGNED = "Microsoft.Communication.RouterJobUnassigned";
    COMMUNICATION_ROUTER_JOB_WAITING_FOR_ACTIVATION = "Microsoft.Communication.RouterJobWaitingForActivation";
    COMMUNICATION_ROUTER_JOB_WORKER_SELECTORS_EXPIRED = "Microsoft.Communication.RouterJobWorkerSelectorsExpired";
    COMMUNICATION_ROUTER_WORKER_DELETED = "Microsoft.Communication.RouterWorkerDeleted";
    COMMUNICATION_ROUTER_WORKER_DEREGISTERED = "Microsoft.Communication.RouterWorkerDeregistered";
    COMMUNICATION_ROUTER_WORKER_OFFER_ACCEPTED = "Microsoft.Communication.RouterWorkerOfferAccepted";
    COMMUNICATION_ROUTER_WORKER_OFFER_DECLINED = "Microsoft.Communication.RouterWorkerOfferDeclined";
    COMMUNICATION_ROUTER_WORKER_OFFER_EXPIRED = "Microsoft.Communication.RouterWorkerOfferExpired";
    COMMUNICATION_ROUTER_WORKER_OFFER_ISSUED = "Microsoft.Communication.RouterWorkerOfferIssued";
    COMMUNICATION_ROUTER_WORKER_OFFER_REVOKED = "Microsoft.Communication.RouterWorkerOfferRevoked";
    COMMUNICATION_ROUTER_WORKER_REGISTERED = "Microsoft.Communication.RouterWorkerRegistered";
    COMMUNICATION_ROUTER_WORKER_UPDATED = "Microsoft.Communication.RouterWorkerUpdated";
    COMMUNICATION_SMS_DELIVERY_REPORT_RECEIVED = "Microsoft.Communication.SMSDeliveryReportReceived";
    COMMUNICATION_SMS_RECEIVED = "Microsoft.Communication.SMSReceived";
    COMMUNICATION_USER_DISCONNECTED = "Microsoft.Communication.UserDisconnected";
    COMPUTE_VIRTUAL_MACHINE_SCALE_SETS_LIFECYCLE_HOOK_EVENTS = "Microsoft.Compute.VirtualMachineScaleSets.LifecycleHookEvents";
    CONTAINER_REGISTRY_CHART_DELETED = "Microsoft.ContainerRegistry.ChartDeleted";
    CONTAINER_REGISTRY_CHART_PUSHED = "Microsoft.ContainerRegistry.ChartPushed";
    CONTAINER_REGISTRY_IMAGE_DELETED = "Microsoft.ContainerRegistry.ImageDeleted";
    CONTAINER_REGISTRY_IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed";
    CONTAINER_SERVICE_CLUSTER_SUPPORT_ENDED = "Microsoft.ContainerService.ClusterSupportEnded";
    CONTAINER_SERVICE_CLUSTER_SUPPORT_ENDING = "Microsoft.ContainerService.ClusterSupportEnding";
    CONTAINER_SERVICE_NEW_KUBERNETES_VERSION_AVAILABLE = "Microsoft.ContainerService.NewKubernetesVersionAvailable";
    CONTAINER_SERVICE_NODE_POOL_ROLLING_FAILED = "Microsoft.ContainerService.NodePoolRollingFailed";
    CONTAINER_SERVICE_NODE_POOL_ROLLING_STARTED = "Microsoft.ContainerService.NodePoolRollingStarted";
    CONTAINER_SERVICE_NODE_POOL_ROLLING_SUCCEEDED = "Microsoft.ContainerService.NodePoolRollingSucceeded";
    DATA_BOX_COPY_COMPLETED = "Microsoft.DataBox.CopyCompleted";
    DATA_BOX_COPY_STARTED = "Microsoft.DataBox.CopyStarted";
    DATA_BOX_ORDER_COMPLETED = "Microsoft.DataBox.OrderCompleted";
    DEVICES_DEVICE_CONNECTED = "Microsoft.Devices.DeviceConnected";
    DEVICES_DEVICE_CREATED = "Microsoft.Devices.DeviceCreated";
    DEVICES_DEVICE_DELETED = "Microsoft.Devices.DeviceDeleted";
    DEVICES_DEVICE_DISCONNECTED = "Microsoft.Devices.DeviceDisconnected";
    DEVICES_DEVICE_TELEMETRY = "Microsoft.Devices.DeviceTelemetry";
    EDGE_SOLUTION_VERSION_PUBLISHED = "Microsoft.Edge.SolutionVersionPublished";
    EVENT_GRID_MQTT_CLIENT_CREATED_OR_UPDATED = "Microsoft.EventGrid.MQTTClientCreatedOrUpdated";
    EVENT_GRID_MQTT_CLIENT_DELETED = "Microsoft.EventGrid.MQTTClientDeleted";
    EVENT_GRID_MQTT_CLIENT_SESSION_CONNECTED = "Microsoft.EventGrid.MQTTClientSessionConnected";
    EVENT_GRID_MQTT_CLIENT_SESSION_DISCONNECTED = "Microsoft.EventGrid.MQTTClientSessionDisconnected";
    EVENT_GRID_SUBSCRIPTION_DELETED_EVENT = "Microsoft.EventGrid.SubscriptionDeletedEvent";
    EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent";
    EVENT_HUB_CAPTURE_FILE_CREATED = "Microsoft.EventHub.CaptureFileCreated";
    HEALTHCARE_APIS_DICOM_IMAGE_CREATED = "Microsoft.HealthcareApis.DicomImageCreated";
    HEALTHCARE_APIS_DICOM_IMAGE_DELETED = "Microsoft.HealthcareApis.DicomImageDeleted";
    HEALTHCARE_APIS_DICOM_IMAGE_UPDATED = "Microsoft.HealthcareApis.DicomImageUpdated";
    HEALTHCARE_APIS_FHIR_RESOURCE_CREATED = "Microsoft.HealthcareApis.FhirResourceCreated";
    HEALTHCARE_APIS_FHIR_RESOURCE_DELETED = "Microsoft.HealthcareApis.FhirResourceDeleted";
    HEALTHCARE_APIS_FHIR_RESOURCE_UPDATED = "Microsoft.HealthcareApis.FhirResourceUpdated";
    KEY_VAULT_CERTIFICATE_EXPIRED = "Microsoft.KeyVault.CertificateExpired";
    KEY_VAULT_CERTIFICATE_NEAR_EXPIRY = "Microsoft.KeyVault.CertificateNearExpiry";
    KEY_VAULT_CERTIFICATE_NEW_VERSION_CREATED = "Microsoft.KeyVault.CertificateNewVersionCreated";
    KEY_VAULT_KEY_EXPIRED = "Microsoft.KeyVault.KeyExpired";
    KEY_VAULT_KEY_NEAR_EXPIRY = "Microsoft.KeyVault.KeyNearExpiry";
    KEY_VAULT_KEY_NEW_VERSION_CREATED = "Microsoft.KeyVault.KeyNewVersionCreated";
    KEY_VAULT_SECRET_EXPIRED = "Microsoft.KeyVault.SecretExpired";
    KEY_VAULT_SECRET_NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry";
    KEY_VAULT_SECRET_NEW_VERSION_CREATED = "Microsoft.KeyVault.SecretNewVersionCreated";
    KEY_VAULT_VAULT_ACCESS_POLICY_CHANGED = "Microsoft.KeyVault.VaultAccessPolicyChanged";
    MACHINE_LEARNING_SERVICES_DATASET_DRIFT_DETECTED = "Microsoft.MachineLearningServices.DatasetDriftDetected";
    MACHINE_LEARNING_SERVICES_MODEL_DEPLOYED = "Microsoft.MachineLearningServices.ModelDeployed";
    MACHINE_LEARNING_SERVICES_MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered";
    MACHINE_LEARNING_SERVICES_RUN_COMPLETED = "Microsoft.MachineLearningServices.RunCompleted";
    MACHINE_LEARNING_SERVICES_RUN_STATUS_CHANGED = "Microsoft.MachineLearningServices.RunStatusChanged";
    MAPS_GEOFENCE_ENTERED = "Microsoft.Maps.GeofenceEntered";
    MAPS_GEOFENCE_EXITED = "Microsoft.Maps.GeofenceExited";
    MAPS_GEOFENCE_RESULT = "Microsoft.Maps.GeofenceResult";
    MEDIA_JOB_CANCELED = "Microsoft.Media.JobCanceled";
    MEDIA_JOB_CANCELING = "Microsoft.Media.JobCanceling";
    MEDIA_JOB_ERRORED = "Microsoft.Media.JobErrored";
    MEDIA_JOB_FINISHED = "Microsoft.Media.JobFinished";
    MEDIA_JOB_OUTPUT_CANCELED = "Microsoft.Media.JobOutputCanceled";
    MEDIA_JOB_OUTPUT_CANCELING = "Microsoft.Media.JobOutputCanceling";
    MEDIA_JOB_OUTPUT_ERRORED = "Microsoft.Media.JobOutputErrored";
    MEDIA_JOB_OUTPUT_FINISHED = "Microsoft.Media.JobOutputFinished";
    MEDIA_JOB_OUTPUT_PROCESSING = "Microsoft.Media.JobOutputProcessing";
    MEDIA_JOB_OUTPUT_PROGRESS = "Microsoft.Media.JobOutputProgress";
    MEDIA_JOB_OUTPUT_SCHEDULED = "Microsoft.Media.JobOutputScheduled";
    MEDIA_JOB_OUTPUT_STATE_CHANGE = "Microsoft.Media.JobOutputStateChange";
    MEDIA_JOB_PROCESSING = "Microsoft.Media.JobProcessing";
    MEDIA_JOB_SCHEDULED = "Microsoft.Media.JobScheduled";
    MEDIA_JOB_STATE_CHANGE = "Microsoft.Media.JobStateChange";
    MEDIA_LIVE_EVENT_CHANNEL_ARCHIVE_HEARTBEAT = "Microsoft.Media.LiveEventChannelArchiveHeartbeat";
    MEDIA_LIVE_EVENT_CONNECTION_REJECTED = "Microsoft.Media.LiveEventConnectionRejected";
    MEDIA_LIVE_EVENT_ENCODER_CONNECTED = "Microsoft.Media.LiveEventEncoderConnected";
    MEDIA_LIVE_EVENT_ENCODER_DISCONNECTED = "Microsoft.Media.LiveEventEncoderDisconnected";
    MEDIA_LIVE_EVENT_INCOMING_DATA_CHUNK_DROPPED = "Microsoft.Media.LiveEventIncomingDataChunkDropped";
    MEDIA_LIVE_EVENT_INCOMING_STREAM_RECEIVED = "Microsoft.Media.LiveEventIncomingStreamReceived";
    MEDIA_LIVE_EVENT_INCOMING_STREAMS_OUT_OF_SYNC = "Microsoft.Media.LiveEventIncomingStreamsOutOfSync";
    MEDIA_LIVE_EVENT_INCOMING_VIDEO_STREAMS_OUT_OF_SYNC = "Microsoft.Media.LiveEventIncomingVideoStreamsOutOfSync";
    MEDIA_LIVE_EVENT_INGEST_HEARTBEAT = "Microsoft.Media.LiveEventIngestHeartbeat";
    MEDIA_LIVE_EVENT_TRACK_DISCONTINUITY_DETECTED = "Microsoft.Media.LiveEventTrackDiscontinuityDetected";
    POLICY_INSIGHTS_POLICY_STATE_CHANGED = "Microsoft.PolicyInsights.PolicyStateChanged";
    POLICY_INSIGHTS_POLICY_STATE_CREATED = "Microsoft.PolicyInsights.PolicyStateCreated";
    POLICY_INSIGHTS_POLICY_STATE_DELETED = "Microsoft.PolicyInsights.PolicyStateDeleted";
    RESOURCE_NOTIFICATIONS_CONTAINER_SERVICE_EVENT_RESOURCES_SCHEDULED_EVENT_EMITTED = "Microsoft.ResourceNotifications.ContainerServiceEventResources.ScheduledEventEmitted";
    RESOURCE_NOTIFICATIONS_HEALTH_RESOURCES_AVAILABILITY_STATUS_CHANGED = "Microsoft.ResourceNotifications.HealthResources.AvailabilityStatusChanged";
    RESOURCE_NOTIFICATIONS_HEALTH_RESOURCES_RESOURCE_ANNOTATED = "Microsoft.ResourceNotifications.HealthResources.ResourceAnnotated";
    RESOURCE_NOTIFICATIONS_RESOURCES_CREATED_OR_UPDATED = "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated";
    RESOURCE_NOTIFICATIONS_RESOURCES_DELETED = "Microsoft.ResourceNotifications.Resources.Deleted";
    RESOURCES_RESOURCE_ACTION_CANCEL = "Microsoft.Resources.ResourceActionCancel";
    RESOURCES_RESOURCE_ACTION_FAILURE = "Microsoft.Resources.ResourceActionFailure";
    RESOURCES_RESOURCE_ACTION_SUCCESS = "Microsoft.Resources.ResourceActionSuccess";
    RESOURCES_RESOURCE_DELETE_CANCEL = "Microsoft.Resources.ResourceDeleteCancel";
    RESOURCES_RESOURCE_DELETE_FAILURE = "Microsoft.Resources.ResourceDeleteFailure";
    RESOURCES_RESOURCE_DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess";
    RESOURCES_RESOURCE_WRITE_CANCEL = "Microsoft.Resources.ResourceWriteCancel";
    RESOURCES_RESOURCE_WRITE_FAILURE = "Microsoft.Resources.ResourceWriteFailure";
    RESOURCES_RESOURCE_WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess";
    SERVICE_BUS_ACTIVE_MESSAGES_AVAILABLE_PERIODIC_NOTIFICATIONS = "Microsoft.ServiceBus.ActiveMessagesAvailablePeriodicNotifications";
    SERVICE_BUS_ACTIVE_MESSAGES_AVAILABLE_WITH_NO_LISTENERS = "Microsoft.ServiceBus.ActiveMessagesAvailableWithNoListeners";
    SERVICE_BUS_DEADLETTER_MESSAGES_AVAILABLE_PERIODIC_NOTIFICATIONS = "Microsoft.ServiceBus.DeadletterMessagesAvailablePeriodicNotifications";
    SERVICE_BUS_DEADLETTER_MESSAGES_AVAILABLE_WITH_NO_LISTENERS = "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners";
    SIGNAL_R_SERVICE_CLIENT_CONNECTION_CONNECTED = "Microsoft.SignalRService.ClientConnectionConnected";
    SIGNAL_R_SERVICE_CLIENT_CONNECTION_DISCONNECTED = "Microsoft.SignalRService.ClientConnectionDisconnected";
    STORAGE_ASYNC_OPERATION_INITIATED = "Microsoft.Storage.AsyncOperationInitiated";
    STORAGE_BLOB_CREATED = "Microsoft.Storage.BlobCreated";
    STORAGE_BLOB_DELETED = "Microsoft.Storage.BlobDeleted";
    STORAGE_BLOB_INVENTORY_POLICY_COMPLETED = "Microsoft.Storage.BlobInventoryPolicyCompleted";
    STORAGE_BLOB_RENAMED = "Microsoft.Storage.BlobRenamed";
    STORAGE_BLOB_TIER_CHANGED = "Microsoft.Storage.BlobTierChanged";
    STORAGE_DIRECTORY_CREATED = "Microsoft.Storage.DirectoryCreated";
    STORAGE_DIRECTORY_DELETED = "Microsoft.Storage.DirectoryDeleted";
    STORAGE_DIRECTORY_RENAMED = "Microsoft.Storage.DirectoryRenamed";
    STORAGE_LIFECYCLE_POLICY_COMPLETED = "Microsoft.Storage.LifecyclePolicyCompleted";
    STORAGE_STORAGE_TASK_ASSIGNMENT_COMPLETED = "Microsoft.Storage.StorageTaskAssignmentCompleted";
    STORAGE_STORAGE_TASK_ASSIGNMENT_QUEUED = "Microsoft.Storage.StorageTaskAssignmentQueued";
    STORAGE_STORAGE_TASK_COMPLETED = "Microsoft.Storage.StorageTaskCompleted";
    STORAGE_STORAGE_TASK_QUEUED = "Microsoft.Storage.StorageTaskQueued";
    WEB_APP_SERVICE_PLAN_UPDATED = "Microsoft.Web.AppServicePlanUpdated";
    WEB_APP_UPDATED = "Microsoft.Web.AppUpdated";
    WEB_BACKUP_OPERATION_COMPLETED = "Microsoft.Web.BackupOperationCompleted";
    WEB_BACKUP_OPERATION_FAILED = "Microsoft.Web.BackupOperationFailed";
    WEB_BACKUP_OPERATION_STARTED = "Microsoft.Web.BackupOperationStarted";
    WEB_RESTORE_OPERATION_COMPLETED = "Microsoft.Web.RestoreOperationCompleted";
    WEB_RESTORE_OPERATION_FAILED = "Microsoft.Web.RestoreOperationFailed";
    WEB_RESTORE_OPERATION_STARTED = "Microsoft.Web.RestoreOperationStarted";
    WEB_SLOT_SWAP_COMPLETED = "Microsoft.Web.SlotSwapCompleted";
    WEB_SLOT_SWAP_FAILED = "Microsoft.Web.SlotSwapFailed";
    WEB_SLOT_SWAP_STARTED = "Microsoft.Web.SlotSwapStarted";
    WEB_SLOT_SWAP_WITH_PREVIEW_CANCELLED = "Microsoft.Web.SlotSwapWithPreviewCancelled";
    WEB_SLOT_SWAP_WITH_PREVIEW_STARTED = "Microsoft.Web.SlotSwapWithPreviewStarted";
}

/// Whether `event_type` is a system event's type. Types compare ignoring ASCII case, as the
/// service's SDKs compare them.
pub fn is_system_event(event_type: &str) -> bool {
    canonical(event_type).is_some()
}

/// The specification's spelling of a system event type given in any ASCII case.
///
/// ```
/// use eventgrid_core::consumer::system::names;
/// assert_eq!(names::canonical("MICROSOFT.KEYVAULT.SECRETEXPIRED"), Some(names::KEY_VAULT_SECRET_EXPIRED));
/// assert_eq!(names::canonical("order.placed"), None);
/// ```
pub fn canonical(event_type: &str) -> Option<&'static str> {
    if let Ok(found) = ALL.binary_search(&event_type) {
        return Some(ALL[found]);
    }
    ALL.iter()
        .copied()
        .find(|name| name.eq_ignore_ascii_case(event_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_well_formed() {
        assert!(ALL.windows(2).all(|pair| pair[0] < pair[1]));
        for name in ALL {
            assert!(name.starts_with("Microsoft."), "{name}");
            assert!(name.split('.').all(|part| !part.is_empty()), "{name}");
        }
    }

    #[test]
    fn the_types_subscribers_meet_first_are_there() {
        for name in [
            EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT,
            EVENT_GRID_SUBSCRIPTION_DELETED_EVENT,
            STORAGE_BLOB_CREATED,
            STORAGE_BLOB_DELETED,
            RESOURCES_RESOURCE_WRITE_SUCCESS,
            RESOURCES_RESOURCE_WRITE_FAILURE,
            KEY_VAULT_SECRET_NEAR_EXPIRY,
            KEY_VAULT_SECRET_EXPIRED,
            SERVICE_BUS_ACTIVE_MESSAGES_AVAILABLE_WITH_NO_LISTENERS,
            CONTAINER_REGISTRY_IMAGE_PUSHED,
        ] {
            assert_eq!(canonical(name), Some(name));
        }
        assert_eq!(
            canonical("microsoft.eventgrid.subscriptionvalidationevent"),
            Some(EVENT_GRID_SUBSCRIPTION_VALIDATION_EVENT)
        );
    }
}
