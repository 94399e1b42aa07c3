//! The data of the Blob Storage events subscribers meet first.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The data of `Microsoft.Storage.BlobCreated`: a blob was created or replaced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StorageBlobCreatedEventData {
    /// The operation that created the blob (`PutBlob`, `PutBlockList`, `CopyBlob`, ...).
    pub api: Option<String>,
    /// The request id the client gave, if any.
    pub client_request_id: Option<String>,
    /// The storage service's request id.
    pub request_id: Option<String>,
    /// The blob's ETag.
    pub e_tag: Option<String>,
    /// The blob's content type.
    pub content_type: Option<String>,
    /// The blob's size in bytes.
    pub content_length: Option<i64>,
    /// The offset in bytes of a write (Data Lake `FlushWithClose`); 0 for Blob API writes.
    pub content_offset: Option<i64>,
    /// `BlockBlob`, `PageBlob` or `AppendBlob`.
    pub blob_type: Option<String>,
    /// The blob's access tier (`Hot`, `Cool`, `Archive`, ...).
    pub access_tier: Option<String>,
    /// The blob's URL.
    pub url: Option<String>,
    /// An opaque string that orders the events of one blob.
    pub sequencer: Option<String>,
    /// The identity of the caller, when the service gives it.
    pub identity: Option<String>,
    /// Diagnostics for Azure support (`batchId`, ...).
    pub storage_diagnostics: Option<Value>,
}

/// The data of `Microsoft.Storage.BlobDeleted`: a blob was deleted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StorageBlobDeletedEventData {
    /// The operation that deleted the blob (`DeleteBlob`, `DeleteFile`, ...).
    pub api: Option<String>,
    /// The request id the client gave, if any.
    pub client_request_id: Option<String>,
    /// The storage service's request id.
    pub request_id: Option<String>,
    /// The content type the blob had.
    pub content_type: Option<String>,
    /// `BlockBlob`, `PageBlob` or `AppendBlob`.
    pub blob_type: Option<String>,
    /// The blob's URL.
    pub url: Option<String>,
    /// An opaque string that orders the events of one blob.
    pub sequencer: Option<String>,
    /// The identity of the caller, when the service gives it.
    pub identity: Option<String>,
    /// Diagnostics for Azure support (`batchId`, ...).
    pub storage_diagnostics: Option<Value>,
}
