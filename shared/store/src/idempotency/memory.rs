//! Idempotency records in memory (unit tests and the local run): one mutex, so the lock
//! condition and the write are one step, as DynamoDB's conditional put is.

use super::{
    IdempotencyRecord, IdempotencyStatus, IdempotencyStore, LockAttempt, check_key_hash,
    lock_available,
};
use crate::StoreError;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;

/// An [`IdempotencyStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    records: Mutex<HashMap<String, IdempotencyRecord>>,
}

impl MemoryIdempotencyStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryIdempotencyStore::default()
    }

    fn records(&self) -> MutexGuard<'_, HashMap<String, IdempotencyRecord>> {
        // Every update is a single insert or remove, so a poisoned map is still consistent.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn try_lock(
        &self,
        lock: &IdempotencyRecord,
        now: OffsetDateTime,
    ) -> Result<LockAttempt, StoreError> {
        check_key_hash(&lock.key_hash)?;
        let mut records = self.records();
        match records.get(&lock.key_hash) {
            Some(existing) if existing != lock && !lock_available(Some(existing), now) => {
                Ok(LockAttempt::Held(existing.clone()))
            }
            _ => {
                records.insert(lock.key_hash.clone(), lock.clone());
                Ok(LockAttempt::Acquired)
            }
        }
    }

    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        check_key_hash(&record.key_hash)?;
        self.records()
            .insert(record.key_hash.clone(), record.clone());
        Ok(())
    }

    async fn release(&self, lock: &IdempotencyRecord) -> Result<(), StoreError> {
        check_key_hash(&lock.key_hash)?;
        let mut records = self.records();
        let ours = records.get(&lock.key_hash).is_some_and(|r| {
            r.status == IdempotencyStatus::InProgress && r.lock_token == lock.lock_token
        });
        if ours {
            records.remove(&lock.key_hash);
        }
        Ok(())
    }

    async fn get(&self, key_hash: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        check_key_hash(key_hash)?;
        Ok(self.records().get(key_hash).cloned())
    }
}
