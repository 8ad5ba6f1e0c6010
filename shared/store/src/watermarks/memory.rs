//! Watermarks in memory (unit tests and the local run).

use super::{Watermark, WatermarkStore, check_stream, nanos};
use crate::{StoreError, TenantId, keys};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use time::{OffsetDateTime, UtcOffset};

/// A [`WatermarkStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryWatermarkStore {
    watermarks: Mutex<HashMap<(String, String), Watermark>>,
}

impl MemoryWatermarkStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryWatermarkStore::default()
    }

    /// Everything the store holds, as data (the local run's `--state` file), in key order.
    pub fn snapshot(&self) -> WatermarkSnapshot {
        let watermarks = self
            .watermarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut entries: Vec<((String, String), Watermark)> =
            watermarks.iter().map(|(k, v)| (k.clone(), *v)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        WatermarkSnapshot { entries }
    }

    /// Replaces everything the store holds with `snapshot`'s watermarks.
    pub fn restore(&self, snapshot: WatermarkSnapshot) {
        *self
            .watermarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = snapshot.entries.into_iter().collect();
    }
}

/// Every watermark a [`MemoryWatermarkStore`] holds, as data.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WatermarkSnapshot {
    entries: Vec<((String, String), Watermark)>,
}

#[async_trait::async_trait]
impl WatermarkStore for MemoryWatermarkStore {
    async fn get(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError> {
        check_stream(stream)?;
        let watermarks = self
            .watermarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(watermarks.get(&keys::watermark(tenant, stream)).copied())
    }

    async fn advance(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError> {
        check_stream(stream)?;
        nanos(seen)?; // same range as DynamoDB's, so both stores refuse the same instants
        let mut watermarks = self
            .watermarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = watermarks.entry(keys::watermark(tenant, stream));
        let proposed = Watermark {
            last_seen: seen.to_offset(UtcOffset::UTC),
            updated_at: now.to_offset(UtcOffset::UTC),
        };
        let stored = slot
            .and_modify(|current| {
                if current.last_seen < proposed.last_seen {
                    *current = proposed;
                }
            })
            .or_insert(proposed);
        Ok(*stored)
    }
}
