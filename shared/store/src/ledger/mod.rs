//! The error ledger: one entry per failing record (tenant, entity kind, record id) with its
//! attempts, first and last failure and last error, so a run report can list what keeps failing.
//!
//! After N attempts (the tenant's `errorAttempts`, default 3) an entry drops off the report, so a
//! record nobody can fix stops nagging; it stays stored until its TTL (default 90 days after the
//! last failure). When the record itself changes (its fingerprint differs from the one stored
//! with the last failure), attempts start again at 1 and it is back on the report: someone
//! touched it, so they want to know whether it works now. A success clears the entry.
//!
//! Error texts come from our own errors, which never carry secrets; they are stored truncated to
//! [`MAX_ERROR_CHARS`] so one verbose failure can't bloat an item. This module must never store a
//! raw response body or credential.

mod dynamo;
mod memory;

pub use dynamo::DynamoErrorLedger;
pub use memory::{LedgerSnapshot, MemoryErrorLedger};

use crate::{StoreError, TenantId};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use time::{Duration, OffsetDateTime};

/// How long an entry is kept after its last failure.
pub const DEFAULT_TTL: Duration = Duration::days(90);
/// Longest error text stored, in characters (longer texts end in `…`).
pub const MAX_ERROR_CHARS: usize = 1_000;

/// One failing record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Entity kind, e.g. `company`.
    pub kind: String,
    /// The record's id in the system it comes from.
    pub record_id: String,
    /// Failures since the entry (re)started; 1 after the first.
    pub attempts: u32,
    /// First failure of this version of the record.
    pub first_seen: OffsetDateTime,
    /// Latest failure.
    pub last_seen: OffsetDateTime,
    /// Latest error text, truncated to [`MAX_ERROR_CHARS`].
    pub last_error: String,
    /// Fingerprint of the record's values at the latest failure.
    pub record_fingerprint: String,
    /// When the entry stops existing (whole seconds; DynamoDB's TTL deletes it some time later,
    /// reads ignore it from this instant).
    pub expires_at: OffsetDateTime,
}

/// The error ledger.
#[async_trait::async_trait]
pub trait ErrorLedger: Send + Sync + Debug {
    /// Records a failure of one record and returns the entry as now stored: attempts + 1, or 1
    /// when there was no live entry or the record's fingerprint changed since the last failure.
    async fn record_failure(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
        record_fingerprint: &str,
        error_text: &str,
        now: OffsetDateTime,
    ) -> Result<LedgerEntry, StoreError>;

    /// Forgets a record's failures (it succeeded). Clearing a record without an entry is fine.
    async fn clear(&self, tenant: &TenantId, kind: &str, record_id: &str)
    -> Result<(), StoreError>;

    /// One record's entry, on the report or not; `None` when absent or expired.
    async fn get(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LedgerEntry>, StoreError>;

    /// The tenant's error report: live entries with `attempts <= max_attempts`, ordered by kind
    /// and record id.
    async fn report(
        &self,
        tenant: &TenantId,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
}

/// Refuses kinds and ids that would make an ambiguous key (`{kind}#{record id}`).
fn check_record(kind: &str, record_id: &str) -> Result<(), StoreError> {
    if kind.is_empty() || kind.contains('#') {
        return Err(StoreError::Invalid {
            field: "kind".to_owned(),
            reason: format!("{kind:?} must be non-empty and free of '#'"),
        });
    }
    if record_id.is_empty() {
        return Err(StoreError::Invalid {
            field: "record_id".to_owned(),
            reason: format!("the record id of a {kind} must not be empty"),
        });
    }
    Ok(())
}

/// Cuts an error text to [`MAX_ERROR_CHARS`] characters, marking the cut.
pub fn truncate_error(text: &str) -> String {
    if text.chars().count() <= MAX_ERROR_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_ERROR_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// When an entry last seen at `now` expires: whole seconds, as DynamoDB's `ttl` holds it, so both
/// stores decide "expired" identically.
fn expiry(now: OffsetDateTime, ttl: Duration) -> Result<OffsetDateTime, StoreError> {
    now.checked_add(ttl)
        .map(|t| t.unix_timestamp())
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| StoreError::Invalid {
            field: "now".to_owned(),
            reason: format!("{now} plus the ledger TTL is out of range"),
        })
}

/// Whether an entry still exists at `now` (DynamoDB may keep an expired item for a while; reads
/// must ignore it).
fn is_live(entry: &LedgerEntry, now: OffsetDateTime) -> bool {
    entry.expires_at.unix_timestamp() > now.unix_timestamp()
}

fn item_name(tenant: &TenantId, kind: &str, record_id: &str) -> String {
    format!("tenant {tenant} error ledger {kind}/{record_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_error_texts_are_cut_to_the_limit_with_a_mark() {
        let long = "é".repeat(MAX_ERROR_CHARS + 5);
        let cut = truncate_error(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_error("short"), "short");
        let exact = "x".repeat(MAX_ERROR_CHARS);
        assert_eq!(truncate_error(&exact), exact);
    }

    #[test]
    fn a_kind_with_a_key_separator_or_an_empty_id_is_refused() {
        assert!(check_record("company#x", "1").is_err());
        assert!(check_record("", "1").is_err());
        assert!(check_record("company", "").is_err());
        assert!(
            check_record("company", "A#1").is_ok(),
            "ids stand last in the key"
        );
    }
}
