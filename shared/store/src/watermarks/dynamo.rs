//! Watermarks in DynamoDB: one item per tenant and stream under `T#{tenant}#WM`. `lastSeenNs`
//! (epoch nanoseconds) is what the conditional write compares; `lastSeen` is the same instant as
//! RFC 3339 text for people reading the table.

use super::{Watermark, WatermarkStore, check_stream, item_name, nanos};
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::keys;
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::{OffsetDateTime, UtcOffset};

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
}

fn to_watermark(
    item: HashMap<String, AttributeValue>,
    name: impl Fn() -> String,
) -> Result<Watermark, StoreError> {
    let item: WatermarkItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: name(),
        detail: e.to_string(),
    })?;
    let last_seen = OffsetDateTime::from_unix_timestamp_nanos(i128::from(item.last_seen_ns))
        .map_err(|e| StoreError::Malformed {
            item: name(),
            detail: format!("lastSeenNs: {e}"),
        })?;
    Ok(Watermark {
        last_seen,
        updated_at: item.updated_at,
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
    async fn read(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError> {
        let (pk, sk) = keys::watermark(tenant, stream);
        let output = self.table.get_consistent((pk, sk)).await?;
        output
            .item
            .map(|item| to_watermark(item, || item_name(tenant, stream)))
            .transpose()
    }
}

#[async_trait::async_trait]
impl WatermarkStore for DynamoWatermarkStore {
    async fn get(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError> {
        check_stream(stream)?;
        self.read(tenant, stream).await
    }

    async fn advance(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError> {
        check_stream(stream)?;
        let seen_ns = nanos(seen)?;
        let (pk, sk) = keys::watermark(tenant, stream);
        let proposed = Watermark {
            last_seen: seen.to_offset(UtcOffset::UTC),
            updated_at: now.to_offset(UtcOffset::UTC),
        };
        let item = serde_dynamo::to_item(WatermarkItem {
            pk,
            sk,
            last_seen: proposed.last_seen,
            last_seen_ns: seen_ns,
            updated_at: proposed.updated_at,
        })
        .map_err(|e| StoreError::Invalid {
            field: "watermark".to_owned(),
            reason: e.to_string(),
        })?;
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            // Only forward: a slower worker with an older batch must not pull it back.
            .condition_expression("attribute_not_exists(pk) OR lastSeenNs < :seen")
            .expression_attribute_values(":seen", AttributeValue::N(seen_ns.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(proposed),
            Err(e) if is_conditional_failure(&e) => {
                let stored = match old_item(&e) {
                    Some(item) => Some(to_watermark(item, || item_name(tenant, stream))?),
                    None => self.read(tenant, stream).await?,
                };
                // Watermarks are never deleted, so a lost condition means one is stored.
                stored.ok_or_else(|| StoreError::Conflict {
                    item: item_name(tenant, stream),
                    reason: "the conditional write lost but no watermark is stored".to_owned(),
                })
            }
            Err(e) => Err(backend("PutItem", e)),
        }
    }
}
