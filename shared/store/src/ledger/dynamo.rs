//! The error ledger in DynamoDB: one item per failing record under `T#{tenant}#ERR`.
//!
//! A failure is counted without a read: an `UpdateItem` increments `attempts` on condition that
//! the stored entry is live and has the same fingerprint; when that condition fails (no entry,
//! expired, or the record changed) a conditional `PutItem` starts the entry over. Two workers
//! failing the same record at once therefore both count; neither overwrites the other.

use super::{
    DEFAULT_TTL, ErrorLedger, LedgerEntry, check_record, expiry, is_live, item_name, truncate_error,
};
use crate::dynamo::{Table, backend, is_conditional_failure, query_all};
use crate::keys::{self, PK, SK, TTL};
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How often a failure is retried when the two conditional writes keep losing to other workers;
/// each loss means someone else just wrote the entry, so this is never reached in practice.
const MAX_ROUNDS: usize = 4;

/// An [`ErrorLedger`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoErrorLedger {
    table: Table,
    ttl: Duration,
}

impl DynamoErrorLedger {
    /// A ledger in `table` whose entries live [`DEFAULT_TTL`] after their last failure.
    pub fn new(table: Table) -> Self {
        DynamoErrorLedger::with_ttl(table, DEFAULT_TTL)
    }

    /// A ledger whose entries live `ttl` after their last failure.
    pub fn with_ttl(table: Table, ttl: Duration) -> Self {
        DynamoErrorLedger { table, ttl }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LedgerItem {
    pk: String,
    sk: String,
    kind: String,
    record_id: String,
    attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_seen: OffsetDateTime,
    last_error: String,
    record_fingerprint: String,
    ttl: i64,
}

fn to_entry(
    item: HashMap<String, AttributeValue>,
    name: impl Fn() -> String,
) -> Result<LedgerEntry, StoreError> {
    let item: LedgerItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: name(),
        detail: e.to_string(),
    })?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(item.ttl).map_err(|e| StoreError::Malformed {
            item: name(),
            detail: format!("ttl: {e}"),
        })?;
    Ok(LedgerEntry {
        kind: item.kind,
        record_id: item.record_id,
        attempts: item.attempts,
        first_seen: item.first_seen,
        last_seen: item.last_seen,
        last_error: item.last_error,
        record_fingerprint: item.record_fingerprint,
        expires_at,
    })
}

fn text_time(t: OffsetDateTime) -> Result<String, StoreError> {
    t.format(&Rfc3339).map_err(|e| StoreError::Invalid {
        field: "now".to_owned(),
        reason: e.to_string(),
    })
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl DynamoErrorLedger {
    /// Adds one attempt to a live entry with the same fingerprint; `None` when there is none.
    async fn count_again(
        &self,
        key: &(String, String),
        fingerprint: &str,
        error: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
        name: &impl Fn() -> String,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(PK, AttributeValue::S(key.0.clone()))
            .key(SK, AttributeValue::S(key.1.clone()))
            .update_expression(
                "SET attempts = attempts + :one, lastSeen = :now, lastError = :error, #ttl = :ttl",
            )
            .condition_expression("recordFingerprint = :fp AND #ttl > :now_s")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", AttributeValue::S(text_time(now)?))
            .expression_attribute_values(":error", AttributeValue::S(error.to_owned()))
            .expression_attribute_values(":ttl", n(expires_at.unix_timestamp()))
            .expression_attribute_values(":fp", AttributeValue::S(fingerprint.to_owned()))
            .expression_attribute_values(":now_s", n(now.unix_timestamp()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let attributes = output.attributes.ok_or_else(|| StoreError::Malformed {
                    item: name(),
                    detail: "UpdateItem returned no attributes".to_owned(),
                })?;
                to_entry(attributes, name).map(Some)
            }
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    /// Starts the entry over unless a live entry with the same fingerprint appeared meanwhile.
    async fn start_over(
        &self,
        key: (String, String),
        entry: &LedgerEntry,
    ) -> Result<bool, StoreError> {
        let item = LedgerItem {
            pk: key.0,
            sk: key.1,
            kind: entry.kind.clone(),
            record_id: entry.record_id.clone(),
            attempts: entry.attempts,
            first_seen: entry.first_seen,
            last_seen: entry.last_seen,
            last_error: entry.last_error.clone(),
            record_fingerprint: entry.record_fingerprint.clone(),
            ttl: entry.expires_at.unix_timestamp(),
        };
        let item = serde_dynamo::to_item(item).map_err(|e| StoreError::Invalid {
            field: "ledger entry".to_owned(),
            reason: e.to_string(),
        })?;
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR recordFingerprint <> :fp OR #ttl <= :now_s",
            )
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":fp", AttributeValue::S(entry.record_fingerprint.clone()))
            .expression_attribute_values(":now_s", n(entry.last_seen.unix_timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem", e)),
        }
    }
}

#[async_trait::async_trait]
impl ErrorLedger for DynamoErrorLedger {
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
        let error = truncate_error(error_text);
        let key = keys::ledger(tenant, kind, record_id);
        let name = || item_name(tenant, kind, record_id);
        for _ in 0..MAX_ROUNDS {
            if let Some(entry) = self
                .count_again(&key, record_fingerprint, &error, now, expires_at, &name)
                .await?
            {
                return Ok(entry);
            }
            let fresh = LedgerEntry {
                kind: kind.to_owned(),
                record_id: record_id.to_owned(),
                attempts: 1,
                first_seen: now,
                last_seen: now,
                last_error: error.clone(),
                record_fingerprint: record_fingerprint.to_owned(),
                expires_at,
            };
            if self.start_over(key.clone(), &fresh).await? {
                return Ok(fresh);
            }
        }
        Err(StoreError::Conflict {
            item: name(),
            reason: format!("other workers kept writing it; gave up after {MAX_ROUNDS} rounds"),
        })
    }

    async fn clear(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
    ) -> Result<(), StoreError> {
        check_record(kind, record_id)?;
        self.table
            .delete(keys::ledger(tenant, kind, record_id))
            .await
    }

    async fn get(
        &self,
        tenant: &TenantId,
        kind: &str,
        record_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        check_record(kind, record_id)?;
        let (pk, sk) = keys::ledger(tenant, kind, record_id);
        let output = self.table.get_consistent((pk, sk)).await?;
        match output.item {
            None => Ok(None),
            Some(item) => {
                let entry = to_entry(item, || item_name(tenant, kind, record_id))?;
                Ok(Some(entry).filter(|e| is_live(e, now)))
            }
        }
    }

    async fn report(
        &self,
        tenant: &TenantId,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let query = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .key_condition_expression("pk = :pk")
            .filter_expression("attempts <= :max AND #ttl > :now_s")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":pk", AttributeValue::S(keys::ledger_partition(tenant)))
            .expression_attribute_values(":max", n(i64::from(max_attempts)))
            .expression_attribute_values(":now_s", n(now.unix_timestamp()))
            .consistent_read(true);
        query_all(query, |item| {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned();
            to_entry(item, || {
                format!(
                    "tenant {tenant} error ledger {}",
                    sk.as_deref().unwrap_or("?")
                )
            })
        })
        .await
    }
}
