//! Idempotency records in DynamoDB: `pk = IDEM#{key hash}`, `sk = IDEM`, with `status`,
//! `expiresAt` (epoch seconds), `inProgressExpiresAt` (epoch milliseconds), `result` (JSON text),
//! `payloadHash` and `ttl` (= `expiresAt`, so DynamoDB deletes the record some time after).

use super::{
    IdempotencyRecord, IdempotencyStatus, IdempotencyStore, LockAttempt, check_key_hash,
    from_millis, from_seconds, millis,
};
use crate::StoreError;
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::keys::{self, PK, SK};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Lock attempts when the record in the way vanishes between the failed put and the read (its
/// owner released it): try again, a bounded number of times.
const MAX_ATTEMPTS: usize = 3;

/// An [`IdempotencyStore`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    table: Table,
}

impl DynamoIdempotencyStore {
    /// Records in `table`.
    pub fn new(table: Table) -> Self {
        DynamoIdempotencyStore { table }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    pk: String,
    sk: String,
    status: IdempotencyStatus,
    expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    in_progress_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload_hash: Option<String>,
    lock_token: String,
    ttl: i64,
}

fn item_name(key_hash: &str) -> String {
    format!("idempotency record {key_hash}")
}

fn to_item(record: &IdempotencyRecord) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let (pk, sk) = keys::idempotency(&record.key_hash);
    let expires_at = record.expires_at.unix_timestamp();
    serde_dynamo::to_item(IdempotencyItem {
        pk,
        sk,
        status: record.status,
        expires_at,
        in_progress_expires_at: record.in_progress_expires_at.map(millis),
        result: record.result.clone(),
        payload_hash: record.payload_hash.clone(),
        lock_token: record.lock_token.clone(),
        ttl: expires_at,
    })
    .map_err(|e| StoreError::Invalid {
        field: "idempotency record".to_owned(),
        reason: e.to_string(),
    })
}

fn to_record(
    key_hash: &str,
    item: HashMap<String, AttributeValue>,
) -> Result<IdempotencyRecord, StoreError> {
    let malformed = |detail: String| StoreError::Malformed {
        item: item_name(key_hash),
        detail,
    };
    let item: IdempotencyItem =
        serde_dynamo::from_item(item).map_err(|e| malformed(e.to_string()))?;
    Ok(IdempotencyRecord {
        key_hash: key_hash.to_owned(),
        status: item.status,
        expires_at: from_seconds(item.expires_at)
            .map_err(|e| malformed(format!("expiresAt: {e}")))?,
        in_progress_expires_at: item
            .in_progress_expires_at
            .map(from_millis)
            .transpose()
            .map_err(|e| malformed(format!("inProgressExpiresAt: {e}")))?,
        result: item.result,
        payload_hash: item.payload_hash,
        lock_token: item.lock_token,
    })
}

fn key(key_hash: &str) -> [(String, AttributeValue); 2] {
    let (pk, sk) = keys::idempotency(key_hash);
    [
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk)),
    ]
}

#[async_trait::async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn try_lock(
        &self,
        lock: &IdempotencyRecord,
        now: OffsetDateTime,
    ) -> Result<LockAttempt, StoreError> {
        check_key_hash(&lock.key_hash)?;
        let item = to_item(lock)?;
        for _ in 0..MAX_ATTEMPTS {
            let result = self
                .table
                .client
                .put_item()
                .table_name(&self.table.name)
                .set_item(Some(item.clone()))
                .condition_expression(
                    "attribute_not_exists(pk) OR expiresAt < :now \
                     OR (#status = :in_progress AND inProgressExpiresAt < :now_ms)",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(now.unix_timestamp().to_string()),
                )
                .expression_attribute_values(":now_ms", AttributeValue::N(millis(now).to_string()))
                .expression_attribute_values(
                    ":in_progress",
                    AttributeValue::S("INPROGRESS".to_owned()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(LockAttempt::Acquired),
                Err(e) if is_conditional_failure(&e) => e,
                Err(e) => return Err(backend("PutItem", e)),
            };
            let in_the_way = match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                _ => None,
            };
            let in_the_way = match in_the_way {
                Some(item) => Some(to_record(&lock.key_hash, item)?),
                None => self.get(&lock.key_hash).await?,
            };
            match in_the_way {
                // The SDK retried a write that had gone through (its response was lost).
                Some(record) if record == *lock => return Ok(LockAttempt::Acquired),
                Some(record) => return Ok(LockAttempt::Held(record)),
                None => {}
            }
        }
        Err(StoreError::Conflict {
            item: item_name(&lock.key_hash),
            reason: format!(
                "the lock was lost {MAX_ATTEMPTS} times to a record that then vanished"
            ),
        })
    }

    async fn complete(&self, record: &IdempotencyRecord) -> Result<(), StoreError> {
        check_key_hash(&record.key_hash)?;
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(record)?))
            .send()
            .await
            .map_err(|e| backend("PutItem", e))?;
        Ok(())
    }

    async fn release(&self, lock: &IdempotencyRecord) -> Result<(), StoreError> {
        check_key_hash(&lock.key_hash)?;
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(key(&lock.key_hash).into_iter().collect()))
            // Only our own lock: after our deadline another invocation may hold a new one.
            .condition_expression("#status = :in_progress AND lockToken = :ours")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", AttributeValue::S("INPROGRESS".to_owned()))
            .expression_attribute_values(":ours", AttributeValue::S(lock.lock_token.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(backend("DeleteItem", e)),
        }
    }

    async fn get(&self, key_hash: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        check_key_hash(key_hash)?;
        let output = self
            .table
            .get_consistent(keys::idempotency(key_hash))
            .await?;
        output
            .item
            .map(|item| to_record(key_hash, item))
            .transpose()
    }
}
