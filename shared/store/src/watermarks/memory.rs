//! Watermarks in memory (unit tests and the local run).

use super::{Seen, Watermark, WatermarkStore, check_stream, next_watermark, proposal};
use crate::{StoreError, TenantId, keys};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use time::OffsetDateTime;

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
        let mut entries: Vec<((String, String), Watermark)> = watermarks
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
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
        Ok(watermarks.get(&keys::watermark(tenant, stream)).cloned())
    }

    async fn advance_with_tail(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        tail: &[Seen],
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError> {
        let (proposed, _) = proposal(stream, seen, tail, now)?;
        let mut watermarks = self
            .watermarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = keys::watermark(tenant, stream);
        let stored = watermarks.get(&key);
        match next_watermark(stored, &proposed) {
            Some(next) => {
                watermarks.insert(key, next.clone());
                Ok(next)
            }
            // `next_watermark` answers `None` only when a watermark is stored.
            None => Ok(stored.cloned().unwrap_or(proposed)),
        }
    }
}
