//! Request windows in memory (unit tests and the local run): one process, so a mutex is the
//! whole of the atomicity. Windows older than [`super::WINDOW_TTL`] are dropped as new ones are
//! leased, as DynamoDB's TTL would.

use super::{Lease, RequestWindows, Window, WindowUsage, check_lease};
use crate::{StoreError, TenantId, keys};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// [`RequestWindows`] in memory.
#[derive(Debug, Default)]
pub struct MemoryRequestWindows {
    windows: Mutex<BTreeMap<(String, String), WindowUsage>>,
}

impl MemoryRequestWindows {
    /// No window leased yet.
    pub fn new() -> Self {
        MemoryRequestWindows::default()
    }
}

#[async_trait::async_trait]
impl RequestWindows for MemoryRequestWindows {
    async fn lease(
        &self,
        tenant: &TenantId,
        window: Window,
        want: u32,
        limit: u32,
    ) -> Result<Lease, StoreError> {
        check_lease(window, want, limit)?;
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let now_s = window.start_ms / 1000;
        windows.retain(|_, usage| usage.window.expires_at_s() > now_s);
        let usage = windows
            .entry(keys::request_window(
                tenant,
                window.length_ms,
                window.start_ms,
            ))
            .or_insert(WindowUsage {
                window,
                limit,
                leased: 0,
            });
        let granted = want.min(limit.saturating_sub(usage.leased));
        if granted > 0 {
            usage.leased += granted;
            usage.limit = limit;
        }
        Ok(Lease {
            granted,
            left: limit.saturating_sub(usage.leased),
        })
    }

    async fn usage(
        &self,
        tenant: &TenantId,
        length_ms: u64,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<WindowUsage>, StoreError> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let partition = keys::request_windows_partition(tenant);
        Ok(windows
            .iter()
            .filter(|((pk, _), usage)| {
                *pk == partition
                    && usage.window.length_ms == length_ms
                    && (from_ms..to_ms).contains(&usage.window.start_ms)
            })
            .map(|(_, usage)| *usage)
            .collect())
    }
}
