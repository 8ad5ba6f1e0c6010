//! The in-memory error ledger (unit tests and the local run): one mutex over a sorted map, so
//! reports come out in the same order as DynamoDB's sort key gives them.

use super::{DEFAULT_TTL, ErrorLedger, LedgerEntry, check_record, expiry, is_live, truncate_error};
use crate::{StoreError, TenantId, keys};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use time::{Duration, OffsetDateTime, UtcOffset};

/// An [`ErrorLedger`] in memory.
#[derive(Debug)]
pub struct MemoryErrorLedger {
    ttl: Duration,
    entries: Mutex<BTreeMap<(String, String), LedgerEntry>>,
}

/// Every entry a [`MemoryErrorLedger`] holds, as data (the local run's `--state` file).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerSnapshot {
    entries: Vec<((String, String), LedgerEntry)>,
}

impl MemoryErrorLedger {
    /// Everything the ledger holds, in key order.
    pub fn snapshot(&self) -> LedgerSnapshot {
        LedgerSnapshot {
            entries: self
                .entries()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Replaces everything the ledger holds with `snapshot`'s entries.
    pub fn restore(&self, snapshot: LedgerSnapshot) {
        *self.entries() = snapshot.entries.into_iter().collect();
    }
}

impl Default for MemoryErrorLedger {
    fn default() -> Self {
        MemoryErrorLedger::new(DEFAULT_TTL)
    }
}

impl MemoryErrorLedger {
    /// An empty ledger whose entries live `ttl` after their last failure.
    pub fn new(ttl: Duration) -> Self {
        MemoryErrorLedger {
            ttl,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), LedgerEntry>> {
        // A panic elsewhere can't leave the map half-written: every update is one insert.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl ErrorLedger for MemoryErrorLedger {
    async fn record_failure(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
        record_fingerprint: &str,
        error_text: &str,
        now: OffsetDateTime,
    ) -> Result<LedgerEntry, StoreError> {
        check_record(kind, record_id)?;
        let now = now.to_offset(UtcOffset::UTC);
        let expires_at = expiry(now, self.ttl)?;
        let mut entries = self.entries();
        let key = keys::ledger(tenant, kind, record_id);
        let same_record = entries
            .get(&key)
            .filter(|e| is_live(e, now) && e.record_fingerprint == record_fingerprint);
        let (attempts, first_seen) = match same_record {
            Some(e) => (e.attempts.saturating_add(1), e.first_seen),
            None => (1, now),
        };
        let entry = LedgerEntry {
            kind: kind.to_owned(),
            record_id: record_id.to_owned(),
            attempts,
            first_seen,
            last_seen: now,
            last_error: truncate_error(error_text),
            record_fingerprint: record_fingerprint.to_owned(),
            expires_at,
        };
        entries.insert(key, entry.clone());
        Ok(entry)
    }

    async fn clear(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
    ) -> Result<(), StoreError> {
        check_record(kind, record_id)?;
        self.entries()
            .remove(&keys::ledger(tenant, kind, record_id));
        Ok(())
    }

    async fn get(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        check_record(kind, record_id)?;
        Ok(self
            .entries()
            .get(&keys::ledger(tenant, kind, record_id))
            .filter(|e| is_live(e, now))
            .cloned())
    }

    async fn report(
        &self,
        tenant: &TenantId,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let partition = keys::ledger_partition(tenant);
        Ok(self
            .entries()
            .iter()
            .filter(|((pk, _), e)| {
                *pk == partition && e.attempts <= max_attempts && is_live(e, now)
            })
            .map(|(_, e)| e.clone())
            .collect())
    }
}
