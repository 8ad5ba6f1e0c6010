//! Tenant settings in memory (unit tests and the local run). Documents are kept as JSON text and
//! parsed on read, exactly as the DynamoDB store does.

use super::{
    SettingsStore, TenantSettings, Versioned, conflict, document, next_version, parse_document,
};
use crate::{StoreError, TenantId};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

/// A [`SettingsStore`] in memory.
#[derive(Debug, Default)]
pub struct MemorySettingsStore {
    documents: Mutex<HashMap<TenantId, (u64, String)>>,
    /// The tenant registry, kept as the DynamoDB store keeps it: entered before each save.
    registry: Mutex<BTreeSet<TenantId>>,
}

impl MemorySettingsStore {
    /// An empty store.
    pub fn new() -> Self {
        MemorySettingsStore::default()
    }
}

#[async_trait::async_trait]
impl SettingsStore for MemorySettingsStore {
    async fn get(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Versioned<TenantSettings>>, StoreError> {
        let stored = self
            .documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .cloned();
        stored
            .map(|(version, json)| {
                Ok(Versioned {
                    version,
                    value: parse_document(tenant, &json)?,
                })
            })
            .transpose()
    }

    async fn put(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError> {
        let json = document(settings)?;
        let version = next_version(expected_version)?;
        self.registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.clone());
        let mut documents = self
            .documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stored = documents.get(tenant);
        if stored.is_some_and(|(v, doc)| *v == version && *doc == json) {
            return Ok(version); // this very save, repeated
        }
        let stored = stored.map(|(v, _)| *v);
        if stored != expected_version {
            return Err(conflict(tenant, expected_version, stored));
        }
        documents.insert(tenant.clone(), (version, json));
        Ok(version)
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(registry.iter().cloned().collect())
    }
}
