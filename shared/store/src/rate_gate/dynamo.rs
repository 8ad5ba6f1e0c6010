//! Request windows in DynamoDB: one item per tenant and window under `T#{tenant}#RATE`, sort key
//! `{length ms, 10 digits}#{start ms, 16 digits}`. A lease is one `UpdateItem`:
//! `ADD leased :n` conditional on `attribute_not_exists(leased) OR leased <= :limit - :n`. A lost
//! condition returns the counter (`ReturnValuesOnConditionCheckFailure`), and the lease is repeated
//! for what the window has left, if anything: the counter only grows, so this ends. The item also
//! holds `limit`, `windowStart`, `windowMs` (for reading it back) and `ttl`.

use super::{Lease, RequestWindows, Window, WindowUsage, check_lease};
use crate::dynamo::{Table, backend, is_conditional_failure, query_all};
use crate::keys::{self, PK, SK, TTL};
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Item = HashMap<String, AttributeValue>;

/// [`RequestWindows`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoRequestWindows {
    table: Table,
    writes: Arc<AtomicU64>,
}

impl DynamoRequestWindows {
    /// Windows in `table`. Makes no call.
    pub fn new(table: Table) -> Self {
        DynamoRequestWindows {
            table,
            writes: Arc::default(),
        }
    }

    /// `UpdateItem` calls made by this store and its clones (conditions lost included): what the
    /// gate costs in DynamoDB writes.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// A window's item as stored (keys and `ttl` are not read back).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WindowItem {
    window_start: u64,
    window_ms: u64,
    limit: u32,
    #[serde(default)]
    leased: u32,
}

fn to_usage(item: Item, name: impl Fn() -> String) -> Result<WindowUsage, StoreError> {
    let item: WindowItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: name(),
        detail: e.to_string(),
    })?;
    Ok(WindowUsage {
        window: Window {
            start_ms: item.window_start,
            length_ms: item.window_ms,
        },
        limit: item.limit,
        leased: item.leased,
    })
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn item_name(tenant: &TenantId, window: Window) -> String {
    format!(
        "tenant {tenant} request window {} ms at {}",
        window.length_ms, window.start_ms
    )
}

/// The `leased` counter of an item.
fn leased_of(item: &Item) -> Option<u32> {
    item.get("leased")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// The counter a lost condition found, when DynamoDB returned it.
fn old_leased<R>(error: &SdkError<UpdateItemError, R>) -> Option<u32> {
    match error.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(e)) => e.item().and_then(leased_of),
        _ => None,
    }
}

impl DynamoRequestWindows {
    /// The window's counter as stored now (0 when there is none).
    async fn leased(&self, tenant: &TenantId, window: Window) -> Result<u32, StoreError> {
        let key = keys::request_window(tenant, window.length_ms, window.start_ms);
        let output = self.table.get_consistent(key).await?;
        match output.item {
            None => Ok(0),
            Some(item) => Ok(to_usage(item, || item_name(tenant, window))?.leased),
        }
    }
}

#[async_trait::async_trait]
impl RequestWindows for DynamoRequestWindows {
    async fn lease(
        &self,
        tenant: &TenantId,
        window: Window,
        want: u32,
        limit: u32,
    ) -> Result<Lease, StoreError> {
        check_lease(window, want, limit)?;
        let (pk, sk) = keys::request_window(tenant, window.length_ms, window.start_ms);
        let mut want = want.min(limit);
        loop {
            self.writes.fetch_add(1, Ordering::Relaxed);
            let result = self
                .table
                .client
                .update_item()
                .table_name(&self.table.name)
                .key(PK, AttributeValue::S(pk.clone()))
                .key(SK, AttributeValue::S(sk.clone()))
                .update_expression(
                    "ADD leased :n SET #limit = :limit, windowStart = :start, windowMs = :length, #ttl = :ttl",
                )
                .condition_expression("attribute_not_exists(leased) OR leased <= :room")
                .expression_attribute_names("#limit", "limit")
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":n", n(want))
                .expression_attribute_values(":room", n(limit - want))
                .expression_attribute_values(":limit", n(limit))
                .expression_attribute_values(":start", n(window.start_ms))
                .expression_attribute_values(":length", n(window.length_ms))
                .expression_attribute_values(":ttl", n(window.expires_at_s()))
                .return_values(ReturnValue::UpdatedNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                Ok(output) => {
                    // `leased` after our ADD; without it, assume nobody else leased.
                    let leased = output
                        .attributes
                        .as_ref()
                        .and_then(leased_of)
                        .unwrap_or(want);
                    return Ok(Lease {
                        granted: want,
                        left: limit.saturating_sub(leased),
                    });
                }
                Err(e) if is_conditional_failure(&e) => {
                    let leased = match old_leased(&e) {
                        Some(leased) => leased,
                        None => self.leased(tenant, window).await?,
                    };
                    let left = limit.saturating_sub(leased);
                    if left == 0 {
                        return Ok(Lease {
                            granted: 0,
                            left: 0,
                        });
                    }
                    // Near the limit the chunk shrinks to what the window has left.
                    want = want.min(left);
                }
                Err(e) => return Err(backend("UpdateItem", e)),
            }
        }
    }

    async fn usage(
        &self,
        tenant: &TenantId,
        length_ms: u64,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<WindowUsage>, StoreError> {
        if to_ms <= from_ms {
            return Ok(Vec::new());
        }
        let (pk, first) = keys::request_window(tenant, length_ms, from_ms);
        let (_, last) = keys::request_window(tenant, length_ms, to_ms - 1);
        let query = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .expression_attribute_values(":first", AttributeValue::S(first))
            .expression_attribute_values(":last", AttributeValue::S(last))
            .consistent_read(true);
        query_all(query, |item| {
            let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned();
            to_usage(item, || {
                format!(
                    "tenant {tenant} request window {}",
                    sk.as_deref().unwrap_or("?")
                )
            })
        })
        .await
    }
}
