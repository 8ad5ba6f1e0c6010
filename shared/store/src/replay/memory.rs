//! Arrivals in memory (unit tests and the local run): one mutex, so the check and the record are
//! one step, as DynamoDB's conditional put is. Expired arrivals are dropped as new ones come.

use super::{Arrival, ReplayGuard, check_digest};
use crate::{StoreError, TenantId};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use time::OffsetDateTime;

/// A [`ReplayGuard`] in memory.
#[derive(Debug, Default)]
pub struct MemoryReplayGuard {
    arrivals: Mutex<HashMap<(String, String), OffsetDateTime>>,
}

impl MemoryReplayGuard {
    /// Nothing arrived yet.
    pub fn new() -> Self {
        MemoryReplayGuard::default()
    }
}

#[async_trait::async_trait]
impl ReplayGuard for MemoryReplayGuard {
    async fn arrive(
        &self,
        tenant: &TenantId,
        digest: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Arrival, StoreError> {
        check_digest(digest)?;
        let mut arrivals = self.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        arrivals.retain(|_, expires| *expires >= now);
        let key = (tenant.to_string(), digest.to_owned());
        if arrivals.contains_key(&key) {
            return Ok(Arrival::Again);
        }
        arrivals.insert(key, expires_at);
        Ok(Arrival::First)
    }

    async fn forget(&self, tenant: &TenantId, digest: &str) -> Result<(), StoreError> {
        check_digest(digest)?;
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(tenant.to_string(), digest.to_owned()));
        Ok(())
    }
}
