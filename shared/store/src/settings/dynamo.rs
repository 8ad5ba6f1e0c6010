//! Tenant settings in DynamoDB: `pk = T#{tenant}`, `sk = SETTINGS`, `version` (number) and
//! `document` (the JSON text). Writes are conditional on `version`.
//!
//! Every save first puts the tenant's entry in the tenant registry (`pk = TENANTS`,
//! `sk = T#{tenant}`, attribute `tenant`), unconditionally and idempotently, so a tenant with
//! settings is always listed by [`SettingsStore::tenants`]; a save that then loses its condition
//! leaves an entry for a tenant that has (other) settings, or none yet, which readers skip.

use super::{
    SettingsStore, TenantSettings, Versioned, conflict, document, item_name, next_version,
    parse_document,
};
use crate::dynamo::{Table, backend, is_conditional_failure, query_all};
use crate::keys;
use crate::{StoreError, TenantId};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A [`SettingsStore`] in the cwsync table.
#[derive(Debug, Clone)]
pub struct DynamoSettingsStore {
    table: Table,
}

impl DynamoSettingsStore {
    /// Settings in `table`.
    pub fn new(table: Table) -> Self {
        DynamoSettingsStore { table }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsItem {
    pk: String,
    sk: String,
    version: u64,
    document: String,
}

fn stored_version(
    tenant: &TenantId,
    item: HashMap<String, AttributeValue>,
) -> Result<(u64, String), StoreError> {
    let item: SettingsItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: item_name(tenant),
        detail: e.to_string(),
    })?;
    Ok((item.version, item.document))
}

impl DynamoSettingsStore {
    /// Puts the tenant's registry entry (the same item every time).
    async fn register(&self, tenant: &TenantId) -> Result<(), StoreError> {
        let (pk, sk) = keys::tenant_registry(tenant);
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk))
            .item("tenant", AttributeValue::S(tenant.to_string()))
            .send()
            .await
            .map_err(|e| backend("PutItem", e))?;
        Ok(())
    }

    async fn read(&self, tenant: &TenantId) -> Result<Option<(u64, String)>, StoreError> {
        let (pk, sk) = keys::settings(tenant);
        let output = self.table.get_consistent((pk, sk)).await?;
        output
            .item
            .map(|item| stored_version(tenant, item))
            .transpose()
    }
}

#[async_trait::async_trait]
impl SettingsStore for DynamoSettingsStore {
    async fn get(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Versioned<TenantSettings>>, StoreError> {
        self.read(tenant)
            .await?
            .map(|(version, json)| {
                Ok(Versioned {
                    version,
                    value: parse_document(tenant, &json)?,
                })
            })
            .transpose()
    }

    async fn put(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: Option<u64>,
    ) -> Result<u64, StoreError> {
        let json = document(settings)?;
        let version = next_version(expected_version)?;
        self.register(tenant).await?;
        let (pk, sk) = keys::settings(tenant);
        let item = serde_dynamo::to_item(SettingsItem {
            pk,
            sk,
            version,
            document: json.clone(),
        })
        .map_err(|e| StoreError::Invalid {
            field: "(document)".to_owned(),
            reason: e.to_string(),
        })?;
        let request = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match expected_version {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(expected) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(version),
            Err(e) if is_conditional_failure(&e) => {
                let old = match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                    _ => None,
                };
                let stored = match old {
                    Some(item) => Some(stored_version(tenant, item)?),
                    None => self.read(tenant).await?,
                };
                match stored {
                    // The SDK retried a save that had gone through (its response was lost).
                    Some((v, doc)) if v == version && doc == json => Ok(version),
                    stored => Err(conflict(tenant, expected_version, stored.map(|(v, _)| v))),
                }
            }
            Err(e) => Err(backend("PutItem", e)),
        }
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let query = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(keys::TENANT_REGISTRY.to_owned()))
            .consistent_read(true);
        let mut tenants = query_all(query, |item| {
            let id = item.get("tenant").and_then(|v| v.as_s().ok());
            id.and_then(|id| TenantId::parse(id.as_str()).ok())
                .ok_or_else(|| StoreError::Malformed {
                    item: format!("tenant registry entry {:?}", item.get("sk")),
                    detail: format!("tenant: expected a tenant id, got {id:?}"),
                })
        })
        .await?;
        tenants.sort();
        Ok(tenants)
    }
}
