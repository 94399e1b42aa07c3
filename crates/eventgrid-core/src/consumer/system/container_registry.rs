//! The data of Container Registry's image events (`Microsoft.ContainerRegistry.ImagePushed`
//! and `ImageDeleted`, of one shape).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The data of `Microsoft.ContainerRegistry.ImagePushed` and `ImageDeleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerRegistryImageEventData {
    /// The registry's event id.
    pub id: Option<String>,
    /// When the registry event happened.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub timestamp: Option<OffsetDateTime>,
    /// `push` or `delete`.
    pub action: Option<String>,
    /// The registry's region.
    pub location: Option<String>,
    /// The image.
    pub target: Option<ContainerRegistryEventTarget>,
    /// The request that caused the event.
    pub request: Option<ContainerRegistryEventRequest>,
    /// Who caused it.
    pub actor: Option<ContainerRegistryEventActor>,
    /// The registry node that produced it.
    pub source: Option<ContainerRegistryEventSource>,
    /// The connected registry that produced it, if one did.
    pub connected_registry: Option<ContainerRegistryConnectedRegistry>,
}

/// The image an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerRegistryEventTarget {
    /// The manifest's media type.
    pub media_type: Option<String>,
    /// The manifest's size in bytes.
    pub size: Option<i64>,
    /// The manifest's digest (`sha256:...`).
    pub digest: Option<String>,
    /// The manifest's size in bytes (the same as `size`).
    pub length: Option<i64>,
    /// The repository (`samples/nginx`).
    pub repository: Option<String>,
    /// The URL of the content.
    pub url: Option<String>,
    /// The tag (`latest`); absent when an image is deleted by digest.
    pub tag: Option<String>,
}

/// The registry request behind an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContainerRegistryEventRequest {
    /// The request's id.
    pub id: Option<String>,
    /// The client's address.
    pub addr: Option<String>,
    /// The registry host name the client used.
    pub host: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The client's user agent.
    #[serde(rename = "useragent")]
    pub user_agent: Option<String>,
}

/// Who caused a registry event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerRegistryEventActor {
    /// The user or principal name.
    pub name: Option<String>,
}

/// The registry node that produced an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerRegistryEventSource {
    /// The node's address and port.
    pub addr: Option<String>,
    /// The node's running instance.
    #[serde(rename = "instanceID")]
    pub instance_id: Option<String>,
}

/// The connected registry that produced an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerRegistryConnectedRegistry {
    /// Its name.
    pub name: Option<String>,
}
