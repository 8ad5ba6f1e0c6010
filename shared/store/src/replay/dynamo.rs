//! Arrivals in DynamoDB: `pk = T#{tenant}#REPLAY#{digest}`, `sk = REPLAY` (one item per request,
//! so a storm spreads over partitions), with `seenAt` (RFC 3339), `expiresAt` and `ttl` (epoch
//! seconds) and `arrivalToken` (random, per attempt). The put is conditional on
//! `attribute_not_exists(pk) OR expiresAt < :now`; a lost condition returns the item in the way,
//! and one carrying our own token is our own put retried by the SDK after a lost response.

use super::{Arrival, ReplayGuard, check_digest};
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::keys::{self, PK, SK, TTL};
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The attribute that tells our own put from another's.
const TOKEN: &str = "arrivalToken";

/// A [`ReplayGuard`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoReplayGuard {
    table: Table,
}

impl DynamoReplayGuard {
    /// Arrivals in `table`.
    pub fn new(table: Table) -> Self {
        DynamoReplayGuard { table }
    }
}

#[async_trait::async_trait]
impl ReplayGuard for DynamoReplayGuard {
    async fn arrive(
        &self,
        tenant: &TenantId,
        digest: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Arrival, StoreError> {
        check_digest(digest)?;
        let (pk, sk) = keys::replay(tenant, digest);
        let seen_at = now.format(&Rfc3339).map_err(|e| StoreError::Invalid {
            field: "now".to_owned(),
            reason: e.to_string(),
        })?;
        let token = format!("{:032x}", rand::random::<u128>());
        let expires = AttributeValue::N(expires_at.unix_timestamp().to_string());
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(PK, AttributeValue::S(pk))
            .item(SK, AttributeValue::S(sk))
            .item("seenAt", AttributeValue::S(seen_at))
            .item("expiresAt", expires.clone())
            .item(TTL, expires)
            .item(TOKEN, AttributeValue::S(token.clone()))
            // An expired arrival lingers until DynamoDB's TTL deletes it: it no longer counts.
            .condition_expression("attribute_not_exists(pk) OR expiresAt < :now")
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.unix_timestamp().to_string()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Arrival::First),
            Err(e) if is_conditional_failure(&e) => {
                let ours = match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed
                        .item()
                        .and_then(|item| item.get(TOKEN))
                        .and_then(|token| token.as_s().ok())
                        .is_some_and(|stored| *stored == token),
                    _ => false,
                };
                // Our own put, retried by the SDK after its response was lost, is still ours.
                Ok(if ours { Arrival::First } else { Arrival::Again })
            }
            Err(e) => Err(backend("PutItem", e)),
        }
    }

    async fn forget(&self, tenant: &TenantId, digest: &str) -> Result<(), StoreError> {
        check_digest(digest)?;
        self.table.delete(keys::replay(tenant, digest)).await
    }
}
