//! Watermarks in DynamoDB: one item per tenant and stream under `T#{tenant}#WM`. `lastSeenNs`
//! (epoch nanoseconds) is what the conditional write compares; `lastSeen` is the same instant as
//! RFC 3339 text for people reading the table. The tail is on the same item (`tail`: a list of
//! `{id, ns}`, `ns` the record's `lastUpdated` in epoch nanoseconds), with `tailRev`, its
//! revision: adding to the tail of an equal watermark is a write conditional on both
//! `lastSeenNs` and `tailRev`, so two planners adding at once cannot lose each other's entries
//! silently (the loser reads the winner's tail and tries again).

use super::{
    Seen, Watermark, WatermarkStore, bounded_tail, check_stream, item_name, nanos, next_watermark,
    proposal,
};
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::keys;
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A [`WatermarkStore`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoWatermarkStore {
    table: Table,
}

impl DynamoWatermarkStore {
    /// Watermarks in `table`.
    pub fn new(table: Table) -> Self {
        DynamoWatermarkStore { table }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WatermarkItem {
    pk: String,
    sk: String,
    #[serde(with = "time::serde::rfc3339")]
    last_seen: OffsetDateTime,
    last_seen_ns: i64,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tail: Vec<TailItem>,
    #[serde(default)]
    tail_rev: u64,
}

/// A [`Seen`] on the item.
#[derive(Debug, Serialize, Deserialize)]
struct TailItem {
    id: i64,
    ns: i64,
}

/// How often an advance to an equal watermark tries to add its tail when other planners keep
/// adding theirs first; then it gives up (its entries are processed again, never missed).
const MERGE_ATTEMPTS: usize = 5;

/// A stored watermark and its tail's revision.
type Stored = (Watermark, u64);

fn to_watermark(
    item: HashMap<String, AttributeValue>,
    name: impl Fn() -> String,
) -> Result<Stored, StoreError> {
    let item: WatermarkItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: name(),
        detail: e.to_string(),
    })?;
    let last_seen = OffsetDateTime::from_unix_timestamp_nanos(i128::from(item.last_seen_ns))
        .map_err(|e| StoreError::Malformed {
            item: name(),
            detail: format!("lastSeenNs: {e}"),
        })?;
    let tail = item
        .tail
        .iter()
        .map(|t| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.ns))
                .map(|at| Seen::new(t.id, at))
                .map_err(|e| StoreError::Malformed {
                    item: name(),
                    detail: format!("tail entry {}: {e}", t.id),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        Watermark {
            last_seen,
            updated_at: item.updated_at,
            // As stored by `bounded_tail`; sorted again so a hand-edited item still searches.
            tail: bounded_tail(tail),
        },
        item.tail_rev,
    ))
}

/// `watermark` as the item of `tenant`'s `stream`, its tail at revision `rev`.
fn to_item(
    tenant: &TenantId,
    stream: &str,
    watermark: &Watermark,
    rev: u64,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let (pk, sk) = keys::watermark(tenant, stream);
    let tail = watermark
        .tail
        .iter()
        .map(|s| {
            Ok(TailItem {
                id: s.id,
                ns: nanos(s.last_updated)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    serde_dynamo::to_item(WatermarkItem {
        pk,
        sk,
        last_seen: watermark.last_seen,
        last_seen_ns: nanos(watermark.last_seen)?,
        updated_at: watermark.updated_at,
        tail,
        tail_rev: rev,
    })
    .map_err(|e| StoreError::Invalid {
        field: "watermark".to_owned(),
        reason: e.to_string(),
    })
}

/// The item a lost conditional write found, when DynamoDB returned it.
fn old_item<R>(error: &SdkError<PutItemError, R>) -> Option<HashMap<String, AttributeValue>> {
    match error.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
        _ => None,
    }
}

impl DynamoWatermarkStore {
    async fn read(&self, tenant: &TenantId, stream: &str) -> Result<Option<Stored>, StoreError> {
        let (pk, sk) = keys::watermark(tenant, stream);
        let output = self.table.get_consistent((pk, sk)).await?;
        output
            .item
            .map(|item| to_watermark(item, || item_name(tenant, stream)))
            .transpose()
    }

    /// Puts `item` if `condition` holds: `None` when written, else the stored watermark.
    async fn put_if(
        &self,
        tenant: &TenantId,
        stream: &str,
        item: HashMap<String, AttributeValue>,
        condition: &str,
        values: HashMap<String, AttributeValue>,
    ) -> Result<Option<Stored>, StoreError> {
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if is_conditional_failure(&e) => {
                let stored = match old_item(&e) {
                    Some(item) => Some(to_watermark(item, || item_name(tenant, stream))?),
                    None => self.read(tenant, stream).await?,
                };
                // Watermarks are never deleted, so a lost condition means one is stored.
                stored.map(Some).ok_or_else(|| StoreError::Conflict {
                    item: item_name(tenant, stream),
                    reason: "the conditional write lost but no watermark is stored".to_owned(),
                })
            }
            Err(e) => Err(backend("PutItem", e)),
        }
    }
}

#[async_trait::async_trait]
impl WatermarkStore for DynamoWatermarkStore {
    async fn get(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError> {
        check_stream(stream)?;
        Ok(self
            .read(tenant, stream)
            .await?
            .map(|(watermark, _)| watermark))
    }

    async fn advance_with_tail(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        tail: &[Seen],
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError> {
        let (proposed, seen_ns) = proposal(stream, seen, tail, now)?;
        let seen_value =
            || HashMap::from([(":seen".to_owned(), AttributeValue::N(seen_ns.to_string()))]);
        // Only forward: a slower worker with an older batch must not pull it back.
        let Some(mut stored) = self
            .put_if(
                tenant,
                stream,
                to_item(tenant, stream, &proposed, 0)?,
                "attribute_not_exists(pk) OR lastSeenNs < :seen",
                seen_value(),
            )
            .await?
        else {
            return Ok(proposed);
        };
        // Stored at or after `seen`: an equal one takes our tail's new entries.
        for _ in 0..MERGE_ATTEMPTS {
            let (current, rev) = &stored;
            let Some(next) = next_watermark(Some(current), &proposed) else {
                return Ok(stored.0);
            };
            let mut values = seen_value();
            values.insert(":rev".to_owned(), AttributeValue::N(rev.to_string()));
            let condition = if *rev == 0 {
                "lastSeenNs = :seen AND (attribute_not_exists(tailRev) OR tailRev = :rev)"
            } else {
                "lastSeenNs = :seen AND tailRev = :rev"
            };
            let item = to_item(tenant, stream, &next, rev + 1)?;
            match self.put_if(tenant, stream, item, condition, values).await? {
                None => return Ok(next),
                Some(now_stored) => stored = now_stored,
            }
        }
        tracing::warn!(%tenant, stream, "watermark tail not extended: other planners kept adding to it first");
        Ok(stored.0)
    }
}
