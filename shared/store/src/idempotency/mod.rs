//! Idempotent jobs, in the design of Powertools for AWS Lambda's idempotency utility: a job key
//! (per tenant) is locked with a conditional write before the work runs, the result is stored when
//! it succeeds, and a redelivered job gets the stored result back without running again.
//!
//! - The lock is taken when no record exists, the record has expired (`expiresAt`, the record TTL,
//!   default one hour), or it is an in-progress record whose `inProgressExpiresAt` has passed. That
//!   last time is the invocation's deadline (Lambda's remaining time): an invocation that crashed
//!   or timed out can't hold a lock longer than it could have run.
//! - A job whose lock is held by a live invocation fails with
//!   [`IdempotencyError::AlreadyInProgress`], which callers treat as transient, so SQS delivers the
//!   message again later.
//! - When the work fails, the in-progress record is deleted so a retry can run it.
//! - Optionally a hash of the payload is stored and a replay with another payload under the same
//!   key is refused ([`IdempotencyError::PayloadMismatch`]): a job key must name one job.
//!
//! Results are stored as JSON in one item, so they must be small (counts, ids), never a record
//! set, and never a secret. Keys are `IDEM#{sha256(tenant, job key)}`: the tenant is inside the hash.

mod dynamo;
mod memory;

pub use dynamo::DynamoIdempotencyStore;
pub use memory::MemoryIdempotencyStore;

use crate::{StoreError, TenantId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use time::{Duration, OffsetDateTime};

/// How long a completed (or abandoned in-progress) record is kept and replayed.
pub const DEFAULT_RECORD_TTL: Duration = Duration::hours(1);

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdempotencyStatus {
    /// An invocation holds the lock and is running the work.
    #[serde(rename = "INPROGRESS")]
    InProgress,
    /// The work succeeded; `result` holds what it returned.
    #[serde(rename = "COMPLETED")]
    Completed,
}

/// One idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Hex SHA-256 of tenant and job key ([`key_hash`]).
    pub key_hash: String,
    /// In progress or completed.
    pub status: IdempotencyStatus,
    /// When the record stops counting (whole seconds; also the item's `ttl`).
    pub expires_at: OffsetDateTime,
    /// For an in-progress record, when its lock may be retaken (the invocation deadline, to the
    /// millisecond).
    pub in_progress_expires_at: Option<OffsetDateTime>,
    /// For a completed record, the work's result as JSON.
    pub result: Option<String>,
    /// Hex SHA-256 of the job's payload, when the caller asked for payload validation.
    pub payload_hash: Option<String>,
    /// Random id of the invocation that wrote the lock: tells our own lock from another's (a
    /// retried write whose first response was lost finds our own lock in the way).
    pub lock_token: String,
}

/// What a lock attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    /// The in-progress record was written: the caller runs the work.
    Acquired,
    /// A live record is in the way (completed, or in progress and not yet expired).
    Held(IdempotencyRecord),
}

/// Where idempotency records live. Implementations decide "lock available" exactly as
/// [`lock_available`] does, and treat a stored record equal to the lock being written as taken
/// (the SDK retried a write that had gone through).
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync + Debug {
    /// Writes the in-progress `lock` if the lock is available at `now`; otherwise returns the
    /// record in the way.
    async fn try_lock(
        &self,
        lock: &IdempotencyRecord,
        now: OffsetDateTime,
    ) -> Result<LockAttempt, StoreError>;

    /// Stores a completed record (replacing the in-progress one).
    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError>;

    /// Deletes the in-progress record `lock` so a retry can run, unless it is no longer ours (it
    /// expired and another invocation took it, or it completed): then nothing happens. Ours means
    /// in progress with our `lock_token`.
    async fn release(&self, lock: &IdempotencyRecord) -> Result<(), StoreError>;

    /// The record under a key hash, expired or not (reads for diagnostics and tests).
    async fn get(&self, key_hash: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
}

/// Whether the lock can be taken over `existing` at `now`: the condition of the DynamoDB put,
/// `attribute_not_exists(pk) OR expiresAt < :now OR (status = INPROGRESS AND
/// inProgressExpiresAt < :now_ms)`.
pub fn lock_available(existing: Option<&IdempotencyRecord>, now: OffsetDateTime) -> bool {
    match existing {
        None => true,
        Some(record) => {
            record.expires_at.unix_timestamp() < now.unix_timestamp()
                || (record.status == IdempotencyStatus::InProgress
                    && record
                        .in_progress_expires_at
                        .is_some_and(|t| millis(t) < millis(now)))
        }
    }
}

/// The key hash of a job: hex SHA-256 of the tenant and the job key. Tenant ids can't contain `#`,
/// so `{tenant}#{job key}` is unambiguous.
pub fn key_hash(tenant: &TenantId, job_key: &str) -> String {
    hex_sha256(format!("{tenant}#{job_key}").as_bytes())
}

/// Hex SHA-256 of a payload's JSON form.
pub fn payload_hash<P: Serialize + ?Sized>(payload: &P) -> Result<String, StoreError> {
    let json = serde_json::to_vec(payload).map_err(|e| StoreError::Invalid {
        field: "payload".to_owned(),
        reason: format!("can't be hashed as JSON: {e}"),
    })?;
    Ok(hex_sha256(&json))
}

fn hex_sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn check_key_hash(key_hash: &str) -> Result<(), StoreError> {
    if key_hash.len() == 64 && key_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "key_hash".to_owned(),
            reason: format!("{key_hash:?} is not a hex SHA-256"),
        })
    }
}

/// Epoch milliseconds (the unit of `inProgressExpiresAt`), saturating far outside any real date.
fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
}

fn from_seconds(s: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    OffsetDateTime::from_unix_timestamp(s)
}

/// The deadline of a Lambda invocation (`Context::deadline`, epoch milliseconds).
pub fn deadline_from_epoch_millis(ms: u64) -> Result<OffsetDateTime, StoreError> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| from_millis(ms).ok())
        .ok_or_else(|| StoreError::Invalid {
            field: "deadline".to_owned(),
            reason: format!("{ms} ms after the epoch is out of range"),
        })
}

/// Where "now" comes from, so tests can move time instead of sleeping.
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What [`Idempotency::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The work ran now and this is its result.
    Executed(T),
    /// The job had already completed; this is the stored result and the work did not run.
    Replayed(T),
}

impl<T> Outcome<T> {
    /// The result, however it was obtained.
    pub fn into_inner(self) -> T {
        match self {
            Outcome::Executed(value) | Outcome::Replayed(value) => value,
        }
    }

    /// Whether the result is a stored one.
    pub fn is_replayed(&self) -> bool {
        matches!(self, Outcome::Replayed(_))
    }
}

/// Why an idempotent job did not produce a result. `job` names tenant and job key (neither is
/// secret).
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError<E> {
    /// Another invocation is running this job; transient: retry after `until`.
    #[error("{job} is already in progress (its lock expires at {until}); retry later")]
    AlreadyInProgress {
        /// Which job.
        job: String,
        /// When the other invocation's lock expires.
        until: OffsetDateTime,
    },
    /// The invocation's deadline had passed before the job could start (a long batch ran out of
    /// time); transient: delivered again, it runs in an invocation with time left. Never run.
    #[error(
        "{job} was not started: its invocation's deadline {deadline} had passed (now {now}); deliver it again"
    )]
    OutOfTime {
        /// Which job.
        job: String,
        /// The invocation's deadline.
        deadline: OffsetDateTime,
        /// When the job was to start.
        now: OffsetDateTime,
    },
    /// The job key was used before with another payload; permanent: the caller built a job key
    /// that does not name one job.
    #[error("{job} was already run with a different payload; a job key must name one payload")]
    PayloadMismatch {
        /// Which job.
        job: String,
    },
    /// The idempotency store failed; transient when the store error is.
    #[error("idempotency record of {job}: {source}")]
    Store {
        /// Which job.
        job: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The work itself failed (its lock was released so a retry can run it).
    #[error("{job} failed: {source}")]
    Work {
        /// Which job.
        job: String,
        /// The work's error; whether it is worth a retry is the caller's call.
        #[source]
        source: E,
    },
}

impl<E> IdempotencyError<E> {
    /// Whether redelivering the job later may succeed: true for a lock held by another invocation
    /// and for transient store errors. The work's own errors say nothing here: callers match
    /// [`IdempotencyError::Work`] and ask their error.
    pub fn is_transient(&self) -> bool {
        match self {
            IdempotencyError::AlreadyInProgress { .. } | IdempotencyError::OutOfTime { .. } => true,
            IdempotencyError::Store { source, .. } => source.is_transient(),
            IdempotencyError::PayloadMismatch { .. } | IdempotencyError::Work { .. } => false,
        }
    }
}

/// Runs jobs at most once per job key (see the module docs).
#[derive(Debug, Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    record_ttl: Duration,
}

impl Idempotency {
    /// Jobs recorded in `store`, on the system clock, kept [`DEFAULT_RECORD_TTL`].
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Idempotency {
            store,
            clock: Arc::new(SystemClock),
            record_ttl: DEFAULT_RECORD_TTL,
        }
    }

    /// Uses another clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps records (and replays results) for `ttl` instead of an hour.
    pub fn with_record_ttl(mut self, ttl: Duration) -> Self {
        self.record_ttl = ttl;
        self
    }

    /// Runs `work` unless the job already completed (then its stored result is returned without
    /// running it) or another invocation is running it. `deadline` is when this invocation ends
    /// (Lambda's deadline): the lock can be retaken after it.
    pub async fn run<T, E, F, Fut>(
        &self,
        tenant: &TenantId,
        job_key: &str,
        deadline: OffsetDateTime,
        work: F,
    ) -> Result<Outcome<T>, IdempotencyError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.execute(tenant, job_key, None, deadline, work).await
    }

    /// Like [`Idempotency::run`], and also stores a hash of `payload`: a later run under the same
    /// key with a different payload is refused with [`IdempotencyError::PayloadMismatch`].
    pub async fn run_with_payload<P, T, E, F, Fut>(
        &self,
        tenant: &TenantId,
        job_key: &str,
        payload: &P,
        deadline: OffsetDateTime,
        work: F,
    ) -> Result<Outcome<T>, IdempotencyError<E>>
    where
        P: Serialize + ?Sized,
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let hash = payload_hash(payload).map_err(|source| IdempotencyError::Store {
            job: job_name(tenant, job_key),
            source,
        })?;
        self.execute(tenant, job_key, Some(hash), deadline, work)
            .await
    }

    async fn execute<T, E, F, Fut>(
        &self,
        tenant: &TenantId,
        job_key: &str,
        payload_hash: Option<String>,
        deadline: OffsetDateTime,
        work: F,
    ) -> Result<Outcome<T>, IdempotencyError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let job = job_name(tenant, job_key);
        let store_error = |source| IdempotencyError::Store {
            job: job.clone(),
            source,
        };
        let now = self.clock.now();
        if deadline <= now {
            return Err(IdempotencyError::OutOfTime { job, deadline, now });
        }
        let lock = IdempotencyRecord {
            key_hash: key_hash(tenant, job_key),
            status: IdempotencyStatus::InProgress,
            expires_at: self.expiry(now).map_err(store_error)?,
            in_progress_expires_at: Some(from_millis(millis(deadline)).map_err(|e| {
                store_error(StoreError::Invalid {
                    field: "deadline".to_owned(),
                    reason: e.to_string(),
                })
            })?),
            result: None,
            payload_hash,
            lock_token: format!("{:032x}", rand::random::<u128>()),
        };
        if let LockAttempt::Held(existing) =
            self.store.try_lock(&lock, now).await.map_err(store_error)?
        {
            return replay(existing, &lock, job);
        }

        let value = match work().await {
            Ok(value) => value,
            Err(source) => {
                self.release(&lock, &job).await;
                return Err(IdempotencyError::Work { job, source });
            }
        };
        let result = match serde_json::to_string(&value) {
            Ok(result) => result,
            Err(e) => {
                self.release(&lock, &job).await;
                return Err(store_error(StoreError::Invalid {
                    field: "result".to_owned(),
                    reason: format!("can't be stored as JSON: {e}"),
                }));
            }
        };
        let completed = IdempotencyRecord {
            status: IdempotencyStatus::Completed,
            expires_at: self.expiry(self.clock.now()).map_err(store_error)?,
            in_progress_expires_at: None,
            result: Some(result),
            ..lock
        };
        // If this write fails the lock stays until the deadline and a redelivery runs the work
        // again, which is safe: the work itself is idempotent (links), this only saves time.
        self.store.complete(&completed).await.map_err(store_error)?;
        Ok(Outcome::Executed(value))
    }

    /// Best effort: a lock that can't be released still expires at the invocation deadline.
    async fn release(&self, lock: &IdempotencyRecord, job: &str) {
        if let Err(error) = self.store.release(lock).await {
            tracing::warn!(
                job,
                %error,
                "could not release the idempotency lock; it expires at the invocation deadline"
            );
        }
    }

    /// `now + record TTL`, in whole seconds as the `ttl` attribute holds it.
    fn expiry(&self, now: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
        now.checked_add(self.record_ttl)
            .and_then(|t| from_seconds(t.unix_timestamp()).ok())
            .ok_or_else(|| StoreError::Invalid {
                field: "record_ttl".to_owned(),
                reason: format!("{now} plus {} is out of range", self.record_ttl),
            })
    }
}

/// The answer for a job whose lock is held: the stored result, or why there is none.
fn replay<T: DeserializeOwned, E>(
    existing: IdempotencyRecord,
    lock: &IdempotencyRecord,
    job: String,
) -> Result<Outcome<T>, IdempotencyError<E>> {
    if let Some(ours) = &lock.payload_hash
        && existing.payload_hash.as_ref() != Some(ours)
    {
        return Err(IdempotencyError::PayloadMismatch { job });
    }
    match existing.status {
        IdempotencyStatus::InProgress => Err(IdempotencyError::AlreadyInProgress {
            job,
            until: existing
                .in_progress_expires_at
                .unwrap_or(existing.expires_at),
        }),
        IdempotencyStatus::Completed => {
            let parsed = existing
                .result
                .as_deref()
                .ok_or_else(|| "a completed record has no result".to_owned())
                .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()));
            match parsed {
                Ok(value) => Ok(Outcome::Replayed(value)),
                Err(detail) => Err(IdempotencyError::Store {
                    source: StoreError::Malformed {
                        item: format!("idempotency record of {job}"),
                        detail: format!("stored result: {detail}"),
                    },
                    job,
                }),
            }
        }
    }
}

fn job_name(tenant: &TenantId, job_key: &str) -> String {
    format!("tenant {tenant} job {job_key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record(status: IdempotencyStatus) -> IdempotencyRecord {
        IdempotencyRecord {
            key_hash: "0".repeat(64),
            status,
            expires_at: datetime!(2026-11-22 11:00:00 UTC),
            in_progress_expires_at: Some(datetime!(2026-11-22 10:15:00 UTC)),
            result: None,
            payload_hash: None,
            lock_token: "t1".to_owned(),
        }
    }

    #[test]
    fn key_hashes_are_hex_sha256_and_differ_per_tenant() {
        let a = TenantId::parse("a").unwrap();
        let b = TenantId::parse("b").unwrap();
        assert_eq!(key_hash(&a, "export/1").len(), 64);
        assert_eq!(key_hash(&a, "export/1"), key_hash(&a, "export/1"));
        assert_ne!(key_hash(&a, "export/1"), key_hash(&b, "export/1"));
        assert!(check_key_hash(&key_hash(&a, "x")).is_ok());
        assert!(check_key_hash("IDEM#nope").is_err());
    }

    #[test]
    fn a_lock_is_available_when_absent_expired_or_left_by_a_dead_invocation() {
        let before_deadline = datetime!(2026-11-22 10:14:59.999 UTC);
        let after_deadline = datetime!(2026-11-22 10:15:00.001 UTC);
        let after_expiry = datetime!(2026-11-22 11:00:01 UTC);
        let in_progress = record(IdempotencyStatus::InProgress);
        let completed = record(IdempotencyStatus::Completed);
        assert!(lock_available(None, before_deadline));
        assert!(!lock_available(Some(&in_progress), before_deadline));
        assert!(lock_available(Some(&in_progress), after_deadline));
        assert!(
            !lock_available(Some(&completed), after_deadline),
            "completed replays"
        );
        assert!(lock_available(Some(&completed), after_expiry));
    }

    #[test]
    fn lambda_deadlines_convert_from_epoch_millis() {
        let deadline = deadline_from_epoch_millis(1_795_000_000_123).unwrap();
        assert_eq!(millis(deadline), 1_795_000_000_123);
        assert!(deadline_from_epoch_millis(u64::MAX).is_err());
    }
}
