//! The data of Azure Resource Manager's events: a resource written, deleted or acted on,
//! successfully or not (`Microsoft.Resources.Resource{Write,Delete,Action}{Success,Failure,Cancel}`,
//! all of one shape).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The data of every `Microsoft.Resources.Resource*` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceEventData {
    /// The tenant of the resource.
    pub tenant_id: Option<String>,
    /// The subscription of the resource.
    pub subscription_id: Option<String>,
    /// The resource group of the resource.
    pub resource_group: Option<String>,
    /// The resource provider performing the operation (`Microsoft.Storage`, ...).
    pub resource_provider: Option<String>,
    /// The resource's URI (its id).
    pub resource_uri: Option<String>,
    /// The operation (`Microsoft.Storage/storageAccounts/write`, ...).
    pub operation_name: Option<String>,
    /// The operation's status (`Succeeded`, `Failed`, `Canceled`).
    pub status: Option<String>,
    /// The authorization the operation was checked against.
    pub authorization: Option<ResourceAuthorization>,
    /// The caller's token claims, by claim name.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// An id for troubleshooting with Azure support.
    pub correlation_id: Option<String>,
    /// The request that performed the operation.
    pub http_request: Option<ResourceHttpRequest>,
}

/// What an operation was authorized as.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceAuthorization {
    /// The scope of the authorization.
    pub scope: Option<String>,
    /// The action requested.
    pub action: Option<String>,
    /// The evidence (`role`, ...).
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
}

/// The request that performed a resource operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceHttpRequest {
    /// The client's request id.
    pub client_request_id: Option<String>,
    /// The client's IP address.
    pub client_ip_address: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The URL.
    pub url: Option<String>,
}
