//! Tenant settings in the store: one JSON document per tenant with a version number. A document
//! is validated before it is written (a bad one is refused naming the wrong field), and writes are
//! conditional on the version the writer read, so two admins editing at once can't silently
//! overwrite each other: the second gets a conflict and reloads.
//!
//! The settings type and its rules live in `cwsync_mapping::settings`; this module only stores it.
//! Settings never hold secrets (credentials are in Secrets Manager).

mod dynamo;
mod memory;

pub use cwsync_mapping::settings::TenantSettings;
pub use dynamo::DynamoSettingsStore;
pub use memory::MemorySettingsStore;

use crate::{StoreError, TenantId};
use std::fmt::Debug;

/// A value with the version it was stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// Starts at 1, +1 on every write.
    pub version: u64,
    /// The value.
    pub value: T,
}

/// Every tenant's settings.
#[async_trait::async_trait]
pub trait SettingsStore: Send + Sync + Debug {
    /// A tenant's settings and their version; `None` when none were ever stored.
    async fn get(&self, tenant: &TenantId)
    -> Result<Option<Versioned<TenantSettings>>, StoreError>;

    /// Validates and stores `settings`, returning the new version. `expected_version` is the
    /// version the caller read (`None` to create the first document); if the stored version is
    /// another, nothing is written and [`StoreError::Conflict`] says which version is stored.
    /// Repeating a save that went through (same document from the same version, e.g. an SDK retry
    /// after a lost response) returns the same new version instead of a conflict.
    async fn put(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError>;

    /// The tenants the schedules consider, in ascending order: every tenant whose settings were
    /// saved, and possibly one whose first save was refused (its settings are still absent:
    /// readers skip it). A registry entry is written before each save, never removed.
    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError>;
}

/// Validates and serializes a document for storing; a bad document names its fields.
fn document(settings: &TenantSettings) -> Result<String, StoreError> {
    if let Err(problems) = settings.validate() {
        let field = problems
            .iter()
            .map(|p| p.path.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let reason = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(StoreError::Invalid { field, reason });
    }
    serde_json::to_string(settings).map_err(|e| StoreError::Invalid {
        field: "(document)".to_owned(),
        reason: e.to_string(),
    })
}

/// Reads a stored document back; one that no longer parses (e.g. written by a newer schema) is
/// reported as malformed with the field.
fn parse_document(tenant: &TenantId, json: &str) -> Result<TenantSettings, StoreError> {
    TenantSettings::parse(json).map_err(|e| StoreError::Malformed {
        item: item_name(tenant),
        detail: e.to_string(),
    })
}

/// The conflict when the stored version (`None`: no document) is not the expected one.
fn conflict(tenant: &TenantId, expected: Option<u64>, stored: Option<u64>) -> StoreError {
    let reason = match (expected, stored) {
        (None, Some(stored)) => format!(
            "settings already exist at version {stored}; read them and pass that version to replace them"
        ),
        (Some(expected), None) => {
            format!(
                "expected version {expected}, but no settings are stored; pass no version to create them"
            )
        }
        (Some(expected), Some(stored)) => format!(
            "expected version {expected}, but version {stored} is stored: someone else saved first; reload and retry"
        ),
        (None, None) => "the conditional write lost, but no settings are stored".to_owned(),
    };
    StoreError::Conflict {
        item: item_name(tenant),
        reason,
    }
}

fn next_version(expected: Option<u64>) -> Result<u64, StoreError> {
    expected
        .unwrap_or(0)
        .checked_add(1)
        .ok_or_else(|| StoreError::Invalid {
            field: "expected_version".to_owned(),
            reason: "is the largest version there is".to_owned(),
        })
}

fn item_name(tenant: &TenantId) -> String {
    format!("tenant {tenant} settings")
}
